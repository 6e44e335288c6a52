"""station_spotter (과제 5 시작 코드 / assignment 5 starter): 카메라로 스테이션 마커 찾기.

토픽 연결은 끝나 있습니다. 지금은 1초마다 빈 MarkerArray만 보냅니다(그래프 점수는 받지만 작업
점수는 0점). TODO를 채워 이미지마다 찾은 마커를 보고하세요.
The wiring is done: right now it only publishes an empty MarkerArray once a second (graph points,
no task points). Fill in the TODOs to report the markers found in every image.

  /camera/camera_info  sensor_msgs/CameraInfo   카메라 행렬 / the camera matrix (msg.k)
  /camera/image_raw    sensor_msgs/Image (rgb8)  이미지 / the images
  /stations/detected   visualization_msgs/MarkerArray  찾은 마커, base_link / markers found
"""

import math

import cv2
import numpy as np
import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from visualization_msgs.msg import Marker, MarkerArray

MARKER_SIZE_M = 0.12  # 검은 정사각형 한 변 / side of the black square
# 카메라가 base_link에서 있는 곳 (로봇 프로필의 camera.mount_xyz_m)
# Where the camera sits in base_link (the robot profile's camera.mount_xyz_m)
CAMERA_MOUNT_M = (0.076, 0.0, 0.093)


def image_to_gray(msg: Image) -> np.ndarray:
    """rgb8 이미지 메시지 -> 회색 numpy 이미지 / an rgb8 Image message -> a grey numpy image."""
    rows = np.frombuffer(msg.data, dtype=np.uint8).reshape(msg.height, msg.step)
    rgb = rows[:, : msg.width * 3].reshape(msg.height, msg.width, 3)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def quaternion_from_matrix(r: np.ndarray) -> tuple[float, float, float, float]:
    """3x3 회전 행렬 -> 쿼터니언 (x, y, z, w) / rotation matrix -> quaternion (x, y, z, w)."""
    trace = r[0, 0] + r[1, 1] + r[2, 2]
    if trace > 0.0:
        s = 2.0 * math.sqrt(trace + 1.0)
        return ((r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, s / 4)
    i = int(np.argmax([r[0, 0], r[1, 1], r[2, 2]]))
    j, k = (i + 1) % 3, (i + 2) % 3
    s = 2.0 * math.sqrt(1.0 + r[i, i] - r[j, j] - r[k, k])
    q = [0.0, 0.0, 0.0, (r[k, j] - r[j, k]) / s]
    q[i] = s / 4
    q[j] = (r[j, i] + r[i, j]) / s
    q[k] = (r[k, i] + r[i, k]) / s
    return (q[0], q[1], q[2], q[3])


class StationSpotter(Node):
    def __init__(self):
        super().__init__("station_spotter")
        self.k = None  # 3x3 카메라 행렬 / camera matrix
        self.d = None  # 왜곡 계수 / distortion coefficients
        self.pub = self.create_publisher(MarkerArray, "/stations/detected", 10)
        # 카메라는 best effort로 나옵니다: 센서 데이터 QoS로 구독해야 메시지를 받습니다.
        # The camera publishes best effort: subscribe with the sensor-data QoS or get nothing.
        self.create_subscription(
            CameraInfo, "/camera/camera_info", self.on_info, qos_profile_sensor_data
        )
        self.create_subscription(Image, "/camera/image_raw", self.on_image, qos_profile_sensor_data)
        # TODO: 다 만들면 이 타이머를 지우고 on_image에서 이미지마다 발행하세요.
        # TODO: when you are done, remove this timer and publish from on_image, once per image.
        self.create_timer(1.0, lambda: self.pub.publish(MarkerArray()))

    def on_info(self, msg: CameraInfo) -> None:
        self.k = np.asarray(msg.k, dtype=np.float64).reshape(3, 3)
        self.d = np.asarray(msg.d, dtype=np.float64) if len(msg.d) else None

    def on_image(self, msg: Image) -> None:
        if self.k is None:
            return  # 아직 camera_info가 없습니다 / no camera_info yet
        gray = image_to_gray(msg)
        out = MarkerArray()
        for marker_id, position, rotation in self.find_markers(gray):
            out.markers.append(self.to_marker(msg, marker_id, position, rotation))
        if out.markers:
            self.pub.publish(out)

    def find_markers(self, gray: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """이미지의 마커마다 (ID, base_link에서의 위치 (3,), base_link에서의 방향 3x3).
        For every marker in the image: (id, position in base_link (3,), rotation in base_link)."""
        found = []
        # TODO 1: __init__에서 검출기를 한 번 만드세요 / build the detector once, in __init__:
        #           dictionary = cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_250)
        #           self.detector = cv2.aruco.ArucoDetector(dictionary, cv2.aruco.DetectorParameters())
        #         여기서 / here:  corners, ids, _ = self.detector.detectMarkers(gray)
        # TODO 2: 마커마다 / for each marker (ids가 None이면 마커가 없습니다 / None: no marker):
        #           for marker_corners, marker_id in zip(corners, ids.ravel()):
        #               ok, rvec, tvec = cv2.solvePnP(square, marker_corners.reshape(4, 2),
        #                                             self.k, self.d, flags=cv2.SOLVEPNP_IPPE_SQUARE)
        #         square는 마커 좌표계의 네 모서리 / `square`: the corners in the marker's frame,
        #           np.array([[-0.06, 0.06, 0], [0.06, 0.06, 0], [0.06, -0.06, 0], [-0.06, -0.06, 0]])
        # TODO 3: 광학 좌표계 -> base_link / optical frame -> base_link:
        #               M = np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]])
        #               position = M @ tvec.ravel() + CAMERA_MOUNT_M
        #               rotation = M @ cv2.Rodrigues(rvec)[0]
        #               found.append((int(marker_id), position, rotation))
        return found

    def to_marker(self, image: Image, marker_id: int, position, rotation) -> Marker:
        m = Marker(id=marker_id, type=Marker.CUBE, action=Marker.ADD)
        # TODO 4: 채점기는 어느 이미지에서, 어느 좌표계로 본 것인지 알아야 합니다.
        #         The grader needs to know which image this came from, and in which frame:
        #           m.header.stamp = image.header.stamp (지금 시각이 아닙니다 / not the time now)
        #           m.header.frame_id = "base_link"
        m.pose.position.x, m.pose.position.y, m.pose.position.z = (float(v) for v in position)
        qx, qy, qz, qw = quaternion_from_matrix(rotation)
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
