"""Differential-drive kinematics and wheel odometry (ROS-free).

Odometry integrates the wheel joint angles with the *nominal* wheel radius and separation of the
robot profile, exactly as turtlebot3_node does on the robot. The simulated robot's real geometry,
contact slip and noise make it drift from the true pose, as a real robot's odometry does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class OdomState:
    x: float = 0.0
    y: float = 0.0
    yaw: float = 0.0
    linear_mps: float = 0.0
    angular_rps: float = 0.0
    left_rad: float = 0.0  # last wheel joint angles seen
    right_rad: float = 0.0


def clamp_twist(
    linear_mps: float, angular_rps: float, max_linear: float, max_angular: float
) -> tuple[float, float]:
    """Clamp a command to the robot's limits; NaN or infinite input means stop."""
    if not (math.isfinite(linear_mps) and math.isfinite(angular_rps)):
        return 0.0, 0.0
    return (
        min(max(linear_mps, -max_linear), max_linear),
        min(max(angular_rps, -max_angular), max_angular),
    )


def twist_to_wheel_speeds(
    linear_mps: float, angular_rps: float, wheel_radius_m: float, wheel_separation_m: float
) -> tuple[float, float]:
    """Body twist -> (left, right) wheel angular speeds in rad/s."""
    half = wheel_separation_m / 2.0
    return (
        (linear_mps - angular_rps * half) / wheel_radius_m,
        (linear_mps + angular_rps * half) / wheel_radius_m,
    )


def integrate_wheels(
    state: OdomState,
    left_rad: float,
    right_rad: float,
    dt_s: float,
    wheel_radius_m: float,
    wheel_separation_m: float,
) -> OdomState:
    """Advance the odometry by the wheel angle change since `state` (midpoint integration)."""
    d_left = (left_rad - state.left_rad) * wheel_radius_m
    d_right = (right_rad - state.right_rad) * wheel_radius_m
    d_center = (d_left + d_right) / 2.0
    d_yaw = (d_right - d_left) / wheel_separation_m
    mid_yaw = state.yaw + d_yaw / 2.0
    yaw = math.atan2(math.sin(state.yaw + d_yaw), math.cos(state.yaw + d_yaw))
    return replace(
        state,
        x=state.x + d_center * math.cos(mid_yaw),
        y=state.y + d_center * math.sin(mid_yaw),
        yaw=yaw,
        linear_mps=d_center / dt_s if dt_s > 0 else 0.0,
        angular_rps=d_yaw / dt_s if dt_s > 0 else 0.0,
        left_rad=left_rad,
        right_rad=right_rad,
    )
