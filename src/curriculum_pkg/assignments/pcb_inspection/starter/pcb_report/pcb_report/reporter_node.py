"""inspection_reporter (시작 코드 / starter): 판정을 언제 보고할지 정해 보세요.

The wiring is done: the inspector's results and the mission come in, and the report publisher is
ready. Decide when a verdict is sure enough and report it once. Only the first report counts.
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
        self.report_pub = self.create_publisher(KeyValue, "/inspection/report", 10)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(String, "/mission/steps", self.on_steps, latched)
        self.create_subscription(DiagnosticArray, "/inspection/result", self.on_result, 10)
        self.steps = []  # e.g. ["inspect:pcb_check"]

    def on_steps(self, msg: String) -> None:
        self.steps = msg.data.split()

    def on_result(self, msg: DiagnosticArray) -> None:
        if not msg.status:
            return
        status = msg.status[0]  # status.message = the label; status.values: score, p_<label>, ...
        self.get_logger().info(f"inspector: {status.message}", throttle_duration_sec=2.0)
        # TODO: 같은 판정이 충분히 확실하게 여러 번 나오면, 검사할 스테이션 ID(self.steps에서)와 함께
        #       KeyValue(key=스테이션 ID, value=판정)를 한 번만 발행하세요.
        # TODO: once the same verdict comes back sure enough several times, publish
        #       KeyValue(key=<station id from self.steps>, value=<verdict>) once.


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
