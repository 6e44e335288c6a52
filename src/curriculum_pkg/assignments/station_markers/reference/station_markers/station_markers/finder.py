"""ArUco 마커를 찾아 로봇 좌표계(base_link)의 위치와 방향으로 바꿉니다 (ROS 없음).
Finds ArUco markers in an image and gives their poses in base_link (no ROS here).

좌표계 / frames (REP-103):
  카메라 광학 좌표계 camera_rgb_optical_frame: z 앞, x 오른쪽, y 아래 / z forward, x right, y down
  로봇 좌표계 base_link: x 앞, y 왼쪽, z 위 / x forward, y left, z up
마커 좌표계 / the marker's frame (OpenCV): x 인쇄된 마커의 오른쪽, y 위, z 마커 면에서 카메라 쪽으로
/ x to the printed marker's right, y up, z out of its face towards the camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

DICTIONARY = "DICT_4X4_250"  # 스테이션 마커의 사전 / the stations' dictionary
MARKER_SIZE_M = 0.12  # 검은 정사각형 한 변 / side of the black square
# 카메라(camera_rgb_frame)가 base_link에서 있는 곳: 로봇 프로필
# config/robots/turtlebot3_waffle_pi_omx.yaml의 camera.mount_xyz_m (TurtleBot3 URDF와 같음).
# Where the camera (camera_rgb_frame) sits in base_link: the robot profile's camera.mount_xyz_m.
CAMERA_MOUNT_M = (0.076, 0.0, 0.093)
# 광학 좌표계의 축을 base_link로: 열은 광학 x, y, z축이 base_link에서 가리키는 방향입니다.
# Optical axes in base_link: the columns are where optical x, y, z point in base_link.
OPTICAL_TO_BASE = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


@dataclass(frozen=True)
class FoundMarker:
    marker_id: int
    position_m: np.ndarray  # (3,) 마커 중심, base_link / the marker's centre in base_link
    rotation: np.ndarray  # (3, 3) 마커 좌표계의 축, base_link / the marker's axes in base_link
    distance_m: float  # 카메라에서 / from the camera


def quaternion_from_matrix(r: np.ndarray) -> tuple[float, float, float, float]:
    """회전 행렬 -> 쿼터니언 (x, y, z, w) / rotation matrix -> quaternion (x, y, z, w)."""
    trace = r[0, 0] + r[1, 1] + r[2, 2]
    if trace > 0.0:
        s = 2.0 * math.sqrt(trace + 1.0)
        return ((r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s, s / 4)
    i = int(np.argmax([r[0, 0], r[1, 1], r[2, 2]]))  # the largest diagonal term: stable
    j, k = (i + 1) % 3, (i + 2) % 3
    s = 2.0 * math.sqrt(1.0 + r[i, i] - r[j, j] - r[k, k])
    q = [0.0, 0.0, 0.0, (r[k, j] - r[j, k]) / s]
    q[i] = s / 4
    q[j] = (r[j, i] + r[i, j]) / s
    q[k] = (r[k, i] + r[i, k]) / s
    return (q[0], q[1], q[2], q[3])


class MarkerFinder:
    def __init__(self, size_m: float = MARKER_SIZE_M, mount_m=CAMERA_MOUNT_M):
        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, DICTIONARY))
        params = cv2.aruco.DetectorParameters()
        # 모서리를 픽셀보다 정밀하게: 자세가 더 정확해집니다 / sub-pixel corners: better poses
        params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
        self.detector = cv2.aruco.ArucoDetector(dictionary, params)
        half = size_m / 2.0
        # 마커 좌표계의 네 모서리, detectMarkers가 주는 순서(왼쪽 위부터 시계 방향)
        # The corners in the marker's frame, in detectMarkers' order (top left, clockwise):
        # what SOLVEPNP_IPPE_SQUARE expects.
        self.square = np.array(
            [[-half, half, 0.0], [half, half, 0.0], [half, -half, 0.0], [-half, -half, 0.0]]
        )
        self.mount = np.asarray(mount_m, dtype=float)

    def find(self, gray: np.ndarray, k: np.ndarray, d: np.ndarray | None) -> list[FoundMarker]:
        """회색 이미지의 모든 마커 / every marker in a grey image, `k` the 3x3 camera matrix."""
        corners, ids, _rejected = self.detector.detectMarkers(gray)
        if ids is None:
            return []
        found = []
        for marker_corners, marker_id in zip(corners, ids.ravel(), strict=True):
            image_points = marker_corners.reshape(4, 2).astype(np.float64)
            ok, rvec, tvec = cv2.solvePnP(
                self.square, image_points, k, d, flags=cv2.SOLVEPNP_IPPE_SQUARE
            )
            if not ok:
                continue
            rotation_optical, _ = cv2.Rodrigues(rvec)  # 마커 -> 광학 / marker -> optical
            position = OPTICAL_TO_BASE @ tvec.ravel() + self.mount
            rotation = OPTICAL_TO_BASE @ rotation_optical
            found.append(
                FoundMarker(int(marker_id), position, rotation, float(np.linalg.norm(tvec)))
            )
        return found


def image_to_gray(data, height: int, width: int, step: int, encoding: str) -> np.ndarray:
    """sensor_msgs/Image의 바이트 -> 회색 이미지 / an Image message's bytes -> a grey image."""
    channels = {"rgb8": 3, "bgr8": 3, "mono8": 1}.get(encoding)
    if channels is None:
        raise ValueError(f"unsupported encoding {encoding} / 지원하지 않는 인코딩입니다")
    rows = np.frombuffer(data, dtype=np.uint8).reshape(height, step)
    pixels = rows[:, : width * channels].reshape(height, width, channels)
    if channels == 1:
        return pixels[:, :, 0]
    code = cv2.COLOR_RGB2GRAY if encoding == "rgb8" else cv2.COLOR_BGR2GRAY
    return cv2.cvtColor(pixels, code)
