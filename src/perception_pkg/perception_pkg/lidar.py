"""Planar lidar processing (ROS-free): filter a scan, cluster its points, find moving obstacles.

Conventions (REP-103): metres and radians; x forward, y left; a reading `ranges[i]` looks along
`angle_min + i * angle_increment`, counter-clockwise from +x. The TurtleBot3's LDS-01 gives 360
readings per turn, index 0 straight ahead, and reports "no valid return" as 0.0.

Inside this module an invalid reading is NaN. The pipeline:

    ranges --filter_scan--> ranges --scan_to_points--> points --cluster_points--> clusters
    clusters (to_frame with the odometry pose, two scans) --detect_moving--> moving obstacles
    moving obstacles (this scan's and the last one's) --confirm_moving--> moving obstacles
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import pdist

_NO_MATCH = 1e9  # cost of a pair outside the matching gate


@dataclass(frozen=True, eq=False)
class Cluster:
    """Consecutive scan points on one object. Ranges and bearings are seen from the origin of the
    frame the points are in (base_scan for the node's /obstacles)."""

    points_xy: np.ndarray  # (K, 2), in scan order
    centroid_xy: tuple[float, float]
    width_m: float  # chord from the first to the last point: the object's width as seen
    extent_m: float  # the largest distance between two of its points
    nearest_xy: tuple[float, float]  # the point closest to the frame origin
    range_m: float  # distance to nearest_xy
    bearing_rad: float  # direction of the centroid, in (-pi, pi]
    # A point lies near the sensor's range limit: the object may go on beyond it, so its extent
    # and centroid are not trusted for motion (a wall fading out at 3.5 m looks like a short,
    # jittering piece).
    at_range_limit: bool = False
    # Standard error of the centroid from the sensor's range noise (0.0: not known). A centroid
    # "moves" by about this much between two scans of a standing object.
    centroid_sigma_m: float = 0.0


@dataclass(frozen=True, eq=False)
class MovingObstacle:
    cluster: Cluster  # as seen in the current scan, in the fixed frame (odom)
    velocity_xy: tuple[float, float]  # m/s in the fixed frame
    speed_mps: float
    heading_rad: float  # direction of motion in the fixed frame


def filter_scan(
    ranges,
    range_min: float,
    range_max: float,
    invalid_value: float = 0.0,
    median_window: int = 3,
    outlier_jump_m: float = 0.3,
    circular: bool = True,
) -> np.ndarray:
    """Clean one scan: invalid readings become NaN, isolated outliers are dropped, the rest is
    median-filtered.

    - invalid: `invalid_value` (0.0 from the LDS-01 driver), inf/NaN, or outside the range limits;
    - outlier: a reading that differs from *both* its valid neighbours by more than
      `outlier_jump_m` (dust, a mixed return on an edge). A reading next to an invalid one is
      kept, since nothing contradicts it;
    - median over `median_window` readings (odd; 1 = off), ignoring NaNs and never filling an
      invalid reading: it smooths the range noise without rounding off object edges.

    `circular`: the scan covers a full turn, so the first and last readings are neighbours.
    """
    if median_window < 1 or median_window % 2 == 0:
        raise ValueError(f"median_window must be odd and >= 1, got {median_window}")
    r = np.array(ranges, dtype=np.float32).ravel()
    with np.errstate(invalid="ignore"):
        invalid = ~np.isfinite(r) | (r == invalid_value) | (r < range_min) | (r > range_max)
    r[invalid] = np.nan
    if r.size < 3:
        return r

    prev, nxt = _neighbours(r, circular)
    with np.errstate(invalid="ignore"):
        outlier = (np.abs(r - prev) > outlier_jump_m) & (np.abs(r - nxt) > outlier_jump_m)
    r[outlier] = np.nan

    valid = np.isfinite(r)
    if median_window > 1 and valid.any():
        half = median_window // 2
        padded = (
            np.pad(r, half, mode="wrap") if circular else np.pad(r, half, constant_values=np.nan)
        )
        windows = sliding_window_view(padded, median_window)
        r[valid] = np.nanmedian(windows[valid], axis=1)
    return r


def to_rep117(
    raw_ranges,
    filtered_ranges: np.ndarray,
    range_min: float,
    range_max: float,
    invalid_value: float = 0.0,
) -> np.ndarray:
    """Filtered ranges for a LaserScan message, with REP 117's special values (float32).

    The LDS-01 driver reports every reading without a valid return as 0.0, which a consumer can
    mistake for an obstacle touching the sensor. REP 117 separates the cases, and so do we:
    no return or beyond range_max (0.0 here) -> +inf; a nonzero reading below range_min -> -inf;
    a reading the filter dropped as an outlier, or NaN from the driver -> NaN.
    """
    raw = np.asarray(raw_ranges, dtype=np.float32).ravel()
    out = np.array(filtered_ranges, dtype=np.float32).ravel()
    gone = np.isnan(out)
    with np.errstate(invalid="ignore"):
        too_close = gone & (raw < range_min) & (raw != invalid_value)
        no_return = gone & ((raw == invalid_value) | (raw > range_max))
    out[no_return] = np.inf
    out[too_close] = -np.inf
    return out


def _neighbours(r: np.ndarray, circular: bool) -> tuple[np.ndarray, np.ndarray]:
    prev, nxt = np.roll(r, 1), np.roll(r, -1)
    if not circular:
        prev[0] = nxt[-1] = np.nan
    return prev, nxt


def scan_to_points(
    ranges, angle_min: float, angle_increment: float, sensor_x_m: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Valid (finite, positive) readings as (N, 2) points, and their scan indices (N,).

    `sensor_x_m` is the lidar's offset ahead of the base frame (-0.024 m on the Waffle Pi: the
    LDS-01 sits 24 mm behind base_link); 0.0 gives the points in the sensor's own frame.
    """
    r = np.asarray(ranges, dtype=np.float64).ravel()
    with np.errstate(invalid="ignore"):
        indices = np.flatnonzero(np.isfinite(r) & (r > 0.0))
    angles = angle_min + angle_increment * indices
    points = np.stack(
        [r[indices] * np.cos(angles) + sensor_x_m, r[indices] * np.sin(angles)], axis=1
    )
    return points, indices


def make_cluster(
    points_xy: np.ndarray, at_range_limit: bool = False, centroid_sigma_m: float = 0.0
) -> Cluster:
    """Measure one cluster (K >= 1 points, in scan order)."""
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    centroid = pts.mean(axis=0)
    dist = np.hypot(pts[:, 0], pts[:, 1])
    nearest = pts[int(np.argmin(dist))]
    return Cluster(
        points_xy=pts,
        centroid_xy=(float(centroid[0]), float(centroid[1])),
        width_m=float(np.hypot(*(pts[-1] - pts[0]))),
        extent_m=float(pdist(pts).max()) if len(pts) > 1 else 0.0,
        nearest_xy=(float(nearest[0]), float(nearest[1])),
        range_m=float(dist.min()),
        bearing_rad=math.atan2(centroid[1], centroid[0]),
        at_range_limit=at_range_limit,
        centroid_sigma_m=centroid_sigma_m,
    )


def cluster_points(
    points_xy: np.ndarray,
    max_gap_m: float = 0.15,
    min_points: int = 3,
    gap_per_range: float = 0.05,
    range_limit_m: float = math.inf,
    range_noise: tuple[float, float] = (0.0, 0.0),
) -> list[Cluster]:
    """Split points in scan (angular) order wherever two consecutive points lie farther apart
    than the gap, and keep the pieces with at least `min_points` points.

    The gap grows with range, `max_gap_m + gap_per_range * r` (r = the nearer point's distance
    from the frame origin), because both the spacing of the rays (1 deg = 6 cm at 3.5 m) and the
    LDS-01's range noise (1.75 % of the range) grow with distance. If the last and the first
    points are close, the first piece continues the last one: an object straight ahead straddles
    angle 0 of a full turn, where the scan starts and ends.

    Clusters with a point farther than `range_limit_m` from the origin are flagged
    `at_range_limit`; pass the sensor's range_max minus a margin (0.3 m: ~5 sigma of the LDS-01's
    noise at 3.5 m), with the points in the sensor frame.

    `range_noise` = (std_m, std_fraction): the sensor's range noise, sigma = max(std_m,
    std_fraction * r) per reading (the robot profile's lidar noise_std_m and noise_std_fraction;
    LDS-01: 1 cm, 1.75 %). Each cluster gets the standard error of its centroid from it,
    sqrt(sum sigma_i^2) / K, with the points in the sensor frame.
    """
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return []
    rng = np.hypot(pts[:, 0], pts[:, 1])

    def gap_ok(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        near = np.minimum(rng[a], rng[b])
        return np.hypot(*(pts[b] - pts[a]).T) <= max_gap_m + gap_per_range * near

    breaks = np.flatnonzero(~gap_ok(np.arange(len(pts) - 1), np.arange(1, len(pts)))) + 1
    pieces = np.split(np.arange(len(pts)), breaks)
    if len(pieces) > 1 and gap_ok(np.array([len(pts) - 1]), np.array([0]))[0]:
        pieces[0] = np.concatenate([pieces.pop(), pieces[0]])
    sigma = np.maximum(range_noise[0], range_noise[1] * rng)
    return [
        make_cluster(
            pts[p],
            bool(rng[p].max() > range_limit_m),
            float(np.sqrt(np.sum(sigma[p] ** 2)) / len(p)),
        )
        for p in pieces
        if len(p) >= min_points
    ]


def nearest_obstacle(points_xy: np.ndarray) -> tuple[float, float] | None:
    """(range_m, bearing_rad) of the point closest to the frame origin; None if there is none."""
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        return None
    i = int(np.argmin(np.hypot(pts[:, 0], pts[:, 1])))
    return float(np.hypot(*pts[i])), math.atan2(pts[i, 1], pts[i, 0])


def to_frame(points_xy: np.ndarray, pose_xyyaw: tuple[float, float, float]) -> np.ndarray:
    """Points given in a moving frame (the robot's) -> the fixed frame in which that frame has
    the pose (x, y, yaw) (odom, from the odometry): p_fixed = R(yaw) p + (x, y)."""
    x, y, yaw = pose_xyyaw
    c, s = math.cos(yaw), math.sin(yaw)
    pts = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    return np.stack([x + c * pts[:, 0] - s * pts[:, 1], y + s * pts[:, 0] + c * pts[:, 1]], axis=1)


def clusters_to_frame(
    clusters: list[Cluster], pose_xyyaw: tuple[float, float, float]
) -> list[Cluster]:
    """`to_frame` for clusters (their ranges and bearings are then seen from the fixed origin)."""
    return [
        make_cluster(to_frame(c.points_xy, pose_xyyaw), c.at_range_limit, c.centroid_sigma_m)
        for c in clusters
    ]


def sensor_pose(
    base_pose_xyyaw: tuple[float, float, float], sensor_x_m: float
) -> tuple[float, float, float]:
    """The lidar's pose (the TurtleBot3's base_scan frame) in the fixed frame, from the base's
    pose (odometry) and the lidar's mount `sensor_x_m` ahead of it on the centre line."""
    x, y, yaw = base_pose_xyyaw
    return (x + sensor_x_m * math.cos(yaw), y + sensor_x_m * math.sin(yaw), yaw)


