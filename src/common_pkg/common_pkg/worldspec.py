"""The physical world of a scenario, as the simulator needs it: a ROS-free, validated description.

Coordinates are metres in the scenario's world frame: origin at the floor's lower-left corner,
x along the floor's length, y across it, z up (REP-103). Angles in the YAML are degrees.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common_pkg.actors import ACTORS_SCHEMA, Actor, make_actor
from common_pkg.errors import LocatedError, WorldError
from common_pkg.yamlio import IDENTIFIER, Locator, format_path, is_file

# Limits of a world, each refused with a located message where a file passes it. A floor the
# size of a large factory hall: the planner's 5 cm grid of it is 2000 x 2000 cells.
MAX_FLOOR_M = 100.0
MAX_HEIGHT_M = 20.0  # a high-bay rack
MAX_OBSTACLES = 200  # the solvability check compares every pair, for every hidden variant
MAX_STATIONS = 50  # each needs its own ArUco id, of 250
MAX_OBJECTS = 50
MAX_ZONES = 50
# A loose part is a free body: MuJoCo refuses one whose mass or inertia is next to nothing.
MIN_PART_SIZE_M = 0.005
MIN_PART_MASS_KG = 0.001
MAX_DISPLAY_PX = 4096  # a station's display image becomes a texture in the simulator
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_XY = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
_LENGTH = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_FLOOR_M}
_HEIGHT = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_HEIGHT_M}
_TEXT = {
    "type": "object",
    "required": ["ko", "en"],
    "properties": {
        "ko": {"type": "string", "minLength": 1},
        "en": {"type": "string", "minLength": 1},
    },
}
_SIZE = {"type": "array", "items": _LENGTH, "minItems": 2, "maxItems": 2}

# JSON Schema of the `world` and `robot_start` sections; the full scenario schema embeds it.
WORLD_SCHEMA = {
    "type": "object",
    "required": ["floor", "stations"],
    "additionalProperties": False,
    "properties": {
        "floor": {
            "type": "object",
            "required": ["size_m"],
            "additionalProperties": False,
            "properties": {"size_m": _SIZE},
        },
        "perimeter_walls": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"height_m": _HEIGHT, "thickness_m": _LENGTH},
        },
        "obstacles": {
            "type": "array",
            "maxItems": MAX_OBSTACLES,
            "items": {
                "type": "object",
                "required": ["name", "center_m", "size_m", "height_m"],
                "additionalProperties": False,
                "properties": {
                    "name": IDENTIFIER,
                    "label": _TEXT,
                    "center_m": _XY,
                    "size_m": _SIZE,
                    "height_m": _HEIGHT,
                    "yaw_deg": {"type": "number"},
                    "rgba": {
                        "type": "array",
                        "items": {"type": "number", "minimum": 0, "maximum": 1},
                        "minItems": 4,
                        "maxItems": 4,
                    },
                },
            },
        },
        "stations": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_STATIONS,
            "items": {
                "type": "object",
                "required": ["id", "name", "marker_id", "stop_m", "facing_deg"],
                "additionalProperties": False,
                "properties": {
                    "id": IDENTIFIER,
                    "name": _TEXT,
                    "marker_id": {"type": "integer", "minimum": 0, "maximum": 249},
                    "stop_m": _XY,
                    "facing_deg": {"type": "number"},
                    "panel_distance_m": _LENGTH,
                    "marker_size_m": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.35},
                    # An item shown on the post below the marker, for inspect tasks: a PNG file
                    # (relative to the scenario file) and its printed size [width, height].
                    "display": {
                        "type": "object",
                        "required": ["image", "size_m"],
                        "additionalProperties": False,
                        "properties": {"image": {"type": "string"}, "size_m": _SIZE},
                    },
                },
            },
        },
        "objects": {
            "type": "array",
            "maxItems": MAX_OBJECTS,
            "items": {
                "type": "object",
                "required": ["name", "center_m", "size_m", "mass_kg"],
                "additionalProperties": False,
                "properties": {
                    "name": IDENTIFIER,
                    "label": _TEXT,
                    "center_m": _XY,
                    "size_m": {
                        "type": "array",
                        "items": {
                            "type": "number",
                            "minimum": MIN_PART_SIZE_M,
                            "maximum": MAX_FLOOR_M,
                        },
                        "minItems": 3,
                        "maxItems": 3,
                    },
                    "base_z_m": {"type": "number", "minimum": 0, "maximum": MAX_HEIGHT_M},
                    "mass_kg": {"type": "number", "minimum": MIN_PART_MASS_KG},
                    "yaw_deg": {"type": "number"},
                    "rgba": {
                        "type": "array",
                        "items": {"type": "number", "minimum": 0, "maximum": 1},
                        "minItems": 4,
                        "maxItems": 4,
                    },
                },
            },
        },
        "actors": ACTORS_SCHEMA,
        "zones": {
            "type": "array",
            "maxItems": MAX_ZONES,
            "items": {
                "type": "object",
                "required": ["name", "kind", "center_m", "size_m"],
                "additionalProperties": False,
                "properties": {
                    "name": _TEXT,
                    "kind": {"enum": ["keep_out", "slow", "hot"]},
                    "center_m": _XY,
                    "size_m": _SIZE,
                    # hot zones only (and required there): safety score lost per second inside
                    "penalty_per_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                },
            },
        },
    },
}
START_SCHEMA = {
    "type": "object",
    "required": ["position_m", "yaw_deg"],
    "additionalProperties": False,
    "properties": {"position_m": _XY, "yaw_deg": {"type": "number"}},
}


@dataclass(frozen=True)
class Pose2D:
    x: float
    y: float
    yaw: float  # rad, counter-clockwise from +x

    def transform_point(self, xy: np.ndarray) -> np.ndarray:
        """Map a point from this pose's frame into the parent frame."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return np.array([self.x + c * xy[0] - s * xy[1], self.y + s * xy[0] + c * xy[1]])

    def inverse_transform_point(self, xy: np.ndarray) -> np.ndarray:
        """Map a point from the parent frame into this pose's frame."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        dx, dy = xy[0] - self.x, xy[1] - self.y
        return np.array([c * dx + s * dy, -s * dx + c * dy])


@dataclass(frozen=True)
class Block:
    """A solid box standing on the floor: a wall, a tank, a rack, a station panel."""

    name: str
    center_xy: tuple[float, float]
    size_xy: tuple[float, float]
    height_m: float
    yaw_rad: float = 0.0
    rgba: tuple[float, float, float, float] = (0.55, 0.57, 0.6, 1.0)


# Station markers: ArUco, OpenCV's 4x4 dictionary with 250 ids (big cells read well from afar).
MARKER_DICTIONARY = "DICT_4X4_250"
MARKER_CENTER_Z_M = 0.30  # height of a marker's centre on its post
# Room the robot needs around its start, kept clear of actors' paths: a TurtleBot3 Waffle Pi
# reaches ~0.25 m from base_footprint (the chassis's back corners), plus a 0.1 m margin.
ROBOT_CLEARANCE_M = 0.35


@dataclass(frozen=True)
class Station:
    id: str
    name_ko: str
    name_en: str
    marker_id: int
    stop_xy: tuple[float, float]  # where the robot should stop
    facing_rad: float  # direction from the stop point to the station panel
    panel_distance_m: float
    marker_size_m: float = 0.12  # side of the marker's black square
    display_image: Path | None = None  # PNG shown on the post below the marker (inspect tasks)
    display_size_m: tuple[float, float] = (0.16, 0.12)

    def marker_center_xyz(self, post_half_depth_m: float = 0.03) -> tuple[float, float, float]:
        """Centre of the printed marker, on the post's face towards the stop point (world frame)."""
        px, py = self.panel_xy
        back = post_half_depth_m + 0.002
        return (
            px - back * math.cos(self.facing_rad),
            py - back * math.sin(self.facing_rad),
            MARKER_CENTER_Z_M,
        )

    @property
    def panel_xy(self) -> tuple[float, float]:
        return (
            self.stop_xy[0] + self.panel_distance_m * math.cos(self.facing_rad),
            self.stop_xy[1] + self.panel_distance_m * math.sin(self.facing_rad),
        )


