"""Scenario world + robot profile -> a readable MJCF document.

Collision filtering (MuJoCo: two geoms collide if contype_a & conaffinity_b or the reverse):
  world geoms  contype=1 conaffinity=2   (walls, tanks, panels and the floor)
  robot geoms  contype=2 conaffinity=1   (so the robot hits the world but never itself)
  actor geoms  contype=1 conaffinity=2   (like the world: they hit the robot and loose parts,
                                          never the walls or each other)
Geom groups: 0 = solid world (what the lidar sees), 1 = robot, 2 = floor markings (zones).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import cv2
import numpy as np

from common_pkg.profile import RobotProfile
from common_pkg.worldspec import MARKER_DICTIONARY, Block, WorldSpec
from sim_pkg.mjcf_actors import add_actor
from sim_pkg.mjcf_robot import add_robot, fmt, sub

WORLD_GROUP, ROBOT_GROUP, MARKING_GROUP = 0, 1, 2

ZONE_RGBA = {  # translucent, marking-only geoms: the lidar and the physics never meet a zone
    "keep_out": "0.85 0.1 0.1 0.35",
    "slow": "0.95 0.75 0.1 0.3",
    "hot": "1.0 0.4 0.0 0.35",
}


def _block(parent: ET.Element, block: Block, cls: str) -> None:
    cx, cy = block.center_xy
    sub(
        parent,
        "geom",
        name=block.name,
        class_=cls,
        type="box",
        pos=fmt(cx, cy, block.height_m / 2),
        size=fmt(block.size_xy[0] / 2, block.size_xy[1] / 2, block.height_m / 2),
        euler=fmt(0, 0, block.yaw_rad),
        rgba=fmt(*block.rgba),
    )


STATION_POST_HALF_DEPTH_M = 0.03
STATION_POST_SIZE_M = (2 * STATION_POST_HALF_DEPTH_M, 0.4, 0.6)  # depth, width, height
DISPLAY_CENTER_Z_M = 0.13  # an inspected item hangs at the camera's height, below the marker
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


def _picture_plate(
    world: ET.Element,
    asset: ET.Element,
    assets: dict[str, bytes],
    name: str,
    image: np.ndarray,
    center_xyz: tuple[float, float, float],
    side_m: float,
    facing_rad: float,
) -> None:
    """A thin square plate showing `image` (square, grey or BGR) on the face turned towards
    `facing_rad` + pi, i.e. back at whoever stands in front of the post.

    The plate's local +x points at the viewer, and a cube texture's "right" face (+x) carries the
    picture, so that it reads as printed from the front. All cube faces must share one size.
    """
    # The "right" face shows its image turned a quarter turn clockwise (checked by rendering a
    # picture with marked corners): turn it back so that it reads upright.
    assets[f"{name}.png"] = _png(cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE))
    blank = f"white_{image.shape[0]}.png"
    assets.setdefault(blank, _png(np.full_like(image, 255)))
    sub(
        asset,
        "texture",
        name=name,
        type="cube",
        fileright=f"{name}.png",
        fileleft=blank,
        fileup=blank,
        filedown=blank,
        filefront=blank,
        fileback=blank,
    )
    sub(asset, "material", name=f"{name}_mat", texture=name, specular="0", shininess="0")
    half = side_m / 2
    sub(
        world,
        "geom",
        name=name,
        class_="marking",
        type="box",
        pos=fmt(*center_xyz),
        size=fmt(0.001, half, half),
        euler=fmt(0, 0, facing_rad + math.pi),
        material=f"{name}_mat",
    )


def _station_pictures(world: ET.Element, asset: ET.Element, assets: dict[str, bytes], st) -> None:
    """The station's ArUco marker and, for inspect tasks, the item on display below it."""
    _picture_plate(
        world,
        asset,
        assets,
        f"marker_{st.id}",
        marker_image(st.marker_id),
        st.marker_center_xyz(STATION_POST_HALF_DEPTH_M),
        st.marker_size_m * (1 + 2 * _MARKER_MARGIN),
        st.facing_rad,
    )
    if st.display_image is None:
        return
    picture = cv2.imread(str(st.display_image), cv2.IMREAD_COLOR)
    h, w = picture.shape[:2]
    side_px = max(h, w)  # pad to a square on a white mount, centred
    top, left = (side_px - h) // 2, (side_px - w) // 2
    square = cv2.copyMakeBorder(
        picture,
        top,
        side_px - h - top,
        left,
        side_px - w - left,
        cv2.BORDER_CONSTANT,
        value=(255, 255, 255),
    )
    side_m = max(st.display_size_m) * side_px / max(h, w)
    x, y, _ = st.marker_center_xyz(STATION_POST_HALF_DEPTH_M)
    _picture_plate(
        world,
        asset,
        assets,
        f"display_{st.id}",
        square,
        (x, y, DISPLAY_CENTER_Z_M),
        side_m,
        st.facing_rad,
    )


