"""Arm joint-trajectory execution (ROS-free): what the arm_controller does with a trajectory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common_pkg.profile import JointLimit


@dataclass(frozen=True)
class TrajectoryPoint:
    time_from_start_s: float
    positions: tuple[float, ...]


@dataclass(frozen=True)
class Trajectory:
    """A joint trajectory already mapped onto the arm's joint order and clamped to its limits."""

    start_time_s: float
    points: tuple[TrajectoryPoint, ...]


def make_trajectory(
    joint_names: list[str],
    points: list[TrajectoryPoint],
    start_time_s: float,
    current: np.ndarray,
    limits: tuple[JointLimit, ...],
) -> Trajectory:
    """Reorder the commanded joints onto the arm, hold unnamed joints, clamp to joint limits.

    Unknown joint names or point sizes that do not match raise ValueError (the bridge logs it).
    """
    order = [lim.name for lim in limits]
    unknown = [n for n in joint_names if n not in order]
    if unknown:
        raise ValueError(f"unknown joints {unknown}; the arm has {order}")
    mapped = []
    for p in points:
        if len(p.positions) != len(joint_names):
            raise ValueError(
                f"a point has {len(p.positions)} positions for {len(joint_names)} joints"
            )
        q = np.array(current, dtype=float)
        for name, value in zip(joint_names, p.positions, strict=True):
            q[order.index(name)] = value
        q = np.array(
            [
                lim.clamp(v) if np.isfinite(v) else current[i]
                for i, (lim, v) in enumerate(zip(limits, q, strict=True))
            ]
        )
        mapped.append(TrajectoryPoint(max(0.0, p.time_from_start_s), tuple(q)))
    mapped.sort(key=lambda p: p.time_from_start_s)
    return Trajectory(start_time_s, (TrajectoryPoint(0.0, tuple(current)), *mapped))


def sample_trajectory(traj: Trajectory, time_s: float) -> np.ndarray:
    """Linear interpolation between points; holds the last point after the end."""
    t = time_s - traj.start_time_s
    times = np.array([p.time_from_start_s for p in traj.points])
    pos = np.array([p.positions for p in traj.points])
    return np.array([np.interp(t, times, pos[:, j]) for j in range(pos.shape[1])])


def rate_limit(
    previous: np.ndarray, target: np.ndarray, max_velocity: np.ndarray, dt_s: float
) -> np.ndarray:
    """Move from `previous` towards `target` no faster than the joints' velocity limits."""
    step = np.clip(target - previous, -max_velocity * dt_s, max_velocity * dt_s)
    return previous + step
