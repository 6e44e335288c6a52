"""inspection_reporter (시작 코드 / starter): 판정을 언제 보고할지 정해 보세요.

The wiring is done: the inspector's results, the mission and /odom come in, and the report
publisher is ready. Report the verdict once, while the robot stands still at the QC post. Only
the first report counts, and a report sent before the camera has seen the board does not count.
"""

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, KeyValue
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import Odometry
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
        self.create_subscription(PoseArray, "/mission/waypoints", self.on_points, latched)
        self.create_subscription(Odometry, "/odom", self.on_odom, 10)
        self.create_subscription(DiagnosticArray, "/inspection/result", self.on_result, 10)
        self.steps = []  # e.g. ["navigate:cnc_outfeed", ..., "inspect:qc_post", ...]
        self.points = []  # [(x, y), ...] in the odom frame, one per step
        self.odom = None  # the latest nav_msgs/Odometry: pose and twist (speed)

    def on_steps(self, msg: String) -> None:
        self.steps = msg.data.split()

    def on_points(self, msg: PoseArray) -> None:
        self.points = [(p.position.x, p.position.y) for p in msg.poses]

    def on_odom(self, msg: Odometry) -> None:
        self.odom = msg

    def on_result(self, msg: DiagnosticArray) -> None:
        if not msg.status:
            return
        status = msg.status[0]  # status.message = the label; status.values: score, p_<label>, ...
        self.get_logger().info(f"inspector: {status.message}", throttle_duration_sec=2.0)
        # TODO: 로봇이 inspect 작업의 정지 위치에 멈춰 서 있을 때(self.odom), 같은 판정이 충분히
        #       확실하게 여러 번 나오면 KeyValue(key=스테이션 ID, value=판정)를 한 번만 발행하세요.
        #       msg.header.stamp는 그 판정을 낸 카메라 영상의 시각입니다.
        # TODO: while the robot stands still at the inspect step's stop point (self.odom), once
        #       the same verdict comes back sure enough several times, publish
        #       KeyValue(key=<station id>, value=<verdict>) once. msg.header.stamp is when the
        #       camera took the frame the verdict is about.


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
