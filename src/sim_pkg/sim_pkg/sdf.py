"""Scenario world -> a Gazebo (gz sim Harmonic) SDFormat world, the twin of the MJCF in mjcf.py.

The same WorldSpec gives the same walls, obstacles, stations, parts and zones, with the same names,
sizes, poses and colours as the MuJoCo model, so that a test can hold one against the other.

- SDFormat 1.9: libsdformat 14 (Harmonic) reads it, and Debian's `sdformat-sdf` package ships its
  XML schema, which the tests validate against.
- The robot is not in the world. On a full install launch/gazebo_sim.launch.py spawns ROBOTIS's own
  TurtleBot3 Waffle Pi model (turtlebot3_gazebo) at the scenario's start pose. The world names that
  pose as the frame `robot_start`, for whoever opens the world in Gazebo by hand.
- Station markers and display items are PNG files next to world.sdf (`sdf_textures`), named in
  PBR albedo maps by relative path: gz sim resolves such a path against the SDF file's folder.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np

from common_pkg.profile import RobotProfile
from common_pkg.worldspec import Block, Part, Pose2D, Station, WorldSpec, Zone
from sim_pkg.keyframes import actor_keyframes
from sim_pkg.mjcf import (
    DISPLAY_CENTER_Z_M,
    STATION_POST_HALF_DEPTH_M,
    STATION_POST_SIZE_M,
    ZONE_RGBA,
    marker_image,
)
from sim_pkg.mjcf_robot import fmt, sub

SDF_VERSION = "1.9"
WORLD_FILE = "world.sdf"

# The station post of mjcf.py: a yellow box 0.06 m deep, 0.4 m wide, 0.6 m tall, standing on the floor.
STATION_POST_RGBA = (0.95, 0.8, 0.1, 1.0)
FLOOR_RGBA = (0.62, 0.64, 0.6, 1.0)
PLATE_THICKNESS_M = 0.002  # the printed marker / display plates, as in mjcf.py
_MARKER_PX = 240  # side of the marker's black square in its texture (marker_image's default)
WORLD_FRICTION = 0.8  # mjcf.py's "world" class
PART_FRICTION = 1.0  # mjcf.py's "part" class

# Moving actors (common_pkg.actors). A Gazebo actor follows a scripted trajectory (sim_pkg.keyframes)
# and takes no forces; the camera and the gpu_lidar see it. Colours: the MJCF's vest and forklift.
ACTOR_RGBA = {"worker": (1.0, 0.55, 0.0, 1.0), "forklift": (0.95, 0.75, 0.05, 1.0)}

# Gazebo systems a world needs for ROBOTIS's TurtleBot3 model: physics, spawning (UserCommands),
# publishing the scene, and rendering sensors (camera, gpu_lidar) and the IMU.
_SYSTEMS = (
    ("gz-sim-physics-system", "gz::sim::systems::Physics"),
    ("gz-sim-user-commands-system", "gz::sim::systems::UserCommands"),
    ("gz-sim-scene-broadcaster-system", "gz::sim::systems::SceneBroadcaster"),
    ("gz-sim-sensors-system", "gz::sim::systems::Sensors"),
    ("gz-sim-imu-system", "gz::sim::systems::Imu"),
)


def marker_texture_name(station: Station) -> str:
    return f"marker_{station.id}.png"


def display_texture_name(station: Station) -> str:
    return f"display_{station.id}.png"


def world_name_for(scenario_path: str | Path) -> str:
    """Gazebo's world name: the scenario file's stem, made fit for topic names (/world/<name>/...)."""
    return re.sub(r"\W", "_", Path(scenario_path).stem, flags=re.ASCII)


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = sub(parent, tag)
    element.text = text
    return element


def _pose(parent: ET.Element, x=0.0, y=0.0, z=0.0, yaw=0.0) -> None:
    _text(parent, "pose", fmt(x, y, z, 0, 0, yaw))


def _box(parent: ET.Element, size_xyz) -> None:
    _text(sub(sub(parent, "geometry"), "box"), "size", fmt(*size_xyz))


def _material(parent: ET.Element, rgba, albedo_map: str | None = None) -> None:
    material = sub(parent, "material")
    _text(material, "ambient", fmt(*rgba))
    _text(material, "diffuse", fmt(*rgba))
    _text(material, "specular", fmt(0.1, 0.1, 0.1, 1))
    if albedo_map is not None:
        metal = sub(sub(material, "pbr"), "metal")
        _text(metal, "albedo_map", albedo_map)
        _text(metal, "metalness", "0")
        _text(metal, "roughness", "1")


def _friction(collision: ET.Element, mu: float) -> None:
    ode = sub(sub(sub(collision, "surface"), "friction"), "ode")
    _text(ode, "mu", fmt(mu))
    _text(ode, "mu2", fmt(mu))


def _solid_box(link: ET.Element, name: str, size_xyz, rgba, mu: float, pose=None) -> None:
    """A box visual called `name` (the MJCF geom's name) and its collision, `name`_collision."""
    collision = sub(link, "collision", name=f"{name}_collision")
    if pose is not None:
        _pose(collision, *pose)
    _box(collision, size_xyz)
    _friction(collision, mu)
    visual = sub(link, "visual", name=name)
    if pose is not None:
        _pose(visual, *pose)
    _box(visual, size_xyz)
    _material(visual, rgba)


def _static_model(world: ET.Element, name: str, x, y, z, yaw) -> ET.Element:
    """A static model posed in the world, holding one link; returns the link."""
    model = sub(world, "model", name=name)
    _text(model, "static", "true")
    _pose(model, x, y, z, yaw)
    return sub(model, "link", name="link")


def _block(world: ET.Element, block: Block) -> None:
    link = _static_model(world, block.name, *block.center_xy, block.height_m / 2, yaw=block.yaw_rad)
    _solid_box(link, block.name, (*block.size_xy, block.height_m), block.rgba, WORLD_FRICTION)


def _display_plate_size(station: Station) -> tuple[np.ndarray, tuple[float, float]]:
    """The display image and the printed size of the picture on its plate. mjcf.py pads the
    picture to a square of side max(size_m) on a white mount (MuJoCo's cube textures must be
    square); the picture itself keeps its aspect ratio inside it, and that is what is printed here."""
    picture = cv2.imread(str(station.display_image), cv2.IMREAD_COLOR)
    h, w = picture.shape[:2]
    scale = max(station.display_size_m) / max(h, w)
    return picture, (w * scale, h * scale)


def _picture_visual(link, name, texture, center_local, size_yz) -> None:
    """A thin plate whose +x face carries `texture`, turned back towards the stop point.

    gz-common's box mesh maps a texture onto its +x face with u along +y and v along -z, so the
    picture reads upright and unmirrored to a viewer in front of that face.
    """
    visual = sub(link, "visual", name=name)
    x, y, z = center_local
    _pose(visual, x, y, z, math.pi)
    _box(visual, (PLATE_THICKNESS_M, *size_yz))
    _material(visual, (1.0, 1.0, 1.0, 1.0), albedo_map=texture)
    _text(visual, "cast_shadows", "false")


def _station(world: ET.Element, station: Station) -> None:
    px, py = station.panel_xy
    post_z = STATION_POST_SIZE_M[2] / 2
    post = Pose2D(px, py, station.facing_rad)
    link = _static_model(world, f"station_{station.id}", px, py, post_z, station.facing_rad)
    _solid_box(
        link, f"station_{station.id}", STATION_POST_SIZE_M, STATION_POST_RGBA, WORLD_FRICTION
    )

    mx, my, mz = station.marker_center_xyz(STATION_POST_HALF_DEPTH_M)
    local = post.inverse_transform_point(np.array([mx, my]))
    image_side_px = marker_image(station.marker_id, _MARKER_PX).shape[0]
    side_m = station.marker_size_m * image_side_px / _MARKER_PX  # with its white quiet zone
    _picture_visual(
        link,
        f"marker_{station.id}",
        marker_texture_name(station),
        (local[0], local[1], mz - post_z),
        (side_m, side_m),
    )
    if station.display_image is not None:
        _, size_m = _display_plate_size(station)
        _picture_visual(
            link,
            f"display_{station.id}",
            display_texture_name(station),
            (local[0], local[1], DISPLAY_CENTER_Z_M - post_z),
            size_m,
        )


def box_inertia(mass_kg: float, size_xyz) -> tuple[float, float, float]:
    """(ixx, iyy, izz) of a solid box about its centre."""
    x, y, z = size_xyz
    return (
        mass_kg * (y * y + z * z) / 12,
        mass_kg * (x * x + z * z) / 12,
        mass_kg * (x * x + y * y) / 12,
    )


def _part(world: ET.Element, part: Part) -> None:
    model = sub(world, "model", name=f"part_{part.name}")
    _pose(model, *part.center_xy, part.base_z_m + part.size_xyz[2] / 2, part.yaw_rad)
    link = sub(model, "link", name="link")
    inertial = sub(link, "inertial")
    _text(inertial, "mass", fmt(part.mass_kg))
    inertia = sub(inertial, "inertia")
    ixx, iyy, izz = box_inertia(part.mass_kg, part.size_xyz)
    moments = {"ixx": ixx, "ixy": 0, "ixz": 0, "iyy": iyy, "iyz": 0, "izz": izz}
    for key, value in moments.items():
        _text(inertia, key, fmt(value))
    _solid_box(link, f"part_{part.name}", part.size_xyz, part.rgba, PART_FRICTION)


def _zone(world: ET.Element, index: int, zone: Zone) -> None:
    """A floor marking: a translucent visual with no collision, 2 mm thick, as in mjcf.py."""
    name = f"zone_{index}_{zone.kind}"
    link = _static_model(world, name, *zone.center_xy, 0.0015, yaw=0.0)
    visual = sub(link, "visual", name=name)
    _box(visual, (*zone.size_xy, 0.002))
    rgba = tuple(float(v) for v in ZONE_RGBA[zone.kind].split())
    _material(visual, rgba)
    _text(visual, "transparency", fmt(1.0 - rgba[3]))
    _text(visual, "cast_shadows", "false")


def _floor(world: ET.Element, spec: WorldSpec) -> None:
    """The ground plane under the floor, 1 m wider on each side (the MJCF floor's size)."""
    lx, ly = spec.floor_size_xy
    link = _static_model(world, "ground_plane", lx / 2, ly / 2, 0.0, yaw=0.0)
    for tag, name in (("collision", "floor_collision"), ("visual", "floor")):
        element = sub(link, tag, name=name)
        plane = sub(sub(element, "geometry"), "plane")
        _text(plane, "normal", "0 0 1")
        _text(plane, "size", fmt(lx + 2, ly + 2))
        if tag == "collision":
            _friction(element, WORLD_FRICTION)
        else:
            _material(element, FLOOR_RGBA)


def _actor(world: ET.Element, actor) -> None:
    """A worker (an upright cylinder) or a forklift (its outline box) on its scripted route,
    in the colours of the MJCF model."""
    length, width, height = actor.size_lwh
    element = sub(world, "actor", name=f"actor_{actor.id}")
    link = sub(element, "link", name="body")
    visual = sub(link, "visual", name="body")
    _pose(visual, z=height / 2)
    geometry = sub(visual, "geometry")
    if actor.kind == "worker":
        cylinder = sub(geometry, "cylinder")
        _text(cylinder, "radius", fmt(actor.radius_m))
        _text(cylinder, "length", fmt(height))
    else:
        _text(sub(geometry, "box"), "size", fmt(length, width, height))
    _material(visual, ACTOR_RGBA[actor.kind])
    script = sub(element, "script")
    _text(script, "loop", "true")
    _text(script, "delay_start", "0")
    _text(script, "auto_start", "true")
    trajectory = sub(script, "trajectory", id="0", type=actor.kind)
    for t, x, y, yaw in actor_keyframes(actor):
        waypoint = sub(trajectory, "waypoint")
        _text(waypoint, "time", fmt(t))
        _pose(waypoint, x, y, 0.0, yaw)


def world_to_sdf(
    spec: WorldSpec, profile: RobotProfile, world_name: str = "rootroute_world"
) -> str:
    """The SDFormat XML text of one scenario world, without the robot. It names its textures by
    the file names of `sdf_textures(spec)`, which must lie next to the world file."""
    root = ET.Element("sdf", version=SDF_VERSION)
    start = spec.robot_start
    root.append(
        ET.Comment(
            f" Root&Route scenario world, generated by sim_pkg.sdf for robot profile {profile.name}."
            f" The robot is spawned by launch/gazebo_sim.launch.py at robot_start:"
            f" x={start.x:.4f} m, y={start.y:.4f} m, yaw={start.yaw:.4f} rad. "
        )
    )
    world = sub(root, "world", name=world_name)
    physics = sub(world, "physics", name="rootroute_physics", type="ignored")
    # The embedded simulator's step, from the same robot profile.
    _text(physics, "max_step_size", fmt(profile.physics_timestep_s))
    _text(physics, "real_time_factor", "1")
    for filename, name in _SYSTEMS:
        plugin = sub(world, "plugin", filename=filename, name=name)
        if name.endswith("Sensors"):
            _text(plugin, "render_engine", "ogre2")
    # No shadows, as in the MJCF's lean scene: cheaper headless rendering, and the camera sees the
    # markers lit the same in both simulators.
    scene = sub(world, "scene")
    _text(scene, "ambient", "0.45 0.45 0.45 1")
    _text(scene, "background", "0.7 0.75 0.8 1")
    _text(scene, "shadows", "false")
    sun = sub(world, "light", name="sun", type="directional")
    _text(sun, "cast_shadows", "false")
    _pose(sun, z=10.0)
    _text(sun, "diffuse", "0.8 0.8 0.8 1")
    _text(sun, "specular", "0.2 0.2 0.2 1")
    _text(sun, "direction", "-0.5 0.1 -0.9")

    frame = sub(world, "frame", name="robot_start")
    _pose(frame, start.x, start.y, 0.0, start.yaw)

    _floor(world, spec)
    for index, zone in enumerate(spec.zones):
        _zone(world, index, zone)
    for block in spec.walls + spec.obstacles:
        _block(world, block)
    for station in spec.stations:
        _station(world, station)
    for part in spec.parts:
        _part(world, part)
    for actor in getattr(spec, "actors", ()):
        _actor(world, actor)
    ET.indent(root)
    return '<?xml version="1.0"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("PNG encoding failed")
    return data.tobytes()


def sdf_textures(spec: WorldSpec) -> dict[str, bytes]:
    """{file name: PNG bytes} of the pictures the world file names: each station's ArUco marker
    (OpenCV's dictionary and id, as in the MJCF) and, for inspect stations, its display item."""
    textures = {}
    for station in spec.stations:
        textures[marker_texture_name(station)] = _png(marker_image(station.marker_id, _MARKER_PX))
        if station.display_image is not None:
            picture, _ = _display_plate_size(station)
            textures[display_texture_name(station)] = _png(picture)
    return textures


def write_sdf_files(
    spec: WorldSpec, profile: RobotProfile, out_dir: str | Path, world_name: str
) -> Path:
    """Write `out_dir`/world.sdf and the PNG files it names; return the world file's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in sdf_textures(spec).items():
        (out / name).write_bytes(data)
    world = out / WORLD_FILE
    world.write_text(world_to_sdf(spec, profile, world_name), encoding="utf-8")
    return world


def write_sdf_world(
    scenario_path: str | Path, out_dir: str | Path, profile: RobotProfile | None = None
) -> Path:
    """Read a scenario's world and write its Gazebo world into `out_dir` (see write_sdf_files).

    Raises WorldError (located, bilingual) for a malformed scenario, before writing anything."""
    from common_pkg.profile import load_profile
    from common_pkg.worldspec import load_world

    spec = load_world(scenario_path)
    return write_sdf_files(spec, profile or load_profile(), out_dir, world_name_for(scenario_path))
