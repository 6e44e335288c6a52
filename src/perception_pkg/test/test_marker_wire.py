"""The detector's fast /aruco/markers bytes are exactly what rclpy serializes for the message."""

import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from perception_pkg.markers import MarkerDetection, rotvec_to_quaternion
from perception_pkg.nodes.marker_detector_node import MarkerDetectorNode
from perception_pkg.nodes.marker_wire import MAX_LAYOUTS, MarkerArrayWire


def detection(rng, marker_id: int, size_m: float = 0.12) -> MarkerDetection:
    return MarkerDetection(
        marker_id,
        rng.uniform(0, 640, (4, 2)),
        rng.uniform([-1, -1, 0.2], [1, 1, 3.5]),
        rotvec_to_quaternion(rng.normal(size=3)),
        size_m,
    )


def header(rng, frame_id: str = "camera_rgb_optical_frame") -> Header:
    msg = Header(frame_id=frame_id)
    msg.stamp.sec, msg.stamp.nanosec = int(rng.integers(0, 2**31)), int(rng.integers(0, 10**9))
    return msg


@pytest.mark.parametrize("ids", [(), (11,), (3, 11, 42), (7, 7)])
def test_bytes_match_rclpy_for_any_frame(ids):
    rng = np.random.default_rng(len(ids))
    wire = MarkerArrayWire(MarkerDetectorNode.marker_style)
    for _ in range(5):  # the layout is learned once, then reused with new values
        found = [detection(rng, i, rng.choice([0.05, 0.12])) for i in ids]
        head = header(rng)
        data = wire.serialize(head, found)
        assert data == serialize_message(wire.message(head, found))
        received = deserialize_message(data, MarkerArray)
        assert [m.id for m in received.markers] == list(ids)
        for marker, det in zip(received.markers, found, strict=True):
            assert marker.header == head
            position = marker.pose.position
            assert [position.x, position.y, position.z] == det.position_m.tolist()
            assert marker.scale.x == det.size_m


def test_frame_ids_and_many_marker_sets_keep_their_own_layouts():
    rng = np.random.default_rng(1)
    wire = MarkerArrayWire(MarkerDetectorNode.marker_style)
    for n in range(MAX_LAYOUTS + 5):  # more sets than remembered: the cache starts over
        found = [detection(rng, n % 250), detection(rng, (n + 1) % 250, 0.2)]
        head = header(rng, frame_id="cam" * (n % 4 + 1))  # strings of other lengths move offsets
        assert wire.serialize(head, found) == serialize_message(wire.message(head, found))
