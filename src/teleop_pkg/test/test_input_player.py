"""The scripted gamepad: the script format (core) and input_player in its own process on sim time."""

import pytest
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Joy

from teleop_pkg.input_script import XBOX, joy_at, parse_script, script_duration_s, segment_at
from teleop_pkg.joystick import JoyConfig, joy_to_command

EXAMPLE = "1.0 0 0; 3.0 1.0 0 deadman; 1.0 0 0; 2.0 0.5 -0.5 deadman turbo"


def test_a_script_is_a_list_of_timed_segments():
    segments = parse_script(EXAMPLE)
    assert [s.duration_s for s in segments] == [1.0, 3.0, 1.0, 2.0]
    assert (segments[1].linear, segments[1].deadman, segments[1].turbo) == (1.0, True, False)
    assert (segments[3].angular, segments[3].deadman, segments[3].turbo) == (-0.5, True, True)
    assert script_duration_s(segments) == 7.0
    assert parse_script(EXAMPLE + ";") == segments  # a trailing ';' is harmless


def test_joy_at_gives_each_segment_for_its_own_half_open_interval():
    segments = parse_script(EXAMPLE)
    assert segment_at(segments, 0.0) == segments[0]
    assert segment_at(segments, 0.999) == segments[0]
    assert segment_at(segments, 1.0) == segments[1]
    assert segment_at(segments, 6.999) == segments[3]

    axes, buttons = joy_at(EXAMPLE, 2.0)
    assert (len(axes), len(buttons)) == (XBOX.n_axes, XBOX.n_buttons) == (8, 11)
    assert (axes[1], axes[0], buttons[4], buttons[5]) == (1.0, 0.0, 1, 0)
    axes, buttons = joy_at(EXAMPLE, 6.0)
    assert (axes[1], axes[0], buttons[4], buttons[5]) == (0.5, -0.5, 1, 1)


def test_before_and_after_the_script_the_pad_is_centred_and_released():
    for t in (-1.0, 7.0, 1e9):
        axes, buttons = joy_at(EXAMPLE, t)
        assert not any(axes) and not any(buttons)


def test_the_layout_is_the_one_the_platform_teleop_reads():
    cfg = JoyConfig()
    axes, buttons = joy_at(EXAMPLE, 6.0)  # 0.5 forward, 0.5 right, deadman and turbo
    command = joy_to_command(axes, buttons, cfg)
    assert command.enabled and command.turbo
    assert command.linear_mps > 0 and command.angular_rps < 0


@pytest.mark.parametrize(
    ("script", "named"),
    [
        ("", "empty"),
        (" ; ", "segment 1"),
        ("1.0 0", "segment 1"),
        ("1.0 0 0; 0 0 0", "segment 2 '0 0 0'"),
        ("1.0 0 0; -2 0 0", "SECONDS"),
        ("1.0 0 0; nan 0 0", "SECONDS"),
        ("inf 0 0", "SECONDS"),
        ("1.0 1.5 0", "LINEAR"),
        ("1.0 0 -1.01", "ANGULAR"),
        ("1.0 0 nan deadman", "ANGULAR"),
        ("1.0 0 x", "ANGULAR"),
        ("1.0 0 0 deadmen", "deadmen"),
        ("1.0 0 0 turbo turbo", "turbo"),
    ],
)
def test_a_bad_script_is_refused_with_a_bilingual_error_naming_the_segment(script, named):
    with pytest.raises(ValueError) as error:
        parse_script(script)
    assert named in str(error.value)
    assert " / " in str(error.value) and "스크립트" in str(error.value)


def test_a_script_too_long_to_be_a_mistake_is_refused():
    with pytest.raises(ValueError, match="segments"):
        parse_script("0.1 0 0;" * 1001)


def test_the_player_publishes_the_script_on_joy_in_sim_time(ros_process, ros_node):
    """/clock from this process drives the player's timer: 0.05 s of sim time per step."""
    script = "1.0 0 0; 1.0 1.0 -0.5 deadman turbo"
    ros_process(
        "teleop_pkg.nodes.input_player_node",
        params={"use_sim_time": "true", "script": f'"{script}"'},
    )
    received: list[Joy] = []
    sub = ros_node.create_subscription(Joy, "/joy", received.append, 50)
    clock_pub = ros_node.create_publisher(Clock, "/clock", 10)
    assert ros_node.spin_until(
        lambda: sub.get_publisher_count() > 0 and clock_pub.get_subscription_count() > 0, 20
    )
    assert received == []  # no /clock yet: no time, nothing to play

    t0_ns = 100 * 10**9  # the sim started long before the player: script time 0 is here
    for step in range(60):  # 3 s of sim time
        clock = Clock()
        clock.clock.sec, clock.clock.nanosec = divmod(t0_ns + step * 50_000_000, 10**9)
        clock_pub.publish(clock)
        n_before = len(received)
        ros_node.spin_until(lambda: len(received) > n_before, 0.5)  # noqa: B023

    assert received, "no /joy"
    stamps = [m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 for m in received]
    assert all(m.header.frame_id == "joy" for m in received)
    assert stamps == sorted(stamps) and 100.0 <= stamps[0] < 100.2
    start = stamps[0]
    for msg, stamp in zip(received, stamps, strict=True):
        assert (list(msg.axes), list(msg.buttons)) == joy_at(script, stamp - start)
    held = [s - start for m, s in zip(received, stamps, strict=True) if m.buttons[4]]
    assert held and min(held) == pytest.approx(1.0, abs=1e-6) and max(held) < 2.0
    assert any(s - start >= 2.0 for s in stamps)  # after the script: released, still published


def test_the_player_refuses_a_bad_script_with_one_line_and_no_traceback(ros_process):
    proc = ros_process(
        "teleop_pkg.nodes.input_player_node", params={"script": '"1.0 0 0; 1.0 2 0"'}
    )
    assert proc.wait(timeout=30) == 2
    with open(proc.log_path) as log:
        text = log.read()
    assert "segment 2 '1.0 2 0': LINEAR" in text and "Traceback" not in text
