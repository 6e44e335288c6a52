"""Camera and lidar processing, ArUco markers and ONNX inference (filled by a later issue)."""
