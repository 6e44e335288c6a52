"""Message <-> numpy conversions shared by the planning nodes (the cores never see messages)."""

from __future__ import annotations

import math

import numpy as np
from geometry_msgs.msg import Pose, PoseStamped
from nav_msgs.msg import OccupancyGrid, Path
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from planning_pkg.grid import GridMap

# /initialpose as RViz's "2D Pose Estimate" tool publishes it: reliable, volatile, keep last 1.
# A transient-local subscription would never match that publisher; a volatile one matches it and
# a latched publisher (nav2's, ours in tests) too.
INITIAL_POSE_QOS = QoSProfile(
    depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.VOLATILE
)


def yaw_of(q) -> float:
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def pose_xyyaw(pose: Pose) -> tuple[float, float, float]:
    return (pose.position.x, pose.position.y, yaw_of(pose.orientation))


def make_pose(x: float, y: float, yaw: float) -> Pose:
    pose = Pose()
    pose.position.x, pose.position.y = float(x), float(y)
    pose.orientation.z, pose.orientation.w = math.sin(yaw / 2.0), math.cos(yaw / 2.0)
    return pose


def compose(
    a: tuple[float, float, float], b: tuple[float, float, float]
) -> tuple[float, float, float]:
    """Pose b (given in frame a) expressed in a's parent frame: a ∘ b."""
    ax, ay, ayaw = a
    c, s = math.cos(ayaw), math.sin(ayaw)
    return (ax + c * b[0] - s * b[1], ay + s * b[0] + c * b[1], ayaw + b[2])


def inverse(a: tuple[float, float, float]) -> tuple[float, float, float]:
    ax, ay, ayaw = a
    c, s = math.cos(ayaw), math.sin(ayaw)
    return (-(c * ax + s * ay), s * ax - c * ay, -ayaw)


def grid_to_msg(grid: GridMap, frame_id: str, stamp) -> OccupancyGrid:
    msg = OccupancyGrid()
    msg.header.frame_id = frame_id
    msg.header.stamp = stamp
    msg.info.resolution = float(grid.resolution_m)
    msg.info.height, msg.info.width = grid.shape
    msg.info.origin = make_pose(grid.origin_xy[0], grid.origin_xy[1], 0.0)
    msg.data = grid.data.astype(np.int8).ravel().tolist()
    return msg


def msg_to_grid(msg: OccupancyGrid) -> GridMap:
    """Axis-aligned grids only (origin yaw 0), as map_server and our map node publish them."""
    data = np.asarray(msg.data, dtype=np.int8).reshape(msg.info.height, msg.info.width)
    return GridMap(
        data, msg.info.resolution, (msg.info.origin.position.x, msg.info.origin.position.y)
    )


def path_to_msg(xy: np.ndarray, frame_id: str, stamp) -> Path:
    path = Path()
    path.header.frame_id = frame_id
    path.header.stamp = stamp
    for i, (x, y) in enumerate(xy):
        nxt = xy[min(i + 1, len(xy) - 1)]
        prev = xy[max(i - 1, 0)]
        yaw = math.atan2(nxt[1] - prev[1], nxt[0] - prev[0])  # along the path
        ps = PoseStamped()
        ps.header = path.header
        ps.pose = make_pose(x, y, yaw)
        path.poses.append(ps)
    return path


def msg_to_path_xy(msg: Path) -> np.ndarray:
    return np.array(
        [[p.pose.position.x, p.pose.position.y] for p in msg.poses], dtype=float
    ).reshape(-1, 2)


def scan_to_points(msg, sensor_x_m: float) -> np.ndarray:
    """Valid returns of a LaserScan as (N, 2) points in the robot base frame."""
    ranges = np.asarray(msg.ranges, dtype=float)
    angles = msg.angle_min + msg.angle_increment * np.arange(ranges.size)
    ok = np.isfinite(ranges) & (ranges >= msg.range_min) & (ranges <= msg.range_max)
    return np.stack(
        [ranges[ok] * np.cos(angles[ok]) + sensor_x_m, ranges[ok] * np.sin(angles[ok])], axis=1
    )
