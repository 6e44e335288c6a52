"""A stand-in for a student's node, for test_lockstep.py: every 0.1 s of simulated time it sends
/cmd_vel with linear.x = the time it read from its clock (rounded to centiseconds), linear.y =
the /scan messages and linear.z = the /odom messages it has received so far (subscribed the way a
student's node does: the lidar best effort, qos_profile_sensor_data). The base ignores both.

Run with `--ros-args -r /clock:=<channel> -p use_sim_time:=true -p readers:=N`. It logs
`ready` once its /cmd_vel publisher has matched N readers and its clock channel is matched, and
only then starts its timer, so no command of the episode is sent before someone hears it.
"""

from __future__ import annotations

import rclpy
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import Odometry
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import LaserScan

READY_LINE = "lockstep probe ready"
PERIOD_S = 0.1
SHUTDOWN_CHECK_S = 0.5  # wall time


class LockstepProbe(Node):
    def __init__(self):
        super().__init__("lockstep_probe")
        self.readers = self.declare_parameter("readers", 1).value
        self._cmd_pub = self.create_publisher(TwistStamped, "/cmd_vel", 10)
        # A second reader of the clock channel, next to the time source's own (the same
        # participant matches both at once): its match count says the time will be heard.
        self._clock_sub = self.create_subscription(
            Clock,
            "/clock",
            lambda _msg: None,
            QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT),
        )

        self.scans = self.odoms = 0
        self._scan_sub = self.create_subscription(
            LaserScan, "/scan", self._on_scan, qos_profile_sensor_data
        )
        self._odom_sub = self.create_subscription(Odometry, "/odom", self._on_odom, 10)

    def _on_scan(self, _msg: LaserScan) -> None:
        self.scans += 1

    def _on_odom(self, _msg: Odometry) -> None:
        self.odoms += 1

    def is_ready(self) -> bool:
        return (
            self._cmd_pub.get_subscription_count() >= self.readers
            and self._clock_sub.get_publisher_count() >= 1
            and self._scan_sub.get_publisher_count() >= 1
            and self._odom_sub.get_publisher_count() >= 1
        )

    def start(self) -> None:
        self.create_timer(PERIOD_S, self._on_timer)
        self.get_logger().info(READY_LINE)

    def _on_timer(self) -> None:
        now = self.get_clock().now()
        msg = TwistStamped()
        msg.header.stamp = now.to_msg()
        msg.twist.linear.x = round(now.nanoseconds * 1e-9, 2)
        msg.twist.linear.y, msg.twist.linear.z = float(self.scans), float(self.odoms)
        self._cmd_pub.publish(msg)


def main(args=None) -> None:
    rclpy.init(args=args)
    node = LockstepProbe()
    try:
        while not node.is_ready():
            rclpy.spin_once(node, timeout_sec=0.05)
        node.start()
        # Never an unbounded wait: with only a sim-time timer, rclpy.spin() can miss the
        # shutdown that SIGTERM starts and wait forever.
        while rclpy.ok():
            rclpy.spin_once(node, timeout_sec=SHUTDOWN_CHECK_S)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        if rclpy.ok():
            rclpy.try_shutdown()


if __name__ == "__main__":
    main()
