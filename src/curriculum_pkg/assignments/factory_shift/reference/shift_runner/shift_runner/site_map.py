"""The site map in the odom frame, and a way round keep-out zones (no ROS here).

The robot has no map server, but its mission is a map: the task points arrive on
/mission/waypoints in odom, and the scenario's briefing and preview give the same points, the
keep-out zones and the worker's walkway in the site's own frame. Fitting one onto the other (a
rigid 2-D transform, least squares) places the zones and the walkway in odom.

Keep-out zones are painted on the floor: the lidar never sees them. `route_around` finds the
shortest way from one point to another that stays out of every zone grown by a margin: straight
if it can, else through the corners of the grown zones (a visibility graph, searched with
Dijkstra). Zones are rectangles, convex, so a segment enters one iff it crosses its interior.
"""

from __future__ import annotations

import heapq
import math

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
    """How far the worst-fitting point lands from its waypoint once mapped (metres). Large: the
    map is of another site (or the mission lists other tasks), and must not be used."""
    mapped = to_odom(map_xy, rotation, translation)
    return float(np.max(np.linalg.norm(mapped - np.asarray(odom_xy, dtype=float), axis=1)))


def grown_rectangle(center_xy, size_xy, margin_m: float) -> np.ndarray:
    """The corners (4, 2), counter-clockwise, of an axis-aligned map rectangle grown by
    `margin_m` on every side."""
    cx, cy = center_xy
    hx, hy = size_xy[0] / 2 + margin_m, size_xy[1] / 2 + margin_m
    return np.array(
        [[cx - hx, cy - hy], [cx + hx, cy - hy], [cx + hx, cy + hy], [cx - hx, cy + hy]]
    )


def _crosses_interior(a: np.ndarray, b: np.ndarray, poly: np.ndarray, eps: float = 1e-3) -> bool:
    """Whether the segment a-b passes through the inside of the convex polygon (counter-clockwise
    corners); running along an edge or touching a corner does not count (Cyrus-Beck clipping)."""
    t_in, t_out = 0.0, 1.0
    d = b - a
    for i in range(len(poly)):
        p, q = poly[i], poly[(i + 1) % len(poly)]
        edge = q - p
        inward = np.array([-edge[1], edge[0]]) / np.linalg.norm(edge)
        # inside: (x - p) . inward > eps, for x = a + t d
        num = float((a - p) @ inward) - eps
        den = float(d @ inward)
        if abs(den) < 1e-12:
            if num <= 0.0:
                return False  # parallel to this edge and outside it
            continue
        t = -num / den
        if den > 0.0:
            t_in = max(t_in, t)
        else:
            t_out = min(t_out, t)
        if t_in >= t_out:
            return False
    return True


def _inside(point: np.ndarray, poly: np.ndarray, eps: float = 1e-3) -> bool:
    """Whether a point lies strictly inside the convex polygon (counter-clockwise corners)."""
    for i in range(len(poly)):
        edge, to_point = poly[(i + 1) % len(poly)] - poly[i], point - poly[i]
        if edge[0] * to_point[1] - edge[1] * to_point[0] <= eps * float(np.linalg.norm(edge)):
            return False
    return True


def route_around(start_xy, goal_xy, zones: list[np.ndarray]) -> list[tuple[float, float]]:
    """The via points, then the goal, of the shortest way from start to goal that does not cross
    any of the (grown, convex, counter-clockwise) zones. Just [goal] if the straight way is free;
    also just [goal] if no way round exists (the lidar and the judge will have their say)."""
    start, goal = np.asarray(start_xy, dtype=float), np.asarray(goal_xy, dtype=float)
    corners = [c for poly in zones for c in poly if not any(_inside(c, z) for z in zones)]
    nodes = [start, goal, *corners]

    def free(i: int, j: int) -> bool:
        return not any(_crosses_interior(nodes[i], nodes[j], z) for z in zones)

    best = {0: 0.0}
    previous: dict[int, int] = {}
    queue = [(0.0, 0)]
    while queue:
        cost, i = heapq.heappop(queue)
        if i == 1:
            break
        if cost > best.get(i, math.inf):
            continue
        for j in range(1, len(nodes)):
            if j == i or not free(i, j):
                continue
            step = cost + float(np.linalg.norm(nodes[j] - nodes[i]))
            if step < best.get(j, math.inf):
                best[j], previous[j] = step, i
                heapq.heappush(queue, (step, j))
    if 1 not in previous:
        return [(float(goal[0]), float(goal[1]))]
    path, i = [], 1
    while i != 0:
        path.append((float(nodes[i][0]), float(nodes[i][1])))
        i = previous[i]
    return path[::-1]
