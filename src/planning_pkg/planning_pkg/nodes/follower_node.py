"""path_follower: regulated pure pursuit along /plan, on /odom and /scan, publishing /cmd_vel.

The path comes in the map frame; /initialpose (the robot's start in the map) places the odometry
in it. It slows near obstacles, stops while something stands in its way, and publishes
/follower/arrived (std_msgs/Bool, true once per goal).
"""

import numpy as np
import rclpy
from geometry_msgs.msg import PoseWithCovarianceStamped
from nav_msgs.msg import Odometry, Path
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Bool

from common_pkg.profile import DEFAULT_PROFILE, load_profile
from common_pkg.ros.cmd_vel import declare_cmd_vel_type, make_cmd_vel
from planning_pkg.follower import FollowerConfig, follow_path
from planning_pkg.nodes.convert import (
    INITIAL_POSE_QOS,
    compose,
    msg_to_path_xy,
    pose_xyyaw,
    scan_to_points,
)

LATCHED = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class PathFollower(Node):
    def __init__(self):
        super().__init__("path_follower")
        profile = load_profile(self.declare_parameter("robot_profile", DEFAULT_PROFILE).value)
        # Parameters may lower the speeds, never raise them past the robot's limits.
        self.cfg = FollowerConfig(
            max_linear_mps=min(
                float(self.declare_parameter("max_linear_mps", 0.22).value), profile.max_linear_mps
            ),
            max_angular_rps=min(
                float(self.declare_parameter("max_angular_rps", 1.5).value), profile.max_angular_rps
            ),
            lookahead_m=float(self.declare_parameter("lookahead_m", 0.45).value),
            stop_distance_m=float(self.declare_parameter("stop_distance_m", 0.25).value),
            slow_distance_m=float(self.declare_parameter("slow_distance_m", 0.7).value),
        )
        self.sensor_x_m = float(self.declare_parameter("lidar_x_offset_m", -0.024).value)
        self.msg_type = declare_cmd_vel_type(self, profile)  # Twist on Humble
        self.cmd_pub = self.create_publisher(self.msg_type, "/cmd_vel", 10)
        self.arrived_pub = self.create_publisher(Bool, "/follower/arrived", LATCHED)
        self.create_subscription(Path, "/plan", self.on_plan, LATCHED)
        self.create_subscription(Odometry, "/odom", self.on_odom, 10)
        self.create_subscription(LaserScan, "/scan", self.on_scan, qos_profile_sensor_data)
        self.create_subscription(
            PoseWithCovarianceStamped,
            "/initialpose",
            lambda m: setattr(self, "start", pose_xyyaw(m.pose.pose)),
            INITIAL_POSE_QOS,  # RViz's "2D Pose Estimate"
        )
        self.start = (0.0, 0.0, 0.0)
        self.path = None
        self.odom = None
        self.speed = 0.0
        self.points = np.empty((0, 2))
        self.was_blocked = False
        self.create_timer(
            1.0 / float(self.declare_parameter("control_rate_hz", 20.0).value), self.control
        )

    def on_plan(self, msg: Path) -> None:
        self.path = msg_to_path_xy(msg) if msg.poses else None
        self.arrived_pub.publish(Bool(data=False))

    def on_odom(self, msg: Odometry) -> None:
        self.odom = pose_xyyaw(msg.pose.pose)
        self.speed = msg.twist.twist.linear.x

    def on_scan(self, msg: LaserScan) -> None:
        self.points = scan_to_points(msg, self.sensor_x_m)

    def control(self) -> None:
        if self.path is None or self.odom is None:
            return
        cmd = follow_path(
            self.path, compose(self.start, self.odom), self.points, self.speed, self.cfg
        )
        if cmd.blocked != self.was_blocked:
            self.was_blocked = cmd.blocked
            state = (
                "blocked, waiting / 길이 막혀 기다립니다"
                if cmd.blocked
                else "clear / 길이 열렸습니다"
            )
            self.get_logger().info(f"{state} ({cmd.nearest_obstacle_m:.2f} m)")
        self.publish(cmd.linear_mps, cmd.angular_rps)
        if cmd.arrived:
            self.path = None
            self.arrived_pub.publish(Bool(data=True))
            self.get_logger().info("arrived / 도착했습니다")

    def publish(self, linear: float, angular: float) -> None:
        stamp = self.get_clock().now().to_msg()
        self.cmd_pub.publish(make_cmd_vel(self.msg_type, linear, angular, stamp, "base_footprint"))


def main(args=None):
    rclpy.init(args=args)
    node = PathFollower()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()


if __name__ == "__main__":
    main()
