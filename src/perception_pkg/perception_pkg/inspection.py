"""PCB inspection: find the board in a camera frame, rectify it, classify it with an ONNX model.

The model (`models/pcb_inspector.onnx`) is trained by `scripts/train_pcb_inspector.py` on boards
rendered by `pcb_scene`; its labels and input size are in `models/pcb_inspector.json`. The
preprocessing lives here, once, for the training script, the node and the tests alike.

PCB 검사: 카메라 영상에서 보드를 찾아 정면으로 펴고(원근 보정), ONNX 모델로 분류합니다.
전처리는 이 파일 한 곳에만 있으며 학습 스크립트, 노드, 테스트가 모두 이것을 씁니다.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

MODEL_DIR = Path(__file__).resolve().parent / "models"
DEFAULT_MODEL_PATH = MODEL_DIR / "pcb_inspector.onnx"
RECTIFIED_SIZE_PX = (96, 72)  # width, height of the rectified board the features come from
POOL_PX = 6
FEATURE_COUNT = 2 * 3 * (RECTIFIED_SIZE_PX[0] // POOL_PX) * (RECTIFIED_SIZE_PX[1] // POOL_PX)
NO_BOARD = "no_board"

# Solder-mask green in OpenCV HSV (hue 0..180). The saturation floor keeps grey walls out; the
# low value floor keeps a board under a dim aisle light in.
_GREEN_LOW = np.array([35, 60, 12], np.uint8)
_GREEN_HIGH = np.array([95, 255, 255], np.uint8)
_MIN_BOARD_AREA_FRACTION = 0.01


class InspectionError(RuntimeError):
    """A model that cannot be loaded or used; the message is Korean and English."""


@dataclass(frozen=True)
class InspectionResult:
    label: str  # one of the model's labels, or NO_BOARD when no board is in view
    probabilities: dict[str, float]  # per model label; empty when no board is in view
    corners_px: np.ndarray | None = None  # (4, 2) board corners TL, TR, BR, BL in the frame


def find_board_corners(frame_rgb: np.ndarray) -> np.ndarray | None:
    """The board's corners (TL, TR, BR, BL) in pixels, from its green solder mask, or None."""
    blurred = cv2.GaussianBlur(frame_rgb, (5, 5), 0)
    hsv = cv2.cvtColor(blurred, cv2.COLOR_RGB2HSV)
    mask = cv2.inRange(hsv, _GREEN_LOW, _GREEN_HIGH)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea)).reshape(-1, 2).astype(np.float32)
    if cv2.contourArea(hull) < _MIN_BOARD_AREA_FRACTION * mask.size:
        return None
    # The board stays within +-15 deg of upright, so its corners are the hull's extreme points
    # along the two diagonals.
    s, d = hull.sum(axis=1), hull[:, 0] - hull[:, 1]
    return np.array(
        [hull[np.argmin(s)], hull[np.argmax(d)], hull[np.argmax(s)], hull[np.argmin(d)]],
        np.float32,
    )


def rectify_board(frame_rgb: np.ndarray, corners_px: np.ndarray) -> np.ndarray:
    """The board seen face-on, RECTIFIED_SIZE_PX, RGB uint8 (a perspective warp)."""
    w, h = RECTIFIED_SIZE_PX
    target = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    warp = cv2.getPerspectiveTransform(corners_px.astype(np.float32), target)
    return cv2.warpPerspective(frame_rgb, warp, (w, h), flags=cv2.INTER_AREA)


def board_features(board_rgb: np.ndarray) -> np.ndarray:
    """(1, FEATURE_COUNT) float32 features of a rectified board.

    1. Each colour channel is divided by the board's median level in that channel: this takes out
       the lamp's brightness and colour (각 채널을 보드의 중앙값으로 나눠 조명 영향을 없앰).
    2. For every POOL_PX x POOL_PX patch, the brightest and the darkest value per channel are
       kept (max and min pooling, as in a CNN): a thin scratch or a small solder blob survives
       this, where plain downscaling would average it away, and a part moved by a few pixels
       still lands in the same patch.
    """
    board = cv2.GaussianBlur(board_rgb, (3, 3), 0).astype(np.float32)
    level = np.median(board.reshape(-1, 3), axis=0) + 1.0
    normalised = np.clip(board / level - 1.0, -1.0, 4.0)
    h, w = normalised.shape[:2]
    patches = normalised.reshape(h // POOL_PX, POOL_PX, w // POOL_PX, POOL_PX, 3)
    pooled = np.concatenate([patches.max(axis=(1, 3)).ravel(), patches.min(axis=(1, 3)).ravel()])
    return pooled.reshape(1, -1).astype(np.float32)


def preprocess(frame_rgb: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Camera frame (H, W, 3) RGB uint8 -> ((1, D) float32 features, corners), or (None, None)."""
    if frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3:
        raise ValueError(f"expected an RGB frame (H, W, 3), got shape {frame_rgb.shape}")
    corners = find_board_corners(frame_rgb)
    if corners is None:
        return None, None
    return board_features(rectify_board(frame_rgb, corners)), corners


def load_model_card(model_path: Path) -> dict:
    """The JSON written next to the model: labels, input size, held-out accuracy, seeds."""
    return json.loads(model_path.with_suffix(".json").read_text(encoding="utf-8"))


class InspectionModel:
    """The shipped classifier in an onnxruntime CPU session."""

    def __init__(self, model_path: str | Path = DEFAULT_MODEL_PATH, num_threads: int = 1):
        import onnxruntime as ort  # heavy import, only where a model is used

        self.model_path = Path(model_path)
        if not (self.model_path.is_file() and self.model_path.with_suffix(".json").is_file()):
            raise InspectionError(
                f"PCB 검사 모델 파일(.onnx와 .json)이 없습니다: {self.model_path} — "
                "`python src/perception_pkg/scripts/train_pcb_inspector.py`로 다시 만드세요. / "
                f"PCB inspection model (.onnx and .json) not found: {self.model_path} — regenerate it with "
                "`python src/perception_pkg/scripts/train_pcb_inspector.py`."
            )
        self.card = load_model_card(self.model_path)
        self.labels: tuple[str, ...] = tuple(self.card["labels"])
        if int(self.card["input"]["feature_count"]) != FEATURE_COUNT:
            raise InspectionError(
                f"모델 입력 크기({self.card['input']['feature_count']})가 전처리 출력"
                f"({FEATURE_COUNT})과 다릅니다: 모델을 다시 학습하세요. / "
                f"{self.model_path} expects {self.card['input']['feature_count']} features, "
                f"preprocess() makes {FEATURE_COUNT}: retrain the model."
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types for corrupt files
            raise InspectionError(
                f"PCB 검사 모델을 읽을 수 없습니다: {self.model_path} / "
                f"cannot load the PCB inspection model {self.model_path}: {exc}"
            ) from exc
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]

    def predict_probabilities(self, features: np.ndarray) -> np.ndarray:
        """(N, D) float32 features -> (N, n_labels) class probabilities."""
        outputs = self.session.run(self.output_names, {self.input_name: features})
        return np.asarray(outputs[-1], np.float32)  # skl2onnx: [label, probabilities]

    def classify(self, frame_rgb: np.ndarray) -> InspectionResult:
        """Classify the board in one camera frame."""
        features, corners = preprocess(frame_rgb)
        if features is None:
            return InspectionResult(NO_BOARD, {})
        probabilities = self.predict_probabilities(features)[0]
        best = int(np.argmax(probabilities))
        return InspectionResult(
            self.labels[best],
            {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)},
            corners,
        )
