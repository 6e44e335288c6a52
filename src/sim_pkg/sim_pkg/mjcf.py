"""Scenario world + robot profile -> a readable MJCF document.

Collision filtering (MuJoCo: two geoms collide if contype_a & conaffinity_b or the reverse):
  world geoms  contype=1 conaffinity=2   (walls, tanks, panels and the floor)
  robot geoms  contype=2 conaffinity=1   (so the robot hits the world but never itself)
Geom groups: 0 = solid world (what the lidar sees), 1 = robot, 2 = floor markings (zones).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import cv2
import numpy as np

from sim_pkg.profile import RobotProfile
from sim_pkg.worldspec import MARKER_DICTIONARY, Block, WorldSpec

WORLD_GROUP, ROBOT_GROUP, MARKING_GROUP = 0, 1, 2
ROBOT_ROOT_BODY = "base_footprint"

_ZONE_RGBA = {
    "keep_out": "0.85 0.1 0.1 0.35",
    "slow": "0.95 0.75 0.1 0.3",
    "hot": "1.0 0.4 0.0 0.35",
}


def _fmt(*values: float) -> str:
    return " ".join(f"{v:.6g}" for v in values)


def _sub(parent: ET.Element, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {k.rstrip("_"): str(v) for k, v in attrs.items()})


def _block(parent: ET.Element, block: Block, cls: str) -> None:
    cx, cy = block.center_xy
    _sub(
        parent,
        "geom",
        name=block.name,
        class_=cls,
        type="box",
        pos=_fmt(cx, cy, block.height_m / 2),
        size=_fmt(block.size_xy[0] / 2, block.size_xy[1] / 2, block.height_m / 2),
        euler=_fmt(0, 0, block.yaw_rad),
        rgba=_fmt(*block.rgba),
    )


def _box(parent: ET.Element, name: str, box: dict, mass: float, **attrs) -> None:
    """A box geom from a profile entry {center, size} (full sizes, metres)."""
    _sub(
        parent,
        "geom",
        name=name,
        type="box",
        pos=_fmt(*box["center"]),
        size=_fmt(*(v / 2 for v in box["size"])),
        mass=_fmt(mass),
        **attrs,
    )


STATION_POST_HALF_DEPTH_M = 0.03
_MARKER_MARGIN = 1 / 6  # white quiet zone on each side, in marker widths (one module of 6)


def marker_image(marker_id: int, size_px: int = 240) -> np.ndarray:
    """The printed ArUco marker with its white quiet zone, as a grey uint8 image."""
    dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, MARKER_DICTIONARY))
    marker = cv2.aruco.generateImageMarker(dictionary, marker_id, size_px)
    pad = round(size_px * _MARKER_MARGIN)
    return cv2.copyMakeBorder(marker, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=255)


def _png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


def _marker_plate(world: ET.Element, asset: ET.Element, assets: dict[str, bytes], st) -> None:
    """A thin plate on the post's face, textured with the real marker. The plate's local +x
    points back at the stop point, and a cube texture's "right" face (+x) carries the marker."""
    name = f"aruco_{st.marker_id}"
    # MuJoCo maps the "right" face image as seen from outside with its top towards +z, so the
    # marker reads correctly from the stop point as it is printed (checked by detecting it).
    image = marker_image(st.marker_id)
    assets[f"{name}.png"] = _png(image)
    assets.setdefault("white.png", _png(np.full_like(image, 255)))  # every face the same size
    _sub(asset, "texture", name=name, type="cube", fileright=f"{name}.png", fileleft="white.png",
         fileup="white.png", filedown="white.png", filefront="white.png", fileback="white.png")
    _sub(asset, "material", name=f"{name}_mat", texture=name, specular="0", shininess="0")
    plate_half = st.marker_size_m * (1 + 2 * _MARKER_MARGIN) / 2
    x, y, z = st.marker_center_xyz(STATION_POST_HALF_DEPTH_M)
    _sub(world, "geom", name=f"marker_{st.id}", class_="marking", type="box", pos=_fmt(x, y, z),
         size=_fmt(0.001, plate_half, plate_half), euler=_fmt(0, 0, st.facing_rad + math.pi),
         material=f"{name}_mat")


