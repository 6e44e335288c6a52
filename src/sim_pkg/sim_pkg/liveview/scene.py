"""What the live view and the replay draw, as plain JSON-able data (ROS-free).

The page works in the scenario's world frame (metres, origin at the floor's lower-left corner,
x right, y up: REP-103 seen from above). Everything here is rounded to millimetres: the page
draws at most a few pixels per centimetre, and the feed stays small.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from common_pkg.worldspec import Block, Pose2D, WorldSpec


def _r(value: float) -> float:
    return round(float(value), 3)


def _block(b: Block) -> dict:
    return {
        "name": b.name,
        "center": [_r(b.center_xy[0]), _r(b.center_xy[1])],
        "size": [_r(b.size_xy[0]), _r(b.size_xy[1])],
        "yaw": _r(b.yaw_rad),
        "rgba": [_r(c) for c in b.rgba],
    }


def floor_plan(world: WorldSpec) -> dict:
    """The scenario's floor plan: walls, obstacles, zones, stations, loose parts, the actors'
    routes (their poses come with each state, see `actor_poses`) and the robot's start."""
    return {
        "floor": [_r(world.floor_size_xy[0]), _r(world.floor_size_xy[1])],
        "walls": [_block(b) for b in world.walls],
        "obstacles": [_block(b) for b in world.obstacles],
        "zones": [
            {
                "kind": z.kind,
                "ko": z.name_ko,
                "en": z.name_en,
                "center": [_r(z.center_xy[0]), _r(z.center_xy[1])],
                "size": [_r(z.size_xy[0]), _r(z.size_xy[1])],
                "penalty_per_s": z.penalty_per_s,  # hot zones: safety score lost per second
            }
            for z in world.zones
        ],
        "stations": [
            {
                "id": s.id,
                "ko": s.name_ko,
                "en": s.name_en,
                "marker_id": s.marker_id,
                "stop": [_r(s.stop_xy[0]), _r(s.stop_xy[1])],
                "panel": [_r(s.panel_xy[0]), _r(s.panel_xy[1])],
                "facing": _r(s.facing_rad),
            }
            for s in world.stations
        ],
        "parts": [
            {
                "name": p.name,
                "center": [_r(p.center_xy[0]), _r(p.center_xy[1])],
                "size": [_r(p.size_xyz[0]), _r(p.size_xyz[1])],
                "yaw": _r(p.yaw_rad),
            }
            for p in world.parts
        ],
        "actors": [
            {
                "id": a.id,
                "kind": a.kind,
                "kind_ko": a.kind_ko,
                "size": [_r(a.size_lwh[0]), _r(a.size_lwh[1])],
                "path": [[_r(x), _r(y)] for x, y in a.path_xy],
            }
            for a in world.actors
        ],
        "start": pose_json(world.robot_start),
    }


def pose_json(pose: Pose2D | None) -> list[float] | None:
    """[x, y, yaw_rad], or None."""
    return None if pose is None else [_r(pose.x), _r(pose.y), _r(pose.yaw)]


def actor_poses(world: WorldSpec, time_s: float) -> list[list[float]]:
    """Where every actor is at `time_s` ([x, y, yaw], in the order of `floor_plan`'s actors):
    a pure function of sim time, so live and replay agree with the simulator."""
    return [[_r(v) for v in a.pose_at(time_s)] for a in world.actors]


def scan_points(
    ranges: Sequence[float] | np.ndarray,
    angle_min_rad: float,
    angle_increment_rad: float,
    sensor: Pose2D,
    range_max_m: float = math.inf,
) -> list[list[float]]:
    """The valid returns of one lidar turn as world points [[x, y], ...], seen from `sensor`
    (the lidar's pose in the world). Invalid returns (inf, nan, 0, beyond range_max) are left out."""
    r = np.asarray(ranges, dtype=float)
    angles = sensor.yaw + angle_min_rad + angle_increment_rad * np.arange(r.size)
    ok = np.isfinite(r) & (r > 0.0) & (r <= range_max_m)
    xs = sensor.x + r[ok] * np.cos(angles[ok])
    ys = sensor.y + r[ok] * np.sin(angles[ok])
    return np.round(np.stack([xs, ys], axis=1), 3).tolist()


def actor_track(world: WorldSpec, until_s: float, period_s: float = 0.5) -> list[list]:
    """[[t, actor poses], ...] every `period_s` up to `until_s`: what a replay draws the actors
    from, without the scenario's motion model."""
    if not world.actors:
        return []
    steps = int(until_s / period_s) + 1
    return [[round(i * period_s, 3), actor_poses(world, i * period_s)] for i in range(steps)]


def lidar_pose(robot: Pose2D, mount_x_m: float) -> Pose2D:
    """The lidar's pose in the world, mounted `mount_x_m` ahead of base_footprint (the profile's
    lidar mount_xyz_m[0]; negative: behind)."""
    x, y = robot.transform_point((mount_x_m, 0.0))
    return Pose2D(float(x), float(y), robot.yaw)
