"""/tf and /tf_static from the simulator, where tf2_msgs is installed (a full ROS install: the lab
robot, the Gazebo CI image). The pip-installed ROS here has no tf2_msgs: then nothing is
published and the bridge says so once, never crashes (the frames are in sim_pkg.frames).
"""

from __future__ import annotations

import importlib

from rclpy.qos import DurabilityPolicy, QoSProfile

from common_pkg.profile import RobotProfile
from sim_pkg.frames import FrameTransform, odometry_frame, static_frames

TF_TOPIC = "/tf"
TF_STATIC_TOPIC = "/tf_static"
# tf2_ros' own QoS: /tf keep last 100; /tf_static latched (transient local) so late listeners
# get the fixed frames.
TF_QOS = QoSProfile(depth=100)
TF_STATIC_QOS = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
TF_ABSENT = (
    "/tf, /tf_static: tf2_msgs가 설치되어 있지 않아 발행하지 않습니다 (ROS 전체 설치에서는 발행) / "
    "not published: tf2_msgs is not installed here (a full ROS install publishes them)"
)


def tf_message_class():
    """tf2_msgs' TFMessage, or None where it is not installed."""
    try:
        return importlib.import_module("tf2_msgs.msg").TFMessage
    except ImportError:
        return None


class TfBroadcaster:
    """Publishes the profile's fixed frames once (/tf_static) and odom -> base_footprint with
    every odometry message (/tf)."""

    def __init__(self, node, profile: RobotProfile, tf_message: type):
        from geometry_msgs.msg import TransformStamped

        self._profile = profile
        self._tf_message = tf_message
        self._transform = TransformStamped
        self._pub = node.create_publisher(tf_message, TF_TOPIC, TF_QOS)
        self._static_pub = node.create_publisher(tf_message, TF_STATIC_TOPIC, TF_STATIC_QOS)
        stamp = node.get_clock().now().to_msg()
        frames = static_frames(profile)
        self._static_pub.publish(tf_message(transforms=[self._msg(f, stamp) for f in frames]))

    @classmethod
    def create(cls, node, profile: RobotProfile) -> TfBroadcaster | None:
        tf_message = tf_message_class()
        return None if tf_message is None else cls(node, profile, tf_message)

    def publish_odometry(self, stamp, x_m: float, y_m: float, yaw_rad: float) -> None:
        frame = odometry_frame(self._profile, x_m, y_m, yaw_rad)
        self._pub.publish(self._tf_message(transforms=[self._msg(frame, stamp)]))

    def _msg(self, frame: FrameTransform, stamp):
        msg = self._transform()
        msg.header.stamp = stamp
        msg.header.frame_id = frame.parent
        msg.child_frame_id = frame.child
        t, q = msg.transform.translation, msg.transform.rotation
        t.x, t.y, t.z = frame.xyz_m
        q.x, q.y, q.z, q.w = frame.quat_xyzw
        return msg
