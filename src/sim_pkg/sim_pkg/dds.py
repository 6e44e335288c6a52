"""DDS settings the simulator's processes need (ROS-free: environment only)."""

from __future__ import annotations

import os

from common_pkg.profile import config_dir

CAMERA_PROFILE = "dds/fastdds_camera_shm.xml"


def use_camera_transport() -> None:
    """Give this process's Fast DDS participants a shared-memory segment large enough for a
    640x480 camera frame (see config/dds/fastdds_camera_shm.xml). Call before rclpy.init; a
    profile the user already chose (FASTRTPS_DEFAULT_PROFILES_FILE) is left alone."""
    path = config_dir() / CAMERA_PROFILE
    if path.is_file():
        os.environ.setdefault("FASTRTPS_DEFAULT_PROFILES_FILE", str(path))
