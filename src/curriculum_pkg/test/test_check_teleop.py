"""The `teleop` check, fed real Joy and TwistStamped messages from a model of a student's node that
hears the assignment's scripted gamepad (no ROS graph: the check never needs one)."""

from __future__ import annotations

import math
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from geometry_msgs.msg import Twist, TwistStamped
from sensor_msgs.msg import Joy

from common_pkg.worldspec import Pose2D
from curriculum_pkg.checks.base import REGISTRY, StepTruth
from curriculum_pkg.checks.teleop import MAX_PENDING, TeleopCheck
from teleop_pkg.input_script import joy_at, parse_script, script_duration_s
from teleop_pkg.joystick import JoyConfig, joy_to_command

ASSIGNMENT = Path(__file__).resolve().parents[1] / "assignments/teleop_safety/assignment.yaml"
STEP_S = 0.01  # the grader's control step


def assignment_parts():
    data = yaml.safe_load(ASSIGNMENT.read_text())
    player = next(n for n in data["graph"]["nodes"] if n["name"] == "/input_player")
    return player["parameters"]["script"], data["checks"][0]


SCRIPT, SPEC = assignment_parts()


@dataclass
class StudentNode:
    """A teleop node like teleop_joy, with the mistakes students make switched on one at a time."""

    cfg: JoyConfig = field(default_factory=JoyConfig)
    ignores_deadman: bool = False
    silent_on_release: bool = False
    ignores_turbo: bool = False
    always_zero: bool = False
    delay_s: float = 0.0  # reacts this late to the pad
    enabled: bool = False
    command: tuple[float, float] = (0.0, 0.0)
    outbox: list = field(default_factory=list)  # (due time, linear, angular)

    def on_joy(self, msg: Joy, t: float) -> None:
        buttons = list(msg.buttons)
        if self.ignores_deadman:
            buttons[self.cfg.enable_button] = 1
        if self.ignores_turbo:
            buttons[self.cfg.turbo_button] = 0
        cmd = joy_to_command(msg.axes, buttons, self.cfg)
        if self.enabled and not cmd.enabled and not self.silent_on_release:
            self.outbox.append((t + self.delay_s, 0.0, 0.0))
        self.enabled, self.command = cmd.enabled, (cmd.linear_mps, cmd.angular_rps)

    def on_timer(self, t: float) -> None:  # 20 Hz, while the deadman is held
        if self.always_zero:
            self.outbox.append((t, 0.0, 0.0))
        elif self.enabled:
            self.outbox.append((t + self.delay_s, *self.command))

    def due(self, t: float) -> list[tuple[float, float]]:
        ready = [(lin, ang) for when, lin, ang in self.outbox if when <= t + 1e-9]
        self.outbox = [item for item in self.outbox if item[0] > t + 1e-9]
        return ready


def cmd_msg(linear: float, angular: float) -> TwistStamped:
    msg = TwistStamped()
    msg.twist.linear.x, msg.twist.angular.z = linear, angular
    return msg


def truth(t: float) -> StepTruth:
    return StepTruth(t, Pose2D(0.7, 0.9, 0.0), None)  # the check does not read the world


def run(node: StudentNode, spec: dict = SPEC, script: str = SCRIPT, profile=None) -> TeleopCheck:
    """The episode: the player's Joy at 20 Hz, the node's timer at 20 Hz, 10 ms steps."""
    check = TeleopCheck(spec, None, profile)
    segments = parse_script(script)
    for i in range(round((script_duration_s(segments) + 3.0) / STEP_S)):
        t = round(i * STEP_S, 6)
        if i % 5 == 0:
            axes, buttons = joy_at(segments, t)
            joy = Joy(axes=axes, buttons=buttons)
            check.on_message("/joy", joy, t)
            node.on_joy(joy, t)
            node.on_timer(t)
        for linear, angular in node.due(t):
            check.on_message("/cmd_vel_teleop", cmd_msg(linear, angular), t)
        check.on_step(truth(t))
    return check


@pytest.fixture(scope="module")
def correct(profile):
    return run(StudentNode(), profile=profile).result()


