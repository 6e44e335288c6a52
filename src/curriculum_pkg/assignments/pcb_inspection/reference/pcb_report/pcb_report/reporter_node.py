"""inspection_reporter: reports the inspector's verdict once it is sure.

Sure = the same label, other than "no_board", with a score of at least min_score, in
agreeing_frames results in a row. Then one diagnostic_msgs/KeyValue goes out on
/inspection/report: key = the station to inspect (from /mission/steps), value = the label.
"""

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, KeyValue
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import String


class InspectionReporter(Node):
    def __init__(self):
        super().__init__("inspection_reporter")
        self.min_score = float(self.declare_parameter("min_score", 0.9).value)
        self.agreeing_frames = int(self.declare_parameter("agreeing_frames", 3).value)
        self.report_pub = self.create_publisher(KeyValue, "/inspection/report", 10)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(String, "/mission/steps", self.on_steps, latched)
        self.create_subscription(DiagnosticArray, "/inspection/result", self.on_result, 10)
        self.station = None
        self.streak = ("", 0)
        self.reported = False

    def on_steps(self, msg: String) -> None:
        inspect = [
            step.split(":", 1)[1] for step in msg.data.split() if step.startswith("inspect:")
        ]
        self.station = inspect[0] if inspect else None

    def on_result(self, msg: DiagnosticArray) -> None:
        if self.reported or self.station is None or not msg.status:
            return
        status = msg.status[0]
        values = {kv.key: kv.value for kv in status.values}
        label, score = status.message, float(values.get("score", 0.0))
        if label == "no_board" or score < self.min_score:
            self.streak = ("", 0)
            return
        count = self.streak[1] + 1 if self.streak[0] == label else 1
        self.streak = (label, count)
        if count >= self.agreeing_frames:
            self.report_pub.publish(KeyValue(key=self.station, value=label))
            self.reported = True
            self.get_logger().info(f"{self.station}: {label} ({score:.2f}) 보고함 / reported")


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
