"""Can a scenario (a hidden variant, usually) still be solved? Geometry checks, ROS-free.

What must hold, cheapest first:

- everything solid (obstacles, station posts, loose parts, place targets, the robot at its start)
  lies on the floor, and no two of them overlap (in plan, and in height: a part standing on a
  table touches it, it does not overlap it); a part and its place target stand fully on a
  surface of their height (the floor, or an obstacle's top);
- the robot's start is outside keep-out zones and clear of every worker's and forklift's route,
  like every stop point; no obstacle or post stands in a route;
- every station's marker can be seen from its stop point (nothing taller than the camera between);
- where the robot picks and places, both are within the arm's reach from where it stands;
- every navigate / inspect stop point is reachable from the start on the scenario's occupancy grid,
  keep-out zones included, inflated by the robot's radius (planning_pkg's grid and A*). Hot and
  slow zones are floor the robot may cross (at a cost to its safety score, for hot ones): they
  neither block a way nor forbid a start or a stop point;
- every board on display for an inspect task is read right by the platform's model
  (perception_pkg's pcb_inspector) from where the robot inspects it, with room to spare: the
  camera frame is rendered (MuJoCo), so this one is the dearest and comes last.

Shapes are rectangles in plan (x, y), tested with the separating axis theorem; metres, radians.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from common_pkg.profile import DEFAULT_PROFILE, load_profile
from common_pkg.worldspec import ROBOT_CLEARANCE_M, Pose2D, WorldSpec
from curriculum_pkg.scenario import STATION_TASKS
from planning_pkg.arm_kinematics import ArmGeometry, UnreachableError
from planning_pkg.astar import NoPathError, plan_path
from planning_pkg.grid import grid_from_world, inflate
from planning_pkg.pick_place import plan_pick_and_place
from sim_pkg.mjcf import DISPLAY_CENTER_Z_M, STATION_POST_SIZE_M

if TYPE_CHECKING:
    from curriculum_pkg.scenario import Scenario

GRID_RESOLUTION_M = 0.05
# The platform's model must give an inspected board's true label at least this probability: the
# shipped reference reports at 0.9, and where a student's robot stops differs a little.
INSPECT_MIN_PROBABILITY = 0.93
OVERLAP_M = 1e-3  # shapes that only touch (within a millimetre) do not overlap
SUPPORT_Z_M = 2e-3  # a part stands on a surface whose height is this close to its base_z_m


@dataclass(frozen=True)
class Problem:
    """Why a scenario cannot be solved: `key` names it the same way in every draw (for counts)."""

    key: str
    en: str
    ko: str


@dataclass(frozen=True)
class RobotShape:
    """What the checks need of the robot, in base_footprint (x forward, y left)."""

    footprint_center_xy: tuple[float, float]
    footprint_size_xy: tuple[float, float]
    radius_m: float  # farthest footprint point from base_footprint: turning on the spot sweeps it
    camera_height_m: float
    base_link_height_m: float
    arm: ArmGeometry
    arm_home_rad: tuple[float, ...]


@lru_cache(maxsize=4)
def robot_shape(profile_name: str = DEFAULT_PROFILE) -> RobotShape:
    """The chassis box and the wheels (outside it) in plan, from the robot profile."""
    profile = load_profile(profile_name)
    base = profile.raw["base"]  # (no typed fields for the chassis geometry yet)
    cx, _, _ = base["chassis_center_m"]
    sx, sy, _ = base["chassis_size_m"]
    half_y = max(sy / 2, base["wheel_y_m"] + base["wheel_width_m"] / 2)
    x_lo, x_hi = cx - sx / 2, cx + sx / 2
    radius = max(math.hypot(x, half_y) for x in (x_lo, x_hi))
    lift = float(base["base_link_height_m"])
    return RobotShape(
        footprint_center_xy=(cx, 0.0),
        footprint_size_xy=(sx, 2 * half_y),
        radius_m=radius,
        camera_height_m=float(profile.raw["camera"]["mount_xyz_m"][2]) + lift,
        base_link_height_m=lift,
        arm=ArmGeometry.from_profile(profile),
        arm_home_rad=tuple(profile.arm_home_rad),
    )


# ------------------------------------------------------------------------------------ geometry
def rectangle(center_xy, size_xy, yaw_rad: float) -> np.ndarray:
    """(4, 2) corners, counter-clockwise."""
    hx, hy = size_xy[0] / 2, size_xy[1] / 2
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    local = np.array([[-hx, -hy], [hx, -hy], [hx, hy], [-hx, hy]])
    return local @ np.array([[c, s], [-s, c]]) + np.asarray(center_xy, dtype=float)


def _axes(poly: np.ndarray) -> np.ndarray:
    edges = np.roll(poly, -1, axis=0) - poly
    normals = np.stack([-edges[:, 1], edges[:, 0]], axis=1)
    lengths = np.linalg.norm(normals, axis=1)
    return normals[lengths > 1e-12] / lengths[lengths > 1e-12, None]


def overlap_m(a: np.ndarray, b: np.ndarray) -> float:
    """How deep two convex polygons overlap (the smallest push that parts them); <= 0: apart."""
    depth = math.inf
    for axis in np.concatenate([_axes(a), _axes(b)]):
        pa, pb = a @ axis, b @ axis
        depth = min(depth, min(pa.max(), pb.max()) - max(pa.min(), pb.min()))
    return depth


def _segment(a_xy, b_xy, width_m: float = 0.01) -> np.ndarray:
    """A thin rectangle along a segment: segments and rectangles meet where these overlap."""
    a, b = np.asarray(a_xy, dtype=float), np.asarray(b_xy, dtype=float)
    length = float(np.linalg.norm(b - a))
    yaw = math.atan2(b[1] - a[1], b[0] - a[0])
    return rectangle((a + b) / 2, (max(length, 1e-6), width_m), yaw)


def _point_segment_m(p, a, b) -> float:
    p, a, b = (np.asarray(v, dtype=float) for v in (p, a, b))
    ab = b - a
    f = float(np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-12), 0.0, 1.0))
    return float(np.linalg.norm(p - a - f * ab))


def polygon_route_m(poly: np.ndarray, route) -> float:
    """Shortest distance between a convex polygon and a polyline (0 if they cross)."""
    best = math.inf
    for a, b in pairwise(route):
        if overlap_m(poly, _segment(a, b, 1e-6)) > 0.0:
            return 0.0
        best = min(best, *(_point_segment_m(c, a, b) for c in poly))
        for end in (a, b):
            best = min(best, _point_polygon_m(end, poly))
    return best


def _point_polygon_m(p, poly: np.ndarray) -> float:
    n = len(poly)
    return min(_point_segment_m(p, poly[i], poly[(i + 1) % n]) for i in range(n))


def _inside(inner: np.ndarray, outer: np.ndarray, tol_m: float = 1e-6) -> bool:
    """Every corner of `inner` inside the convex polygon `outer` (counter-clockwise)."""
    for i in range(len(outer)):
        a, b = outer[i], outer[(i + 1) % len(outer)]
        cross = (b[0] - a[0]) * (inner[:, 1] - a[1]) - (b[1] - a[1]) * (inner[:, 0] - a[0])
        if np.any(cross < -tol_m * math.hypot(*(b - a))):
            return False
    return True


@dataclass(frozen=True)
class _Solid:
    en: str
    ko: str
    corners: np.ndarray
    z_lo: float
    z_hi: float


def _solids(scenario: Scenario) -> list[_Solid]:
    world = scenario.world
    out = [
        _Solid(
            f"obstacle {o.name}",
            f"장애물 {o.name}",
            rectangle(o.center_xy, o.size_xy, o.yaw_rad),
            0.0,
            o.height_m,
        )
        for o in world.obstacles
    ]
    post_size = STATION_POST_SIZE_M[:2]
    out += [
        _Solid(
            f"station {s.id}'s post",
            f"스테이션 {s.id}의 기둥",
            rectangle(s.panel_xy, post_size, s.facing_rad),
            0.0,
            STATION_POST_SIZE_M[2],
        )
        for s in world.stations
    ]
    out += [
        _Solid(
            f"part {p.name}",
            f"부품 {p.name}",
            rectangle(p.center_xy, p.size_xyz[:2], p.yaw_rad),
            p.base_z_m,
            p.base_z_m + p.size_xyz[2],
        )
        for p in world.parts
    ]
    return out


def _robot_at(pose: Pose2D, robot: RobotShape) -> np.ndarray:
    center = pose.transform_point(np.array(robot.footprint_center_xy))
    return rectangle(center, robot.footprint_size_xy, pose.yaw)


def _xy(v) -> str:
    return f"({v[0]:.2f}, {v[1]:.2f})"


# -------------------------------------------------------------------------------------- checks
def _placement(scenario: Scenario, robot: RobotShape) -> Iterator[Problem]:
    """On the floor, not overlapping, standing on something."""
    world = scenario.world
    lx, ly = world.floor_size_xy
    floor = rectangle((lx / 2, ly / 2), (lx, ly), 0.0)
    solids = _solids(scenario)
    start = world.robot_start
    robot_solid = _Solid(
        "the robot at its start", "시작 위치의 로봇", _robot_at(start, robot), 0.0, 1e9
    )
    for s in [*solids, robot_solid]:
        if not _inside(s.corners, floor, OVERLAP_M):
            yield Problem(
                f"{s.en} off the floor",
                f"{s.en} is not (wholly) on the {lx} x {ly} m floor",
                f"{s.ko}이(가) {lx} x {ly} m 바닥 밖으로 나갑니다",
            )
    for i, a in enumerate([*solids, robot_solid]):
        for b in solids[:i]:
            if min(a.z_hi, b.z_hi) - max(a.z_lo, b.z_lo) <= OVERLAP_M:
                continue  # one stands on (or hangs above) the other
            if overlap_m(a.corners, b.corners) > OVERLAP_M:
                yield Problem(
                    f"{a.en} overlaps {b.en}",
                    f"{a.en} overlaps {b.en}",
                    f"{a.ko}이(가) {b.ko}와(과) 겹칩니다",
                )
    for p, (what_en, what_ko, xy), is_target in _part_spots(scenario):
        footprint = rectangle(xy, p.size_xyz[:2], p.yaw_rad)
        if p.base_z_m <= SUPPORT_Z_M:  # on the floor (the part itself is one of the solids)
            if is_target and not _inside(footprint, floor, OVERLAP_M):
                yield Problem(
                    f"{what_en} off the floor",
                    f"{what_en} {_xy(xy)} is not (wholly) on the {lx} x {ly} m floor",
                    f"{what_ko} {_xy(xy)}이(가) {lx} x {ly} m 바닥 밖으로 나갑니다",
                )
            continue
        tops = [
            o
            for o in world.obstacles
            if abs(o.height_m - p.base_z_m) <= SUPPORT_Z_M
            and _inside(footprint, rectangle(o.center_xy, o.size_xy, o.yaw_rad), 1e-4)
        ]
        if not tops:
            yield Problem(
                f"{what_en} not on a surface",
                f"{what_en} {_xy(xy)} does not stand wholly on a surface {p.base_z_m} m high",
                f"{what_ko} {_xy(xy)}이(가) 높이 {p.base_z_m} m인 면 위에 온전히 놓이지 않습니다",
            )
    for task in scenario.tasks:
        if task.kind != "place":
            continue
        p = scenario.part(task.part)
        footprint = rectangle(task.target_xy, p.size_xyz[:2], p.yaw_rad)
        for s in solids:
            if (
                s.en == f"part {p.name}"
                or min(s.z_hi, p.base_z_m + p.size_xyz[2]) - max(s.z_lo, p.base_z_m) <= OVERLAP_M
            ):
                continue
            if overlap_m(footprint, s.corners) > OVERLAP_M:
                yield Problem(
                    f"place target of {p.name} overlaps {s.en}",
                    f"the place target of part {p.name} {_xy(task.target_xy)} overlaps {s.en}",
                    f"부품 {p.name}을(를) 놓을 자리 {_xy(task.target_xy)}이(가) {s.ko}와(과) 겹칩니다",
                )
        if math.dist(task.target_xy, p.center_xy) < 2 * scenario.place_radius_m:
            yield Problem(
                f"place target of {p.name} where it stands",
                f"the place target of part {p.name} is within {2 * scenario.place_radius_m:.2f} m "
                "of where the part already stands",
                f"부품 {p.name}을(를) 놓을 자리가 부품이 처음 놓인 곳에서 "
                f"{2 * scenario.place_radius_m:.2f} m 안에 있습니다",
            )


def _part_spots(scenario: Scenario):
    """(part, (name en, name ko, xy), is a place target) for where each part stands and for
    each place target."""
    for p in scenario.world.parts:
        yield p, (f"part {p.name}", f"부품 {p.name}", p.center_xy), False
    for t in scenario.tasks:
        if t.kind == "place":
            p = scenario.part(t.part)
            where = (f"the place target of part {p.name}", f"부품 {p.name}을(를) 놓을 자리")
            yield p, (*where, t.target_xy), True


def _stop_points(scenario: Scenario) -> list[tuple[str, str, tuple[float, float]]]:
    return [
        (
            f"station {t.station_id}'s stop point",
            f"스테이션 {t.station_id}의 정지 위치",
            scenario.station(t.station_id).stop_xy,
        )
        for t in scenario.tasks
        if t.kind in STATION_TASKS
    ]


def _safety(scenario: Scenario, robot: RobotShape) -> Iterator[Problem]:
    """Keep-out zones, and the routes of workers and forklifts."""
    world = scenario.world
    start = (world.robot_start.x, world.robot_start.y)
    for z in world.zones:
        if z.kind == "keep_out" and z.contains(np.array(start)):
            yield Problem(
                "start in a keep-out zone",
                f"the robot starts {_xy(start)} inside the keep-out zone '{z.name_en}'",
                f"로봇 시작 위치 {_xy(start)}이(가) 출입 금지 구역 '{z.name_ko}' 안에 있습니다",
            )
    spots = [("the robot's start", "로봇 시작 위치", start), *_stop_points(scenario)]
    for actor in world.actors:
        route = [*actor.path_xy, actor.path_xy[0]] if actor.mode == "loop" else actor.path_xy
        for what_en, what_ko, xy in spots:
            if actor.path_distance_m(xy) < actor.sweep_radius_m + ROBOT_CLEARANCE_M:
                yield Problem(
                    f"{what_en} on the route of {actor.id}",
                    f"{what_en} {_xy(xy)} is on the route of {actor.kind} '{actor.id}'",
                    f"{what_ko} {_xy(xy)}이(가) {actor.kind_ko} '{actor.id}'의 이동 경로 위에 있습니다",
                )
        # A worker is a cylinder; a forklift turns on the spot at its corners (its sweep).
        clear_m = actor.radius_m if actor.kind == "worker" else actor.sweep_radius_m
        for s in _solids(scenario):
            if polygon_route_m(s.corners, route) < clear_m:
                yield Problem(
                    f"{s.en} on the route of {actor.id}",
                    f"{s.en} stands in the route of {actor.kind} '{actor.id}'",
                    f"{s.ko}이(가) {actor.kind_ko} '{actor.id}'의 이동 경로를 막습니다",
                )


def _markers_in_view(scenario: Scenario, robot: RobotShape) -> Iterator[Problem]:
    """Nothing between a stop point and its station's marker (or item on display) that rises
    above the line of sight from the camera: that line climbs from the camera's height to the
    target's, so a low stand near the robot hides nothing."""
    solids = _solids(scenario)
    for st in scenario.world.stations:
        *face, marker_z = st.marker_center_xyz(STATION_POST_SIZE_M[0] / 2)
        target_z = DISPLAY_CENTER_Z_M if st.display_image is not None else marker_z
        start, end = np.array(st.stop_xy, dtype=float), np.array(face, dtype=float)
        length = float(np.linalg.norm(end - start))
        if length < 1e-6:
            continue
        direction = (end - start) / length
        sight = _segment(start, end)
        for s in solids:
            if s.en == f"station {st.id}'s post" or overlap_m(sight, s.corners) <= OVERLAP_M:
                continue
            # where along the sight line the solid begins: the line is lowest there
            first_m = float(np.clip(((s.corners - start) @ direction).min(), 0.0, length))
            line_z = robot.camera_height_m + (target_z - robot.camera_height_m) * first_m / length
            if s.z_hi > line_z:
                yield Problem(
                    f"{s.en} hides station {st.id}'s marker",
                    f"{s.en} stands between station {st.id}'s stop point and its marker",
                    f"{s.ko}이(가) 스테이션 {st.id}의 정지 위치와 마커 사이를 가립니다",
                )