@dataclass(frozen=True)
class Zone:
    name_ko: str
    name_en: str
    kind: str  # keep_out | slow | hot
    center_xy: tuple[float, float]
    size_xy: tuple[float, float]
    # hot zones: safety score (0..1) lost per second the robot's base_footprint is inside.
    # Keep-out zones cost the scenario's penalties.keep_out_per_s; slow zones are markings only.
    penalty_per_s: float = 0.0

    def contains(self, xy: np.ndarray) -> bool:
        return (
            abs(xy[0] - self.center_xy[0]) <= self.size_xy[0] / 2
            and abs(xy[1] - self.center_xy[1]) <= self.size_xy[1] / 2
        )


@dataclass(frozen=True)
class Part:
    """A loose object (a part, a small bin) that the robot can push, pick and place."""

    name: str
    center_xy: tuple[float, float]
    size_xyz: tuple[float, float, float]
    base_z_m: float  # height of the surface it starts on (floor = 0)
    mass_kg: float
    yaw_rad: float = 0.0
    rgba: tuple[float, float, float, float] = (0.8, 0.45, 0.1, 1.0)


@dataclass(frozen=True)
class WorldSpec:
    floor_size_xy: tuple[float, float]
    walls: tuple[Block, ...]
    obstacles: tuple[Block, ...]
    stations: tuple[Station, ...]
    zones: tuple[Zone, ...]
    robot_start: Pose2D
    parts: tuple[Part, ...] = ()
    actors: tuple[Actor, ...] = ()  # moving workers and forklifts (common_pkg.actors)


