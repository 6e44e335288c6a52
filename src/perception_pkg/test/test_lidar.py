"""Lidar cores on synthetic scans (exact geometry) and on scans rendered by the simulator."""

import math
from pathlib import Path

import mujoco
import numpy as np
import pytest

from common_pkg.worldspec import Block, Part, Pose2D, WorldSpec, _perimeter, load_world
from perception_pkg.lidar import (
    MovingObstacle,
    cluster_points,
    clusters_to_frame,
    confirm_moving,
    detect_moving,
    filter_scan,
    make_cluster,
    nearest_obstacle,
    scan_to_points,
    sensor_pose,
    to_frame,
    to_rep117,
)
from sim_pkg.world import SimWorld

PLATING = Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"
STEP_RAD = 2.0 * math.pi / 360  # LDS-01: 360 readings, index 0 ahead, counter-clockwise
RANGE_MIN_M, RANGE_MAX_M = 0.12, 3.5


def synthetic_scan(boxes, samples: int = 360) -> np.ndarray:
    """Noise-free LDS-01 scan from the origin of axis-aligned boxes ((cx, cy), (sx, sy)); no
    return (beyond range or nothing hit) is 0.0, as the driver reports it."""
    angles = np.arange(samples) * STEP_RAD
    d = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    hits = np.full(samples, np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        for (cx, cy), (sx, sy) in boxes:  # slab method: the entry distance of each ray
            lo = (np.array([cx - sx / 2, cy - sy / 2]) / d).T
            hi = (np.array([cx + sx / 2, cy + sy / 2]) / d).T
            t_in = np.nanmax(np.minimum(lo, hi), axis=0)
            t_out = np.nanmin(np.maximum(lo, hi), axis=0)
            hit = (t_in <= t_out) & (t_in > 0)
            hits = np.where(hit, np.minimum(hits, t_in), hits)
    return np.where(hits <= RANGE_MAX_M, hits, 0.0).astype(np.float32)


def clusters_of(ranges):
    points, _ = scan_to_points(filter_scan(ranges, RANGE_MIN_M, RANGE_MAX_M), 0.0, STEP_RAD)
    return points, cluster_points(points)


# ---------------------------------------------------------------------------------- filtering
def test_filter_marks_the_drivers_zero_and_out_of_range_readings_invalid():
    raw = np.full(360, 1.0, dtype=np.float32)
    raw[[10, 11, 12]] = 0.0  # LDS-01: no return
    raw[50], raw[51], raw[52] = 0.05, 4.2, np.inf  # too close, too far, inf
    filtered = filter_scan(raw, RANGE_MIN_M, RANGE_MAX_M)
    assert filtered.dtype == np.float32
    assert np.isnan(filtered[[10, 11, 12, 50, 51, 52]]).all()
    assert np.isfinite(filtered).sum() == 360 - 6 and filtered[100] == pytest.approx(1.0)


def test_filter_drops_an_isolated_spike_and_keeps_object_edges():
    raw = np.full(360, 2.0, dtype=np.float32)
    raw[100] = 0.6  # a single spike: dust or a mixed return
    raw[200:210] = 1.0  # a real object, 10 readings wide, in front of the wall
    filtered = filter_scan(raw, RANGE_MIN_M, RANGE_MAX_M, outlier_jump_m=0.3)
    assert np.isnan(filtered[100])
    assert filtered[199] == pytest.approx(2.0) and filtered[210] == pytest.approx(2.0)
    np.testing.assert_allclose(filtered[200:210], 1.0)  # the median keeps a step as it is


def test_filter_median_smooths_range_noise():
    rng = np.random.default_rng(0)
    raw = (1.5 + rng.normal(0.0, 0.02, 360)).astype(np.float32)
    filtered = filter_scan(raw, RANGE_MIN_M, RANGE_MAX_M, median_window=5)
    assert np.std(filtered - 1.5) < 0.7 * np.std(raw - 1.5)
    with pytest.raises(ValueError):
        filter_scan(raw, RANGE_MIN_M, RANGE_MAX_M, median_window=4)


def test_rep117_values_replace_the_drivers_zero():
    raw = np.array([0.0, 1.0, 2.5, 0.05, 4.0, 1.0], dtype=np.float32)
    filtered = np.array([np.nan, 1.0, np.nan, np.nan, np.nan, 1.0], dtype=np.float32)
    out = to_rep117(raw, filtered, RANGE_MIN_M, RANGE_MAX_M)
    assert out[0] == np.inf and out[4] == np.inf  # no return, beyond range_max
    assert out[3] == -np.inf  # too close
    assert np.isnan(out[2])  # dropped by the filter
    assert out[1] == out[5] == 1.0


# ---------------------------------------------------------------------------------- geometry
def test_a_wall_ahead_gives_its_distance_and_one_cluster():
    ranges = synthetic_scan([((1.55, 0.0), (0.1, 2.9))])  # wall face at x = 1.5, 2.9 m long
    points, clusters = clusters_of(ranges)
    assert nearest_obstacle(points) == pytest.approx((1.5, 0.0), abs=1e-3)
    assert len(clusters) == 1  # straddles angle 0, where the scan starts and ends
    wall = clusters[0]
    assert wall.centroid_xy[0] == pytest.approx(1.5, abs=0.01)
    assert wall.centroid_xy[1] == pytest.approx(0.0, abs=0.02)
    assert wall.bearing_rad == pytest.approx(0.0, abs=0.01)
    assert wall.range_m == pytest.approx(1.5, abs=1e-3)
    assert wall.extent_m == pytest.approx(wall.width_m) and wall.extent_m > 2.5


def test_two_boxes_give_two_clusters_with_their_centroids_and_bearings():
    left, right = ((0.0, 1.5), (0.4, 0.4)), ((0.0, -2.0), (0.4, 0.4))
    _, clusters = clusters_of(synthetic_scan([left, right]))
    assert len(clusters) == 2
    by_bearing = sorted(clusters, key=lambda c: c.bearing_rad)
    # Only the face towards the sensor is seen: its middle is the centroid.
    assert by_bearing[0].centroid_xy == pytest.approx((0.0, -1.8), abs=0.01)
    assert by_bearing[0].bearing_rad == pytest.approx(-math.pi / 2, abs=0.01)
    assert by_bearing[1].centroid_xy == pytest.approx((0.0, 1.3), abs=0.01)
    assert by_bearing[1].bearing_rad == pytest.approx(math.pi / 2, abs=0.01)
    assert by_bearing[1].width_m == pytest.approx(0.4, abs=0.05)


def test_a_box_across_angle_zero_is_one_cluster_not_two():
    ranges = synthetic_scan([((1.2, 0.0), (0.2, 0.5))])
    assert ranges[0] > 0 and ranges[-1] > 0 and ranges[180] == 0.0
    points, clusters = clusters_of(ranges)
    assert len(clusters) == 1 and len(clusters[0].points_xy) == len(points)
    # in scan order: the end of the turn (just right of ahead) runs on into its start
    assert clusters[0].points_xy[0, 1] < 0 < clusters[0].points_xy[-1, 1]


def test_small_pieces_are_noise_and_an_empty_scan_has_no_obstacle():
    points = np.array([[1.0, 0.0], [1.0, 0.05], [3.0, 0.0]])
    assert [len(c.points_xy) for c in cluster_points(points, min_points=2)] == [2]
    assert nearest_obstacle(np.empty((0, 2))) is None
    assert cluster_points(np.empty((0, 2))) == []


def test_points_move_into_the_fixed_frame_with_the_robots_pose():
    pts = to_frame(np.array([[1.0, 0.0]]), (2.0, 1.0, math.pi / 2))
    np.testing.assert_allclose(pts, [[2.0, 2.0]], atol=1e-12)
    assert sensor_pose((0.0, 0.0, math.pi), -0.024) == pytest.approx((0.024, 0.0, math.pi))


# ---------------------------------------------------------------------------------- motion
def _line(x0, y0, x1, y1, n=20):
    return np.linspace((x0, y0), (x1, y1), n)


def test_detect_moving_reports_a_walker_not_the_wall_or_a_shrinking_piece():
    wall_before, wall_now = make_cluster(_line(4, -2, 4, 2)), make_cluster(_line(4, -1.9, 4, 2.2))
    walker_before = make_cluster(_line(2.0, 0.0, 2.0, 0.4, 8))
    walker_now = make_cluster(_line(2.0, 0.1, 2.0, 0.5, 8))  # 0.1 m in 0.2 s
    piece_before = make_cluster(_line(1.0, -2.0, 1.6, -2.0, 12))
    piece_now = make_cluster(_line(1.0, -2.0, 1.4, -2.0, 8))  # a shadow eats into it
    moving = detect_moving(
        [wall_before, walker_before, piece_before], [piece_now, walker_now, wall_now], 0.2
    )
    assert len(moving) == 1 and moving[0].cluster is walker_now
    assert moving[0].velocity_xy == pytest.approx((0.0, 0.5), abs=1e-9)
    assert moving[0].speed_mps == pytest.approx(0.5)
    assert moving[0].heading_rad == pytest.approx(math.pi / 2)
    assert detect_moving([walker_before], [walker_now], 0.2, max_match_m=0.05) == []


def test_detect_moving_ignores_a_shift_the_range_noise_explains():
    """A 9-point face 3 m away: the LDS-01's noise (5 cm a reading there) moves its centroid by
    1.7 cm (one sigma). 7 cm in 0.6 s looks like 0.12 m/s, but is within 3 sigma of two scans."""
    face = _line(3.0, -0.2, 3.0, 0.2, 9)
    before = make_cluster(face, centroid_sigma_m=0.0175)
    now = make_cluster(face + (0.07, 0.0), centroid_sigma_m=0.0175)
    assert detect_moving([before], [now], 0.6) == []
    assert len(detect_moving([before], [now], 0.6, noise_sigmas=0.0)) == 1
    farther = make_cluster(face + (0.15, 0.0), centroid_sigma_m=0.0175)  # 6 sigma: it moved
    assert len(detect_moving([before], [farther], 0.6)) == 1


def test_confirm_moving_keeps_what_moved_twice_the_same_way():
    def seen(x, y, vx, vy):
        return MovingObstacle(make_cluster(_line(x, y, x, y + 0.4, 8)), (vx, vy), 0.0, 0.0)

    walker_before, walker_now = seen(2.0, 0.0, 0.0, 0.5), seen(2.0, 0.1, 0.0, 0.5)
    turned_back = seen(2.0, 0.1, 0.0, -0.5)  # noise: the same place, the other way
    elsewhere = seen(3.0, -1.0, 0.3, 0.0)  # nothing was moving there before
    assert confirm_moving([walker_before], [walker_now, turned_back, elsewhere], 0.2) == [
        walker_now
    ]
    assert confirm_moving([], [walker_now], 0.2) == []
    assert confirm_moving([walker_before], [walker_now], 0.0) == []


# ---------------------------------------------------------------------------------- simulator
def scan_clusters(world, profile):
    """One rendered scan -> (points in base_scan, clusters in base_scan, clusters in odom)."""
    ranges = filter_scan(world.scan(), profile.lidar_range_min_m, profile.lidar_range_max_m)
    points, _ = scan_to_points(ranges, 0.0, STEP_RAD)
    clusters = cluster_points(
        points,
        range_limit_m=profile.lidar_range_max_m - 0.3,
        range_noise=(profile.lidar_noise_std_m, profile.lidar_noise_std_fraction),
    )
    odom = world.odometry()
    lidar = sensor_pose((odom.x, odom.y, odom.yaw), profile.raw["lidar"]["mount_xyz_m"][0])
    return points, clusters, clusters_to_frame(clusters, lidar)


def test_the_nearest_obstacle_in_the_simulator_is_the_crate_beside_the_robot(profile):
    crate = Block("crate", (1.0, 1.3), (0.8, 0.3), 0.5)  # its north face at y = 1.45
    room = WorldSpec(
        (4.0, 4.0), _perimeter((4.0, 4.0), 1.0, 0.1), (crate,), (), (), Pose2D(1.0, 2.0, 0.0)
    )
    world = SimWorld(room, profile, seed=1)
    world.step()
    points, clusters, _ = scan_clusters(world, profile)
    range_m, bearing_rad = nearest_obstacle(points)
    assert range_m == pytest.approx(2.0 - 1.45, abs=0.04)  # 0.55 m to the right
    # A flat face has no single nearest point under 1 cm of noise: any point on it will do.
    lidar_x = 1.0 + profile.raw["lidar"]["mount_xyz_m"][0]
    x_m, y_m = range_m * math.cos(bearing_rad), range_m * math.sin(bearing_rad)
    assert y_m == pytest.approx(-0.55, abs=0.04) and 0.6 < lidar_x + x_m < 1.4
    crate_seen = min(clusters, key=lambda c: c.range_m)
    assert crate_seen.bearing_rad == pytest.approx(-math.pi / 2, abs=math.radians(5))
    assert crate_seen.centroid_xy[1] == pytest.approx(-0.55, abs=0.04)


def test_a_walking_worker_is_reported_moving_and_the_walls_never(profile):
    """The robot drives and turns; a worker crosses the room at 0.5 m/s. Motion is measured over
    0.6 s (three scans at 5 Hz), as the scan_processor node does by default."""
    worker = Part("worker", (3.0, 0.8), (0.4, 0.4, 1.7), 0.0, 60.0)
    room = WorldSpec(
        (5.0, 4.0), _perimeter((5.0, 4.0), 1.0, 0.1), (), (), (), Pose2D(1.0, 2.0, 0.0), (worker,)
    )
    world = SimWorld(room, profile, seed=2)
    m = world.model
    joint = m.joint("part_worker_free").id
    qpos, qvel = m.jnt_qposadr[joint], m.jnt_dofadr[joint]
    speed_mps, lag, history, detections, previous = 0.5, 3, [], 0, []
    for k in range(14):
        for _ in range(round(1.0 / profile.lidar_rate_hz / profile.control_period_s)):
            world.command_base(0.15, 0.1)
            world.step()
        world.data.qpos[qpos : qpos + 2] = (3.0, 0.8 + speed_mps * world.time_s)
        world.data.qvel[qvel : qvel + 6] = 0.0
        mujoco.mj_forward(m, world.data)
        _, _, in_odom = scan_clusters(world, profile)
        history.append((world.time_s, in_odom))
        if k < lag:
            continue
        then_s, before = history[-1 - lag]
        found = detect_moving(before, in_odom, world.time_s - then_s, max_match_m=0.9)
        moving, previous = confirm_moving(previous, found, 1.0 / profile.lidar_rate_hz), found
        truth = world.odom_origin().inverse_transform_point(world.data.qpos[qpos : qpos + 2])
        for found in moving:  # anything else reported moving would be a wall
            assert math.dist(found.cluster.centroid_xy, truth) < 0.35, found.cluster.centroid_xy
            assert found.velocity_xy == pytest.approx((0.0, speed_mps), abs=0.15)
        detections += len(moving)
    assert detections >= 8  # of 11 comparisons, the first one unconfirmed


def test_nothing_standing_is_reported_moving_in_a_minute_of_noisy_scans(profile):
    """The robot stands in the plating plant for a minute (300 scans); the chemical drum 3 m
    ahead and the walls are seen through the LDS-01's range noise. Without the noise gate and
    the confirmation, noise alone makes things "move" now and then (it did in CI)."""
    world = SimWorld(load_world(PLATING), profile, seed=0)
    period_s, lag = 1.0 / profile.lidar_rate_hz, 3
    history, previous, naive, reported = [], [], 0, []
    while world.time_s < 60.0:
        for _ in range(round(period_s / profile.control_period_s)):
            world.step()
        _, _, in_odom = scan_clusters(world, profile)
        history.append((world.time_s, in_odom))
        if len(history) <= lag:
            continue
        then_s, before = history[-1 - lag]
        naive += len(detect_moving(before, in_odom, world.time_s - then_s, noise_sigmas=0.0))
        found = detect_moving(before, in_odom, world.time_s - then_s)
        reported += confirm_moving(previous, found, period_s)
        previous = found
    assert naive > 0  # the hazard is real on this seed
    assert reported == [], [(m.cluster.centroid_xy, m.speed_mps) for m in reported]
