"""inspection_reporter: reports the board's verdict once, while the robot stands at the QC post.

The platform's pcb_inspector classifies every camera frame on /inspection/result. This node
knows from the mission where the inspect step's stop point is, and from /odom whether the robot
stands still there; then a verdict repeated sure enough (verdict.py) goes out once on
/inspection/report: key = the station id, value = the label.
"""

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, KeyValue
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import Odometry
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import String

from shift_runner.verdict import VerdictConfig, VerdictStreak


def stamp_s(stamp) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


class InspectionReporter(Node):
    def __init__(self):
        super().__init__("inspection_reporter")
        self.streak = VerdictStreak(
            VerdictConfig(
                min_score=float(self.declare_parameter("min_score", 0.9).value),
                agreeing_frames=int(self.declare_parameter("agreeing_frames", 3).value),
            )
        )
        self.report_pub = self.create_publisher(KeyValue, "/inspection/report", 10)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(String, "/mission/steps", self.on_steps, latched)
        self.create_subscription(PoseArray, "/mission/waypoints", self.on_points, latched)
        self.create_subscription(Odometry, "/odom", self.on_odom, 10)
        self.create_subscription(DiagnosticArray, "/inspection/result", self.on_result, 10)
        self.steps: list[str] = []
        self.points: list[tuple[float, float]] = []
        self.reported: set[str] = set()

    def on_steps(self, msg: String) -> None:
        self.steps = msg.data.split()

    def on_points(self, msg: PoseArray) -> None:
        self.points = [(p.position.x, p.position.y) for p in msg.poses]

    def station(self) -> tuple[str, tuple[float, float]] | tuple[None, None]:
        """The next station to inspect and its stop point (odom)."""
        for step, xy in zip(self.steps, self.points, strict=False):
            kind, _, name = step.partition(":")
            if kind == "inspect" and name not in self.reported:
                return name, xy
        return None, None

    def on_odom(self, msg: Odometry) -> None:
        _, target = self.station()
        p, v = msg.pose.pose.position, msg.twist.twist
        self.streak.robot(stamp_s(msg.header.stamp), (p.x, p.y), target, v.linear.x, v.angular.z)

    def on_result(self, msg: DiagnosticArray) -> None:
        station, _ = self.station()
        if station is None or not msg.status:
            return
        status = msg.status[0]
        values = {kv.key: kv.value for kv in status.values}
        label = self.streak.result(
            stamp_s(msg.header.stamp), status.message, float(values.get("score", 0.0))
        )
        if label is not None:
            self.report_pub.publish(KeyValue(key=station, value=label))
            self.reported.add(station)
            self.get_logger().info(f"{station}: {label} 보고함 / reported")


def main(args=None):
    rclpy.init(args=args)
    node = InspectionReporter()
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
