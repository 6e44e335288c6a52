"""marker_detector: ArUco markers on /camera/image_raw, with poses from /camera/camera_info.

Publishes, stamped and framed like the image (camera_rgb_optical_frame):
  /aruco/markers  visualization_msgs/MarkerArray: one CUBE per marker; Marker.id = the ArUco id,
                  pose = the marker's pose, scale = its printed size (what vision_msgs would carry)
  /aruco/poses    geometry_msgs/PoseArray: the same poses in the same order, for RViz (only
                  built while someone subscribes)
and, where vision_msgs imports (a full ROS install), /aruco/detections as
vision_msgs/Detection3DArray (results[0].hypothesis.class_id = the ArUco id).
"""

import numpy as np
import rclpy
from geometry_msgs.msg import PoseArray
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import CameraInfo, Image
from visualization_msgs.msg import Marker, MarkerArray

from perception_pkg.images import frame_from_buffer
from perception_pkg.markers import MarkerConfig, MarkerDetector, camera_matrix
from perception_pkg.nodes.marker_wire import MarkerArrayWire

try:  # optional: the conventional message where the package exists
    from vision_msgs.msg import Detection3D, Detection3DArray, ObjectHypothesisWithPose
except ImportError:
    Detection3DArray = None


class MarkerDetectorNode(Node):
    def __init__(self):
        super().__init__("marker_detector")
        size = float(self.declare_parameter("marker_size_m", 0.12).value)
        self.detector = MarkerDetector(MarkerConfig(default_size_m=size))
        self.k = None
        self.d = None
        self.markers_pub = self.create_publisher(MarkerArray, "/aruco/markers", 10)
        self.poses_pub = self.create_publisher(PoseArray, "/aruco/poses", 10)
        self.detections_pub = (
            self.create_publisher(Detection3DArray, "/aruco/detections", 10)
            if Detection3DArray is not None
            else None
        )
        self.wire = MarkerArrayWire(self.marker_style)
        self.create_subscription(
            CameraInfo, "/camera/camera_info", self.on_info, qos_profile_sensor_data
        )
        self.create_subscription(Image, "/camera/image_raw", self.on_image, qos_profile_sensor_data)

    def on_info(self, msg: CameraInfo) -> None:
        self.k = camera_matrix(msg.k)
        self.d = np.asarray(msg.d, dtype=np.float64) if len(msg.d) else None

    def on_image(self, msg: Image) -> None:
        if self.k is None:
            return
        try:
            frame = frame_from_buffer(msg.data, msg.height, msg.width, msg.step, msg.encoding)
        except ValueError as exc:
            self.get_logger().warning(str(exc), throttle_duration_sec=5.0)
            return
        found = self.detector.detect(frame, self.k, self.d)
        # The hot path: bytes that only need this frame's stamp and poses (marker_wire.py).
        self.markers_pub.publish(self.wire.serialize(msg.header, found))
        wants_poses = self.poses_pub.get_subscription_count() > 0  # for RViz: on demand
        if wants_poses or self.detections_pub is not None:
            poses = [marker.pose for marker in self.wire.message(msg.header, found).markers]
            if wants_poses:
                self.poses_pub.publish(PoseArray(header=msg.header, poses=poses))
            if self.detections_pub is not None:
                self.detections_pub.publish(self._vision_msgs(msg.header, found, poses))

    @staticmethod
    def marker_style(marker_id: int, size_m: float) -> Marker:
        """How a marker looks in RViz: a thin cube of its printed size."""
        marker = Marker(ns="aruco", id=marker_id, type=Marker.CUBE, action=Marker.ADD)
        marker.scale.x = marker.scale.y = size_m
        marker.scale.z = 0.002
        marker.color.r, marker.color.g, marker.color.a = 0.1, 0.9, 0.8
        return marker

    @staticmethod
    def _vision_msgs(header, found, poses):
        array = Detection3DArray(header=header)
        for det, pose in zip(found, poses, strict=True):
            hyp = ObjectHypothesisWithPose()
            hyp.hypothesis.class_id = str(det.marker_id)
            hyp.hypothesis.score = 1.0
            hyp.pose.pose = pose
            detection = Detection3D(header=header)
            detection.results.append(hyp)
            detection.bbox.center = pose
            detection.bbox.size.x = detection.bbox.size.y = det.size_m
            array.detections.append(detection)
        return array


def main(args=None):
    rclpy.init(args=args)
    node = MarkerDetectorNode()
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
