"""Keyboard teleop (ROS-free): a key press -> the new target velocity, and the ramp towards it.

The keys, steps and ramp are those of ROBOTIS' `turtlebot3_teleop` (`teleop_keyboard.py`), so a
student who learnt on the lab robot finds the same keyboard here:

    w/x  increase/decrease the linear velocity by 0.01 m/s
    a/d  increase/decrease the angular velocity by 0.1 rad/s (a turns left: +z, REP-103)
    space or s  force stop (target and command to zero at once)
    CTRL-C  quit

Targets are clamped to the robot profile's limits (Waffle Pi: 0.26 m/s, 1.82 rad/s). The command
that is sent follows the target with ROBOTIS' `make_simple_profile`: it moves at most half a step
per 0.1 s tick, i.e. 0.05 m/s² and 0.5 rad/s², which keeps the arm's payload from swinging.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

# ROBOTIS turtlebot3_teleop: LIN_VEL_STEP_SIZE, ANG_VEL_STEP_SIZE.
LINEAR_STEP_MPS = 0.01
ANGULAR_STEP_RPS = 0.1


class KeyAction(enum.Enum):
    FASTER = "faster"  # w
    SLOWER = "slower"  # x
    TURN_LEFT = "turn_left"  # a
    TURN_RIGHT = "turn_right"  # d
    STOP = "stop"  # space, s
    QUIT = "quit"  # CTRL-C (only arrives as a key in raw mode; in cbreak it is SIGINT)


# Lower-case letters; the Hangul jamo are what the same physical keys type while the Korean
# 2-beolsik (두벌식) layout is on, so the robot still obeys a student who forgot 한/영.
KEY_BINDINGS: dict[str, KeyAction] = {
    "w": KeyAction.FASTER,
    "x": KeyAction.SLOWER,
    "a": KeyAction.TURN_LEFT,
    "d": KeyAction.TURN_RIGHT,
    "s": KeyAction.STOP,
    " ": KeyAction.STOP,
    "\x03": KeyAction.QUIT,
    "ㅈ": KeyAction.FASTER,
    "ㅌ": KeyAction.SLOWER,
    "ㅁ": KeyAction.TURN_LEFT,
    "ㅇ": KeyAction.TURN_RIGHT,
    "ㄴ": KeyAction.STOP,
}


@dataclass(frozen=True)
class KeyboardConfig:
    max_linear_mps: float = 0.26
    max_angular_rps: float = 1.82
    linear_step_mps: float = LINEAR_STEP_MPS
    angular_step_rps: float = ANGULAR_STEP_RPS
    # ROBOTIS: half a step per 0.1 s loop. 0 (or less) turns the ramp off.
    linear_ramp_mps2: float = 0.05
    angular_ramp_rps2: float = 0.5

    def __post_init__(self) -> None:
        for name in ("max_linear_mps", "max_angular_rps", "linear_step_mps", "angular_step_rps"):
            if not getattr(self, name) > 0.0:
                raise ValueError(f"{name} must be > 0 / 0보다 커야 합니다: {getattr(self, name)}")


@dataclass(frozen=True)
class TeleopState:
    """What the operator asked for (target) and what is being sent (command, ramped)."""

    target_linear_mps: float = 0.0
    target_angular_rps: float = 0.0
    linear_mps: float = 0.0
    angular_rps: float = 0.0

    @property
    def is_stopped(self) -> bool:
        """True when both the target and the command are zero: nothing to send."""
        return not (
            self.target_linear_mps or self.target_angular_rps or self.linear_mps or self.angular_rps
        )


def action_for_key(key: str) -> KeyAction | None:
    """The action bound to one typed character, or None for any other key (ignored)."""
    return KEY_BINDINGS.get(key.lower()) if len(key) == 1 else None


def _clamp(value: float, limit: float) -> float:
    # round() keeps 0.01 + 0.01 + 0.01 printing as 0.03 on screen and in the message.
    return round(min(max(value, -limit), limit), 6)


def apply_action(state: TeleopState, action: KeyAction, cfg: KeyboardConfig) -> TeleopState:
    """The state after one key. QUIT leaves the state alone: stopping is the caller's job."""
    if action is KeyAction.STOP:
        return TeleopState()  # ROBOTIS zeroes the target and the ramped command at once
    if action in (KeyAction.FASTER, KeyAction.SLOWER):
        sign = 1.0 if action is KeyAction.FASTER else -1.0
        linear = state.target_linear_mps + sign * cfg.linear_step_mps
        return replace(state, target_linear_mps=_clamp(linear, cfg.max_linear_mps))
    if action in (KeyAction.TURN_LEFT, KeyAction.TURN_RIGHT):
        sign = 1.0 if action is KeyAction.TURN_LEFT else -1.0
        angular = state.target_angular_rps + sign * cfg.angular_step_rps
        return replace(state, target_angular_rps=_clamp(angular, cfg.max_angular_rps))
    return state


