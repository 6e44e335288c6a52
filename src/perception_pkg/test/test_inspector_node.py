"""pcb_inspector in its own process, fed rendered camera frames over DDS (real rclpy)."""

import array
import os
from pathlib import Path

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from perception_pkg.inspection import InspectionModel
from perception_pkg.pcb_images import LABELS, draw_board
from perception_pkg.pcb_scene import BenchVariation, InspectionBench

os.environ.setdefault("MUJOCO_GL", "egl")

NODE = "perception_pkg.nodes.inspector_node"


@pytest.fixture(scope="module")
def frames() -> dict[str, np.ndarray]:
    """One clean frame per label, on a well lit bench, that the core itself classifies right."""
    variation = BenchVariation(0.42, 0.0, 0.0, 0.1, 0.05, (0.7, 0.1, -0.7), 1.0, 0.25,
                               (0.55, 0.55, 0.57), 0.0)  # fmt: skip
    model = InspectionModel()
    out = {}
    with InspectionBench() as bench:
        bench.set_variation(variation)
        for label in ("good", "missing_component", "solder_bridge"):
            bench.set_artwork(draw_board(label, 11))
            out[label] = bench.render()
            assert model.classify(out[label]).label == label  # the core's answer, checked first
    return out


def image_msg(frame: np.ndarray, stamp_s: int) -> Image:
    msg = Image(height=frame.shape[0], width=frame.shape[1], encoding="rgb8")
    msg.header.frame_id = "camera_rgb_optical_frame"
    msg.header.stamp.sec = stamp_s
    msg.step = frame.shape[1] * 3
    msg.data = array.array("B", frame.tobytes())
    return msg


def test_inspector_labels_camera_frames_from_another_process(ros_process, ros_node, frames):
    ros_process(NODE, params={"max_rate_hz": 10.0})
    results: list[DiagnosticArray] = []
    ros_node.create_subscription(DiagnosticArray, "/inspection/result", results.append, 10)
    camera = ros_node.create_publisher(Image, "/camera/image_raw", qos_profile_sensor_data)
    current: list[Image] = []
    ros_node.create_timer(0.1, lambda: current and camera.publish(current[0]))

    for stamp_s, (label, frame) in enumerate(frames.items(), start=100):
        current[:] = [image_msg(frame, stamp_s)]
        assert ros_node.spin_until(
            lambda s=stamp_s: any(r.header.stamp.sec == s for r in results), 60
        ), f"no /inspection/result for the {label} frame"
        result = next(r for r in results if r.header.stamp.sec == stamp_s)
        status = result.status[0]
        assert result.header.frame_id == "camera_rgb_optical_frame"
        assert status.message == label
        assert status.level == (DiagnosticStatus.OK if label == "good" else DiagnosticStatus.ERROR)
        values = {kv.key: kv.value for kv in status.values}
        assert values["label"] == label
        assert {f"p_{name}" for name in LABELS} <= values.keys()
        assert float(values["score"]) == max(float(values[f"p_{name}"]) for name in LABELS)


def test_inspector_without_a_model_exits_with_a_bilingual_message(ros_process, tmp_path):
    proc = ros_process(NODE, params={"model_path": str(tmp_path / "missing.onnx")})
    assert proc.wait(timeout=60) == 1
    log = Path(proc.log_path).read_text(encoding="utf-8")
    assert "모델 파일" in log and "not found" in log
    assert "Traceback" not in log
