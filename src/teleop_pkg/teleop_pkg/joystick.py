"""Gamepad teleop (ROS-free): the axes and buttons of a sensor_msgs/Joy -> a velocity command.

The robot moves only while the deadman button (`enable_button`) is held; holding the turbo
button as well uses the turbo scales. The stick values, in [-1, 1] as the `joy` node reports
them (up and left are positive), go through a deadzone that is rescaled, so the command starts
from zero at the deadzone's edge and still reaches the full scale at the end of the stick's
travel. Pushing the stick left gives a positive angular velocity: a left turn (REP-103).

The mappings for common pads live in config/teleop/gamepads.yaml (ROS 2 params file format).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class JoyConfig:
    """Defaults: an Xbox / XInput pad under `joy` on Linux. Indices are 0-based, as in Joy."""

    axis_linear: int = 1  # left stick, up/down
    axis_angular: int = 0  # left stick, left/right
    enable_button: int = 4  # deadman: LB
    turbo_button: int = 5  # RB; -1: no turbo
    scale_linear_mps: float = 0.13  # full stick: half the Waffle Pi's 0.26 m/s
    scale_angular_rps: float = 0.9
    scale_linear_turbo_mps: float = 0.26
    scale_angular_turbo_rps: float = 1.82
    deadzone: float = 0.1  # fraction of the stick's travel, [0, 1)

    def __post_init__(self) -> None:
        for name in ("axis_linear", "axis_angular", "enable_button"):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"{name} must be >= 0 / 0 이상이어야 합니다: {getattr(self, name)}"
                )
        if not 0.0 <= self.deadzone < 1.0:
            raise ValueError(f"deadzone must be in [0, 1) / 0 이상 1 미만: {self.deadzone}")

    @classmethod
    def from_params(cls, params: Mapping) -> JoyConfig:
        """From a `ros__parameters` mapping; keys it does not know are ignored, missing keys keep
        the defaults. Raises ValueError on a value of the wrong type (the node would reject it)."""
        values = {}
        for field in dataclasses.fields(cls):
            if field.name not in params:
                continue
            value, default = params[field.name], field.default
            if type(value) is not type(default):
                raise ValueError(
                    f"{field.name}: {value!r} must be {type(default).__name__} "
                    f"/ {type(default).__name__} 형식이어야 합니다"
                )
            values[field.name] = value
        return cls(**values)

    def limited(self, max_linear_mps: float, max_angular_rps: float) -> JoyConfig:
        """The same mapping with every scale capped at the robot's limits (a negative scale,
        which flips an axis, keeps its sign)."""

        def cap(scale: float, limit: float) -> float:
            return math.copysign(min(abs(scale), limit), scale)

        return replace(
            self,
            scale_linear_mps=cap(self.scale_linear_mps, max_linear_mps),
            scale_angular_rps=cap(self.scale_angular_rps, max_angular_rps),
            scale_linear_turbo_mps=cap(self.scale_linear_turbo_mps, max_linear_mps),
            scale_angular_turbo_rps=cap(self.scale_angular_turbo_rps, max_angular_rps),
        )


@dataclass(frozen=True)
class JoyCommand:
    linear_mps: float
    angular_rps: float
    enabled: bool  # the deadman is held: send this; otherwise the robot must stop
    turbo: bool = False


STOPPED = JoyCommand(0.0, 0.0, enabled=False)


def apply_deadzone(value: float, deadzone: float) -> float:
    """Zero inside the deadzone, rescaled outside it: |value| = 1 still gives 1."""
    value = min(max(float(value), -1.0), 1.0)  # some drivers overshoot 1.0 slightly
    if abs(value) <= deadzone:
        return 0.0
    magnitude = (abs(value) - deadzone) / (1.0 - deadzone)
    return magnitude if value > 0 else -magnitude


def _pressed(buttons: Sequence[int], index: int) -> bool:
    # A pad that reports fewer buttons than the mapping expects: treat it as released.
    return 0 <= index < len(buttons) and bool(buttons[index])


def _axis(axes: Sequence[float], index: int) -> float:
    return float(axes[index]) if 0 <= index < len(axes) else 0.0


def joy_to_command(axes: Sequence[float], buttons: Sequence[int], cfg: JoyConfig) -> JoyCommand:
    """The command for one Joy message. Without the deadman held it is STOPPED (all zero)."""
    if not _pressed(buttons, cfg.enable_button):
        return STOPPED
    turbo = _pressed(buttons, cfg.turbo_button)
    scale_linear = cfg.scale_linear_turbo_mps if turbo else cfg.scale_linear_mps
    scale_angular = cfg.scale_angular_turbo_rps if turbo else cfg.scale_angular_rps
    return JoyCommand(
        linear_mps=scale_linear * apply_deadzone(_axis(axes, cfg.axis_linear), cfg.deadzone),
        angular_rps=scale_angular * apply_deadzone(_axis(axes, cfg.axis_angular), cfg.deadzone),
        enabled=True,
        turbo=turbo,
    )


def missing_inputs(n_axes: int, n_buttons: int, cfg: JoyConfig) -> list[str]:
    """The mapped inputs a pad with that many axes and buttons does not have (for a warning)."""
    wanted = [
        ("axis_linear", cfg.axis_linear, n_axes),
        ("axis_angular", cfg.axis_angular, n_axes),
        ("enable_button", cfg.enable_button, n_buttons),
        ("turbo_button", cfg.turbo_button, n_buttons),
    ]
    return [f"{name}={index}" for name, index, count in wanted if index >= count]
