"""PCB inspection: the artwork, the rendered bench, the preprocessing and the shipped ONNX model."""

import math
import os

import numpy as np
import pytest

from perception_pkg.images import frame_from_buffer
from perception_pkg.inspection import (
    DEFAULT_MODEL_PATH,
    FEATURE_COUNT,
    NO_BOARD,
    InspectionError,
    InspectionModel,
    find_board_corners,
    preprocess,
)
from perception_pkg.pcb_images import (
    ARTWORK_HEIGHT_PX,
    ARTWORK_WIDTH_PX,
    FRAME_WIDTH_PX,
    LABELS,
    draw_board,
)

os.environ.setdefault("MUJOCO_GL", "egl")

FRESH_SEED = 424242  # never used by scripts/train_pcb_inspector.py (1001, 1002, 2001, 3001)
ACCURACY_TOLERANCE = 0.03  # 40 frames per class: one standard error is about 1.4 points


@pytest.fixture(scope="module")
def model():
    return InspectionModel()


def changed_pixels(label: str, seed: int) -> np.ndarray:
    """(row, col) of every pixel where the defective board differs from the same good board."""
    return np.argwhere(np.any(draw_board(label, seed) != draw_board("good", seed), axis=2))


def test_artwork_is_deterministic_by_seed_and_varies_between_seeds():
    for label in LABELS:
        a = draw_board(label, 5)
        assert a.shape == (ARTWORK_HEIGHT_PX, ARTWORK_WIDTH_PX, 3) and a.dtype == np.uint8
        assert np.array_equal(a, draw_board(label, 5))
        assert not np.array_equal(a, draw_board(label, 6))


def test_a_defect_changes_only_its_own_part_of_the_board():
    for seed in range(20):
        bridge = changed_pixels("solder_bridge", seed)  # a small blob on the chip's pins
        height, width = np.ptp(bridge, axis=0) + 1
        assert len(bridge) > 20 and height <= 16 and width <= 30
        scratch = changed_pixels("scratch", seed)  # a long thin line
        length_px = math.hypot(*np.ptp(scratch, axis=0))
        assert length_px >= 40 and len(scratch) <= 8 * length_px
        missing = changed_pixels("missing_component", seed)  # a whole chip or capacitor gone
        assert len(missing) > 500


def test_artwork_keeps_the_white_frame_at_the_board_edge():
    board = draw_board("good", 0)
    edge = np.concatenate(
        [board[:FRAME_WIDTH_PX].reshape(-1, 3), board[:, -FRAME_WIDTH_PX:].reshape(-1, 3)]
    )
    assert edge.min() > 200


def test_unknown_label_is_refused():
    with pytest.raises(ValueError, match="unknown label"):
        draw_board("burnt", 0)


def project(points_w: np.ndarray, bench) -> np.ndarray:
    """Pinhole projection into the bench camera (looking along +x, image right = world -y)."""
    p = bench.profile
    f_px = (p.camera_height_px / 2) / math.tan(p.camera_vfov_rad / 2)
    cam = bench.data.cam("inspection_camera").xpos
    rel = points_w - cam
    u = p.camera_width_px / 2 - f_px * rel[:, 1] / rel[:, 0]
    v = p.camera_height_px / 2 - f_px * rel[:, 2] / rel[:, 0]
    return np.stack([u, v], axis=1)


def test_preprocess_finds_the_board_where_the_camera_sees_it():
    from perception_pkg.pcb_scene import BOARD_SIZE_M, BenchVariation, InspectionBench

    variation = BenchVariation(0.45, 0.05, -0.02, 0.2, -0.15, (0.6, 0.2, -0.7), 0.9, 0.2,
                               (0.5, 0.5, 0.55), 0.0)  # fmt: skip
    with InspectionBench() as bench:
        bench.set_artwork(draw_board("good", 3))
        bench.set_variation(variation)
        frame = bench.render()
        # The green area starts inside the white frame: TL, TR, BR, BL in the board's own frame.
        half_w = BOARD_SIZE_M[0] / 2 * (1 - 2 * FRAME_WIDTH_PX / ARTWORK_WIDTH_PX)
        half_h = BOARD_SIZE_M[1] / 2 * (1 - 2 * FRAME_WIDTH_PX / ARTWORK_HEIGHT_PX)
        local = np.array([[-half_w, half_h, 0.001], [half_w, half_h, 0.001],
                          [half_w, -half_h, 0.001], [-half_w, -half_h, 0.001]])  # fmt: skip
        geom = bench.data.geom("pcb")
        expected = project(geom.xpos + local @ geom.xmat.reshape(3, 3).T, bench)
    corners = find_board_corners(frame)
    assert corners is not None
    assert np.abs(corners - expected).max() < 4.0  # pixels
    features, _ = preprocess(frame)
    assert features.shape == (1, FEATURE_COUNT) and features.dtype == np.float32


def test_a_frame_without_a_board_is_reported_as_no_board(model):
    grey = np.full((480, 640, 3), 128, np.uint8)
    assert preprocess(grey) == (None, None)
    result = model.classify(grey)
    assert result.label == NO_BOARD and result.probabilities == {}


def test_shipped_model_reaches_its_recorded_accuracy_on_freshly_rendered_boards(model):
    from perception_pkg.pcb_scene import iter_dataset

    assert model.labels == LABELS
    assert DEFAULT_MODEL_PATH.stat().st_size < 2 * 1024 * 1024
    correct = total = 0
    for frame, label in iter_dataset(40, FRESH_SEED):
        result = model.classify(frame)
        correct += result.label == LABELS[label]
        total += 1
        assert result.label == NO_BOARD or math.isclose(
            sum(result.probabilities.values()), 1, abs_tol=1e-4
        )
    assert total == 160
    assert correct / total >= model.card["held_out_accuracy"] - ACCURACY_TOLERANCE


def test_missing_model_file_gives_a_bilingual_error(tmp_path):
    with pytest.raises(InspectionError) as error:
        InspectionModel(tmp_path / "pcb_inspector.onnx")
    message = str(error.value)
    assert "모델 파일" in message and "not found" in message
    assert "train_pcb_inspector.py" in message


def test_image_buffers_become_rgb_frames():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    padded = np.zeros((2, 12), np.uint8)  # step 12 > 3 px * 3 bytes
    padded[:, :9] = rgb[:, :, ::-1].reshape(2, 9)
    assert np.array_equal(frame_from_buffer(padded.tobytes(), 2, 3, 12, "bgr8"), rgb)
    assert np.array_equal(frame_from_buffer(rgb.tobytes(), 2, 3, 9, "rgb8"), rgb)
    with pytest.raises(ValueError, match="unsupported image encoding"):
        frame_from_buffer(rgb.tobytes(), 2, 3, 9, "yuv422")
