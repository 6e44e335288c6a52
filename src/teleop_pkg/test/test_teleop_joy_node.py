"""joy_teleop in its own process with the pads' params file, driven by sensor_msgs/Joy from here."""

from pathlib import Path

import pytest
from geometry_msgs.msg import TwistStamped
from sensor_msgs.msg import Joy

GAMEPADS_YAML = Path(__file__).resolve().parents[3] / "config/teleop/gamepads.yaml"
MODULE = "teleop_pkg.nodes.teleop_joy_node"
LB, RB = 4, 5  # Xbox (the file's default `joy_teleop` section): deadman, turbo


class Pad:
    """An Xbox pad as joy_node reports it, republished at 20 Hz like joy_node's autorepeat."""

    def __init__(self, node):
        self.axes = [0.0] * 8
        self.pressed: set[int] = set()
        self.pub = node.create_publisher(Joy, "/joy", 10)
        self.timer = node.create_timer(0.05, self.publish)

    def publish(self):
        self.pub.publish(Joy(axes=self.axes, buttons=[int(i in self.pressed) for i in range(11)]))


@pytest.fixture
def joy_teleop(ros_process, ros_node):
    ros_process(MODULE, "--params-file", str(GAMEPADS_YAML))
    received: list[TwistStamped] = []
    sub = ros_node.create_subscription(TwistStamped, "/cmd_vel_teleop", received.append, 10)
    pad = Pad(ros_node)
    assert ros_node.spin_until(
        lambda: sub.get_publisher_count() > 0 and pad.pub.get_subscription_count() > 0, 20
    )
    return pad, received


def twist(msg):
    return msg.twist.linear.x, msg.twist.angular.z


def test_nothing_moves_without_the_deadman_and_a_silent_pad_stops_the_robot(joy_teleop, ros_node):
    pad, received = joy_teleop
    pad.axes[0:2] = [1.0, 1.0]
    pad.pressed = {RB}  # turbo alone is not a deadman
    ros_node.spin_until(lambda: False, 0.5)
    assert received == []  # not even zeros: a quiet source leaves the mux to the others

    pad.pressed = {LB}
    assert ros_node.spin_until(lambda: received and twist(received[-1]) != (0.0, 0.0), 10)
    pad.timer.cancel()  # joy_node died with the deadman held: /joy goes silent
    assert ros_node.spin_until(lambda: twist(received[-1]) == (0.0, 0.0), 10)
    n_after_stop = len(received)
    ros_node.spin_until(lambda: False, 0.5)
    assert len(received) == n_after_stop


def test_the_deadman_drives_turbo_speeds_up_and_release_sends_one_zero(joy_teleop, ros_node):
    pad, received = joy_teleop
    pad.axes[0:2] = [-1.0, 1.0]  # full right, full forward
    pad.pressed = {LB}
    assert ros_node.spin_until(lambda: received and twist(received[-1])[0] > 0, 10)
    assert twist(received[-1]) == pytest.approx((0.13, -0.9))  # the file's normal scales
    assert received[-1].header.frame_id == "base_footprint"

    pad.pressed = {LB, RB}
    assert ros_node.spin_until(lambda: twist(received[-1])[0] > 0.13, 10)
    assert twist(received[-1]) == pytest.approx((0.26, -1.82))  # turbo: the Waffle Pi's limits

    pad.pressed = set()  # deadman released, stick still pushed
    assert ros_node.spin_until(lambda: twist(received[-1]) == (0.0, 0.0), 10)
    n_after_release = len(received)
    ros_node.spin_until(lambda: False, 0.5)  # 10 joy messages: the teleop stays quiet
    assert len(received) == n_after_release
    assert all(abs(m.twist.linear.x) <= 0.26 for m in received)