def detect_moving(
    prev_clusters_world: list[Cluster],
    clusters_world: list[Cluster],
    dt_s: float,
    min_speed_mps: float = 0.1,
    max_match_m: float = 0.5,
    max_extent_m: float = 2.5,
    extent_tolerance_m: float = 0.1,
    noise_sigmas: float = 3.0,
) -> list[MovingObstacle]:
    """The clusters of the current scan that moved since the previous one, with their velocity.

    Both lists must be in one fixed frame (odom: transform each scan with the robot's odometry
    pose at that scan, see `to_frame`). There a wall stays where it is while the robot drives,
    so only things that really move change place.

    Method, on purpose the simplest that works:

    1. ignore clusters with `extent_m > max_extent_m`: much larger than a person or a forklift.
       Long walls change shape as the robot sees them from elsewhere, so their centroids wander.
       Ignore those `at_range_limit` too, for the same reason;
    2. match every current cluster to one previous cluster by centroid distance: an optimal
       one-to-one assignment (Hungarian, scipy's `linear_sum_assignment`), gated at
       `max_match_m` (so `max_match_m / dt_s` is the fastest speed that can be tracked);
    3. drop pairs whose extent changed by more than their centroid moved (and more than
       `extent_tolerance_m`, the noise): a piece of wall that a passer-by's shadow eats into
       shrinks twice as fast as its centroid "moves", while a real mover keeps its size;
    4. drop pairs whose centroid moved less than `noise_sigmas` times what the range noise
       alone moves it (the clusters' `centroid_sigma_m`, combined): at 3 m the LDS-01's noise
       shifts the centroid of a 9-point drum by more than 6 cm in one scan of forty, which
       is 0.1 m/s over 0.6 s;
    5. velocity = centroid displacement / dt_s; keep the pairs at `min_speed_mps` or faster.

    No tracking over more scans, no prediction: a caller who wants steadier speeds compares
    scans further apart (a longer `dt_s`) rather than consecutive ones, and `confirm_moving`
    keeps only what moved in two comparisons in a row.
    """
    if dt_s <= 0.0:
        return []
    prev = [c for c in prev_clusters_world if _trackable(c, max_extent_m)]
    curr = [c for c in clusters_world if _trackable(c, max_extent_m)]
    if not prev or not curr:
        return []
    a = np.array([c.centroid_xy for c in curr])
    b = np.array([c.centroid_xy for c in prev])
    dist = np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1])
    cost = np.where(dist <= max_match_m, dist, _NO_MATCH)
    moving = []
    for i, j in zip(*linear_sum_assignment(cost), strict=True):
        if cost[i, j] >= _NO_MATCH:
            continue
        shift_m = float(dist[i, j])
        if abs(curr[i].extent_m - prev[j].extent_m) > max(extent_tolerance_m, shift_m):
            continue
        if shift_m < noise_sigmas * math.hypot(curr[i].centroid_sigma_m, prev[j].centroid_sigma_m):
            continue
        vx, vy = (a[i] - b[j]) / dt_s
        speed = math.hypot(vx, vy)
        if speed >= min_speed_mps:
            moving.append(
                MovingObstacle(curr[i], (float(vx), float(vy)), speed, math.atan2(vy, vx))
            )
    return moving