def test_the_check_is_registered_and_listens_to_the_pad_and_the_command_topic(profile):
    assert REGISTRY["teleop"] is TeleopCheck
    check = TeleopCheck(SPEC, None, profile)
    assert check.topics() == [
        ("/joy", "sensor_msgs/msg/Joy"),
        ("/cmd_vel_teleop", "geometry_msgs/msg/TwistStamped"),
    ]
    humble = TeleopCheck({**SPEC, "type": "geometry_msgs/msg/Twist"}, None, profile)
    assert humble.topics()[1] == ("/cmd_vel_teleop", "geometry_msgs/msg/Twist")
    with pytest.raises(ValueError, match="type"):
        TeleopCheck({**SPEC, "type": "std_msgs/msg/Float64"}, None, profile)


def test_a_correct_node_scores_full_marks_on_every_rule(correct):
    assert correct.score == pytest.approx(1.0)
    d = correct.details
    assert d["deadman_tested"] >= 10 and d["clean_stop_tested"] == 6
    assert d["follows_stick_tested"] >= 150 and d["limits_tested"] >= 150
    assert "followed the stick" in correct.en and "스틱" in correct.ko


def test_a_node_that_reacts_within_the_latency_still_scores_full_marks(profile):
    result = run(StudentNode(delay_s=0.15), profile=profile).result()
    assert result.score == pytest.approx(1.0)


def test_a_node_that_ignores_the_deadman_loses_the_deadman_rule(profile, correct):
    check = run(StudentNode(ignores_deadman=True), profile=profile)
    result = check.result()
    assert result.details["deadman_score"] == 0.0
    assert result.details["follows_stick_score"] == pytest.approx(1.0)
    assert result.score < correct.score - 0.2
    # the first problem: released at 6.0 s with the stick pushed, it drove on
    assert result.en.startswith("at 6.0 s the deadman was released while driving")
    _, en, ko = check.first_problem["deadman"]
    assert (
        en
        == "at 6.4 s the deadman was released but /cmd_vel_teleop still said 0.13 m/s, 0.00 rad/s"
    )
    assert "데드맨 버튼을 놓았는데" in ko


def test_a_node_that_exceeds_the_limits_loses_the_limits_rule(profile):
    fast_turbo = JoyConfig(scale_linear_turbo_mps=0.3, scale_angular_turbo_rps=2.5)
    result = run(StudentNode(cfg=fast_turbo), profile=profile).result()
    d = result.details
    assert d["limits_score"] < 0.9 and d["limits_tested"] > d["limits_passed"] > 0
    assert d["deadman_score"] == d["clean_stop_score"] == 1.0
    assert result.score < 0.97
    assert "above the 0.26 m/s, 1.82 rad/s allowed" in result.en and "허용 최대" in result.ko


def test_a_node_that_goes_silent_on_release_loses_the_clean_stop_rule(profile):
    result = run(StudentNode(silent_on_release=True), profile=profile).result()
    d = result.details
    assert d["clean_stop_score"] == 0.0 and d["clean_stop_tested"] == 6
    assert d["deadman_score"] == d["limits_score"] == d["follows_stick_score"] == 1.0
    assert result.score == pytest.approx(0.75)
    assert result.en.startswith("at 6.0 s the deadman was released while driving")
    assert "silence is not a stop" in result.en and "정지(0) 명령" in result.ko


def test_a_node_that_ignores_turbo_loses_following_the_stick(profile):
    result = run(StudentNode(ignores_turbo=True), profile=profile).result()
    d = result.details
    assert d["follows_stick_score"] < 0.85
    assert d["deadman_score"] == d["limits_score"] == d["clean_stop_score"] == 1.0
    assert "(turbo on)" in result.en and "0.26 m/s" in result.en


def test_a_node_that_always_sends_zero_earns_nothing(profile):
    result = run(StudentNode(always_zero=True), profile=profile).result()
    assert result.details["follows_stick_passed"] == 0
    assert result.details["follows_stick_tested"] > 100
    assert result.score == 0.0


