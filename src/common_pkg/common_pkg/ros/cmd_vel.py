"""/cmd_vel as the robot takes it: geometry_msgs/TwistStamped on Jazzy (turtlebot3_node's
enable_stamped_cmd_vel), geometry_msgs/Twist on Humble. The one place both forms are built and read;
which one a node uses follows the distribution (common_pkg.distro)."""

from __future__ import annotations

from geometry_msgs.msg import Twist, TwistStamped

STAMPED_PARAMETER = "use_stamped_cmd_vel"


def cmd_vel_type(stamped: bool) -> type:
    return TwistStamped if stamped else Twist


def declare_cmd_vel_type(node, profile) -> type:
    """The /cmd_vel class of `node`: its `use_stamped_cmd_vel` parameter when given (an explicit
    override), else the distribution of `profile` (its ros_distro, which follows $ROS_DISTRO as
    a robot's setup.bash sets it: TwistStamped on Jazzy, Twist on Humble)."""
    from rcl_interfaces.msg import ParameterDescriptor

    text = f"TwistStamped (Jazzy) or Twist (Humble); default: {profile.ros_distro}'s"
    stamped = node.declare_parameter(
        STAMPED_PARAMETER, profile.cmd_vel_stamped, ParameterDescriptor(description=text)
    ).value
    return cmd_vel_type(bool(stamped))


def make_cmd_vel(msg_type: type, linear_mps: float, angular_rps: float, stamp, frame_id: str):
    """A command of `msg_type`; `stamp` and `frame_id` only go into a TwistStamped's header."""
    msg = msg_type()
    twist = msg.twist if isinstance(msg, TwistStamped) else msg
    if isinstance(msg, TwistStamped):
        msg.header.stamp = stamp
        msg.header.frame_id = frame_id
    twist.linear.x, twist.angular.z = float(linear_mps), float(angular_rps)
    return msg


def read_cmd_vel(msg) -> tuple[float, float]:
    """(linear x, angular z) of a Twist or TwistStamped."""
    twist = msg.twist if isinstance(msg, TwistStamped) else msg
    return twist.linear.x, twist.angular.z