def confirm_moving(
    previous: list[MovingObstacle],
    current: list[MovingObstacle],
    dt_s: float,
    gate_m: float = 0.3,
) -> list[MovingObstacle]:
    """The obstacles of `current` that were already moving in `previous`, the detections of the
    scan `dt_s` seconds before (unconfirmed ones, straight from `detect_moving`).

    One is confirmed if an obstacle of `previous`, carried on at its velocity for `dt_s`, lies
    within `gate_m` of it, moving the same way (their headings less than 90 degrees apart).
    A standing object's noise, or a cluster that splits and joins again, makes it "move" in
    one comparison now and then, in a random direction; a mover moves in every one, the same
    way. The price: a mover is reported one scan later.
    """
    if dt_s <= 0.0:
        return []
    confirmed = []
    for ob in current:
        for before in previous:
            (x, y), (vx, vy) = before.cluster.centroid_xy, before.velocity_xy
            same_way = ob.velocity_xy[0] * vx + ob.velocity_xy[1] * vy > 0.0
            if (
                same_way
                and math.dist(ob.cluster.centroid_xy, (x + vx * dt_s, y + vy * dt_s)) <= gate_m
            ):
                confirmed.append(ob)
                break
    return confirmed


def _trackable(cluster: Cluster, max_extent_m: float) -> bool:
    return cluster.extent_m <= max_extent_m and not cluster.at_range_limit