def _perimeter(size: tuple[float, float], height: float, thick: float) -> tuple[Block, ...]:
    lx, ly = size
    grey = (0.72, 0.72, 0.70, 1.0)
    return (
        Block("wall_south", (lx / 2, -thick / 2), (lx + 2 * thick, thick), height, 0.0, grey),
        Block("wall_north", (lx / 2, ly + thick / 2), (lx + 2 * thick, thick), height, 0.0, grey),
        Block("wall_west", (-thick / 2, ly / 2), (thick, ly), height, 0.0, grey),
        Block("wall_east", (lx + thick / 2, ly / 2), (thick, ly), height, 0.0, grey),
    )


def check_display_image(
    image: Path, location: str, error_type: type[LocatedError] = WorldError
) -> None:
    """An image shown at a station is a PNG that OpenCV reads, at most MAX_DISPLAY_PX a side:
    the simulator and the Gazebo world turn it into a texture."""
    if not is_file(image):
        raise error_type(
            location,
            f"display image {image} not found",
            f"표시 이미지 {image}을(를) 찾을 수 없습니다",
        )
    try:
        with image.open("rb") as stream:
            head = stream.read(24)
    except OSError as exc:
        raise error_type(
            location,
            f"cannot read display image {image} ({exc.strerror})",
            f"표시 이미지 {image}을(를) 읽을 수 없습니다 ({exc.strerror})",
        ) from None
    if len(head) < 24 or head[:8] != _PNG_SIGNATURE or head[12:16] != b"IHDR":
        raise error_type(
            location,
            f"display image {image} is not a PNG file",
            f"표시 이미지 {image}이(가) PNG 파일이 아닙니다",
        )
    width, height = struct.unpack(">II", head[16:24])
    if not (1 <= width <= MAX_DISPLAY_PX and 1 <= height <= MAX_DISPLAY_PX):
        raise error_type(
            location,
            f"display image {image} is {width} x {height} pixels: at most {MAX_DISPLAY_PX} a side",
            f"표시 이미지 {image}이(가) {width} x {height} 픽셀입니다. 한 변은 최대 "
            f"{MAX_DISPLAY_PX} 픽셀까지입니다",
        )
    import cv2  # only where a scenario shows an image

    if cv2.imread(str(image), cv2.IMREAD_COLOR) is None:
        raise error_type(
            location,
            f"display image {image} cannot be decoded (a damaged or cut-off PNG?)",
            f"표시 이미지 {image}을(를) 읽어 들일 수 없습니다 (PNG 파일이 깨졌거나 잘렸나요?)",
        )