def _standing_pose(scenario: Scenario, task_index: int) -> Pose2D:
    """Where the robot stands for a task: at the last station before it, else at its start."""
    for t in reversed(scenario.tasks[:task_index]):
        if t.kind in STATION_TASKS:
            st = scenario.station(t.station_id)
            return Pose2D(*st.stop_xy, st.facing_rad)
    return scenario.world.robot_start


def _in_base_link(scenario: Scenario, task, pose: Pose2D, robot: RobotShape) -> np.ndarray:
    """A task's point in base_link of a robot standing at `pose` (what arm_commander takes)."""
    x, y, z = scenario.task_point(task)
    local = pose.inverse_transform_point(np.array([x, y]))
    return np.array([local[0], local[1], z - robot.base_link_height_m])


def _arm_reach(scenario: Scenario, robot: RobotShape) -> Iterator[Problem]:
    tasks = scenario.tasks
    for i, task in enumerate(tasks):
        if task.kind != "pick":
            continue
        place = next((t for t in tasks[i + 1 :] if t.kind == "place" and t.part == task.part), task)
        pose = _standing_pose(scenario, i)
        pick_xyz, place_xyz = (_in_base_link(scenario, t, pose, robot) for t in (task, place))
        home = np.array(robot.arm_home_rad)
        try:
            plan_pick_and_place(robot.arm, pick_xyz, place_xyz, home, home)
        except UnreachableError as err:
            yield Problem(
                f"part {task.part} out of the arm's reach",
                f"picking part {task.part} and placing it is out of the arm's reach from "
                f"{_xy((pose.x, pose.y))}: {err.en}",
                f"{_xy((pose.x, pose.y))}에서 부품 {task.part}을(를) 집어 놓는 데 팔이 닿지 않습니다: "
                f"{err.ko}",
            )


