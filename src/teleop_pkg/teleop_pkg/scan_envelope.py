"""Scan envelope (ROS-free): how fast the robot may drive, and whether it may turn, near obstacles.

Frames and units: REP-103 `base_footprint` (x forward, y left), metres, seconds. The footprint is
the rectangle x in [-back, front], |y| <= half width (TurtleBot3 Waffle Pi: 0.07 m to the front
bumper, 0.2 m to the back, 0.15 m half width).

- The *gap ahead* is the distance from the front bumper to the nearest scan point in the corridor
  |y| <= half width + `side_margin_m`; the *gap behind* likewise from the back (the LDS-01 sees
  360°, so reversing is checked as well as driving forward).
- The speed towards a side is the speed from which a constant deceleration stops the robot right
  at `stop_distance_m`, that deceleration chosen so that braking starts at `slow_distance_m` from
  full speed: v = v_max * sqrt((gap - stop) / (slow - stop)), i.e. v_max² / (2 (slow - stop)) =
  0.075 m/s² with the defaults, well inside the acceleration limit. It never drops below
  `creep_speed_mps` above the stop distance, and is zero at or below it. Once stopped that way, it
  stays zero until the gap opens past `stop_distance_m + stop_hysteresis_m` (lidar noise would
  make it stutter).
- A rotation, in place or on an arc, is allowed only while no point lies within the footprint's
  swing radius (its farthest corner from base_footprint) + `side_margin_m`.
- Points inside the footprint are the robot's own parts (the arm, cables) and are ignored.
- Gaps are shortened by what the robot drove since the scan was taken (5 Hz on the LDS-01).
- Without a scan younger than `scan_timeout_s`, every motion is refused if `require_scan`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EnvelopeConfig:
    footprint_front_m: float = 0.07  # base_footprint to the front bumper
    footprint_back_m: float = 0.2  # ... to the back (ball casters, the arm's base)
    footprint_half_width_m: float = 0.15
    stop_distance_m: float = 0.25  # gap at which motion that way stops
    slow_distance_m: float = 0.7  # gap at which slowing down starts
    stop_hysteresis_m: float = 0.03  # about 3 sigma of the LDS-01's range noise near 0.3 m
    side_margin_m: float = 0.05  # corridor widening, and margin on the swing radius
    creep_speed_mps: float = 0.02  # lowest speed in the slow zone: the stop comes in finite time
    require_scan: bool = True  # no fresh scan: no motion
    scan_timeout_s: float = 1.0  # five LDS-01 turns

    def __post_init__(self) -> None:
        if not self.slow_distance_m > self.stop_distance_m >= 0.0:
            raise ValueError(
                "slow_distance_m must exceed stop_distance_m >= 0 / "
                "감속 거리는 정지 거리보다 커야 합니다"
            )

    @property
    def swing_radius_m(self) -> float:
        """Farthest footprint corner from base_footprint: what a turn in place sweeps."""
        return math.hypot(
            max(self.footprint_front_m, self.footprint_back_m), self.footprint_half_width_m
        )


@dataclass(frozen=True)
class Clearance:
    """What one scan leaves free around the footprint; inf where nothing was seen."""

    front_gap_m: float  # front bumper to the nearest point in the corridor ahead
    back_gap_m: float  # back of the footprint to the nearest point in the corridor behind
    nearest_m: float  # base_footprint origin to the nearest point outside the footprint
    stamp_s: float  # when the scan was taken (or received), on the mux's clock


@dataclass(frozen=True)
class Envelope:
    """The linear speeds and turning one step may use; `lowest_mps <= 0 <= highest_mps`."""

    lowest_mps: float
    highest_mps: float
    may_turn: bool
    scan_missing: bool = False
    blocked_ahead: bool = False  # stopped for an obstacle ahead (with hysteresis)
    blocked_behind: bool = False


def scan_points(
    ranges_m,
    angle_min_rad: float,
    angle_increment_rad: float,
    range_min_m: float,
    range_max_m: float,
    sensor_xy_m: tuple[float, float] = (-0.024, 0.0),
) -> np.ndarray:
    """Valid returns of a scan as (N, 2) points in base_footprint (the sensor faces +x).

    The LDS-01 reports 0.0 for "no return"; that and anything outside [min, max] is dropped."""
    ranges = np.asarray(ranges_m, dtype=float)
    angles = angle_min_rad + angle_increment_rad * np.arange(ranges.size)
    ok = np.isfinite(ranges) & (ranges >= range_min_m) & (ranges <= range_max_m)
    r, a = ranges[ok], angles[ok]
    return np.stack([r * np.cos(a) + sensor_xy_m[0], r * np.sin(a) + sensor_xy_m[1]], axis=1)


def clearance(points_xy: np.ndarray, stamp_s: float, cfg: EnvelopeConfig) -> Clearance:
    """Gaps ahead and behind, and the nearest point, from scan points in base_footprint."""
    p = np.asarray(points_xy, dtype=float).reshape(-1, 2)
    p = p[np.isfinite(p).all(axis=1)]
    x, y = p[:, 0], p[:, 1]
    hw = cfg.footprint_half_width_m
    inside = (x >= -cfg.footprint_back_m) & (x <= cfg.footprint_front_m) & (np.abs(y) <= hw)
    x, y = x[~inside], y[~inside]
    corridor = np.abs(y) <= hw + cfg.side_margin_m
    ahead = x[corridor & (x > cfg.footprint_front_m)] - cfg.footprint_front_m
    behind = -cfg.footprint_back_m - x[corridor & (x < -cfg.footprint_back_m)]
    return Clearance(
        float(ahead.min()) if ahead.size else math.inf,
        float(behind.min()) if behind.size else math.inf,
        float(np.hypot(x, y).min()) if x.size else math.inf,
        stamp_s,
    )


def allowed_speed_mps(gap_m: float, max_speed_mps: float, cfg: EnvelopeConfig) -> float:
    """Top speed towards an obstacle `gap_m` away: 0 at the stop distance, full at the slow one,
    and in between the speed that constant braking brings to 0 exactly at the stop distance."""
    if gap_m <= cfg.stop_distance_m:
        return 0.0
    fraction = (gap_m - cfg.stop_distance_m) / (cfg.slow_distance_m - cfg.stop_distance_m)
    return min(max_speed_mps, max(cfg.creep_speed_mps, max_speed_mps * math.sqrt(fraction)))


def allowed_motion(
    scan: Clearance | None,
    now_s: float,
    last_linear_mps: float,
    was_blocked: tuple[bool, bool],
    max_speed_mps: float,
    cfg: EnvelopeConfig,
) -> Envelope:
    """What the latest scan allows at `now_s`, the robot last commanded at `last_linear_mps`.

    `was_blocked` (ahead, behind) comes from the previous step's envelope (hysteresis)."""
    age_s = math.inf if scan is None else now_s - scan.stamp_s
    if not 0.0 <= age_s <= cfg.scan_timeout_s:
        if cfg.require_scan:
            return Envelope(0.0, 0.0, False, True, *was_blocked)
        return Envelope(-math.inf, math.inf, True, False, *was_blocked)
    front = scan.front_gap_m - max(last_linear_mps, 0.0) * age_s
    back = scan.back_gap_m - max(-last_linear_mps, 0.0) * age_s
    release_m = cfg.stop_distance_m + cfg.stop_hysteresis_m
    ahead = front <= cfg.stop_distance_m or (was_blocked[0] and front <= release_m)
    behind = back <= cfg.stop_distance_m or (was_blocked[1] and back <= release_m)
    return Envelope(
        0.0 if behind else -allowed_speed_mps(back, max_speed_mps, cfg),
        0.0 if ahead else allowed_speed_mps(front, max_speed_mps, cfg),
        scan.nearest_m > cfg.swing_radius_m + cfg.side_margin_m,
        False,
        ahead,
        behind,
    )
