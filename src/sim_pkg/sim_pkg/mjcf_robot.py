"""The robot's MJCF (TurtleBot3 Waffle Pi + OpenMANIPULATOR-X), built from the robot profile.

Geometry follows ROBOTIS' turtlebot3_manipulation_description (see the profile's sources); the
robot's geoms use the "robot" default class of the world document (see mjcf.py for the
collision filtering and geom groups).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

from common_pkg.profile import RobotProfile
from common_pkg.worldspec import Pose2D

ROBOT_ROOT_BODY = "base_footprint"


def fmt(*values: float) -> str:
    return " ".join(f"{v:.6g}" for v in values)


def sub(parent: ET.Element, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {k.rstrip("_"): str(v) for k, v in attrs.items()})


def _box(parent: ET.Element, name: str, box: dict, mass: float, **attrs) -> None:
    """A box geom from a profile entry {center, size} (full sizes, metres)."""
    sub(
        parent,
        "geom",
        name=name,
        type="box",
        pos=fmt(*box["center"]),
        size=fmt(*(v / 2 for v in box["size"])),
        mass=fmt(mass),
        **attrs,
    )


def add_robot(world: ET.Element, profile: RobotProfile, start: Pose2D) -> None:
    """The TurtleBot3 Waffle Pi + OpenMANIPULATOR-X, every number from the profile, at `start`."""
    raw = profile.raw
    base, drive, arm = raw["base"], raw["drive"], raw["arm"]
    root = sub(
        world,
        "body",
        name=ROBOT_ROOT_BODY,
        childclass="robot",
        pos=fmt(start.x, start.y, 0.0),
        euler=fmt(0, 0, start.yaw),
    )
    sub(root, "freejoint", name="base_free")
    link = sub(root, "body", name="base_link", pos=fmt(0, 0, base["base_link_height_m"]))
    cx, cy, cz = base["chassis_center_m"]
    sx, sy, sz = base["chassis_size_m"]
    # The URDF's chassis box reaches down to 0.0 in base_link, 1 cm above the floor; it is raised
    # by 5 mm here so that it never scrapes the floor when the robot pitches on its casters.
    _box(
        link,
        "chassis",
        {"center": [cx, cy, cz + 0.005], "size": [sx, sy, sz - 0.01]},
        base["chassis_mass_kg"],
        rgba="0.2 0.2 0.22 1",
    )
    for side, sign in (("left", 1.0), ("right", -1.0)):
        wheel = sub(
            link,
            "body",
            name=f"wheel_{side}_link",
            pos=fmt(0, sign * base["wheel_y_m"], base["wheel_z_m"]),
        )
        # Positive joint velocity rolls the robot forward on both wheels (turtlebot3_node convention).
        sub(
            wheel,
            "joint",
            name=f"wheel_{side}_joint",
            type="hinge",
            axis="0 1 0",
            damping=fmt(drive["wheel_damping_nm_s"]),
            armature=fmt(drive["wheel_armature_kg_m2"]),
        )
        sub(
            wheel,
            "geom",
            name=f"wheel_{side}",
            class_="wheel",
            type="cylinder",
            size=fmt(profile.wheel_radius_m, base["wheel_width_m"] / 2),
            zaxis="0 1 0",
            mass=fmt(base["wheel_mass_kg"]),
        )
    caster_z = base["caster_radius_m"] - base["base_link_height_m"]
    for i, (x, y) in enumerate(base["caster_xy_m"]):
        sub(
            link,
            "geom",
            name=f"caster_{i}",
            class_="caster",
            type="sphere",
            pos=fmt(x, y, caster_z),
            size=fmt(base["caster_radius_m"]),
            mass=fmt(base["caster_mass_kg"]),
        )
    lidar = raw["lidar"]
    mount, housing = lidar["mount_xyz_m"], lidar["housing"]
    sub(
        link,
        "geom",
        name="lds",
        type="cylinder",
        pos=fmt(*(m + c for m, c in zip(mount, housing["center_m"], strict=True))),
        size=fmt(housing["radius_m"], housing["height_m"] / 2),
        mass=fmt(housing["mass_kg"]),
        rgba="0.1 0.1 0.1 1",
    )
    sub(link, "site", name="lidar_site", pos=fmt(*mount), size="0.005")
    # MuJoCo cameras look along their -z with +y up: xyaxes below aims it along base_link +x.
    sub(
        link,
        "camera",
        name="front_camera",
        pos=fmt(*raw["camera"]["mount_xyz_m"]),
        xyaxes="0 -1 0 0 0 1",
        fovy=fmt(math.degrees(profile.camera_vfov_rad)),
    )

    # OpenMANIPULATOR-X: link1 fixed on the chassis, joint1 yaw, joints 2-4 pitch, two fingers.
    boxes, masses = arm["link_boxes_m"], arm["link_mass_kg"]
    parent = sub(link, "body", name="link1", pos=fmt(*arm["mount_xyz_m"]))
    _box(parent, "link1_geom", boxes[0], masses[0], rgba="0.75 0.75 0.78 1")
    offsets = [arm[f"joint{i}_offset_m"] for i in range(1, 5)]
    axes = ["0 0 1", "0 1 0", "0 1 0", "0 1 0"]
    for i, joint in enumerate(profile.arm_joints):
        body = sub(parent, "body", name=f"link{i + 2}", pos=fmt(*offsets[i]))
        sub(
            body,
            "joint",
            name=joint.name,
            class_="arm_joint",
            axis=axes[i],
            range=fmt(joint.lower, joint.upper),
        )
        _box(body, f"link{i + 2}_geom", boxes[i + 1], masses[i + 1], rgba="0.75 0.75 0.78 1")
        parent = body
    sub(parent, "site", name="end_effector", pos=fmt(*arm["end_effector_offset_m"]), size="0.005")
    fx, fy, fz = arm["gripper_finger_offset_m"]
    finger_box, servo = arm["finger_box_m"], arm["gripper_servo"]
    grip = profile.gripper
    for name, sign in ((grip.name, 1.0), (profile.gripper_mimic_joint, -1.0)):
        side = "left" if sign > 0 else "right"
        finger = sub(parent, "body", name=f"gripper_{side}_link", pos=fmt(fx, sign * fy, fz))
        sub(
            finger,
            "joint",
            name=name,
            type="slide",
            axis=fmt(0, sign, 0),
            range=fmt(grip.lower, grip.upper),
            damping=fmt(servo["damping_n_s"]),
            armature=fmt(servo["armature_kg"]),
        )
        cx, cy, cz = finger_box["center"]
        _box(
            finger,
            f"gripper_{side}_geom",
            {"center": [cx, sign * cy, cz], "size": finger_box["size"]},
            finger_box["mass_kg"],
            friction=fmt(finger_box["friction"], 0.02, 0.001),
            condim="6",  # torsional and rolling friction too: a held part must not pivot in the pads
            rgba="0.3 0.3 0.3 1",
        )
