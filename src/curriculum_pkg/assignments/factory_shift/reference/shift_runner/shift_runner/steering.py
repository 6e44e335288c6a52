"""Gap steering on a 2-D scan (no ROS here): pick the heading closest to the goal that is free.

The same as in assignment 4's reference (logistics_crossing, warehouse_runner): a student
package carries its own copy, and here the mover is a worker on a walkway.

For each candidate heading, the free distance is how far a corridor as wide as the robot reaches
before it meets a scan point. The robot drives along the cheapest free heading, slower when the
corridor is short, and turns on the spot when nothing is free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SteeringConfig:
    half_width_m: float = 0.25  # corridor half width: robot half width plus a margin
    lookahead_m: float = 0.7  # how much free corridor we want before committing to a heading
    front_margin_m: float = 0.25  # from base_footprint to the bumper, plus a margin
    max_linear_mps: float = 0.22
    max_angular_rps: float = 1.2
    heading_gain: float = 2.0
    candidate_span_rad: float = math.radians(110)
    candidate_step_rad: float = math.radians(5)
    continuity_cost: float = (
        0.4  # per radian away from the last heading: stops left-right dithering
    )


def scan_points(
    ranges: np.ndarray,
    angle_min: float,
    angle_increment: float,
    range_min: float,
    range_max: float,
    sensor_x_m: float = 0.0,
) -> np.ndarray:
    """Valid returns as (N, 2) points in the robot's base frame."""
    ranges = np.asarray(ranges, dtype=float)
    angles = angle_min + angle_increment * np.arange(ranges.size)
    ok = np.isfinite(ranges) & (ranges >= range_min) & (ranges <= range_max)
    return np.stack(
        [ranges[ok] * np.cos(angles[ok]) + sensor_x_m, ranges[ok] * np.sin(angles[ok])], axis=1
    )


def free_distance(
    points: np.ndarray, heading_rad: float, half_width_m: float, horizon_m: float = 3.5
) -> float:
    """Distance along `heading` before a corridor of the given half width meets a point."""
    if points.size == 0:
        return horizon_m
    c, s = math.cos(heading_rad), math.sin(heading_rad)
    along = points[:, 0] * c + points[:, 1] * s
    across = -points[:, 0] * s + points[:, 1] * c
    blocking = along[(along > 0.0) & (np.abs(across) < half_width_m)]
    return float(blocking.min()) if blocking.size else horizon_m


def steer(
    points: np.ndarray,
    goal_xy_robot: np.ndarray,
    cfg: SteeringConfig,
    last_heading: float | None = None,
) -> tuple[float, float, float | None]:
    """(linear, angular, chosen heading) towards a goal given in the robot frame.

    Pass the previous call's heading back in as `last_heading` (it is in the robot frame, and
    the robot turns towards it, so it stays roughly valid from one control cycle to the next).
    """
    goal_dist = float(np.hypot(*goal_xy_robot))
    goal_bearing = math.atan2(goal_xy_robot[1], goal_xy_robot[0])
    need = min(goal_dist, cfg.lookahead_m) + cfg.front_margin_m
    candidates = np.arange(
        -cfg.candidate_span_rad, cfg.candidate_span_rad + 1e-9, cfg.candidate_step_rad
    )
    best, best_cost, best_free = None, math.inf, 0.0
    for heading in (*candidates, goal_bearing):
        free = free_distance(points, heading, cfg.half_width_m)
        if free < need:
            continue
        # Stay close to the goal direction; between equal choices, prefer the more open side.
        cost = abs(
            math.atan2(math.sin(heading - goal_bearing), math.cos(heading - goal_bearing))
        ) - 0.05 * min(free, 2.0)
        if last_heading is not None:
            cost += cfg.continuity_cost * abs(heading - last_heading)
        if cost < best_cost:
            best, best_cost, best_free = heading, cost, free
    if best is None:  # boxed in: turn towards the most open direction without moving forward
        frees = [free_distance(points, h, cfg.half_width_m) for h in candidates]
        turn = candidates[int(np.argmax(frees))]
        if last_heading is not None and abs(last_heading) > 0.2:
            turn = last_heading  # keep turning the way we were turning
        return 0.0, math.copysign(cfg.max_angular_rps * 0.6, turn), None
    angular = float(np.clip(cfg.heading_gain * best, -cfg.max_angular_rps, cfg.max_angular_rps))
    alignment = max(0.0, math.cos(best)) ** 4  # turn first, then drive
    speed = cfg.max_linear_mps * alignment * min(1.0, (best_free - cfg.front_margin_m) / 0.6)
    speed = min(speed, 0.6 * goal_dist + 0.03)  # arrive gently
    return max(0.0, speed), angular, best
