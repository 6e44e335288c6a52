"""Keyboard teleop core: ROBOTIS' keys, steps and ramp, within the robot's limits (no ROS)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from teleop_pkg.keyboard import (
    KeyAction,
    KeyboardConfig,
    TeleopState,
    action_for_key,
    apply_keys,
    help_text,
    ramp,
    status_line,
)


@pytest.fixture
def cfg(profile):
    return KeyboardConfig(
        max_linear_mps=profile.max_linear_mps, max_angular_rps=profile.max_angular_rps
    )


def test_keys_are_robotis_turtlebot3_teleop_keys():
    assert action_for_key("w") is KeyAction.FASTER
    assert action_for_key("x") is KeyAction.SLOWER
    assert action_for_key("a") is KeyAction.TURN_LEFT
    assert action_for_key("d") is KeyAction.TURN_RIGHT
    assert action_for_key(" ") is action_for_key("s") is KeyAction.STOP
    assert action_for_key("\x03") is KeyAction.QUIT
    assert action_for_key("q") is None and action_for_key("\x1b") is None


def test_caps_lock_and_the_korean_layout_type_the_same_keys():
    # 두벌식: w, x, a, d, s are ㅈ, ㅌ, ㅁ, ㅇ, ㄴ
    assert [action_for_key(k) for k in "ㅈㅌㅁㅇㄴ"] == [action_for_key(k) for k in "wxads"]
    assert [action_for_key(k) for k in "WXADS"] == [action_for_key(k) for k in "wxads"]


def test_each_key_steps_the_target_by_robotis_step_sizes(cfg):
    state = apply_keys(TeleopState(), "www", cfg)
    assert state.target_linear_mps == 0.03  # exactly: shown as 0.03, not 0.030000000000000002
    state = apply_keys(state, "a", cfg)
    assert (state.target_linear_mps, state.target_angular_rps) == (0.03, 0.1)
    state = apply_keys(state, "xxxxdd", cfg)
    assert (state.target_linear_mps, state.target_angular_rps) == (-0.01, -0.1)


def test_space_and_s_stop_the_target_and_the_sent_command_at_once(cfg):
    moving = ramp(apply_keys(TeleopState(), "wwwwaa", cfg), 10.0, cfg)
    assert moving.linear_mps > 0 and moving.angular_rps > 0
    for key in " s":
        stopped = apply_keys(moving, key, cfg)
        assert stopped == TeleopState() and stopped.is_stopped


def test_targets_stop_at_the_waffle_pi_limits(cfg):
    state = apply_keys(TeleopState(), "w" * 100 + "a" * 100, cfg)
    assert (state.target_linear_mps, state.target_angular_rps) == (0.26, 1.82)
    state = apply_keys(state, "x" * 100 + "d" * 100, cfg)
    assert (state.target_linear_mps, state.target_angular_rps) == (-0.26, -1.82)


@given(
    keys=st.text(alphabet="wxadsWㅈ q\x1b", max_size=80),
    dts=st.lists(st.floats(min_value=0.0, max_value=2.0), min_size=1, max_size=10),
)
def test_target_and_command_stay_within_the_limits_for_any_key_sequence(keys, dts):
    cfg = KeyboardConfig(max_linear_mps=0.26, max_angular_rps=1.82)
    state = TeleopState()
    for i, key in enumerate(keys):
        state = ramp(apply_keys(state, key, cfg), dts[i % len(dts)], cfg)
        for linear in (state.target_linear_mps, state.linear_mps):
            assert abs(linear) <= cfg.max_linear_mps
        for angular in (state.target_angular_rps, state.angular_rps):
            assert abs(angular) <= cfg.max_angular_rps


def test_the_command_ramps_to_the_target_at_robotis_rate_without_overshoot(cfg):
    state = apply_keys(TeleopState(), "wwwwwwwwww", cfg)  # 0.1 m/s
    state = ramp(state, 0.1, cfg)
    assert state.linear_mps == pytest.approx(0.005)  # half a step per 0.1 s tick
    for _ in range(100):
        state = ramp(state, 0.1, cfg)
        assert state.linear_mps <= state.target_linear_mps
    assert state.linear_mps == state.target_linear_mps == 0.1
    slower = ramp(apply_keys(state, "xxxxx", cfg), 0.1, cfg)
    assert slower.linear_mps == pytest.approx(0.095)


def test_a_zero_ramp_sends_the_target_at_once():
    cfg = KeyboardConfig(linear_ramp_mps2=0.0, angular_ramp_rps2=0.0)
    state = ramp(apply_keys(TeleopState(), "wwad", cfg), 0.0, cfg)
    assert (state.linear_mps, state.angular_rps) == (0.02, 0.0)


def test_config_rejects_limits_that_would_never_move():
    with pytest.raises(ValueError, match="max_linear_mps"):
        KeyboardConfig(max_linear_mps=0.0)


def test_screen_shows_the_target_and_a_bilingual_help(cfg):
    state = apply_keys(TeleopState(), "wwwa", cfg)
    assert "linear +0.03 m/s" in status_line(state, cfg)
    assert "angular +0.10 rad/s" in status_line(state, cfg)
    assert "(최대/max)" in status_line(apply_keys(state, "w" * 30, cfg), cfg)
    text = help_text(cfg, "/cmd_vel_teleop")
    for needle in ("w/x", "a/d", "CTRL-C", "0.26 m/s", "1.82 rad/s", "/cmd_vel_teleop"):
        assert needle in text
    assert "정지" in text and "force stop" in text
