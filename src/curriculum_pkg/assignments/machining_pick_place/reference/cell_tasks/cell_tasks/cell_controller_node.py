"""cell_controller: turns the mission's pick and place points into a request for the arm.

The mission comes in the odom frame; the arm works in base_link. With the robot's pose from /odom,
a point p in odom is R(-yaw) (p - position) in base_footprint, and base_link sits a fixed
base_link_height_m above base_footprint.
"""

import math

import rclpy
from geometry_msgs.msg import Pose, PoseArray
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
        self.base_link_height_m = float(self.declare_parameter("base_link_height_m", 0.010).value)
        self.request_pub = self.create_publisher(PoseArray, "/pick_place/request", 10)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(PoseArray, "/mission/waypoints", self.on_mission, latched)
        self.create_subscription(String, "/mission/steps", self.on_steps, latched)
        self.create_subscription(Odometry, "/odom", self.on_odom, 10)
        self.create_subscription(String, "/arm/status", self.on_status, 10)
        self.points = None
        self.steps = None
        self.pose = None
        self.accepted = False  # the arm said "busy": our request is running
        self.create_timer(1.0, self.send)  # resend until the arm takes it (it may start after us)

    def on_mission(self, msg: PoseArray) -> None:
        self.points = [(p.position.x, p.position.y, p.position.z) for p in msg.poses]

    def on_steps(self, msg: String) -> None:
        self.steps = msg.data.split()

    def on_odom(self, msg: Odometry) -> None:
        p = msg.pose.pose
        self.pose = (p.position.x, p.position.y, yaw_of(p.orientation))

    def on_status(self, msg: String) -> None:
        if msg.data.startswith("busy"):
            self.accepted = True
        if msg.data == "done":
            self.get_logger().info("pick and place done / 집기·놓기 완료")

    def to_base_link(self, point):
        x, y, yaw = self.pose
        dx, dy = point[0] - x, point[1] - y
        c, s = math.cos(yaw), math.sin(yaw)
        pose = Pose()
        pose.position.x = c * dx + s * dy
        pose.position.y = -s * dx + c * dy
        pose.position.z = point[2] - self.base_link_height_m
        pose.orientation.w = 1.0
        return pose

    def send(self) -> None:
        if self.accepted or None in (self.points, self.steps, self.pose):
            return
        kinds = [step.split(":")[0] for step in self.steps]
        if "pick" not in kinds or "place" not in kinds:
            return
        request = PoseArray()
        request.header.frame_id = "base_link"
        request.header.stamp = self.get_clock().now().to_msg()
        request.poses = [self.to_base_link(self.points[kinds.index(k)]) for k in ("pick", "place")]
        self.request_pub.publish(request)


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
