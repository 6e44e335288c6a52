"""pcb_inspector: classifies the PCB in front of the camera with the shipped ONNX model.

Subscribes  /camera/image_raw              sensor_msgs/Image (rgb8, bgr8 or mono8; best effort)
Publishes   /inspection/result             diagnostic_msgs/DiagnosticArray, one status:
              name "pcb_inspector: pcb", hardware_id = the image's frame_id,
              level OK = good, ERROR = a defect, WARN = no board in view,
              message = the label, values = label, label_ko, score, p_<label> per class,
              inference_ms
            /inspection/classification     vision_msgs/Classification, only where vision_msgs
                                           imports (a full ROS install): one ObjectHypothesis
                                           (class_id, score) per label, best first
Both carry the image's header, so the stamp tells the end-to-end latency.
The model runs at most `max_rate_hz` times a second, on the newest frame.

카메라 영상 속 PCB를 ONNX 모델로 검사해 /inspection/result 로 발행합니다 (정상이면 OK,
불량이면 ERROR, 보드가 안 보이면 WARN).
"""

import time

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.clock import Clock, ClockType
from rclpy.executors import ExternalShutdownException
from rclpy.logging import get_logger
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image

from perception_pkg.images import frame_from_buffer
from perception_pkg.inspection import (
    DEFAULT_MODEL_PATH,
    NO_BOARD,
    InspectionError,
    InspectionModel,
    InspectionResult,
)
from perception_pkg.pcb_images import LABELS_KO

try:  # vision_msgs exists on full ROS installs (lab robot, Gazebo CI), not in the pip wheels
    from vision_msgs.msg import Classification, ObjectHypothesis
except ImportError:
    Classification = None


class PcbInspectorNode(Node):
    def __init__(self):
        super().__init__("pcb_inspector")
        model_path = self.declare_parameter(
            "model_path",
            str(DEFAULT_MODEL_PATH),
            ParameterDescriptor(description="ONNX model; its .json model card must sit next to it"),
        ).value
        max_rate_hz = self.declare_parameter(
            "max_rate_hz",
            5.0,
            ParameterDescriptor(
                description="inferences per second at most, on the newest frame",
                floating_point_range=[FloatingPointRange(from_value=0.1, to_value=60.0)],
            ),
        ).value
        threads = self.declare_parameter(
            "num_threads",
            1,
            ParameterDescriptor(
                description="onnxruntime intra-op threads",
                integer_range=[IntegerRange(from_value=1, to_value=16, step=1)],
            ),
        ).value
        self.model = InspectionModel(model_path, num_threads=threads)
        self.latest: Image | None = None
        self.result_pub = self.create_publisher(DiagnosticArray, "/inspection/result", 10)
        self.classification_pub = None
        if Classification is not None:
            self.classification_pub = self.create_publisher(
                Classification, "/inspection/classification", 10
            )
        self.create_subscription(Image, "/camera/image_raw", self.on_image, qos_profile_sensor_data)
        # A steady clock: the rate limit is about CPU, and it must tick without /clock too.
        self.create_timer(
            1.0 / max_rate_hz, self.inspect, clock=Clock(clock_type=ClockType.STEADY_TIME)
        )
        self.get_logger().info(
            f"model {model_path} (held-out accuracy {self.model.card['held_out_accuracy']:.3f}), "
            f"at most {max_rate_hz} Hz"
        )

    def on_image(self, msg: Image) -> None:
        self.latest = msg

    def inspect(self) -> None:
        msg, self.latest = self.latest, None
        if msg is None:
            return
        try:
            frame = frame_from_buffer(msg.data, msg.height, msg.width, msg.step, msg.encoding)
        except ValueError as exc:
            self.get_logger().warning(str(exc), throttle_duration_sec=5.0)
            return
        start_s = time.perf_counter()
        result = self.model.classify(frame)
        inference_ms = 1000.0 * (time.perf_counter() - start_s)
        self.result_pub.publish(self.to_diagnostics(msg, result, inference_ms))
        if self.classification_pub is not None:
            self.classification_pub.publish(self.to_classification(msg, result))

    def to_diagnostics(
        self, image: Image, result: InspectionResult, inference_ms: float
    ) -> DiagnosticArray:
        status = DiagnosticStatus(name="pcb_inspector: pcb", hardware_id=image.header.frame_id)
        if result.label == NO_BOARD:
            status.level = DiagnosticStatus.WARN
        elif result.label == "good":
            status.level = DiagnosticStatus.OK
        else:
            status.level = DiagnosticStatus.ERROR
        status.message = result.label
        score = result.probabilities.get(result.label, 0.0)
        status.values = [
            KeyValue(key="label", value=result.label),
            KeyValue(key="label_ko", value=LABELS_KO.get(result.label, "보드 없음")),
            KeyValue(key="score", value=f"{score:.4f}"),
            *(KeyValue(key=f"p_{k}", value=f"{p:.4f}") for k, p in result.probabilities.items()),
            KeyValue(key="inference_ms", value=f"{inference_ms:.2f}"),
        ]
        return DiagnosticArray(header=image.header, status=[status])

    def to_classification(self, image: Image, result: InspectionResult):
        ranked = sorted(result.probabilities.items(), key=lambda kv: kv[1], reverse=True)
        return Classification(
            header=image.header,
            results=[ObjectHypothesis(class_id=k, score=float(p)) for k, p in ranked],
        )


def main(args=None):
    rclpy.init(args=args)
    try:
        node = PcbInspectorNode()
    except InspectionError as exc:  # a missing or stale model: a clear message, no traceback
        get_logger("pcb_inspector").fatal(str(exc))
        rclpy.shutdown()
        raise SystemExit(1) from None
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