def _reachable(scenario: Scenario, robot: RobotShape) -> Iterator[Problem]:
    stops = _stop_points(scenario)
    if not stops:
        return
    grid = grid_from_world(
        scenario.world, GRID_RESOLUTION_M, station_post_size_m=STATION_POST_SIZE_M[:2]
    )
    cost = inflate(grid, robot.radius_m, robot.radius_m + GRID_RESOLUTION_M)
    start = scenario.world.robot_start
    start_cell = grid.world_to_cell((start.x, start.y))
    for what_en, what_ko, xy in stops:
        try:
            plan_path(cost, start_cell, grid.world_to_cell(xy))
        except NoPathError as err:
            yield Problem(
                f"{what_en} unreachable",
                f"{what_en} {_xy(xy)} cannot be reached from the start {_xy((start.x, start.y))} "
                f"by a robot of radius {robot.radius_m:.2f} m, keep-out zones avoided ({err})",
                f"{what_ko} {_xy(xy)}에 시작 위치 {_xy((start.x, start.y))}에서 반지름 "
                f"{robot.radius_m:.2f} m 로봇이 출입 금지 구역을 피해 갈 수 없습니다 ({err})",
            )


@lru_cache(maxsize=1)
def _board_reader():
    """The platform's inspection model (loaded once) and the robot profile it looks through."""
    from perception_pkg.inspection import InspectionModel

    return InspectionModel(), load_profile(DEFAULT_PROFILE)


