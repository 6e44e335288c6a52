"""station_spotter (모범 답안 / reference): 카메라로 스테이션의 ArUco 마커를 찾아 보고합니다.

/camera/camera_info로 카메라 행렬을 받고, /camera/image_raw 이미지마다 마커를 찾아 로봇
좌표계(base_link)의 위치와 방향을 /stations/detected (visualization_msgs/MarkerArray)로 보냅니다.
Marker.id는 ArUco ID, header.stamp는 그 이미지의 stamp입니다.

For every camera image, the markers found in it, in base_link, stamped with the image's stamp.
A marker is reported once it was also found in the image before (ArUco now and then "finds" a
marker in a texture for one image: a report of a marker that is not there costs points).
"""

import numpy as np
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from visualization_msgs.msg import Marker, MarkerArray

from station_markers.finder import (
    MARKER_SIZE_M,
    MarkerFinder,
    image_to_gray,
    quaternion_from_matrix,
)


class StationSpotter(Node):
    def __init__(self):
        super().__init__("station_spotter")
        self.finder = MarkerFinder()
        self.k = None  # 3x3 카메라 행렬 / camera matrix
        self.d = None  # 왜곡 계수 / distortion coefficients
        self.seen_before: set[int] = set()  # 바로 앞 이미지에서 찾은 ID / ids in the last image
        self.pub = self.create_publisher(MarkerArray, "/stations/detected", 10)
        # 카메라는 best effort로 나옵니다: 센서 데이터 QoS로 구독합니다.
        # The camera publishes best effort: subscribe with the sensor-data QoS.
        self.create_subscription(
            CameraInfo, "/camera/camera_info", self.on_info, qos_profile_sensor_data
        )
        self.create_subscription(Image, "/camera/image_raw", self.on_image, qos_profile_sensor_data)

    def on_info(self, msg: CameraInfo) -> None:
        self.k = np.asarray(msg.k, dtype=np.float64).reshape(3, 3)
        self.d = np.asarray(msg.d, dtype=np.float64) if len(msg.d) else None

    def on_image(self, msg: Image) -> None:
        if self.k is None:
            return  # 아직 camera_info가 없습니다 / no camera_info yet
        try:
            gray = image_to_gray(msg.data, msg.height, msg.width, msg.step, msg.encoding)
        except ValueError as exc:
            self.get_logger().warning(str(exc), throttle_duration_sec=5.0)
            return
        found = self.finder.find(gray, self.k, self.d)
        out = MarkerArray()
        for marker in found:
            if marker.marker_id in self.seen_before:  # 두 장 연속으로 보였을 때만 / twice in a row
                out.markers.append(self.to_marker(msg, marker))
        self.seen_before = {marker.marker_id for marker in found}
        self.pub.publish(out)  # 찾은 것이 없어도 이미지마다 보냅니다 / one per image, even empty

    @staticmethod
    def to_marker(image: Image, found) -> Marker:
        m = Marker(id=found.marker_id, type=Marker.CUBE, action=Marker.ADD, ns="stations")
        m.header.stamp = image.header.stamp  # 그 이미지의 시각 그대로 / the image's own stamp
        m.header.frame_id = "base_link"
        m.pose.position.x, m.pose.position.y, m.pose.position.z = (
            float(v) for v in found.position_m
        )
        qx, qy, qz, qw = quaternion_from_matrix(found.rotation)
        m.pose.orientation.x, m.pose.orientation.y = float(qx), float(qy)
        m.pose.orientation.z, m.pose.orientation.w = float(qz), float(qw)
        m.scale.x = m.scale.y = MARKER_SIZE_M  # RViz에서 보이는 크기 / how RViz draws it
        m.scale.z = 0.01
        m.color.g, m.color.b, m.color.a = 0.8, 0.9, 1.0
        return m


def main(args=None):
    rclpy.init(args=args)
    node = StationSpotter()
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
