"""The robot's coordinate frames as /tf and /tf_static carry them (ROS-free).

REP-105 and TurtleBot3's names: odom -> base_footprint moves with the odometry; the rest is fixed
by the robot profile: base_footprint -> base_link (the axle height), base_link -> base_scan (the
lidar), base_link -> camera_rgb_frame -> camera_rgb_optical_frame (the camera; optical frames are
z forward, x right, y down, REP-103) and base_link -> link1 (the arm's base). The arm's moving
links are robot_state_publisher's job on the robot, from /joint_states.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from common_pkg.profile import RobotProfile

OPTICAL_SUFFIX = "_optical_frame"
ARM_BASE_FRAME = "link1"  # OpenMANIPULATOR-X's first link, fixed to base_link
BASE_LINK_FRAME = "base_link"


@dataclass(frozen=True)
class FrameTransform:
    """`child` in `parent`: a translation, then a rotation as a quaternion (x, y, z, w)."""

    parent: str
    child: str
    xyz_m: tuple[float, float, float]
    quat_xyzw: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)


def quaternion_from_rpy(roll_rad: float, pitch_rad: float, yaw_rad: float) -> tuple:
    """(x, y, z, w) of fixed-axis roll, pitch, yaw (URDF's rpy)."""
    cr, sr = math.cos(roll_rad / 2), math.sin(roll_rad / 2)
    cp, sp = math.cos(pitch_rad / 2), math.sin(pitch_rad / 2)
    cy, sy = math.cos(yaw_rad / 2), math.sin(yaw_rad / 2)
    return (
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
        cr * cp * cy + sr * sp * sy,
    )


def static_frames(profile: RobotProfile) -> tuple[FrameTransform, ...]:
    """The robot's fixed frames, parents first (/tf_static)."""
    frames = [
        FrameTransform(
            profile.base_frame_id, BASE_LINK_FRAME, (0.0, 0.0, profile.base_link_height_m)
        ),
        FrameTransform(BASE_LINK_FRAME, profile.lidar_frame_id, profile.lidar_mount_xyz_m),
    ]
    camera = profile.camera_frame_id
    if camera.endswith(OPTICAL_SUFFIX):  # the mount is the camera body's frame, x forward
        body = camera[: -len(OPTICAL_SUFFIX)] + "_frame"
        frames += [
            FrameTransform(BASE_LINK_FRAME, body, profile.camera_mount_xyz_m),
            FrameTransform(
                body, camera, (0.0, 0.0, 0.0), quaternion_from_rpy(-math.pi / 2, 0.0, -math.pi / 2)
            ),
        ]
    else:
        frames.append(FrameTransform(BASE_LINK_FRAME, camera, profile.camera_mount_xyz_m))
    frames.append(FrameTransform(BASE_LINK_FRAME, ARM_BASE_FRAME, profile.arm_mount_xyz_m))
    return tuple(frames)


def odometry_frame(profile: RobotProfile, x_m: float, y_m: float, yaw_rad: float) -> FrameTransform:
    """odom -> base_footprint at the odometry's pose (/tf), as turtlebot3_node broadcasts it."""
    return FrameTransform(
        profile.odom_frame_id,
        profile.base_frame_id,
        (float(x_m), float(y_m), 0.0),
        quaternion_from_rpy(0.0, 0.0, yaw_rad),
    )
