"""Moving obstacles (no ROS here): where movers drive, and when the robot may cross their way.

The same as in assignment 4's reference (logistics_crossing, warehouse_runner): a student
package carries its own copy, and here the mover is a worker on a walkway.

Input is what perception_pkg's scan_processor publishes on /moving_obstacles: the centroid of
every moving lidar cluster in odom, with its direction of motion. Three rules, the ones a real
AMR follows at an aisle crossing:

1. **Lanes.** A forklift drives the same line again and again. Sightings that fit one line (and
   move along it, either way) build a `Lane`; the site map may give it beforehand
   (`lane_from_map`), which matters because a forklift seen only standing is no lane yet. When the robot's way to its goal crosses a lane,
   it stops `stop_distance_m` short of the lane and enters only when the lane is clear: the
   mover on it has just gone past the crossing and is driving away (it must reach the end of
   its run and come back before it can be there again). A mover that stands still at the end of
   its run is invisible here, so a lane whose mover has not been seen lately is *not* clear.
   Once in, the robot does not stop in the lane: stopping there is what gets it hit.
2. **Prediction.** Any mover whose straight-line course comes within `clearance_m` of the
   robot's own course in the next `horizon_s` seconds holds the robot back (outside a lane).
3. **People.** Within `near_m` of a mover's centroid the robot stands still: a near miss is
   counted for driving faster than 0.05 m/s within 0.5 m of a worker's edge.

Frames: everything in odom (REP-105), metres, seconds, radians.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Mover:
    """One moving obstacle as seen at `stamp_s`, with a speed measured between sightings."""

    stamp_s: float
    xy: tuple[float, float]
    heading_rad: float
    speed_mps: float


@dataclass(frozen=True)
class Lane:
    """A straight line movers drive along, learnt from sightings.

    Points on it are `point_xy + s * (cos angle, sin angle)`; `lo_m`..`hi_m` is the part of it
    where movers were seen."""

    point_xy: tuple[float, float]
    angle_rad: float  # direction of the line, either way along it
    lo_m: float
    hi_m: float
    sightings: int
    last: Mover  # the latest mover seen on it
    sums: tuple[float, ...]  # moments of the sightings' positions: n, x, y, xx, xy, yy
    from_map: bool = False  # drawn from the map: its line stays put, sightings only update `last`


NEVER_SEEN = Mover(-math.inf, (math.nan, math.nan), 0.0, 0.0)


def lane_from_map(a_xy: tuple[float, float], b_xy: tuple[float, float], min_sightings: int) -> Lane:
    """A lane known beforehand (a forklift aisle on the site map), from one end to the other.

    No mover has been seen on it yet, so it is not clear until one is seen driving away."""
    angle = math.atan2(b_xy[1] - a_xy[1], b_xy[0] - a_xy[0])
    half = math.dist(a_xy, b_xy) / 2.0
    mid = ((a_xy[0] + b_xy[0]) / 2.0, (a_xy[1] + b_xy[1]) / 2.0)
    return Lane(mid, angle % math.pi, -half, half, min_sightings, NEVER_SEEN, (), True)


@dataclass(frozen=True)
class Crossing:
    """Where the robot's way to its goal crosses a lane."""

    lane_index: int
    along_m: float  # the crossing point, as a position along the lane
    robot_offset_m: float  # signed distance of the robot from the lane's line
    half_span_m: float  # how much of the lane the robot's diagonal way takes up, each side


@dataclass(frozen=True)
class CrossingConfig:
    lane_match_m: float = 0.7  # a sighting this close to a lane's line, ...
    lane_match_rad: float = math.radians(25)  # ... moving along it (either way), is on it
    lane_min_sightings: int = 4  # fewer could be a glitch of the detector
    lane_extent_margin_m: float = 1.5  # the lane may go on a little beyond where it was seen
    min_mover_speed_mps: float = 0.3  # slower "movers" are mostly the detector's jitter
    stop_distance_m: float = 1.3  # base_footprint to the lane's line while waiting
    in_lane_m: float = 0.85  # closer to the line than this, the robot is in a forklift's way
    approach_gain: float = 0.5  # speed (m/s) per metre left to the stop line
    # A mover driving away is clear once the centroid of what the lidar sees of it is this far
    # past the robot's way: that is the end facing the robot, plus some of its side. By the
    # time the robot gets there the mover is metres further on, or waiting at the end of its run.
    clear_distance_m: float = 0.8
    go_window_s: float = 3.0  # ... if seen so within this time
    fresh_s: float = 0.6  # a sighting this old still describes the present
    horizon_s: float = 4.0  # prediction horizon
    clearance_m: float = 0.9  # predicted courses closer than this hold the robot back
    near_m: float = 1.1  # stand still this close to a moving centroid (a person's edge: ~0.85 m)


