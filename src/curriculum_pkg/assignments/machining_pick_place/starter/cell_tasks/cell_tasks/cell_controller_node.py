"""cell_controller (시작 코드 / starter): 토픽 연결은 끝나 있습니다. make_request()를 채워 보세요.

The wiring is done: mission, odometry and the arm's status come in, and an (empty) request goes
out on /pick_place/request every second. Fill in make_request().
"""

import math

import rclpy
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import Odometry
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import String


def yaw_of(q) -> float:
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


class CellController(Node):
    def __init__(self):
        super().__init__("cell_controller")
        self.request_pub = self.create_publisher(PoseArray, "/pick_place/request", 10)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(PoseArray, "/mission/waypoints", self.on_mission, latched)
        self.create_subscription(String, "/mission/steps", self.on_steps, latched)
        self.create_subscription(Odometry, "/odom", self.on_odom, 10)
        self.create_subscription(String, "/arm/status", self.on_status, 10)
        self.points = None  # [(x, y, z), ...] in the odom frame, one per step
        self.steps = None  # e.g. ["pick:bushing", "place:bushing"]
        self.pose = None  # (x, y, yaw) of the robot in the odom frame
        self.create_timer(1.0, self.send)

    def on_mission(self, msg: PoseArray) -> None:
        self.points = [(p.position.x, p.position.y, p.position.z) for p in msg.poses]

    def on_steps(self, msg: String) -> None:
        self.steps = msg.data.split()

    def on_odom(self, msg: Odometry) -> None:
        p = msg.pose.pose
        self.pose = (p.position.x, p.position.y, yaw_of(p.orientation))

    def on_status(self, msg: String) -> None:
        self.get_logger().info(f"arm: {msg.data}")

    def make_request(self) -> PoseArray:
        request = PoseArray()
        request.header.frame_id = "base_link"
        # TODO: 집을 부품 중심과 놓을 자리를 odom 좌표계에서 base_link 좌표계로 바꿔 request.poses에
        #       [집기, 놓기] 순서로 넣으세요. base_link는 base_footprint보다 0.010 m 위에 있습니다.
        # TODO: convert the part's centre and the place spot from odom to base_link and put them
        #       in request.poses as [pick, place]. base_link is 0.010 m above base_footprint.
        return request

    def send(self) -> None:
        self.request_pub.publish(self.make_request())


def main(args=None):
    rclpy.init(args=args)
    node = CellController()
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
