"""Camera images as numpy arrays (ROS-free): the one place a sensor_msgs/Image payload is read."""

from __future__ import annotations

import numpy as np


def frame_from_buffer(
    data: bytes | bytearray | memoryview, height: int, width: int, step: int, encoding: str
) -> np.ndarray:
    """A sensor_msgs/Image payload (rgb8, bgr8 or mono8, rows `step` bytes apart) as RGB uint8."""
    channels = {"rgb8": 3, "bgr8": 3, "mono8": 1}.get(encoding)
    if channels is None:
        raise ValueError(
            f"지원하지 않는 영상 인코딩입니다: {encoding!r} (rgb8, bgr8, mono8만 가능) / "
            f"unsupported image encoding {encoding!r}: use rgb8, bgr8 or mono8"
        )
    rows = np.frombuffer(data, np.uint8).reshape(height, step)  # rows may be padded
    pixels = rows[:, : width * channels].reshape(height, width, channels)
    if encoding == "bgr8":
        return np.ascontiguousarray(pixels[:, :, ::-1])
    if encoding == "mono8":
        return np.repeat(pixels, 3, axis=2)
    return pixels