def measure_speeds(
    current: list[tuple[tuple[float, float], float]],
    earlier: list[tuple[tuple[float, float], float]],
    dt_s: float,
    max_speed_mps: float = 2.0,
) -> list[float]:
    """Speed of each current sighting (xy, heading) from the nearest earlier one `dt_s` before;
    0 where none is near enough (a mover just seen for the first time)."""
    speeds = []
    for xy, _ in current:
        nearest_m = min((math.dist(xy, before) for before, _ in earlier), default=math.inf)
        ok = dt_s > 0.0 and nearest_m <= max_speed_mps * dt_s
        speeds.append(nearest_m / dt_s if ok else 0.0)
    return speeds


def _lane_coords(lane: Lane, xy: tuple[float, float]) -> tuple[float, float]:
    """(position along the lane, signed distance from its line) of a point."""
    c, s = math.cos(lane.angle_rad), math.sin(lane.angle_rad)
    dx, dy = xy[0] - lane.point_xy[0], xy[1] - lane.point_xy[1]
    return dx * c + dy * s, -dx * s + dy * c


def _point_on(lane: Lane, along_m: float) -> tuple[float, float]:
    return (
        lane.point_xy[0] + along_m * math.cos(lane.angle_rad),
        lane.point_xy[1] + along_m * math.sin(lane.angle_rad),
    )


def _fit_line(sums: tuple[float, ...], heading_rad: float) -> tuple[tuple[float, float], float]:
    """(mean point, direction) of the sightings whose moments are `sums` (n, x, y, xx, xy, yy):
    the principal axis of their scatter, or the heading while they are still bunched up."""
    n, sx, sy, sxx, sxy, syy = sums
    mx, my = sx / n, sy / n
    cxx, cxy, cyy = sxx / n - mx * mx, sxy / n - mx * my, syy / n - my * my
    if cxx + cyy < 0.3**2:  # less than ~1 m of travel: the scatter says nothing yet
        return (mx, my), heading_rad % math.pi
    return (mx, my), (0.5 * math.atan2(2.0 * cxy, cxx - cyy)) % math.pi


def update_lanes(
    lanes: tuple[Lane, ...], movers: list[Mover], cfg: CrossingConfig
) -> tuple[Lane, ...]:
    """The lanes after these sightings: each mover joins the lane it fits, or starts one."""
    lanes = list(lanes)
    for m in movers:
        if m.speed_mps < cfg.min_mover_speed_mps:
            continue
        x, y = m.xy
        moments = (1.0, x, y, x * x, x * y, y * y)
        fit = None
        for i, lane in enumerate(lanes):
            _, offset = _lane_coords(lane, m.xy)
            parallel = abs(math.sin(m.heading_rad - lane.angle_rad)) < math.sin(cfg.lane_match_rad)
            if abs(offset) < cfg.lane_match_m and parallel:
                fit = i
                break
        if fit is None:
            lanes.append(Lane(m.xy, m.heading_rad % math.pi, 0.0, 0.0, 1, m, moments))
            continue
        lane = lanes[fit]
        if lane.from_map:
            lanes[fit] = replace(lane, sightings=lane.sightings + 1, last=m)
            continue
        # The line through all its sightings: the centroid of the side the lidar sees wanders
        # with the view, the fit of many is steadier than any one.
        sums = tuple(a + b for a, b in zip(lane.sums, moments, strict=True))
        point, angle = _fit_line(sums, lane.angle_rad)
        # The part seen so far, and this sighting, along the new line.
        seen = (_point_on(lane, lane.lo_m), _point_on(lane, lane.hi_m), m.xy)
        refit = replace(lane, point_xy=point, angle_rad=angle)
        along = [_lane_coords(refit, xy)[0] for xy in seen]
        lanes[fit] = replace(
            refit,
            lo_m=min(along),
            hi_m=max(along),
            sightings=lane.sightings + 1,
            last=m,
            sums=sums,
        )
    return tuple(lanes)


def crossing_ahead(
    lanes: tuple[Lane, ...],
    robot_xy: tuple[float, float],
    goal_xy: tuple[float, float],
    cfg: CrossingConfig,
) -> Crossing | None:
    """The nearest lane the straight way from the robot to its goal crosses, if any.

    A way that ends inside a lane's band does not cross it (the goal is there)."""
    best, best_dist = None, math.inf
    for i, lane in enumerate(lanes):
        if lane.sightings < cfg.lane_min_sightings:
            continue
        along_r, off_r = _lane_coords(lane, robot_xy)
        along_g, off_g = _lane_coords(lane, goal_xy)
        if off_r * off_g >= 0.0 or abs(off_g) < cfg.stop_distance_m:
            continue
        f = off_r / (off_r - off_g)  # where the way meets the line, 0 = robot, 1 = goal
        along = along_r + f * (along_g - along_r)
        coming = _moving_towards(lane, along)
        inside = (
            lane.lo_m - cfg.lane_extent_margin_m <= along <= lane.hi_m + cfg.lane_extent_margin_m
        )
        if not (inside or coming):
            continue
        # The way runs along the lane by this much while it is within stop_distance of the line.
        slope = abs(along_g - along_r) / abs(off_r - off_g)
        dist = abs(off_r)
        if dist < best_dist:
            best = Crossing(i, along, off_r, slope * cfg.stop_distance_m)
            best_dist = dist
    return best