def test_a_node_that_never_publishes_earns_nothing(profile):
    class Silent(StudentNode):
        def due(self, t):
            return []

    result = run(Silent(), profile=profile).result()
    assert result.score == 0.0
    assert "had said nothing" in result.en


def test_a_tiny_creep_is_not_following_the_stick(profile):
    creep = JoyConfig(
        scale_linear_mps=0.01,
        scale_angular_rps=0.05,
        scale_linear_turbo_mps=0.01,
        scale_angular_turbo_rps=0.05,
    )
    assert run(StudentNode(cfg=creep), profile=profile).result().score == 0.0


def test_a_stop_heard_before_the_release_in_the_same_step_still_counts(profile):
    """The grader hands over one step's messages in order of arrival, not of sending."""
    check = TeleopCheck(SPEC, None, profile)
    held = Joy(axes=[0.0, 1.0, *[0.0] * 6], buttons=[0, 0, 0, 0, 1, *[0] * 6])
    released = Joy(axes=[0.0, 1.0, *[0.0] * 6], buttons=[0] * 11)
    for i in range(100):
        t = i * STEP_S
        if i < 50:
            check.on_message("/joy", held, t)
            check.on_message("/cmd_vel_teleop", cmd_msg(0.13, 0.0), t)
        elif i == 50:
            check.on_message("/cmd_vel_teleop", cmd_msg(0.0, 0.0), t)  # the reply came first
            check.on_message("/joy", released, t)
        else:
            check.on_message("/joy", released, t)
        check.on_step(truth(t))
    d = check.result().details
    assert d["clean_stop_tested"] == d["clean_stop_passed"] == 1


def test_nan_commands_break_the_limits_and_the_deadman(profile):
    check = TeleopCheck(SPEC, None, profile)
    check.on_message("/joy", Joy(axes=[0.0] * 8, buttons=[0] * 11), 0.0)
    check.on_step(truth(0.0))
    for i in range(1, 100):
        check.on_message("/cmd_vel_teleop", cmd_msg(math.nan, 0.0), i * STEP_S)
        check.on_step(truth(i * STEP_S))
    d = check.result().details
    assert d["limits_passed"] == 0 < d["limits_tested"]
    assert d["deadman_passed"] == 0 < d["deadman_tested"]


def test_humble_twist_messages_are_judged_the_same(profile):
    spec = {**SPEC, "type": "geometry_msgs/msg/Twist"}
    check = TeleopCheck(spec, None, profile)
    held = Joy(axes=[0.0, 1.0, *[0.0] * 6], buttons=[0, 0, 0, 0, 1, *[0] * 6])
    twist = Twist()
    twist.linear.x = 0.13
    for i in range(100):
        check.on_message("/joy", held, i * STEP_S)
        check.on_message("/cmd_vel_teleop", twist, i * STEP_S)
        check.on_step(truth(i * STEP_S))
    d = check.result().details
    assert d["follows_stick_tested"] > 0 and d["follows_stick_score"] == 1.0


def test_a_flood_of_commands_and_deadman_toggles_keeps_memory_bounded(profile):
    check = TeleopCheck(SPEC, None, profile)
    held = Joy(axes=[0.0, 1.0, *[0.0] * 6], buttons=[0, 0, 0, 0, 1, *[0] * 6])
    released = Joy(axes=[0.0, 1.0, *[0.0] * 6], buttons=[0] * 11)
    flood = cmd_msg(0.13, 0.0)

    def episode(steps: int, start: int) -> None:
        for i in range(start, start + steps):
            t = i * STEP_S
            for k in range(200):  # 20 kHz of commands and 1 kHz of deadman toggles
                if k % 10 == 0:
                    check.on_message("/joy", held if k % 20 else released, t)
                check.on_message("/cmd_vel_teleop", flood, t)
            check.on_step(truth(t))

    episode(200, 0)  # warm up: every counter and the pending queue exist
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    episode(1000, 200)  # 200 000 more commands
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 64_000
    assert len(check.pending) <= MAX_PENDING
    assert check.result().details["commands"] == 240_000