def build_mjcf(
    spec: WorldSpec, profile: RobotProfile, model_name: str = "rootroute_world"
) -> tuple[str, dict[str, bytes]]:
    """The MJCF XML text for one scenario world with the robot at its start pose, and the assets
    it names (PNG textures of the station markers): `mujoco.MjModel.from_xml_string(xml, assets)`."""
    mj = ET.Element("mujoco", model=model_name)
    sub(mj, "compiler", angle="radian", autolimits="true")
    sub(mj, "option", timestep=fmt(profile.physics_timestep_s), integrator="implicitfast")
    visual = sub(mj, "visual")
    # A lean scene: software EGL rendering pays for every shadow, reflection and skybox pixel.
    sub(visual, "quality", shadowsize="0")
    sub(visual, "headlight", ambient="0.45 0.45 0.45", diffuse="0.5 0.5 0.5", specular="0 0 0")
    sub(
        visual,
        "global",
        offwidth=str(max(640, profile.camera_width_px)),
        offheight=str(max(480, profile.camera_height_px)),
    )

    default = sub(mj, "default")
    wcls = sub(default, "default", class_="world")
    sub(
        wcls,
        "geom",
        contype="1",
        conaffinity="2",
        group=str(WORLD_GROUP),
        friction="0.8 0.005 0.0001",
    )
    rcls = sub(default, "default", class_="robot")
    sub(rcls, "geom", contype="2", conaffinity="1", group=str(ROBOT_GROUP), density="0")
    wheel = sub(rcls, "default", class_="wheel")
    sub(
        wheel,
        "geom",
        friction=fmt(profile.raw["drive"]["wheel_friction"], 0.005, 0.0001),
        rgba="0.1 0.1 0.1 1",
        condim="3",
        priority="1",
    )
    caster = sub(rcls, "default", class_="caster")
    # priority: a contact takes the higher-priority geom's condim and friction, not the max of both.
    sub(caster, "geom", friction="0 0 0", condim="1", priority="1", rgba="0.5 0.5 0.5 1")
    armj = sub(rcls, "default", class_="arm_joint")
    servo = profile.raw["arm"]["servo"]
    sub(
        armj,
        "joint",
        type="hinge",
        damping=fmt(servo["damping_nm_s"]),
        armature=fmt(servo["armature_kg_m2"]),
    )
    # Loose parts collide with the world, the robot and each other: contype 1 meets the world's
    # conaffinity 2 and the robot's conaffinity 1; conaffinity 3 meets both.
    part = sub(default, "default", class_="part")
    sub(
        part,
        "geom",
        contype="1",
        conaffinity="3",
        group=str(WORLD_GROUP),
        friction="1.0 0.01 0.001",
        condim="4",
    )
    acls = sub(default, "default", class_="actor")
    sub(acls, "geom", contype="1", conaffinity="2", group=str(WORLD_GROUP))
    mark = sub(default, "default", class_="marking")
    sub(mark, "geom", contype="0", conaffinity="0", group=str(MARKING_GROUP))

    world = sub(mj, "worldbody")
    sub(
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
    sub(
        world,
        "geom",
        name="floor",
        class_="world",
        type="plane",
        pos=fmt(lx / 2, ly / 2, 0),
        size=fmt(lx / 2 + 1, ly / 2 + 1, 0.1),
        rgba="0.62 0.64 0.6 1",
    )
    for zone_i, zone in enumerate(spec.zones):
        sub(
            world,
            "geom",
            name=f"zone_{zone_i}_{zone.kind}",
            class_="marking",
            type="box",
            pos=fmt(zone.center_xy[0], zone.center_xy[1], 0.0015),
            size=fmt(zone.size_xy[0] / 2, zone.size_xy[1] / 2, 0.001),
            rgba=ZONE_RGBA[zone.kind],
        )
    for block in spec.walls + spec.obstacles:
        _block(world, block, "world")
    assets: dict[str, bytes] = {}
    asset = sub(mj, "asset")
    for st in spec.stations:
        px, py = st.panel_xy
        # A station is a yellow post carrying its ArUco marker, facing back towards the stop point.
        sub(
            world,
            "geom",
            name=f"station_{st.id}",
            class_="world",
            type="box",
            pos=fmt(px, py, STATION_POST_SIZE_M[2] / 2),
            size=fmt(*(v / 2 for v in STATION_POST_SIZE_M)),
            euler=fmt(0, 0, st.facing_rad),
            rgba="0.95 0.8 0.1 1",
        )
        _station_pictures(world, asset, assets, st)
    for part in spec.parts:
        body = sub(
            world,
            "body",
            name=f"part_{part.name}",
            pos=fmt(part.center_xy[0], part.center_xy[1], part.base_z_m + part.size_xyz[2] / 2),
            euler=fmt(0, 0, part.yaw_rad),
        )
        sub(body, "freejoint", name=f"part_{part.name}_free")
        sub(
            body,
            "geom",
            name=f"part_{part.name}",
            class_="part",
            type="box",
            size=fmt(*(v / 2 for v in part.size_xyz)),
            mass=fmt(part.mass_kg),
            rgba=fmt(*part.rgba),
        )
    for actor in spec.actors:
        add_actor(world, actor)
    add_robot(world, profile, spec.robot_start)

    eq = sub(mj, "equality")
    sub(
        eq,
        "joint",
        name="gripper_mimic",
        joint1=profile.gripper_mimic_joint,
        joint2=profile.gripper.name,
        polycoef="0 1 0 0 0",
    )
    act = sub(mj, "actuator")
    drive, arm = profile.raw["drive"], profile.raw["arm"]
    torque = drive["wheel_max_torque_nm"]
    for side in ("left", "right"):
        sub(
            act,
            "velocity",
            name=f"wheel_{side}_motor",
            joint=f"wheel_{side}_joint",
            kv=fmt(drive["wheel_velocity_gain_nm_s"]),
            forcerange=fmt(-torque, torque),
        )
    servo, gripper_servo = arm["servo"], arm["gripper_servo"]
    for joint in profile.arm_joints:
        sub(
            act,
            "position",
            name=f"{joint.name}_servo",
            joint=joint.name,
            kp=fmt(servo["kp"]),
            ctrlrange=fmt(joint.lower, joint.upper),
            forcerange=fmt(-servo["max_torque_nm"], servo["max_torque_nm"]),
        )
    sub(
        act,
        "position",
        name="gripper_servo",
        joint=profile.gripper.name,
        kp=fmt(gripper_servo["kp"]),
        ctrlrange=fmt(profile.gripper.lower, profile.gripper.upper),
        forcerange=fmt(-gripper_servo["max_force_n"], gripper_servo["max_force_n"]),
    )
    ET.indent(mj)
    return ET.tostring(mj, encoding="unicode"), assets
