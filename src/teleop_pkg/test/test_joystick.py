"""Gamepad teleop core: deadman, deadzone, turbo, and the pad mappings in the params file."""

import dataclasses
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from teleop_pkg.joystick import (
    STOPPED,
    JoyConfig,
    apply_deadzone,
    joy_to_command,
    missing_inputs,
)

GAMEPADS_YAML = Path(__file__).resolve().parents[3] / "config/teleop/gamepads.yaml"
XBOX = JoyConfig()  # the defaults: Xbox / XInput under joy_node


def joy(axes=(0.0,) * 8, pressed=(), n_buttons=11):
    """A Joy message's arrays: 8 axes (6 + D-pad) and 11 buttons, like an Xbox pad."""
    return list(axes), [1 if i in pressed else 0 for i in range(n_buttons)]


def test_without_the_deadman_the_robot_gets_zero_whatever_the_sticks_say():
    for axes in ([1.0] * 8, [-1.0] * 8):
        assert joy_to_command(*joy(axes, pressed={0, 1, 5}), XBOX) == STOPPED
    assert not STOPPED.enabled and STOPPED.linear_mps == STOPPED.angular_rps == 0.0


def test_with_the_deadman_full_stick_forward_and_left_is_full_scale():
    axes = [0.0] * 8
    axes[1], axes[0] = 1.0, 1.0  # joy_node: up and left are +1
    cmd = joy_to_command(*joy(axes, pressed={4}), XBOX)
    assert cmd.enabled and not cmd.turbo
    assert (cmd.linear_mps, cmd.angular_rps) == (XBOX.scale_linear_mps, XBOX.scale_angular_rps)
    assert cmd.angular_rps > 0  # left turn, REP-103


def test_turbo_uses_the_turbo_scales_only_with_the_deadman():
    axes = [-1.0, -1.0] + [0.0] * 6  # full back, full right
    cmd = joy_to_command(*joy(axes, pressed={4, 5}), XBOX)
    assert cmd.turbo
    assert cmd.linear_mps == -XBOX.scale_linear_turbo_mps
    assert cmd.angular_rps == -XBOX.scale_angular_turbo_rps
    assert joy_to_command(*joy(axes, pressed={5}), XBOX) == STOPPED
    no_turbo = dataclasses.replace(XBOX, turbo_button=-1)
    assert not joy_to_command(*joy(axes, pressed={4, 5}), no_turbo).turbo


def test_deadzone_ignores_a_resting_stick_and_starts_from_zero_at_its_edge():
    assert apply_deadzone(0.08, 0.1) == apply_deadzone(-0.1, 0.1) == 0.0
    assert apply_deadzone(0.1001, 0.1) == pytest.approx(0.0, abs=1e-3)  # no jump at the edge
    assert apply_deadzone(0.55, 0.1) == pytest.approx(0.5)
    assert apply_deadzone(1.0, 0.1) == 1.0 and apply_deadzone(-1.0, 0.1) == -1.0
    assert apply_deadzone(1.02, 0.1) == 1.0  # drivers that overshoot are clipped
    drift = [0.06, 0.05] + [0.0] * 6  # a worn stick drifting at rest
    cmd = joy_to_command(*joy(drift, pressed={4}), XBOX)
    assert cmd.enabled and cmd.linear_mps == cmd.angular_rps == 0.0


@given(
    axes=st.lists(st.floats(min_value=-1.5, max_value=1.5), min_size=0, max_size=8),
    buttons=st.lists(st.integers(min_value=0, max_value=1), min_size=0, max_size=13),
)
def test_commands_never_exceed_the_turbo_scales_for_any_joy_message(axes, buttons):
    cmd = joy_to_command(axes, buttons, XBOX)
    assert abs(cmd.linear_mps) <= XBOX.scale_linear_turbo_mps
    assert abs(cmd.angular_rps) <= XBOX.scale_angular_turbo_rps
    assert cmd.enabled == (len(buttons) > 4 and buttons[4] == 1)


def test_a_pad_with_too_few_buttons_never_enables_and_is_reported():
    axes, buttons = joy(pressed={0, 1, 2, 3}, n_buttons=4)
    assert joy_to_command(axes, buttons, XBOX) == STOPPED
    assert missing_inputs(len(axes), len(buttons), XBOX) == ["enable_button=4", "turbo_button=5"]
    assert missing_inputs(8, 11, XBOX) == []


def test_scales_are_capped_at_the_robot_limits_keeping_a_flipped_axis(profile):
    fast = JoyConfig(scale_linear_mps=-2.0, scale_linear_turbo_mps=5.0, scale_angular_rps=9.0)
    capped = fast.limited(profile.max_linear_mps, profile.max_angular_rps)
    assert capped.scale_linear_mps == -profile.max_linear_mps
    assert capped.scale_linear_turbo_mps == profile.max_linear_mps
    assert capped.scale_angular_rps == profile.max_angular_rps


def test_config_rejects_values_the_node_would_reject():
    with pytest.raises(ValueError, match="scale_linear_mps"):
        JoyConfig.from_params({"scale_linear_mps": 1})  # an int: ROS refuses it for a double
    with pytest.raises(ValueError, match="deadzone"):
        JoyConfig(deadzone=1.0)
    with pytest.raises(ValueError, match="enable_button"):
        JoyConfig(enable_button=-1)  # no deadman is not an option


@pytest.fixture(scope="module")
def gamepads():
    return yaml.safe_load(GAMEPADS_YAML.read_text(encoding="utf-8"))


def test_every_pad_section_is_a_complete_ros2_params_section(gamepads):
    fields = {f.name for f in dataclasses.fields(JoyConfig)}
    assert "joy_teleop" in gamepads  # the node's own name: the default section
    for node_name, section in gamepads.items():
        params = section["ros__parameters"]
        assert set(params) == fields, node_name  # nothing silently left at a default
        cfg = JoyConfig.from_params(params)  # types as the node declares them
        assert cfg.scale_linear_turbo_mps <= 0.26 and cfg.scale_angular_turbo_rps <= 1.82


@pytest.mark.parametrize(
    ("node_name", "deadman", "turbo", "n_buttons"),
    [
        ("joy_teleop", 4, 5, 11),  # Xbox: LB, RB (xpad)
        ("joy_teleop_ps4", 4, 5, 13),  # DualShock 4: L1, R1 (hid-sony / hid-playstation)
        ("joy_teleop_f710", 4, 5, 11),  # F710 in X mode: xpad, the Xbox layout
        ("joy_teleop_game_controller", 9, 10, 21),  # SDL GameController: LEFT/RIGHTSHOULDER
    ],
)
def test_pad_sections_map_the_left_stick_and_the_shoulder_buttons(
    gamepads, node_name, deadman, turbo, n_buttons
):
    cfg = JoyConfig.from_params(gamepads[node_name]["ros__parameters"])
    assert (cfg.axis_linear, cfg.axis_angular) == (1, 0)  # left stick, in every layout
    assert (cfg.enable_button, cfg.turbo_button) == (deadman, turbo)
    axes = [1.0, 1.0] + [0.0] * 6
    buttons = [1 if i == deadman else 0 for i in range(n_buttons)]
    cmd = joy_to_command(axes, buttons, cfg)
    assert cmd.enabled and cmd.linear_mps > 0 and cmd.angular_rps > 0