def _robot(world: ET.Element, profile: RobotProfile, spec: WorldSpec) -> None:
    raw = profile.raw
    base, drive, arm = raw["base"], raw["drive"], raw["arm"]
    start = spec.robot_start
    root = _sub(
        world,
        "body",
        name=ROBOT_ROOT_BODY,
        childclass="robot",
        pos=_fmt(start.x, start.y, 0.0),
        euler=_fmt(0, 0, start.yaw),
    )
    _sub(root, "freejoint", name="base_free")
    link = _sub(root, "body", name="base_link", pos=_fmt(0, 0, base["base_link_height_m"]))
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
        wheel = _sub(
            link,
            "body",
            name=f"wheel_{side}_link",
            pos=_fmt(0, sign * base["wheel_y_m"], base["wheel_z_m"]),
        )
        # Positive joint velocity rolls the robot forward on both wheels (turtlebot3_node convention).
        _sub(
            wheel,
            "joint",
            name=f"wheel_{side}_joint",
            type="hinge",
            axis="0 1 0",
            damping=_fmt(drive["wheel_damping_nm_s"]),
            armature=_fmt(drive["wheel_armature_kg_m2"]),
        )
        _sub(
            wheel,
            "geom",
            name=f"wheel_{side}",
            class_="wheel",
            type="cylinder",
            size=_fmt(profile.wheel_radius_m, base["wheel_width_m"] / 2),
            zaxis="0 1 0",
            mass=_fmt(base["wheel_mass_kg"]),
        )
    caster_z = base["caster_radius_m"] - base["base_link_height_m"]
    for i, (x, y) in enumerate(base["caster_xy_m"]):
        _sub(
            link,
            "geom",
            name=f"caster_{i}",
            class_="caster",
            type="sphere",
            pos=_fmt(x, y, caster_z),
            size=_fmt(base["caster_radius_m"]),
            mass=_fmt(base["caster_mass_kg"]),
        )
    lidar = raw["lidar"]
    mount, housing = lidar["mount_xyz_m"], lidar["housing"]
    _sub(
        link,
        "geom",
        name="lds",
        type="cylinder",
        pos=_fmt(*(m + c for m, c in zip(mount, housing["center_m"], strict=True))),
        size=_fmt(housing["radius_m"], housing["height_m"] / 2),
        mass=_fmt(housing["mass_kg"]),
        rgba="0.1 0.1 0.1 1",
    )
    _sub(link, "site", name="lidar_site", pos=_fmt(*mount), size="0.005")
    # MuJoCo cameras look along their -z with +y up: xyaxes below aims it along base_link +x.
    _sub(
        link,
        "camera",
        name="front_camera",
        pos=_fmt(*raw["camera"]["mount_xyz_m"]),
        xyaxes="0 -1 0 0 0 1",
        fovy=_fmt(math.degrees(profile.camera_vfov_rad)),
    )

    # OpenMANIPULATOR-X: link1 fixed on the chassis, joint1 yaw, joints 2-4 pitch, two fingers.
    boxes, masses = arm["link_boxes_m"], arm["link_mass_kg"]
    parent = _sub(link, "body", name="link1", pos=_fmt(*arm["mount_xyz_m"]))
    _box(parent, "link1_geom", boxes[0], masses[0], rgba="0.75 0.75 0.78 1")
    offsets = [arm[f"joint{i}_offset_m"] for i in range(1, 5)]
    axes = ["0 0 1", "0 1 0", "0 1 0", "0 1 0"]
    for i, joint in enumerate(profile.arm_joints):
        body = _sub(parent, "body", name=f"link{i + 2}", pos=_fmt(*offsets[i]))
        _sub(
            body,
            "joint",
            name=joint.name,
            class_="arm_joint",
            axis=axes[i],
            range=_fmt(joint.lower, joint.upper),
        )
        _box(body, f"link{i + 2}_geom", boxes[i + 1], masses[i + 1], rgba="0.75 0.75 0.78 1")
        parent = body
    _sub(parent, "site", name="end_effector", pos=_fmt(*arm["end_effector_offset_m"]), size="0.005")
    fx, fy, fz = arm["gripper_finger_offset_m"]
    finger_box, servo = arm["finger_box_m"], arm["gripper_servo"]
    grip = profile.gripper
    for name, sign in ((grip.name, 1.0), (profile.gripper_mimic_joint, -1.0)):
        side = "left" if sign > 0 else "right"
        finger = _sub(parent, "body", name=f"gripper_{side}_link", pos=_fmt(fx, sign * fy, fz))
        _sub(
            finger,
            "joint",
            name=name,
            type="slide",
            axis=_fmt(0, sign, 0),
            range=_fmt(grip.lower, grip.upper),
            damping=_fmt(servo["damping_n_s"]),
            armature=_fmt(servo["armature_kg"]),
        )
        cx, cy, cz = finger_box["center"]
        _box(
            finger,
            f"gripper_{side}_geom",
            {"center": [cx, sign * cy, cz], "size": finger_box["size"]},
            finger_box["mass_kg"],
            friction=_fmt(finger_box["friction"], 0.02, 0.001),
            condim="6",  # torsional and rolling friction too: a held part must not pivot in the pads
            rgba="0.3 0.3 0.3 1",
        )


