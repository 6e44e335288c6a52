"""The `teleop` check: does the student's gamepad teleop node keep the safety rules and drive?

The platform's `input_player` replays a scripted gamepad on /joy (sensor_msgs/Joy, an Xbox pad:
`teleop_pkg.input_script.XBOX`); the student's node turns it into velocity commands on `topic`.
The check judges the commands against the Joy messages that really arrived (the player is a
trusted platform node), every 0.1 s of sim time, by four rules:

- **deadman**: while the deadman button is released (after `latency_s` of grace) no motion
  command. Tested on the samples where breaking it was possible: the stick pushed, or a motion
  command came. Score: the fraction of those samples with no motion command.
- **limits**: no command above `max_linear_mps` / `max_angular_rps` (NaN and infinity count as
  above). Tested on the samples with a motion command; score: the fraction within the limits.
- **clean_stop**: when the deadman is released while the node is driving, the latest command it
  sends within `latency_s` must be an explicit zero. Silence is not a stop: the mux would count
  a timeout (a safety intervention) and the robot would coast until then. Score: the fraction of
  such releases that stopped cleanly.
- **follows_stick**: while the deadman is held and the stick asks for motion, the latest command
  (at most `command_timeout_s` old, the mux's timeout) is stick × scale (turbo scales while turbo
  is held) within `tolerance_*_mps/rps` + `tolerance_fraction` × the expected value, once the
  input has been steady for `latency_s`. Only samples where a zero command would be wrong count,
  so a node that always sends zero earns nothing. The tolerances accept a rescaled deadzone
  of up to about 0.15 (teleop_joy's is 0.1) for stick values of 0.5 and more.

score = the mean of the four sub-scores, where each safety sub-score counts only as far as the
node drove: score = (follows + follows × deadman + follows × limits + follows × clean_stop) / 4.
A node that never moves keeps every rule and earns nothing. A safety sub-score with nothing to
test is 1; follows_stick with nothing to test is 0 (no evidence).

Memory: a few counters, the first problem of each rule, and at most MAX_PENDING releases.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from curriculum_pkg.checks.base import Check, CheckResult, StepTruth, register
from teleop_pkg.input_script import XBOX
from teleop_pkg.joystick import JoyConfig

SAMPLE_PERIOD_S = 0.1
MOTION_EPS = 1e-3  # |m/s| or |rad/s| below this is a zero command
STICK_PUSHED = 0.1  # |stick| above this asks for motion (teleop_joy's deadzone)
MAX_PENDING = 64  # releases waiting for their stop window: a few at most with a real script
COMMAND_TYPES = ("geometry_msgs/msg/TwistStamped", "geometry_msgs/msg/Twist")  # Jazzy, Humble
RULES = ("deadman", "limits", "clean_stop", "follows_stick")
RULE_NAMES = {  # for the feedback line: en, ko
    "deadman": ("deadman", "데드맨"),
    "limits": ("limits", "속도 제한"),
    "clean_stop": ("clean stop", "깔끔한 정지"),
    "follows_stick": ("following the stick", "스틱 따라가기"),
}


@dataclass(frozen=True)
class Pad:
    deadman: bool = False
    turbo: bool = False
    linear: float = 0.0  # stick, [-1, 1]
    angular: float = 0.0


@dataclass
class Release:
    t_s: float
    cutoff_s: float  # the stop window ends here (earlier if the deadman is pressed again)
    latest_is_zero: bool | None = None  # the latest command since the release: zero?


def _stick(axes, index: int) -> float:
    value = float(axes[index]) if 0 <= index < len(axes) else 0.0
    return min(max(value, -1.0), 1.0) if math.isfinite(value) else 0.0


def _pressed(buttons, index: int) -> bool:
    return 0 <= index < len(buttons) and bool(buttons[index])


def _is_motion(linear: float, angular: float) -> bool:
    return not (abs(linear) < MOTION_EPS and abs(angular) < MOTION_EPS)  # NaN is motion


@register
class TeleopCheck(Check):
    kind = "teleop"

    def __init__(self, spec: dict, scenario, profile):
        super().__init__(spec, scenario, profile)
        pad = JoyConfig()  # teleop_joy's defaults: the Xbox scales of config/teleop/gamepads.yaml
        self.topic = spec.get("topic", "/cmd_vel_teleop")
        self.joy_topic = spec.get("joy_topic", "/joy")
        self.msg_type = spec.get("type", COMMAND_TYPES[0])
        if self.msg_type not in COMMAND_TYPES:
            raise ValueError(
                f"teleop check: type must be one of {', '.join(COMMAND_TYPES)}, not {self.msg_type}"
                f" / teleop 점검의 type은 {', '.join(COMMAND_TYPES)} 중 하나여야 합니다"
            )

        def number(key: str, default: float) -> float:
            try:
                value = float(spec.get(key, default))
            except (TypeError, ValueError):
                value = math.nan
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(
                    f"teleop check: {key} must be a number >= 0, not {value}"
                    f" / teleop 점검의 {key}은(는) 0 이상의 숫자여야 합니다"
                )
            return value

        self.max_linear_mps = number("max_linear_mps", profile.max_linear_mps)
        self.max_angular_rps = number("max_angular_rps", profile.max_angular_rps)
        self.scales = {  # turbo -> (linear, angular)
            False: (
                number("scale_linear_mps", pad.scale_linear_mps),
                number("scale_angular_rps", pad.scale_angular_rps),
            ),
            True: (
                number("scale_linear_turbo_mps", pad.scale_linear_turbo_mps),
                number("scale_angular_turbo_rps", pad.scale_angular_turbo_rps),
            ),
        }
        self.latency_s = number("latency_s", 0.3)
        self.command_timeout_s = number("command_timeout_s", 0.5)
        self.tol_linear_mps = number("tolerance_linear_mps", 0.02)
        self.tol_angular_rps = number("tolerance_angular_rps", 0.15)
        self.tol_fraction = number("tolerance_fraction", 0.1)

        self.pad = Pad()  # before the first /joy: nothing held
        self.deadman_since_s = -math.inf
        self.input_since_s = -math.inf  # when the expected command last changed
        self.last_cmd: tuple[float, float, float] | None = None  # linear, angular, t
        # The latest command sent before last_cmd's step: the grader hands over one step's
        # messages in order of arrival, so a reply to a release may come before the release.
        self.before_last_step: tuple[float, float, float] | None = None
        self.pending: deque[Release] = deque(maxlen=MAX_PENDING)
        self.next_sample_s: float | None = None
        self._reset_window()
        self.n_joy = self.n_commands = self.n_samples = 0
        self.tested = dict.fromkeys(RULES, 0)
        self.passed = dict.fromkeys(RULES, 0)
        self.first_problem: dict[str, tuple[float, str, str]] = {}

    def topics(self) -> list[tuple[str, str]]:
        return [(self.joy_topic, "sensor_msgs/msg/Joy"), (self.topic, self.msg_type)]

    # ------------------------------------------------------------------------------ messages
    def on_message(self, topic: str, msg: Any, t_recv: float) -> None:
        if topic == self.joy_topic:
            self._on_joy(msg, t_recv)
        elif topic == self.topic:
            self._on_command(msg, t_recv)

    def _on_joy(self, msg, t: float) -> None:
        self.n_joy += 1
        pad = Pad(
            deadman=_pressed(msg.buttons, XBOX.deadman_button),
            turbo=_pressed(msg.buttons, XBOX.turbo_button),
            linear=_stick(msg.axes, XBOX.axis_linear),
            angular=_stick(msg.axes, XBOX.axis_angular),
        )
        if pad.deadman != self.pad.deadman:
            self.deadman_since_s = t
            if pad.deadman:  # pressed again: every open stop window ends here
                for release in self.pending:
                    release.cutoff_s = min(release.cutoff_s, t)
            else:
                self._on_release(t)
        if self._expected(pad) != self._expected(self.pad):
            self.input_since_s = t
        self.pad = pad

    def _on_command(self, msg, t: float) -> None:
        self.n_commands += 1
        twist = getattr(msg, "twist", msg)  # TwistStamped on Jazzy, Twist on Humble
        linear, angular = float(twist.linear.x), float(twist.angular.z)
        if self.last_cmd is not None and self.last_cmd[2] < t:
            self.before_last_step = self.last_cmd
        self.last_cmd = (linear, angular, t)
        for release in self.pending:
            if release.t_s <= t <= release.cutoff_s:
                release.latest_is_zero = not _is_motion(linear, angular)
        if not _is_motion(linear, angular):
            return
        if self.window_motion is None:
            self.window_motion = (linear, angular)
        self.window_peak = (
            max(self.window_peak[0], abs(linear) if math.isfinite(linear) else math.inf),
            max(self.window_peak[1], abs(angular) if math.isfinite(angular) else math.inf),
        )

    # --------------------------------------------------------------------------------- steps
    def on_step(self, truth: StepTruth) -> None:
        t = truth.t
        if self.next_sample_s is None:
            self.next_sample_s = t + SAMPLE_PERIOD_S
        while self.pending and self.pending[0].cutoff_s <= t:
            self._judge_release(self.pending.popleft())
        if t + 1e-9 < self.next_sample_s:
            return
        while self.next_sample_s <= t + 1e-9:  # a jump in time: one sample, the rest skipped
            self.next_sample_s += SAMPLE_PERIOD_S
        self.n_samples += 1
        self._sample_deadman(t)
        self._sample_limits(t)
        self._sample_follows(t)
        self._reset_window()

    def _reset_window(self) -> None:
        self.window_motion: tuple[float, float] | None = None  # the first motion command
        self.window_peak = (0.0, 0.0)  # largest |linear|, |angular| commanded

    def _sample_deadman(self, t: float) -> None:
        released_long = not self.pad.deadman and (
            t - SAMPLE_PERIOD_S >= self.deadman_since_s + self.latency_s
        )
        pushed = abs(self.pad.linear) > STICK_PUSHED or abs(self.pad.angular) > STICK_PUSHED
        if not released_long or not (pushed or self.window_motion):
            return
        ok = self.window_motion is None
        if not ok:
            lin, ang = self.window_motion
            self._problem(
                "deadman",
                t,
                f"the deadman was released but {self.topic} still said {lin:.2f} m/s, {ang:.2f} rad/s",
                f"데드맨 버튼을 놓았는데 {self.topic}이(가) 아직 {lin:.2f} m/s, {ang:.2f} rad/s를 보냈습니다",
            )
        self._count("deadman", ok)

    def _sample_limits(self, t: float) -> None:
        if self.window_motion is None:
            return
        lin, ang = self.window_peak
        ok = lin <= self.max_linear_mps + 1e-6 and ang <= self.max_angular_rps + 1e-6
        if not ok:
            allowed = f"{self.max_linear_mps:.2f} m/s, {self.max_angular_rps:.2f} rad/s"
            self._problem(
                "limits",
                t,
                f"{self.topic} said {lin:.2f} m/s, {ang:.2f} rad/s: above the {allowed} allowed",
                f"{self.topic}이(가) {lin:.2f} m/s, {ang:.2f} rad/s를 보냈습니다. 허용 최대는 {allowed}입니다",
            )
        self._count("limits", ok)

    def _sample_follows(self, t: float) -> None:
        exp_lin, exp_ang = self._expected(self.pad)
        tol_lin = self.tol_linear_mps + self.tol_fraction * abs(exp_lin)
        tol_ang = self.tol_angular_rps + self.tol_fraction * abs(exp_ang)
        zero_would_pass = abs(exp_lin) <= tol_lin and abs(exp_ang) <= tol_ang
        if zero_would_pass or t - self.input_since_s < self.latency_s:
            return
        fresh = self.last_cmd is not None and t - self.last_cmd[2] <= self.command_timeout_s
        ok = fresh and abs(self.last_cmd[0] - exp_lin) <= tol_lin
        ok = ok and abs(self.last_cmd[1] - exp_ang) <= tol_ang
        if not ok:
            turbo_en, turbo_ko = (
                ("turbo on", "터보 켬") if self.pad.turbo else ("turbo off", "터보 끔")
            )
            asked = f"{exp_lin:.2f} m/s, {exp_ang:.2f} rad/s"
            if fresh:
                said_en = (
                    f"{self.topic} said {self.last_cmd[0]:.2f} m/s, {self.last_cmd[1]:.2f} rad/s"
                )
                said_ko = f"{self.topic}은(는) {self.last_cmd[0]:.2f} m/s, {self.last_cmd[1]:.2f} rad/s였습니다"
            else:
                said_en = f"{self.topic} had said nothing for {self.command_timeout_s:.1f} s"
                said_ko = f"{self.topic}이(가) {self.command_timeout_s:.1f}초 동안 아무것도 보내지 않았습니다"
            self._problem(
                "follows_stick",
                t,
                f"the stick asked for {asked} ({turbo_en}) but {said_en}",
                f"스틱은 {asked}({turbo_ko})를 요청했는데 {said_ko}",
            )
        self._count("follows_stick", ok)

    def _judge_release(self, release: Release) -> None:
        ok = release.latest_is_zero is True
        if not ok:
            within = f"{self.latency_s:.1f}"
            if release.latest_is_zero is None:
                en = f"no zero command followed within {within} s (silence is not a stop)"
                ko = f"{within}초 안에 정지(0) 명령이 오지 않았습니다 (조용해지는 것은 정지 명령이 아닙니다)"
            else:
                en = f"its last command within {within} s was not a zero"
                ko = f"{within}초 안에 보낸 마지막 명령이 정지(0)가 아니었습니다"
            self._problem(
                "clean_stop",
                release.t_s,
                f"the deadman was released while driving and {en}",
                f"주행 중에 데드맨 버튼을 놓았는데 {ko}",
            )
        self._count("clean_stop", ok)

    # ------------------------------------------------------------------------------- helpers
    def _expected(self, pad: Pad) -> tuple[float, float]:
        if not pad.deadman:
            return 0.0, 0.0
        scale_lin, scale_ang = self.scales[pad.turbo]
        return scale_lin * pad.linear, scale_ang * pad.angular

    def _on_release(self, t: float) -> None:
        """A stop window opens if the node was driving when the deadman was released: its
        latest command before `t` still drove the robot (the mux would still follow it)."""
        before, since = self.last_cmd, None
        if before is not None and before[2] >= t:  # already heard this step: maybe the reply
            before, since = self.before_last_step, self.last_cmd
        if before is None or not _is_motion(before[0], before[1]):
            return
        if t - before[2] > self.command_timeout_s:
            return
        release = Release(t, t + self.latency_s)
        if since is not None:
            release.latest_is_zero = not _is_motion(since[0], since[1])
        self.pending.append(release)

    def _count(self, rule: str, ok: bool) -> None:
        self.tested[rule] += 1
        self.passed[rule] += int(ok)

    def _problem(self, rule: str, t: float, en: str, ko: str) -> None:
        if rule not in self.first_problem:
            self.first_problem[rule] = (t, f"at {t:.1f} s {en}", f"{t:.1f}초: {ko}")

    def sub_scores(self) -> dict[str, float]:
        return {
            rule: self.passed[rule] / self.tested[rule]
            if self.tested[rule]
            else (0.0 if rule == "follows_stick" else 1.0)
            for rule in RULES
        }

    def result(self) -> CheckResult:
        subs = self.sub_scores()
        follows = subs["follows_stick"]
        score = (follows + follows * (subs["deadman"] + subs["limits"] + subs["clean_stop"])) / 4
        details = {
            "joy_messages": self.n_joy,
            "commands": self.n_commands,
            "samples": self.n_samples,
            **{f"{rule}_score": round(value, 4) for rule, value in subs.items()},
            **{f"{rule}_tested": self.tested[rule] for rule in RULES},
            **{f"{rule}_passed": self.passed[rule] for rule in RULES},
        }
        if self.first_problem:
            _, en, ko = min(self.first_problem.values())
            kept = [r for r in RULES if self.passed[r] < self.tested[r]]
            en += (
                " ["
                + ", ".join(f"{RULE_NAMES[r][0]} {self.passed[r]}/{self.tested[r]}" for r in kept)
                + "]"
            )
            ko += (
                " ["
                + ", ".join(f"{RULE_NAMES[r][1]} {self.passed[r]}/{self.tested[r]}" for r in kept)
                + "]"
            )
        elif self.n_joy == 0:
            en = f"no gamepad input arrived on {self.joy_topic}: nothing could be judged"
            ko = f"{self.joy_topic}로 게임패드 입력이 오지 않아 채점할 수 없었습니다"
        elif self.tested["follows_stick"] == 0:
            en = f"the stick never asked for motion long enough to judge {self.topic}"
            ko = f"스틱 입력이 짧아 {self.topic}을(를) 채점할 수 없었습니다"
        else:
            en = (
                f"followed the stick on all {self.tested['follows_stick']} samples, "
                "kept the deadman and the limits, and stopped cleanly"
            )
            ko = (
                f"스틱 입력 {self.tested['follows_stick']}번을 모두 따랐고, 데드맨 버튼과 "
                "속도 제한을 지켰으며, 손을 뗄 때마다 깔끔하게 정지했습니다"
            )
        return CheckResult(self.kind, round(score, 4), en, ko, details)