def _display(station: dict, base_dir: Path | None, locate: Locator, where: tuple) -> tuple:
    """(image path, size) of a station's display, checked to be a readable PNG; () when it has
    none."""
    if "display" not in station:
        return ()
    image = Path(station["display"]["image"])
    if not image.is_absolute():
        image = (base_dir or Path.cwd()) / image
    check_display_image(image, locate((*where, "image")))
    return (image, tuple(float(v) for v in station["display"]["size_m"]))


def _zone(zone: dict, locate: Locator, where: tuple) -> Zone:
    """A floor zone; a hot zone must say what a second inside costs, and only a hot zone may."""
    hot = zone["kind"] == "hot"
    if hot and "penalty_per_s" not in zone:
        raise WorldError(
            locate(where),
            "a hot zone needs penalty_per_s: the safety score lost per second inside (e.g. 0.05)",
            "고온 구역에는 penalty_per_s(안에 있는 1초마다 깎이는 안전 점수, 예: 0.05)가 필요합니다",
        )
    if not hot and "penalty_per_s" in zone:
        raise WorldError(
            locate((*where, "penalty_per_s")),
            f"penalty_per_s is for hot zones only (a {zone['kind']} zone costs "
            "penalties.keep_out_per_s if it is keep-out, nothing if it is slow)",
            f"penalty_per_s는 고온 구역에만 씁니다 ({zone['kind']} 구역: 출입 금지 구역은 "
            "penalties.keep_out_per_s, 서행 구역은 감점 없음)",
        )
    return Zone(
        zone["name"]["ko"],
        zone["name"]["en"],
        zone["kind"],
        tuple(zone["center_m"]),
        tuple(zone["size_m"]),
        float(zone.get("penalty_per_s", 0.0)),
    )


