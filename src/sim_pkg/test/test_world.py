import itertools
import math

import mujoco
import numpy as np
import pytest

from common_pkg.errors import ProfileError
from common_pkg.profile import load_profile
from sim_pkg.odometry import OdomState, clamp_twist, integrate_wheels, twist_to_wheel_speeds
from sim_pkg.world import SimWorld


def drive(world, linear, angular, seconds):
    for _ in range(round(seconds / world.profile.control_period_s)):
        world.command_base(linear, angular)
        world.step()


def test_world_has_floor_walls_robot_and_named_sensors(empty_room, profile):
    world = SimWorld(empty_room, profile)
    names = {world.model.geom(i).name for i in range(world.model.ngeom)}
    assert {"floor", "wall_north", "wall_south", "wall_east", "wall_west", "chassis"} <= names
    assert world.model.site("lidar_site").id >= 0
    assert world.model.camera("front_camera").id >= 0
    pose = world.true_pose()
    assert (pose.x, pose.y, pose.yaw) == pytest.approx((1.0, 2.0, 0.0), abs=1e-6)


def test_lidar_reads_known_wall_distances(empty_room, profile):
    world = SimWorld(empty_room, profile, seed=3)
    world.step()
    scans = np.array([world.scan() for _ in range(40)])
    lidar_x = 1.0 + profile.raw["lidar"]["mount_xyz_m"][0]
    mean = scans.mean(axis=0)
    assert scans.shape[1] == 360
    assert mean[0] == pytest.approx(4.0 - lidar_x, abs=0.03)  # index 0 looks ahead (east wall)
    assert mean[180] == pytest.approx(lidar_x, abs=0.02)  # behind: west wall
    assert mean[90] == pytest.approx(2.0, abs=0.03)  # left: north wall
    assert mean[270] == pytest.approx(2.0, abs=0.03)  # right: south wall
    assert scans[:, 0].std() > 0.0  # the sensor is noisy, like the LDS-01


def test_lidar_reports_out_of_range_as_invalid_value(profile):
    from common_pkg.worldspec import Pose2D, WorldSpec, _perimeter

    hall = WorldSpec(
        (10.0, 10.0), _perimeter((10.0, 10.0), 1.0, 0.1), (), (), (), Pose2D(1.0, 5.0, 0.0)
    )
    world = SimWorld(hall, profile)
    ranges = world.scan()
    assert ranges[0] == profile.lidar_invalid_value  # 9 m to the east wall: beyond 3.5 m
    assert 0.9 < ranges[180] < 1.1


def test_odometry_integrates_straight_line_and_turn():
    r, sep = 0.033, 0.287
    state = OdomState()
    state = integrate_wheels(state, 10.0, 10.0, 1.0, r, sep)
    assert (state.x, state.y, state.yaw) == pytest.approx((0.33, 0.0, 0.0))
    quarter = (math.pi / 2) * (sep / 2) / r  # wheel angle for a 90 degree turn in place
    state = integrate_wheels(state, 10.0 - quarter, 10.0 + quarter, 1.0, r, sep)
    assert state.yaw == pytest.approx(math.pi / 2)
    assert state.x == pytest.approx(0.33)


def test_twist_clamped_to_profile_limits_and_nan_stops():
    assert clamp_twist(1.0, -5.0, 0.26, 1.82) == (0.26, -1.82)
    assert clamp_twist(float("nan"), 0.5, 0.26, 1.82) == (0.0, 0.0)
    left, right = twist_to_wheel_speeds(0.2, 0.0, 0.033, 0.287)
    assert left == right == pytest.approx(0.2 / 0.033)


def test_robot_drives_and_odometry_drifts_a_little_from_truth(empty_room, profile):
    world = SimWorld(empty_room, profile)
    drive(world, 0.2, 0.0, 4.0)
    drive(world, 0.0, 1.0, 1.5)
    drive(world, 0.15, 0.0, 2.0)
    truth, odom = world.true_pose(), world.odometry()
    travelled = math.hypot(truth.x - 1.0, truth.y - 2.0)
    assert travelled > 0.8  # the physics really moved the robot
    origin = world.odom_origin()
    true_in_odom = origin.inverse_transform_point(np.array([truth.x, truth.y]))
    error = math.hypot(true_in_odom[0] - odom.x, true_in_odom[1] - odom.y)
    assert 0.0 < error < 0.1 * travelled  # drifts, but like a robot, not like a random walk


