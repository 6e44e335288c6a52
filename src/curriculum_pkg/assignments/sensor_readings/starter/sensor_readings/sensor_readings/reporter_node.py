"""sensor_reporter: 라이다와 오도메트리 읽기 (과제 1 시작 코드) / reading the lidar and odometry.

TODO 두 곳을 채우세요 / Fill in the two TODOs:
  /sensors/nearest_obstacle (geometry_msgs/PointStamped): 가장 가까운 장애물 점 (base_scan 좌표계,
      스캔의 stamp 그대로) / the nearest obstacle as a point in base_scan, with the scan's stamp
  /sensors/distance_travelled (std_msgs/Float64): 출발 후 움직인 거리(m) / metres driven so far
"""

import rclpy
from geometry_msgs.msg import PointStamped
from nav_msgs.msg import Odometry
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import LaserScan
from std_msgs.msg import Float64


class SensorReporter(Node):
    def __init__(self):
        super().__init__("sensor_reporter")
        self.nearest_pub = self.create_publisher(PointStamped, "/sensors/nearest_obstacle", 10)
        self.distance_pub = self.create_publisher(Float64, "/sensors/distance_travelled", 10)
        # 라이다는 best effort로 나오므로 센서 데이터 QoS로 구독합니다.
        # The lidar is best effort: subscribe with the sensor-data QoS.
        self.create_subscription(LaserScan, "/scan", self.on_scan, qos_profile_sensor_data)
        self.create_subscription(Odometry, "/odom", self.on_odom, 10)

    def on_scan(self, scan: LaserScan) -> None:
        msg = PointStamped()
        msg.header = scan.header  # 스캔과 같은 시각, 같은 좌표계 / the scan's stamp and frame
        # TODO: scan.ranges에서 가장 가까운 "유효한" 값을 찾아 그 방향(각도)과 함께 점으로 바꾸세요.
        #       0.0은 "반사 없음"입니다. range_min~range_max 밖의 값은 건너뛰세요.
        # TODO: find the nearest VALID reading in scan.ranges and turn it and its angle into a
        #       point (x = r cos a, y = r sin a). 0.0 means "no return": skip values outside
        #       range_min..range_max. The angle of reading i is angle_min + i * angle_increment.
        self.nearest_pub.publish(msg)

    def on_odom(self, odom: Odometry) -> None:
        # TODO: 이전 /odom 위치와의 거리를 더해 가세요 / add up the steps between /odom positions.
        self.distance_pub.publish(Float64(data=-1.0))  # -1: 아직 계산 안 함 / not computed yet


def main(args=None):
    rclpy.init(args=args)
    node = SensorReporter()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