def parse_world(
    world: dict, start: dict, locate: Locator, key: tuple = ("world",), base_dir: Path | None = None
) -> WorldSpec:
    """Build a WorldSpec from already schema-checked data, checking what a schema cannot.

    `base_dir`: where relative file names in the world (display images) are found."""
    size = tuple(float(v) for v in world["floor"]["size_m"])

    def inside(xy, where: tuple, what_en: str, what_ko: str) -> None:
        if not (0.0 <= xy[0] <= size[0] and 0.0 <= xy[1] <= size[1]):
            raise WorldError(
                locate(where),
                f"{what_en} {list(xy)} is outside the {size[0]} x {size[1]} m floor",
                f"{what_ko} {list(xy)}이(가) {size[0]} x {size[1]} m 바닥 밖에 있습니다",
            )

    def unique(value, seen: set, where: tuple, what_en: str, what_ko: str) -> None:
        if value in seen:
            raise WorldError(
                locate(where),
                f"{what_en} '{value}' is used twice",
                f"{what_ko} '{value}'이(가) 두 번 사용되었습니다",
            )
        seen.add(value)

    walls: tuple[Block, ...] = ()
    if "perimeter_walls" in world:
        pw = world["perimeter_walls"]
        walls = _perimeter(size, float(pw.get("height_m", 1.0)), float(pw.get("thickness_m", 0.1)))

    obstacles, names = [], set()
    for i, o in enumerate(world.get("obstacles", [])):
        where = (*key, "obstacles", i)
        unique(o["name"], names, (*where, "name"), "obstacle name", "장애물 이름")
        inside(o["center_m"], (*where, "center_m"), "obstacle centre", "장애물 중심")
        obstacles.append(
            Block(
                o["name"],
                tuple(o["center_m"]),
                tuple(o["size_m"]),
                float(o["height_m"]),
                math.radians(o.get("yaw_deg", 0.0)),
                tuple(o.get("rgba", (0.55, 0.57, 0.6, 1.0))),
            )
        )

    stations, ids, markers = [], set(), set()
    for i, s in enumerate(world["stations"]):
        where = (*key, "stations", i)
        unique(s["id"], ids, (*where, "id"), "station id", "스테이션 ID")
        unique(s["marker_id"], markers, (*where, "marker_id"), "marker_id", "마커 ID")
        inside(s["stop_m"], (*where, "stop_m"), "station stop point", "스테이션 정지 위치")
        stations.append(
            Station(
                s["id"],
                s["name"]["ko"],
                s["name"]["en"],
                int(s["marker_id"]),
                tuple(s["stop_m"]),
                math.radians(s["facing_deg"]),
                float(s.get("panel_distance_m", 0.55)),
                float(s.get("marker_size_m", 0.12)),
                *_display(s, base_dir, locate, (*where, "display")),
            )
        )

    parts = []
    for i, o in enumerate(world.get("objects", [])):
        where = (*key, "objects", i)
        unique(o["name"], names, (*where, "name"), "name", "이름")
        inside(o["center_m"], (*where, "center_m"), "object centre", "물체 중심")
        parts.append(
            Part(
                o["name"],
                tuple(o["center_m"]),
                tuple(o["size_m"]),
                float(o.get("base_z_m", 0.0)),
                float(o["mass_kg"]),
                math.radians(o.get("yaw_deg", 0.0)),
                tuple(o.get("rgba", (0.8, 0.45, 0.1, 1.0))),
            )
        )

    actors, taken = [], ids | names  # an actor's id is unique among stations, parts, obstacles
    for i, a in enumerate(world.get("actors", [])):
        where = (*key, "actors", i)
        unique(a["id"], taken, (*where, "id"), "actor id", "작업자·지게차 ID")
        for j, xy in enumerate(a["path"]):
            inside(xy, (*where, "path", j), "path point", "이동 경로 점")
        actors.append(make_actor(a, locate, where))

    for i, z in enumerate(world.get("zones", [])):
        inside(z["center_m"], (*key, "zones", i, "center_m"), "zone centre", "구역 중심")
    zones = tuple(
        _zone(z, locate, (*key, "zones", i)) for i, z in enumerate(world.get("zones", []))
    )

    inside(start["position_m"], ("robot_start", "position_m"), "robot start", "로봇 시작 위치")
    robot_start = Pose2D(
        float(start["position_m"][0]), float(start["position_m"][1]), math.radians(start["yaw_deg"])
    )
    for z in zones:
        if z.kind == "keep_out" and z.contains(np.array(start["position_m"])):
            raise WorldError(
                locate(("robot_start", "position_m")),
                "the robot starts inside a keep-out zone",
                "로봇 시작 위치가 출입 금지 구역 안에 있습니다",
            )
    for i, actor in enumerate(actors):
        clear_m = actor.sweep_radius_m + ROBOT_CLEARANCE_M
        if actor.path_distance_m((robot_start.x, robot_start.y)) < clear_m:
            # Hidden variants put the actor anywhere on its path at the start: all of it must
            # be clear of the robot.
            raise WorldError(
                locate(("robot_start", "position_m")),
                f"the robot starts on the path of {actor.kind} '{actor.id}' "
                f"({format_path((*key, 'actors', i))}): it would be hit before it can move",
                f"로봇 시작 위치가 {actor.kind_ko} '{actor.id}'의 이동 경로 위에 있습니다 "
                f"({format_path((*key, 'actors', i))}): 움직이기도 전에 부딪힙니다",
            )
    return WorldSpec(
        size,
        walls,
        tuple(obstacles),
        tuple(stations),
        zones,
        robot_start,
        tuple(parts),
        tuple(actors),
    )


def load_world(path) -> WorldSpec:
    """Read only the world of a scenario file (what `rootroute sim` and the bridge need)."""
    from common_pkg.yamlio import check_values, load_yaml, validate

    data, locate = load_yaml(path, WorldError)
    check_values(data, locate, WorldError)
    schema = {
        "type": "object",
        "required": ["world", "robot_start"],
        "properties": {"world": WORLD_SCHEMA, "robot_start": START_SCHEMA},
    }
    validate(data, schema, locate, WorldError)
    return parse_world(data["world"], data["robot_start"], locate, base_dir=Path(path).parent)
