"""shift_controller (시작 코드 / starter): 토픽 연결은 끝나 있습니다. control()을 채워 보세요.

The wiring is done: the mission, /scan, /odom, /moving_obstacles and the arm's status come in;
/cmd_vel goes out ten times a second (always "stop" for now) and an (empty) request goes out on
/pick_place/request every second (the arm refuses it). Fill in control() and make_request().
"""

import math
import os

import rclpy
from geometry_msgs.msg import PoseArray, Twist, TwistStamped
from nav_msgs.msg import Odometry
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data
from sensor_msgs.msg import LaserScan
from std_msgs.msg import String


def yaw_of(q) -> float:
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


class ShiftController(Node):
    def __init__(self):
        super().__init__("shift_controller")
        # Jazzy는 TwistStamped, Humble은 Twist: 로봇의 setup.bash(와 채점기)가 ROS_DISTRO를 정합니다.
        # Jazzy takes TwistStamped, Humble Twist: ROS_DISTRO comes from setup.bash (and the grader).
        stamped = self.declare_parameter(
            "use_stamped_cmd_vel", os.environ.get("ROS_DISTRO") != "humble"
        ).value
        self.msg_type = TwistStamped if stamped else Twist
        self.cmd_pub = self.create_publisher(self.msg_type, "/cmd_vel", 10)
        self.request_pub = self.create_publisher(PoseArray, "/pick_place/request", 10)
        # TODO: 출하 대기대(report 작업)에 도착하면 해낸 작업 이름들을 빈칸으로 띄어 한 번 보고하세요.
        # TODO: at the shipping dock (the report task) send the names of the tasks carried out,
        #       separated by spaces, once: self.shift_pub.publish(String(data="navigate:... ..."))
        self.shift_pub = self.create_publisher(String, "/shift/report", 10)
        # 라이다는 best effort로 발행됩니다: 센서 QoS로 구독해야 메시지를 받습니다.
        # The lidar publishes best effort: subscribe with the sensor-data QoS or you get nothing.
        self.create_subscription(LaserScan, "/scan", self.on_scan, qos_profile_sensor_data)
        self.create_subscription(Odometry, "/odom", self.on_odom, 10)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_subscription(PoseArray, "/mission/waypoints", self.on_points, latched)
        self.create_subscription(String, "/mission/steps", self.on_steps, latched)
        # scan_processor(perception_pkg)가 움직이는 물체(작업자)를 알려 줍니다: 위치는 odom 좌표계,
        # 방향(orientation)은 움직이는 방향입니다. 멈춰 서 있는 작업자는 여기에 나오지 않습니다.
        # scan_processor (perception_pkg) reports what moves (the worker): positions in odom,
        # orientation = direction of motion. A worker standing still is not in it.
        self.create_subscription(PoseArray, "/moving_obstacles", self.on_movers, 10)
        self.create_subscription(String, "/arm/status", self.on_arm_status, 10)
        self.scan = None
        self.pose = None  # (x, y, yaw) in the odom frame
        self.points = []  # [(x, y, z), ...] in the odom frame, one per step
        self.steps = []  # e.g. ["navigate:cnc_outfeed", "pick:sensor_housing", ...]
        self.movers = []  # [(stamp_s, x, y, heading_rad), ...] from the latest message
        self.arm_status = ""  # "busy: <step>", "done" or "error: <reason>"
        self.create_timer(0.1, self.control)
        self.create_timer(1.0, self.send_request)

    def on_scan(self, msg: LaserScan) -> None:
        self.scan = msg  # ranges[0] is straight ahead, counter-clockwise; 0.0 means no return

    def on_odom(self, msg: Odometry) -> None:
        p = msg.pose.pose
        self.pose = (p.position.x, p.position.y, yaw_of(p.orientation))

    def on_points(self, msg: PoseArray) -> None:
        self.points = [(p.position.x, p.position.y, p.position.z) for p in msg.poses]

    def on_steps(self, msg: String) -> None:
        self.steps = msg.data.split()

    def on_movers(self, msg: PoseArray) -> None:
        stamp_s = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        self.movers = [
            (stamp_s, p.position.x, p.position.y, yaw_of(p.orientation)) for p in msg.poses
        ]

    def on_arm_status(self, msg: String) -> None:
        self.arm_status = msg.data

    def control(self) -> None:
        linear, angular = 0.0, 0.0
        # TODO: self.steps를 차례로 처리하세요. 작업마다 self.points에 한 점이 있습니다.
        #   navigate: 정지 위치로 가서 1초 이상 멈춥니다. 다음 작업이 pick이면 부품이 바닥에 낮게
        #             놓여 라이다에 안 보이므로, 정지 위치 뒤쪽에서 부품 쪽을 바라보고 똑바로 들어가세요.
        #   pick/place: 멈춘 채로 make_request()를 보내고 /arm/status가 "done"이 될 때까지 기다린 뒤,
        #             돌기 전에 뒤로 물러나세요.
        #   inspect: 검사대 정지 위치로 가서 모니터를 바라보고, 보고가 나갈 때까지 멈춰 있습니다.
        # TODO: 작업자 통로 앞에서는 멈춰 서서 작업자가 지나간 뒤에 건너고, 프레스 둘레의 출입 금지
        #       구역(미리보기의 빨간 구역)은 돌아가세요.
        # TODO: work through self.steps in order; each has one point in self.points.
        #   navigate: drive to the stop point and stand there for at least a second. If a pick
        #             comes next, the part lies on the floor, too low for the lidar: come in
        #             straight from behind the stop point, facing the part.
        #   pick/place: standing still, send make_request(), wait for "done" on /arm/status,
        #             and back off before you turn.
        #   inspect: drive to the QC post's stop point, face the monitor, stand still until the
        #             report has gone out.
        # TODO: stop short of the worker's walkway and cross once the worker has gone by; go
        #       round the press's keep-out zone (red in the preview).
        self.publish(linear, angular)

    def make_request(self) -> PoseArray:
        request = PoseArray()
        request.header.frame_id = "base_link"
        # TODO: 집을 부품 중심과 놓을 자리를 odom 좌표계에서 base_link 좌표계로 바꿔 request.poses에
        #       [집기, 놓기] 순서로 넣으세요. base_link는 base_footprint보다 0.010 m 위에 있습니다.
        # TODO: convert the part's centre and the place spot from odom to base_link and put them
        #       in request.poses as [pick, place]. base_link is 0.010 m above base_footprint.
        return request

    def send_request(self) -> None:
        # TODO: 부품 앞에 섰을 때 한 번만 보내세요. / send it once, when standing at the part.
        self.request_pub.publish(self.make_request())

    def publish(self, linear: float, angular: float) -> None:
        msg = self.msg_type()
        twist = msg.twist if isinstance(msg, TwistStamped) else msg
        if isinstance(msg, TwistStamped):
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.header.frame_id = "base_footprint"
        twist.linear.x = float(linear)
        twist.angular.z = float(angular)
        self.cmd_pub.publish(msg)


def main(args=None):
    rclpy.init(args=args)
    node = ShiftController()
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
