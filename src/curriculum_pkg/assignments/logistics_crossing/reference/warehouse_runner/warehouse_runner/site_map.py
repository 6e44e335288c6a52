"""The site map in the odom frame (no ROS here).

A warehouse AMR knows from its map where the forklift aisles are. This robot has no map server,
but its mission is a map: the stations arrive on /mission/waypoints in odom, and the scenario's
briefing and preview give the same stations, and the forklift aisle, in the site's own frame.
Fitting one onto the other (a rigid 2-D transform, least squares) places the aisle in odom, for
any start pose, as exactly as the odometry itself.
"""

from __future__ import annotations

import numpy as np


def fit_rigid_2d(map_xy: np.ndarray, odom_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(R, t) with odom ≈ R @ map + t, from two or more matching points (Kabsch, no scaling)."""
    map_xy = np.asarray(map_xy, dtype=float).reshape(-1, 2)
    odom_xy = np.asarray(odom_xy, dtype=float).reshape(-1, 2)
    if len(map_xy) != len(odom_xy) or len(map_xy) < 2:
        raise ValueError("need the same two or more points in both frames")
    map_mean, odom_mean = map_xy.mean(axis=0), odom_xy.mean(axis=0)
    h = (map_xy - map_mean).T @ (odom_xy - odom_mean)
    u, _, vt = np.linalg.svd(h)
    d = np.sign(np.linalg.det(vt.T @ u.T))  # a rotation, never a mirror image
    rotation = vt.T @ np.diag([1.0, d]) @ u.T
    return rotation, odom_mean - rotation @ map_mean


def to_odom(points_xy, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """Map-frame points (N, 2) in odom."""
    return np.asarray(points_xy, dtype=float).reshape(-1, 2) @ rotation.T + translation


def worst_fit_m(map_xy, odom_xy, rotation: np.ndarray, translation: np.ndarray) -> float:
    """How far the worst-fitting station lands from its waypoint once mapped (metres). Large: the
    map is of another site (or the mission lists other stations), and must not be used."""
    mapped = to_odom(map_xy, rotation, translation)
    return float(np.max(np.linalg.norm(mapped - np.asarray(odom_xy, dtype=float), axis=1)))
