"""The shift as a list of jobs, and the small motions they are made of (no ROS here).

The mission is one point per step, in odom (/mission/waypoints), and the steps in order
(/mission/steps, e.g. "navigate:cnc_outfeed pick:sensor_housing place:sensor_housing
inspect:qc_post navigate:shipping_dock"). `plan_shift` turns it into jobs:

- navigate before a pick: `Approach` the stop point straight from behind, facing the work (the
  part and its place spot lie on the floor, lower than the lidar: the robot must not turn in
  place next to them), then `Hold` there for the judge's dwell;
- pick (and its place): one `Arm` job for the platform's arm_commander, then `Reverse` out of
  the cell before turning;
- inspect: `Drive` to the stop point, `Turn` to face the display, `AwaitReport` from the
  inspection reporter;
- any other navigate: `Drive` there and `Hold`.

Frames: odom (REP-105) for points and poses, base_link for the arm; metres, seconds, radians.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    kind: str  # navigate | pick | place | inspect
    name: str  # the station id or the part name
    xyz: tuple[float, float, float]  # its point, odom frame


@dataclass(frozen=True)
class Drive:
    goal_xy: tuple[float, float]
    label: str


@dataclass(frozen=True)
class Approach:
    stop_xy: tuple[float, float]
    heading_rad: float  # face this way at the stop point
    label: str


@dataclass(frozen=True)
class Hold:
    seconds: float


@dataclass(frozen=True)
class Turn:
    heading_rad: float


@dataclass(frozen=True)
class Arm:
    pick_xyz: tuple[float, float, float]
    place_xyz: tuple[float, float, float]


@dataclass(frozen=True)
class Reverse:
    distance_m: float


@dataclass(frozen=True)
class AwaitReport:
    station: str
    timeout_s: float


@dataclass(frozen=True)
class ShiftReport:
    text: str  # the tasks carried out before it, as /mission/steps names them


Job = Drive | Approach | Hold | Turn | Arm | Reverse | AwaitReport | ShiftReport


def parse_mission(steps_text: str, points) -> list[Step]:
    """Steps with their points; [] while the two do not match (one message not here yet)."""
    words = steps_text.split()
    if len(words) != len(points):
        return []
    steps = []
    for word, xyz in zip(words, points, strict=True):
        kind, _, name = word.partition(":")
        steps.append(Step(kind, name, tuple(float(v) for v in xyz)))
    return steps


def plan_shift(
    steps: list[Step],
    facing_rad: dict[str, float],
    dwell_s: float = 1.5,
    reverse_m: float = 0.35,
    report_timeout_s: float = 20.0,
) -> list[Job]:
    """The jobs of a shift. `facing_rad`: the way to face at inspect stations (odom), by id."""
    jobs: list[Job] = []
    for i, step in enumerate(steps):
        later = steps[i + 1 :]
        if step.kind == "navigate":
            pick = later[0] if later and later[0].kind == "pick" else None
            if pick is None:
                jobs += [Drive(step.xyz[:2], step.name), Hold(dwell_s)]
                continue
            place = next((s for s in later if s.kind == "place" and s.name == pick.name), pick)
            work = ((pick.xyz[0] + place.xyz[0]) / 2, (pick.xyz[1] + place.xyz[1]) / 2)
            heading = math.atan2(work[1] - step.xyz[1], work[0] - step.xyz[0])
            jobs += [Approach(step.xyz[:2], heading, step.name), Hold(dwell_s)]
        elif step.kind == "pick":
            place = next((s for s in later if s.kind == "place" and s.name == step.name), None)
            if place is not None:
                jobs += [Arm(step.xyz, place.xyz), Reverse(reverse_m)]
        elif step.kind == "inspect":
            jobs.append(Drive(step.xyz[:2], step.name))
            if step.name in facing_rad:
                jobs.append(Turn(facing_rad[step.name]))
            jobs.append(AwaitReport(step.name, report_timeout_s))
        elif step.kind == "report":  # at the MES terminal: what was carried out before it
            done = " ".join(f"{s.kind}:{s.name}" for s in steps[:i])
            jobs += [Drive(step.xyz[:2], step.name), ShiftReport(done)]
    return jobs


def wrap(angle_rad: float) -> float:
    return math.atan2(math.sin(angle_rad), math.cos(angle_rad))


def to_base_link(
    point_xyz, pose: tuple[float, float, float], base_link_height_m: float
) -> tuple[float, float, float]:
    """An odom point in base_link of a robot at `pose` (x, y, yaw): R(-yaw) (p - position), and
    base_link sits base_link_height_m above base_footprint."""
    x, y, yaw = pose
    dx, dy = point_xyz[0] - x, point_xyz[1] - y
    c, s = math.cos(yaw), math.sin(yaw)
    return (c * dx + s * dy, -s * dx + c * dy, point_xyz[2] - base_link_height_m)


def turn_command(
    yaw_rad: float, heading_rad: float, tolerance_rad: float, max_angular_rps: float
) -> float | None:
    """The turn rate towards a heading, or None once within the tolerance."""
    error = wrap(heading_rad - yaw_rad)
    if abs(error) < tolerance_rad:
        return None
    rate = max(0.15, min(max_angular_rps, 1.5 * abs(error)))
    return math.copysign(rate, error)


def line_command(
    pose: tuple[float, float, float],
    target_xy: tuple[float, float],
    heading_rad: float,
    speed_mps: float,
    tolerance_m: float = 0.005,
) -> tuple[float, float] | None:
    """(linear, angular) to drive straight along `heading` (backwards if the target lies behind)
    until the target is reached along it, steering back onto the line; None when there."""
    x, y, yaw = pose
    c, s = math.cos(heading_rad), math.sin(heading_rad)
    along = (target_xy[0] - x) * c + (target_xy[1] - y) * s  # metres left along the line
    if abs(along) < tolerance_m:
        return None
    across = -(target_xy[0] - x) * s + (target_xy[1] - y) * c  # the line is to the left: > 0
    direction = math.copysign(1.0, along)
    linear = direction * min(speed_mps, 0.8 * abs(along) + 0.02)
    angular = 2.0 * wrap(heading_rad - yaw) + direction * 3.0 * across
    return linear, max(-0.5, min(0.5, angular))
