"""The one switch for the ROS distribution's conventions (common_pkg.distro), ROS-free."""

import pytest

from common_pkg.distro import (
    TWIST,
    TWIST_STAMPED,
    command_type_for,
    distro_from_env,
    graph_env,
    is_velocity_command,
    localhost_only_env,
    resolve_distro,
)
from common_pkg.errors import ProfileError
from common_pkg.profile import load_profile, resolve_profile_path


@pytest.mark.parametrize(
    ("topic", "humble", "jazzy"),
    [
        ("/cmd_vel", TWIST, TWIST_STAMPED),
        ("/cmd_vel_autonomy", TWIST, TWIST_STAMPED),
        ("/cmd_vel_teleop", TWIST, TWIST_STAMPED),
        ("/robot1/cmd_vel", TWIST, TWIST_STAMPED),
    ],
)
def test_velocity_commands_take_the_distributions_twist(topic, humble, jazzy):
    for written in (TWIST_STAMPED, TWIST):
        assert command_type_for("humble", topic, written) == humble
        assert command_type_for("jazzy", topic, written) == jazzy


def test_other_topics_keep_their_type_whatever_the_distribution():
    assert command_type_for("humble", "/velocity_estimate", TWIST_STAMPED) == TWIST_STAMPED
    assert command_type_for("humble", "/odom", "nav_msgs/msg/Odometry") == "nav_msgs/msg/Odometry"
    assert command_type_for("humble", "/cmd_vel", "std_msgs/msg/String") == "std_msgs/msg/String"
    assert not is_velocity_command("/safety/interventions")


def test_localhost_only_discovery_uses_the_variable_the_distribution_reads():
    assert localhost_only_env("humble") == {"ROS_LOCALHOST_ONLY": "1"}
    assert localhost_only_env("jazzy") == {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    assert graph_env("humble") == {"ROS_DISTRO": "humble", "ROS_LOCALHOST_ONLY": "1"}


def test_the_distribution_comes_from_the_option_then_the_profile_then_ros_distro():
    humble_shell = {"ROS_DISTRO": "humble"}
    assert resolve_distro(environ={}) == "jazzy"  # pip installs: no setup.bash
    assert resolve_distro(environ=humble_shell) == "humble"
    assert resolve_distro(environ={"ROS_DISTRO": "rolling"}) == "jazzy"  # newer: Jazzy's ways
    assert resolve_distro(pinned="jazzy", environ=humble_shell) == "jazzy"
    assert resolve_distro("humble", pinned="jazzy", environ={}) == "humble"
    assert distro_from_env({}) is None
    with pytest.raises(ValueError, match="humble, jazzy"):
        resolve_distro("melodic")


def test_profile_distribution_follows_ros_distro_unless_given(monkeypatch):
    monkeypatch.setenv("ROS_DISTRO", "humble")
    assert load_profile().ros_distro == "humble"
    assert load_profile().cmd_vel_stamped is False
    assert load_profile(ros_distro="jazzy").cmd_vel_stamped is True
    monkeypatch.delenv("ROS_DISTRO")
    assert load_profile().ros_distro == "jazzy"


def test_profile_with_the_old_cmd_vel_stamped_key_gets_a_located_error(tmp_path):
    text = resolve_profile_path("turtlebot3_waffle_pi_omx").read_text()
    old = tmp_path / "old.yaml"
    old.write_text(
        text.replace("  cmd_vel_timeout_s:", "  cmd_vel_stamped: true\n  cmd_vel_timeout_s:")
    )
    with pytest.raises(ProfileError) as err:
        load_profile(old)
    assert "old.yaml" in err.value.location and "ros_distro" in err.value.en