def apply_keys(state: TeleopState, keys: str, cfg: KeyboardConfig) -> TeleopState:
    """Fold a string of typed characters into the state (unbound keys and QUIT are ignored)."""
    for key in keys:
        action = action_for_key(key)
        if action is not None:
            state = apply_action(state, action, cfg)
    return state


def _approach(current: float, target: float, rate_per_s: float, dt_s: float) -> float:
    """ROBOTIS `make_simple_profile`: move towards the target by at most rate * dt (rate <= 0:
    no ramp, jump to the target)."""
    if rate_per_s <= 0.0:
        return target
    max_change = rate_per_s * max(dt_s, 0.0)
    if target > current:
        return min(target, current + max_change)
    return max(target, current - max_change)


def ramp(state: TeleopState, dt_s: float, cfg: KeyboardConfig) -> TeleopState:
    """The state after `dt_s` seconds: the sent command moved towards the target."""
    return replace(
        state,
        linear_mps=_approach(state.linear_mps, state.target_linear_mps, cfg.linear_ramp_mps2, dt_s),
        angular_rps=_approach(
            state.angular_rps, state.target_angular_rps, cfg.angular_ramp_rps2, dt_s
        ),
    )


def help_text(cfg: KeyboardConfig, topic: str) -> str:
    """The on-screen help in ROBOTIS' layout, each line in Korean then English."""
    lin, ang = f"{cfg.linear_step_mps:g} m/s", f"{cfg.angular_step_rps:g} rad/s"
    max_lin, max_ang = f"{cfg.max_linear_mps:g} m/s", f"{cfg.max_angular_rps:g} rad/s"
    lines = [
        "",
        "터틀봇3 키보드 조종 / Control your TurtleBot3!",
        "---------------------------------------------",
        "        w",
        "   a    s    d",
        "        x",
        "",
        f"w/x : 선속도(앞뒤) 올리기/내리기 (한 번에 {lin}, 최대 ±{max_lin})",
        f"      increase/decrease linear velocity ({lin} a key, max {max_lin})",
        f"a/d : 각속도(회전) 올리기/내리기 (a 왼쪽, d 오른쪽, 한 번에 {ang}, 최대 ±{max_ang})",
        f"      increase/decrease angular velocity (a left, d right; {ang} a key, max {max_ang})",
        "스페이스바, s : 바로 정지 / space key, s : force stop",
        "CTRL-C : 끝내기 / quit",
        "",
        "키가 안 먹으면 한/영 키로 영문 입력인지 확인하세요. / Keys ignored? Check the input language.",
        f"보내는 토픽 / publishing on: {topic}",
        "",
    ]
    return "\n".join(lines)


def status_line(state: TeleopState, cfg: KeyboardConfig) -> str:
    """One line with the current target velocity, marking a limit that was reached."""

    def mark(value: float, limit: float) -> str:
        return " (최대/max)" if abs(value) >= limit else ""

    return (
        f"목표 속도 / target: linear {state.target_linear_mps:+.2f} m/s"
        f"{mark(state.target_linear_mps, cfg.max_linear_mps)}, "
        f"angular {state.target_angular_rps:+.2f} rad/s"
        f"{mark(state.target_angular_rps, cfg.max_angular_rps)}"
    )