def build_mjcf(spec: WorldSpec, profile: RobotProfile,
               model_name: str = "rootroute_world") -> tuple[str, dict[str, bytes]]:
    """The MJCF XML text for one scenario world with the robot at its start pose, and the assets
    it names (PNG textures of the station markers): `mujoco.MjModel.from_xml_string(xml, assets)`."""
    mj = ET.Element("mujoco", model=model_name)
    _sub(mj, "compiler", angle="radian", autolimits="true")
    _sub(mj, "option", timestep=_fmt(profile.physics_timestep_s), integrator="implicitfast")
    visual = _sub(mj, "visual")
    # A lean scene: software EGL rendering pays for every shadow, reflection and skybox pixel.
    _sub(visual, "quality", shadowsize="0")
    _sub(visual, "headlight", ambient="0.45 0.45 0.45", diffuse="0.5 0.5 0.5", specular="0 0 0")
    _sub(
        visual,
        "global",
        offwidth=str(max(640, profile.camera_width_px)),
        offheight=str(max(480, profile.camera_height_px)),
    )

    default = _sub(mj, "default")
    wcls = _sub(default, "default", class_="world")
    _sub(
        wcls,
        "geom",
        contype="1",
        conaffinity="2",
        group=str(WORLD_GROUP),
        friction="0.8 0.005 0.0001",
    )
    rcls = _sub(default, "default", class_="robot")
    _sub(rcls, "geom", contype="2", conaffinity="1", group=str(ROBOT_GROUP), density="0")
    wheel = _sub(rcls, "default", class_="wheel")
    _sub(
        wheel,
        "geom",
        friction=_fmt(profile.raw["drive"]["wheel_friction"], 0.005, 0.0001),
        rgba="0.1 0.1 0.1 1",
        condim="3",
        priority="1",
    )
    caster = _sub(rcls, "default", class_="caster")
    # priority: a contact takes the higher-priority geom's condim and friction, not the max of both.
    _sub(caster, "geom", friction="0 0 0", condim="1", priority="1", rgba="0.5 0.5 0.5 1")
    armj = _sub(rcls, "default", class_="arm_joint")
    servo = profile.raw["arm"]["servo"]
    _sub(
        armj,
        "joint",
        type="hinge",
        damping=_fmt(servo["damping_nm_s"]),
        armature=_fmt(servo["armature_kg_m2"]),
    )
    # Loose parts collide with the world, the robot and each other: contype 1 meets the world's
    # conaffinity 2 and the robot's conaffinity 1; conaffinity 3 meets both.
    part = _sub(default, "default", class_="part")
    _sub(
        part,
        "geom",
        contype="1",
        conaffinity="3",
        group=str(WORLD_GROUP),
        friction="1.0 0.01 0.001",
        condim="4",
    )
    mark = _sub(default, "default", class_="marking")
    _sub(mark, "geom", contype="0", conaffinity="0", group=str(MARKING_GROUP))

    world = _sub(mj, "worldbody")
    _sub(
        world,
        "light",
        name="ceiling",
        pos="0 0 6",
        dir="0 0 -1",
        directional="true",
        castshadow="false",
        diffuse="0.5 0.5 0.5",
    )
    lx, ly = spec.floor_size_xy
    _sub(
        world,
        "geom",
        name="floor",
        class_="world",
        type="plane",
        pos=_fmt(lx / 2, ly / 2, 0),
        size=_fmt(lx / 2 + 1, ly / 2 + 1, 0.1),
        rgba="0.62 0.64 0.6 1",
    )
    for zone_i, zone in enumerate(spec.zones):
        _sub(
            world,
            "geom",
            name=f"zone_{zone_i}_{zone.kind}",
            class_="marking",
            type="box",
            pos=_fmt(zone.center_xy[0], zone.center_xy[1], 0.0015),
            size=_fmt(zone.size_xy[0] / 2, zone.size_xy[1] / 2, 0.001),
            rgba=_ZONE_RGBA[zone.kind],
        )
    for block in spec.walls + spec.obstacles:
        _block(world, block, "world")
    assets: dict[str, bytes] = {}
    asset = _sub(mj, "asset")
    for st in spec.stations:
        px, py = st.panel_xy
        # A station is a yellow post carrying its ArUco marker, facing back towards the stop point.
        _sub(world, "geom", name=f"station_{st.id}", class_="world", type="box", pos=_fmt(px, py, 0.3),
             size=_fmt(STATION_POST_HALF_DEPTH_M, 0.2, 0.3), euler=_fmt(0, 0, st.facing_rad), rgba="0.95 0.8 0.1 1")
        _marker_plate(world, asset, assets, st)
    for part in spec.parts:
        body = _sub(
            world,
            "body",
            name=f"part_{part.name}",
            pos=_fmt(part.center_xy[0], part.center_xy[1], part.base_z_m + part.size_xyz[2] / 2),
            euler=_fmt(0, 0, part.yaw_rad),
        )
        _sub(body, "freejoint", name=f"part_{part.name}_free")
        _sub(
            body,
            "geom",
            name=f"part_{part.name}",
            class_="part",
            type="box",
            size=_fmt(*(v / 2 for v in part.size_xyz)),
            mass=_fmt(part.mass_kg),
            rgba=_fmt(*part.rgba),
        )
    _robot(world, profile, spec)

    eq = _sub(mj, "equality")
    _sub(
        eq,
        "joint",
        name="gripper_mimic",
        joint1=profile.gripper_mimic_joint,
        joint2=profile.gripper.name,
        polycoef="0 1 0 0 0",
    )
    act = _sub(mj, "actuator")
    drive, arm = profile.raw["drive"], profile.raw["arm"]
    torque = drive["wheel_max_torque_nm"]
    for side in ("left", "right"):
        _sub(
            act,
            "velocity",
            name=f"wheel_{side}_motor",
            joint=f"wheel_{side}_joint",
            kv=_fmt(drive["wheel_velocity_gain_nm_s"]),
            forcerange=_fmt(-torque, torque),
        )
    servo, gripper_servo = arm["servo"], arm["gripper_servo"]
    for joint in profile.arm_joints:
        _sub(
            act,
            "position",
            name=f"{joint.name}_servo",
            joint=joint.name,
            kp=_fmt(servo["kp"]),
            ctrlrange=_fmt(joint.lower, joint.upper),
            forcerange=_fmt(-servo["max_torque_nm"], servo["max_torque_nm"]),
        )
    _sub(
        act,
        "position",
        name="gripper_servo",
        joint=profile.gripper.name,
        kp=_fmt(gripper_servo["kp"]),
        ctrlrange=_fmt(profile.gripper.lower, profile.gripper.upper),
        forcerange=_fmt(-gripper_servo["max_force_n"], gripper_servo["max_force_n"]),
    )
    ET.indent(mj)
    return ET.tostring(mj, encoding="unicode"), assets
