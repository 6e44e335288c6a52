"""Regulated pure pursuit (ROS-free): follow a path with a differential-drive robot.

After Macenski et al., "Regulated Pure Pursuit for Robot Path Tracking" (2023), the controller
behind Nav2's RPP: steer towards a look-ahead point on the path, and regulate the speed down
on tight curvature, near obstacles and when approaching the goal. On top of that it stops, and
reports `blocked`, while anything stands in the corridor just ahead of the robot: a worker or a
forklift crossing the aisle, or a pallet that was not on the map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FollowerConfig:
    max_linear_mps: float = 0.22
    max_angular_rps: float = 1.5
    lookahead_m: float = 0.45
    min_lookahead_m: float = 0.25
    lookahead_time_s: float = 1.5  # look-ahead grows with speed
    regulated_min_radius_m: float = 0.6  # below this turning radius, slow down proportionally
    approach_distance_m: float = 0.5  # start slowing this far from the goal
    min_approach_mps: float = 0.04
    goal_tolerance_m: float = 0.08
    rotate_to_heading_rad: float = 0.7  # turn on the spot first if the path is this far off
    half_width_m: float = 0.2  # robot half width plus margin, for the corridor checks
    front_offset_m: float = 0.1  # base_footprint to the bumper
    stop_distance_m: float = 0.25  # anything closer than this in the corridor: stop
    slow_distance_m: float = 0.7  # and slow down from this distance on


@dataclass(frozen=True)
class FollowerCommand:
    linear_mps: float
    angular_rps: float
    arrived: bool = False
    blocked: bool = False
    nearest_obstacle_m: float = math.inf


def _to_robot(points_xy: np.ndarray, pose: tuple[float, float, float]) -> np.ndarray:
    x, y, yaw = pose
    c, s = math.cos(yaw), math.sin(yaw)
    d = np.asarray(points_xy, dtype=float) - (x, y)
    return np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]], axis=1)


def densify(path_xy: np.ndarray, spacing_m: float = 0.05) -> np.ndarray:
    """Resample a polyline (e.g. the corners of a smoothed path) every `spacing_m`."""
    path_xy = np.asarray(path_xy, dtype=float)
    if len(path_xy) < 2:
        return path_xy
    seg = np.hypot(*np.diff(path_xy, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    samples = np.append(np.arange(0.0, s[-1], spacing_m), s[-1])
    return np.stack(
        [np.interp(samples, s, path_xy[:, 0]), np.interp(samples, s, path_xy[:, 1])], axis=1
    )


def lookahead_point(path_robot: np.ndarray, lookahead_m: float) -> tuple[np.ndarray, int]:
    """First point of the path (robot frame) at least `lookahead_m` away, interpolated on the
    segment that crosses the circle; the last point if the whole path is closer."""
    dist = np.hypot(path_robot[:, 0], path_robot[:, 1])
    closest = int(np.argmin(dist))
    beyond = np.nonzero(dist[closest:] >= lookahead_m)[0]
    if beyond.size == 0:
        return path_robot[-1], len(path_robot) - 1
    j = closest + int(beyond[0])
    if j == 0:
        return path_robot[0], 0
    a, b = path_robot[j - 1], path_robot[j]
    # solve |a + t (b - a)| = L for t in [0, 1]
    d = b - a
    qa, qb, qc = d @ d, 2 * a @ d, a @ a - lookahead_m**2
    disc = max(qb * qb - 4 * qa * qc, 0.0)
    t = (-qb + math.sqrt(disc)) / (2 * qa) if qa > 0 else 1.0
    return a + min(max(t, 0.0), 1.0) * d, j


def corridor_distance(
    points_robot: np.ndarray, half_width_m: float, front_offset_m: float
) -> float:
    """Distance from the bumper to the nearest scan point in the straight corridor ahead."""
    if points_robot.size == 0:
        return math.inf
    ahead = points_robot[(points_robot[:, 0] > 0.0) & (np.abs(points_robot[:, 1]) < half_width_m)]
    return float(ahead[:, 0].min() - front_offset_m) if ahead.size else math.inf


def follow_path(
    path_xy: np.ndarray,
    pose: tuple[float, float, float],
    scan_points_robot: np.ndarray,
    current_linear_mps: float,
    cfg: FollowerConfig = FollowerConfig(),
) -> FollowerCommand:
    """One control step. `path_xy` (N, 2) and `pose` (x, y, yaw) share a frame (map or odom);
    `scan_points_robot` (M, 2) are valid lidar returns in the robot's base frame."""
    path_xy = np.asarray(path_xy, dtype=float)
    if len(path_xy) == 0:
        return FollowerCommand(0.0, 0.0, arrived=True)
    path_robot = _to_robot(densify(path_xy), pose)
    goal = path_robot[-1]
    goal_dist = float(np.hypot(*goal))
    obstacle_m = corridor_distance(scan_points_robot, cfg.half_width_m, cfg.front_offset_m)
    if goal_dist <= cfg.goal_tolerance_m:
        return FollowerCommand(0.0, 0.0, arrived=True, nearest_obstacle_m=obstacle_m)

    lookahead = min(
        max(cfg.min_lookahead_m, abs(current_linear_mps) * cfg.lookahead_time_s), cfg.lookahead_m
    )
    target, _ = lookahead_point(path_robot, lookahead)
    heading = math.atan2(target[1], target[0])
    if abs(heading) > cfg.rotate_to_heading_rad:
        turn = math.copysign(min(cfg.max_angular_rps, 2.0 * abs(heading)), heading)
        return FollowerCommand(0.0, turn, nearest_obstacle_m=obstacle_m)
    if obstacle_m <= cfg.stop_distance_m:
        return FollowerCommand(0.0, 0.0, blocked=True, nearest_obstacle_m=obstacle_m)

    dist_sq = float(target @ target)
    curvature = 2.0 * target[1] / dist_sq if dist_sq > 1e-9 else 0.0
    speed = cfg.max_linear_mps
    if abs(curvature) > 1e-9 and 1.0 / abs(curvature) < cfg.regulated_min_radius_m:
        speed *= (1.0 / abs(curvature)) / cfg.regulated_min_radius_m  # curvature regulation
    if obstacle_m < cfg.slow_distance_m:  # proximity regulation
        span = cfg.slow_distance_m - cfg.stop_distance_m
        speed *= max(0.0, (obstacle_m - cfg.stop_distance_m) / span)
    remaining = goal_dist
    if remaining < cfg.approach_distance_m:  # approach regulation
        speed = min(
            speed,
            max(cfg.min_approach_mps, cfg.max_linear_mps * remaining / cfg.approach_distance_m),
        )
    speed = max(0.0, min(speed, cfg.max_linear_mps))
    angular = float(np.clip(speed * curvature, -cfg.max_angular_rps, cfg.max_angular_rps))
    return FollowerCommand(speed, angular, nearest_obstacle_m=obstacle_m)
