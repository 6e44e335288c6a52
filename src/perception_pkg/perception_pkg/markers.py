"""ArUco marker detection and pose estimation (ROS-free, OpenCV).

Poses are in the camera's optical frame (REP-103 camera convention: z forward out of the lens,
x right, y down), in metres, for markers whose printed size is known. The stations of the
scenarios carry markers from OpenCV's 4x4 dictionary with 250 ids, 0.12 m wide unless the
scenario says otherwise (common_pkg.worldspec).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from common_pkg.worldspec import MARKER_DICTIONARY


@dataclass(frozen=True)
class MarkerDetection:
    marker_id: int
    corners_px: np.ndarray  # (4, 2): top-left, top-right, bottom-right, bottom-left as printed
    position_m: np.ndarray  # (3,) marker centre in the camera optical frame
    quaternion_xyzw: np.ndarray  # (4,) marker orientation in the camera optical frame
    size_m: float

    @property
    def distance_m(self) -> float:
        return float(np.linalg.norm(self.position_m))


@dataclass(frozen=True)
class MarkerConfig:
    dictionary: str = MARKER_DICTIONARY
    default_size_m: float = 0.12
    sizes_m: dict[int, float] = field(default_factory=dict)  # per-id sizes, where they differ


def rotvec_to_quaternion(rvec: np.ndarray) -> np.ndarray:
    """Rotation vector (axis * angle, as OpenCV returns it) -> quaternion (x, y, z, w)."""
    x, y, z = (float(v) for v in np.asarray(rvec, dtype=np.float64).ravel())
    angle = math.sqrt(x * x + y * y + z * z)  # scalar maths: this runs once per marker per frame
    if angle < 1e-12:
        return np.array([0.0, 0.0, 0.0, 1.0])
    s = math.sin(angle / 2.0) / angle
    return np.array([x * s, y * s, z * s, math.cos(angle / 2.0)])


def camera_matrix(k: list[float] | np.ndarray) -> np.ndarray:
    """CameraInfo.k (row-major 9 values) -> 3x3 intrinsic matrix."""
    return np.asarray(k, dtype=np.float64).reshape(3, 3)


class MarkerDetector:
    """Holds the OpenCV detector (built once); `detect` is a pure function of the frame."""

    def __init__(self, config: MarkerConfig = MarkerConfig()):
        self.config = config
        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, config.dictionary))
        params = cv2.aruco.DetectorParameters()
        params.cornerRefinementMethod = (
            cv2.aruco.CORNER_REFINE_SUBPIX
        )  # sub-pixel corners: better poses
        self._detector = cv2.aruco.ArucoDetector(dictionary, params)
        self._squares: dict[float, np.ndarray] = {}  # marker corners in the marker frame, per size

    def _square(self, size: float) -> np.ndarray:
        """The marker's corners in its own frame, in the order IPPE_SQUARE expects: the printed
        top-left first, clockwise."""
        square = self._squares.get(size)
        if square is None:
            half = size / 2.0
            square = np.array(
                [[-half, half, 0], [half, half, 0], [half, -half, 0], [-half, -half, 0]],
                dtype=np.float64,
            )
            self._squares[size] = square
        return square

    def detect(
        self, image: np.ndarray, k: np.ndarray, distortion: np.ndarray | None = None
    ) -> list[MarkerDetection]:
        """Every marker in an RGB or grey image, with its pose from the intrinsics `k` (3x3)."""
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
        corners, ids, _rejected = self._detector.detectMarkers(gray)
        if ids is None:
            return []
        dist = None if distortion is None else np.asarray(distortion, dtype=np.float64)
        found = []
        for marker_corners, marker_id in zip(corners, ids.ravel().tolist(), strict=True):
            size = self.config.sizes_m.get(marker_id, self.config.default_size_m)
            image_points = marker_corners.reshape(4, 2).astype(np.float64)
            ok, rvec, tvec = cv2.solvePnP(
                self._square(size), image_points, k, dist, flags=cv2.SOLVEPNP_IPPE_SQUARE
            )
            if not ok:
                continue
            found.append(
                MarkerDetection(
                    marker_id, image_points, tvec.ravel(), rotvec_to_quaternion(rvec), size
                )
            )
        return found
