"""Regulated pure pursuit, closed-loop in the simulator (in-process, no ROS)."""

import math

import numpy as np
import pytest

from common_pkg.worldspec import Block, Pose2D, WorldSpec, _perimeter
from planning_pkg.astar import plan_path, smooth_path
from planning_pkg.follower import FollowerConfig, follow_path, lookahead_point
from planning_pkg.grid import grid_from_world, inflate
from sim_pkg.world import SimWorld


def scan_points(world):
    p = world.profile
    ranges = world.scan().astype(float)
    angles = np.arange(ranges.size) * 2 * math.pi / ranges.size
    ok = (ranges >= p.lidar_range_min_m) & (ranges <= p.lidar_range_max_m)
    sx = p.raw["lidar"]["mount_xyz_m"][0]
    return np.stack([ranges[ok] * np.cos(angles[ok]) + sx, ranges[ok] * np.sin(angles[ok])], axis=1)


def drive(world, path_xy, seconds, cfg=None):
    """Follow with the wheel odometry (in the odom frame, where the path is given)."""
    cfg = cfg or FollowerConfig()
    cmd = None
    for step in range(int(seconds / world.profile.control_period_s)):
        if step % 5 == 0:  # 20 Hz controller
            odom = world.odometry()
            cmd = follow_path(
                path_xy, (odom.x, odom.y, odom.yaw), scan_points(world), odom.linear_mps, cfg
            )
            if cmd.arrived:
                return cmd
            world.command_base(cmd.linear_mps, cmd.angular_rps)
        world.step()
    return cmd


def test_lookahead_point_lies_on_the_path_at_the_lookahead_distance():
    path = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    point, _ = lookahead_point(path, 1.2)
    assert math.hypot(*point) == pytest.approx(1.2)
    assert point[0] == pytest.approx(1.0)


def test_follower_drives_a_planned_path_around_an_obstacle(profile):
    spec = WorldSpec(
        (5.0, 3.0),
        _perimeter((5.0, 3.0), 1.0, 0.1),
        (Block("crate", (2.5, 1.5), (0.6, 0.6), 0.8),),
        (),
        (),
        Pose2D(0.6, 1.5, 0.0),
    )
    world = SimWorld(spec, profile)
    grid = grid_from_world(spec, 0.05)
    cost = inflate(grid, 0.22, 0.6)
    path, _ = plan_path(cost, grid.world_to_cell((0.6, 1.5)), grid.world_to_cell((4.3, 1.5)))
    path_world = grid.cell_to_world(smooth_path(cost, path))
    start = world.odom_origin()
    path_odom = np.array([start.inverse_transform_point(p) for p in path_world])
    cmd = drive(world, path_odom, 60.0)
    assert cmd.arrived
    end = world.true_pose()
    assert math.hypot(end.x - 4.3, end.y - 1.5) < 0.15
    assert not world.robot_contacts()


def test_follower_stops_for_something_in_its_way(profile):
    spec = WorldSpec(
        (5.0, 3.0),
        _perimeter((5.0, 3.0), 1.0, 0.1),
        (Block("worker", (2.0, 1.5), (0.3, 0.3), 1.7),),
        (),
        (),
        Pose2D(0.6, 1.5, 0.0),
    )
    world = SimWorld(spec, profile)
    cmd = drive(world, np.array([[0.0, 0.0], [3.5, 0.0]]), 20.0)  # the path goes straight through
    assert cmd.blocked and not cmd.arrived
    assert world.true_pose().x < 2.0 - 0.15 - 0.1  # stopped short of the worker
    assert not world.robot_contacts()


def test_speed_respects_the_profile_limit_and_slows_on_approach():
    cfg = FollowerConfig(max_linear_mps=0.22)
    far = follow_path(np.array([[0, 0], [5.0, 0]]), (0, 0, 0), np.empty((0, 2)), 0.2, cfg)
    near = follow_path(np.array([[0, 0], [0.3, 0]]), (0, 0, 0), np.empty((0, 2)), 0.2, cfg)
    assert far.linear_mps == pytest.approx(0.22)
    assert 0 < near.linear_mps < far.linear_mps