def test_commands_beyond_limits_are_clamped_in_the_physics(empty_room, profile):
    world = SimWorld(empty_room, profile)
    drive(world, 5.0, 0.0, 2.0)
    assert world.odometry().linear_mps <= profile.max_linear_mps * 1.05


def test_base_stops_when_cmd_vel_goes_silent(empty_room, profile):
    world = SimWorld(empty_room, profile)
    drive(world, 0.2, 0.0, 1.0)
    for _ in range(100):  # 1 s without commands: past the 0.5 s timeout
        world.step()
    assert abs(world.odometry().linear_mps) < 0.01


def test_same_seed_same_episode(empty_room, profile):
    def episode(seed):
        world = SimWorld(empty_room, profile, seed=seed)
        drive(world, 0.2, 0.5, 2.0)
        return world.true_pose(), world.scan()

    (pose_a, scan_a), (pose_b, scan_b) = episode(7), episode(7)
    assert pose_a == pose_b
    assert np.array_equal(scan_a, scan_b)


def test_collision_with_wall_is_seen_in_ground_truth(empty_room, profile):
    world = SimWorld(empty_room, profile)
    touched = set()
    for _ in range(1400):  # 14 s at full speed towards a wall 2.9 m away
        world.command_base(0.26, 0.0)
        world.step()
        touched |= world.robot_contacts()
    assert touched == {"wall_east"}


def test_arm_follows_trajectory_within_limits(empty_room, profile):
    from sim_pkg.arm import TrajectoryPoint

    world = SimWorld(empty_room, profile)
    world.command_arm(
        ["joint1", "joint2"], [TrajectoryPoint(1.0, (0.5, 9.0))]
    )  # 9 rad: beyond limit
    for _ in range(200):
        world.step()
    q = dict(zip(world.joint_states().names, world.joint_states().positions, strict=True))
    assert q["joint1"] == pytest.approx(0.5, abs=0.05)
    assert q["joint2"] <= profile.arm_joints[1].upper + 0.05


def test_camera_renders_a_frame(empty_room, profile):
    world = SimWorld(empty_room, profile)
    frame = world.render_camera()
    world.close()
    assert frame.shape == (profile.camera_height_px, profile.camera_width_px, 3)
    assert frame.std() > 5  # walls, floor: not a blank image


def test_profile_error_is_located(tmp_path):
    bad = tmp_path / "bad.yaml"
    good = load_profile()
    text = good.source_path.read_text().replace("samples: 360", "samples: many")
    bad.write_text(text)
    with pytest.raises(ProfileError) as err:
        load_profile(bad)
    assert "bad.yaml:" in err.value.location and "lidar.samples" in err.value.location
    assert err.value.ko


def test_mjcf_is_valid_for_mujoco(empty_room, profile):
    from sim_pkg.mjcf import build_mjcf

    model = mujoco.MjModel.from_xml_string(*build_mjcf(empty_room, profile))
    assert model.nu == 2 + 4 + 1  # wheel motors, arm servos, gripper


def test_station_display_image_is_rendered_on_its_post(tmp_path, profile):
    import dataclasses

    import cv2

    from common_pkg.worldspec import Pose2D, Station, WorldSpec, _perimeter

    cv2.imwrite(str(tmp_path / "red.png"), np.full((90, 120, 3), (0, 0, 255), np.uint8))  # BGR red
    station = Station(
        "check", "검사", "check", 5, (2.0, 2.0), 0.0, 0.55, 0.12, tmp_path / "red.png", (0.16, 0.12)
    )
    spec = WorldSpec(
        (4.0, 4.0), _perimeter((4.0, 4.0), 1.0, 0.1), (), (station,), (), Pose2D(2.0, 2.0, 0.0)
    )
    world = SimWorld(spec, profile)
    world.step()
    frame = world.render_camera()
    world.close()
    h, w = frame.shape[:2]
    centre = frame[h // 2 - 20 : h // 2 + 20, w // 2 - 20 : w // 2 + 20].reshape(-1, 3).mean(axis=0)
    assert centre[0] > 150 and centre[1] < 80 and centre[2] < 80  # the red board, straight ahead
    assert dataclasses.replace(station, display_image=None).display_image is None


def test_sim_stamps_never_jump_back():
    from sim_pkg.nodes.bridge_node import sim_stamp

    stamps = [sim_stamp(i * 0.01) for i in range(1, 1001)]  # 10 ms steps, as the bridge adds them
    nanos = [s.sec * 10**9 + s.nanosec for s in stamps]
    assert all(b > a for a, b in itertools.pairwise(nanos))
    assert sim_stamp(5.9999999999) == sim_stamp(6.0)
