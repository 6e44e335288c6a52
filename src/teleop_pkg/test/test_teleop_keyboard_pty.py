"""teleop_keyboard in a real (pseudo-)terminal: keys in, screen and /cmd_vel_teleop out, and the
terminal handed back as it was, after CTRL-C and after SIGTERM."""

import os
import signal
import subprocess
import sys
import termios

import pexpect
import pytest
from geometry_msgs.msg import TwistStamped

MODULE = "teleop_pkg.nodes.teleop_keyboard_node"


@pytest.fixture
def node_env(ros_domain, tmp_path):
    return {**os.environ, **ros_domain.env(), "ROS_LOG_DIR": str(tmp_path / "ros_log")}


@pytest.fixture
def fresh_terminal_settings():
    """What a new terminal looks like before any program touches it."""
    probe = pexpect.spawn("sleep", ["5"])
    settings = termios.tcgetattr(probe.child_fd)
    probe.close(force=True)
    return settings


@pytest.fixture
def terminal(node_env):
    """The node running in a pseudo-terminal, ready for keys (help and status on screen)."""
    child = pexpect.spawn(
        sys.executable, ["-m", MODULE], env=node_env, encoding="utf-8", timeout=20
    )
    child.expect("CTRL-C")
    child.expect(r"target: linear \+0\.00 m/s")
    yield child
    if child.isalive():
        child.close(force=True)


def settings_after_exit(child: pexpect.spawn) -> list:
    """The pty's settings once the node has exited (read through the master side)."""
    child.expect(pexpect.EOF)
    settings = termios.tcgetattr(child.child_fd)
    child.close()
    return settings


def local_flags(child: pexpect.spawn) -> int:
    return termios.tcgetattr(child.child_fd)[3]


def test_keys_drive_the_robot_and_ctrl_c_gives_the_terminal_back(
    terminal, ros_node, fresh_terminal_settings
):
    received: list[TwistStamped] = []
    sub = ros_node.create_subscription(TwistStamped, "/cmd_vel_teleop", received.append, 10)
    assert ros_node.spin_until(lambda: sub.get_publisher_count() > 0, 15)
    assert not local_flags(terminal) & (termios.ECHO | termios.ICANON)  # keys one by one, unechoed

    for shown in ("+0.01", "+0.02", "+0.03"):
        terminal.send("w")
        terminal.expect(rf"linear \{shown} m/s, angular \+0\.00 rad/s")
    assert ros_node.spin_until(
        lambda: received and received[-1].twist.linear.x == pytest.approx(0.03), 10
    )
    terminal.send("a")
    terminal.expect(r"linear \+0\.03 m/s, angular \+0\.10 rad/s")
    assert ros_node.spin_until(lambda: received[-1].twist.angular.z == pytest.approx(0.1), 10)
    moving = list(received)
    terminal.send("s")
    terminal.expect(r"linear \+0\.00 m/s, angular \+0\.00 rad/s")
    assert ros_node.spin_until(
        lambda: len(received) > len(moving) and received[-1].twist.linear.x == 0.0, 10
    )

    linear = [m.twist.linear.x for m in moving]
    assert linear == sorted(linear) and 0.0 < linear[0] <= 0.03  # ramped up, never past the keys
    assert all(0.0 <= m.twist.angular.z <= 0.1 for m in moving)
    assert received[-1].twist.angular.z == 0.0
    assert {m.header.frame_id for m in received} == {"base_footprint"}

    terminal.sendcontrol("c")
    assert settings_after_exit(terminal) == fresh_terminal_settings
    assert terminal.exitstatus == 0


def test_sigterm_while_driving_sends_a_last_zero_and_gives_the_terminal_back(
    terminal, ros_node, fresh_terminal_settings
):
    received: list[TwistStamped] = []
    ros_node.create_subscription(TwistStamped, "/cmd_vel_teleop", received.append, 10)
    terminal.send("w")
    terminal.expect(r"linear \+0\.01 m/s")
    assert ros_node.spin_until(lambda: received and received[-1].twist.linear.x > 0.0, 15)
    terminal.kill(signal.SIGTERM)  # e.g. the launch file is stopped
    assert settings_after_exit(terminal) == fresh_terminal_settings
    assert terminal.exitstatus == 0
    assert ros_node.spin_until(lambda: received[-1].twist.linear.x == 0.0, 10)


def test_without_a_terminal_it_explains_instead_of_crashing(node_env):
    result = subprocess.run(
        [sys.executable, "-m", MODULE],
        env=node_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "터미널" in result.stderr and "terminal" in result.stderr
    assert "Traceback" not in result.stderr