def _model_labels() -> tuple[str, ...]:
    try:
        return _board_reader()[0].labels
    except (ImportError, RuntimeError):  # no model here: nothing to judge by
        return ()


def _read_board(scenario: Scenario, pose: Pose2D, label: str) -> float | None:
    """The probability the platform's model gives `label` for the camera frame of a robot
    standing at `pose` (after a few physics steps, so it has settled as in a run); None where
    there is no renderer (EGL) or model to judge by."""
    from dataclasses import replace

    import mujoco

    try:
        return _read_board_in(replace(scenario.world, robot_start=pose), label)
    except (RuntimeError, OSError, mujoco.FatalError):
        return None


@lru_cache(maxsize=64)  # a drawn variant is checked again, independently of its draw
def _read_board_in(world: WorldSpec, label: str) -> float:
    from sim_pkg.world import SimWorld

    model, profile = _board_reader()
    world = SimWorld(world, profile)
    try:
        for _ in range(10):
            world.step()
        return model.classify(world.render_camera()).probabilities.get(label, 0.0)
    finally:
        world.close()


def _boards_readable(scenario: Scenario, robot: RobotShape) -> Iterator[Problem]:
    """An inspect task's board is read right, with INSPECT_MIN_PROBABILITY, from where the robot
    looks at it: its start, when it starts at the station (it may inspect without moving), else
    the station's stop point. Labels the platform's model does not know are not its to judge."""
    start = scenario.world.robot_start
    for task in scenario.tasks:
        if task.kind != "inspect" or not task.expected_label:
            continue
        st = scenario.station(task.station_id)
        if st.display_image is None or task.expected_label not in _model_labels():
            continue
        at_station = math.dist((start.x, start.y), st.stop_xy) <= scenario.station_radius_m
        pose = start if at_station else Pose2D(*st.stop_xy, st.facing_rad)
        p = _read_board(scenario, pose, task.expected_label)
        if p is not None and p < INSPECT_MIN_PROBABILITY:
            yield Problem(
                f"board {st.display_image.name} unreadable at station {st.id}",
                f"the platform's inspection model gives the board {st.display_image.name} at "
                f"station {st.id} its label {task.expected_label} only {p:.2f} (needs "
                f"{INSPECT_MIN_PROBABILITY}) from {_xy((pose.x, pose.y))}",
                f"플랫폼의 검사 모델이 스테이션 {st.id}의 보드 {st.display_image.name}을(를) "
                f"{_xy((pose.x, pose.y))}에서 {task.expected_label}(으)로 {p:.2f}만큼만 "
                f"확신합니다 ({INSPECT_MIN_PROBABILITY} 이상이어야 합니다)",
            )


def problems(scenario: Scenario, robot: RobotShape | None = None) -> Iterator[Problem]:
    """Every reason the scenario cannot be solved, cheapest checks first, lazily."""
    robot = robot or robot_shape()
    yield from _placement(scenario, robot)
    yield from _safety(scenario, robot)
    yield from _markers_in_view(scenario, robot)
    yield from _arm_reach(scenario, robot)
    yield from _reachable(scenario, robot)
    yield from _boards_readable(scenario, robot)


def first_problem(scenario: Scenario, robot: RobotShape | None = None) -> Problem | None:
    return next(problems(scenario, robot), None)


def find_problems(scenario: Scenario, robot: RobotShape | None = None) -> list[Problem]:
    return list(problems(scenario, robot))