def _moving_towards(lane: Lane, along_m: float) -> bool:
    """Whether the lane's latest mover drives towards the point `along_m` of the lane."""
    if lane.last is NEVER_SEEN:
        return False
    direction = math.cos(lane.last.heading_rad - lane.angle_rad)  # +1 with the lane, -1 against
    here, _ = _lane_coords(lane, lane.last.xy)
    return direction * (along_m - here) > 0.0


def lane_is_clear(lane: Lane, crossing: Crossing, now_s: float, cfg: CrossingConfig) -> bool:
    """Whether the robot may cross now: the lane's mover was seen lately, past the crossing and
    driving away from it. Not seen lately means it may be standing anywhere, about to start."""
    if now_s - lane.last.stamp_s > cfg.go_window_s:
        return False
    here, _ = _lane_coords(lane, lane.last.xy)
    direction = math.cos(lane.last.heading_rad - lane.angle_rad)
    past_m = math.copysign(1.0, direction) * (here - crossing.along_m)
    return past_m > cfg.clear_distance_m + crossing.half_span_m


def _closest_approach_m(
    robot_xy: tuple[float, float],
    robot_velocity: tuple[float, float],
    mover: Mover,
    horizon_s: float,
) -> float:
    """Closest distance between the robot and a mover over the horizon, both going straight."""
    vx = mover.speed_mps * math.cos(mover.heading_rad) - robot_velocity[0]
    vy = mover.speed_mps * math.sin(mover.heading_rad) - robot_velocity[1]
    px, py = mover.xy[0] - robot_xy[0], mover.xy[1] - robot_xy[1]
    v2 = vx * vx + vy * vy
    t = 0.0 if v2 < 1e-9 else min(max(-(px * vx + py * vy) / v2, 0.0), horizon_s)
    return math.hypot(px + vx * t, py + vy * t)


@dataclass(frozen=True)
class Decision:
    speed_mps: float  # highest forward speed allowed now
    reason: str  # why it is lower than cruising speed ("" if it is not)
    committed_lane: int | None  # the lane the robot is crossing: it does not stop in there


def decide(
    lanes: tuple[Lane, ...],
    movers: list[Mover],
    robot_xy: tuple[float, float],
    goal_xy: tuple[float, float],
    cruise_mps: float,
    now_s: float,
    committed_lane: int | None,
    cfg: CrossingConfig,
) -> Decision:
    """How fast the robot may drive towards its goal, given what moves around it.

    Pass the previous decision's `committed_lane` back in."""
    if committed_lane is not None:
        _, offset = _lane_coords(lanes[committed_lane], robot_xy)
        if abs(offset) < cfg.stop_distance_m + 0.1:
            return Decision(cruise_mps, "", committed_lane)  # in the lane: get out of it
    fresh = [
        m
        for m in movers
        if now_s - m.stamp_s <= cfg.fresh_s and m.speed_mps >= cfg.min_mover_speed_mps
    ]
    crossing = crossing_ahead(lanes, robot_xy, goal_xy, cfg)
    if crossing is not None and abs(crossing.robot_offset_m) < cfg.in_lane_m:
        # Already in the lane when it was first seen: the way out is forward.
        return Decision(cruise_mps, "", crossing.lane_index)
    if any(math.dist(m.xy, robot_xy) < cfg.near_m for m in fresh):
        return Decision(0.0, "mover close by", None)
    if crossing is not None and not lane_is_clear(lanes[crossing.lane_index], crossing, now_s, cfg):
        left_m = abs(crossing.robot_offset_m) - cfg.stop_distance_m
        speed = min(cruise_mps, max(0.0, cfg.approach_gain * left_m - 0.02))
        return Decision(speed, "waiting for the lane to clear" if speed < cruise_mps else "", None)
    heading = math.atan2(goal_xy[1] - robot_xy[1], goal_xy[0] - robot_xy[0])
    velocity = (cruise_mps * math.cos(heading), cruise_mps * math.sin(heading))
    for m in fresh:
        if _closest_approach_m(robot_xy, velocity, m, cfg.horizon_s) < cfg.clearance_m:
            return Decision(0.0, "mover on a collision course", None)
    near_line = crossing is not None and abs(crossing.robot_offset_m) < cfg.stop_distance_m + 0.3
    return Decision(cruise_mps, "", crossing.lane_index if near_line else None)
