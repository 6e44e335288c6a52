"""scan_processor in its own process, on the simulator's /scan and /odom (real rclpy over DDS)."""

import math
from pathlib import Path

import numpy as np
import pytest
from geometry_msgs.msg import PointStamped, PoseArray
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import LaserScan

SCENARIO = Path(__file__).resolve().parents[2] / "curriculum_pkg/scenarios/banwol_plating_01.yaml"


def test_scan_processor_finds_the_nearest_wall_and_the_drum_ahead(ros_process, ros_node, profile):
    ros_process("sim_pkg.nodes.bridge_node", params={"scenario": SCENARIO, "real_time_factor": 2.0})
    ros_process("perception_pkg.nodes.scan_processor_node", params={"use_sim_time": True})
    nearest: list[PointStamped] = []
    obstacles: list[PoseArray] = []
    moving: list[PoseArray] = []
    filtered: list[LaserScan] = []
    ros_node.create_subscription(PointStamped, "/nearest_obstacle", nearest.append, 10)
    ros_node.create_subscription(PoseArray, "/obstacles", obstacles.append, 10)
    ros_node.create_subscription(PoseArray, "/moving_obstacles", moving.append, 10)
    ros_node.create_subscription(
        LaserScan, "/scan_filtered", filtered.append, qos_profile_sensor_data
    )
    assert ros_node.spin_until(
        lambda: min(len(nearest), len(obstacles), len(moving), len(filtered)) >= 5, 60
    ), (len(nearest), len(obstacles), len(moving), len(filtered))

    # The robot stands at (0.7, 0.9) facing +x; the lidar sits 24 mm behind base_link.
    lidar_x = 0.7 + profile.raw["lidar"]["mount_xyz_m"][0]
    expected_m = min(lidar_x, 0.9)  # the west wall behind, or the south wall to the right
    last = nearest[-1]
    assert last.header.frame_id == "base_scan"
    assert math.hypot(last.point.x, last.point.y) == pytest.approx(expected_m, abs=0.05)
    assert last.point.x < 0  # behind: the west wall, 0.676 m away

    # The chemical drum, centre (4.0, 0.8), 0.5 x 0.5 m: its west face 3.75 - 0.676 = 3.07 m ahead.
    centroids = [(p.position.x, p.position.y) for p in obstacles[-1].poses]
    assert obstacles[-1].header.frame_id == "base_scan"
    assert any(3.0 <= x <= 3.3 and abs(y) < 0.35 for x, y in centroids), centroids

    scan = filtered[-1]
    ranges = np.array(scan.ranges)
    assert scan.header.frame_id == "base_scan" and len(ranges) == profile.lidar_samples
    assert not (ranges == 0.0).any()  # REP 117: no return is +inf, not the driver's 0.0
    assert np.isposinf(ranges).any() and np.isfinite(ranges).sum() > 100

    # Nothing moves in the plant and the robot stands still: nothing is reported moving.
    reported = [
        (m.header.stamp.sec + m.header.stamp.nanosec * 1e-9, m.header.frame_id, m.poses)
        for m in moving
        if m.header.frame_id != "odom" or m.poses
    ]
    assert not reported, reported


def test_a_worker_crossing_the_room_is_published_moving_while_the_robot_drives(
    ros_process, ros_node, profile
):
    """The simulator runs in this process, so that the test can walk a worker through it (a free
    body moved at 0.5 m/s); the scan_processor runs in another and sees only /scan and /odom."""
    import mujoco
    from visualization_msgs.msg import Marker, MarkerArray

    from common_pkg.worldspec import Part, Pose2D, WorldSpec, _perimeter
    from sim_pkg.nodes.bridge_node import SimBridge, run_paced
    from sim_pkg.world import SimWorld

    worker = Part("worker", (3.0, 0.8), (0.4, 0.4, 1.7), 0.0, 60.0)
    room = WorldSpec(
        (5.0, 4.0), _perimeter((5.0, 4.0), 1.0, 0.1), (), (), (), Pose2D(1.0, 2.0, 0.0), (worker,)
    )
    world = SimWorld(room, profile, seed=4)
    bridge = SimBridge(world, context=ros_node.context)
    executor = ros_node.executor_for_test
    executor.add_node(bridge)
    ros_process("perception_pkg.nodes.scan_processor_node", params={"use_sim_time": True})
    moving: list[PoseArray] = []
    arrows: list[Marker] = []
    ros_node.create_subscription(PoseArray, "/moving_obstacles", moving.append, 10)
    ros_node.create_subscription(
        MarkerArray,
        "/moving_obstacles/markers",
        lambda msg: arrows.extend(m for m in msg.markers if m.ns == "velocity"),
        10,
    )
    assert ros_node.spin_until(
        lambda: ros_node.count_subscribers("/scan") > 0 and ros_node.count_subscribers("/odom") > 0,
        30,
    ), "scan_processor never subscribed"
    joint = world.model.joint("part_worker_free").id
    qpos, qvel = world.model.jnt_qposadr[joint], world.model.jnt_dofadr[joint]

    def walk_and_drive() -> None:
        world.command_base(0.15, 0.1)
        world.data.qpos[qpos : qpos + 2] = (3.0, 0.8 + 0.5 * world.time_s)
        world.data.qvel[qvel : qvel + 6] = 0.0
        mujoco.mj_forward(world.model, world.data)
        executor.spin_once(timeout_sec=0.0)

    run_paced(bridge, 2.8, real_time_factor=2.0, on_step=walk_and_drive)
    ros_node.spin_until(lambda: False, 0.5)  # the last messages in flight
    executor.remove_node(bridge)
    bridge.destroy_node()

    poses = [p for msg in moving for p in msg.poses]
    assert all(msg.header.frame_id == "odom" for msg in moving) and len(moving) >= 8
    assert len(poses) >= 5, f"the worker was seen moving in {len(poses)} of {len(moving)} scans"
    for p in poses:  # the worker's near face, x = 2.8 in the world = 1.8 in odom; nothing else
        heading = 2.0 * math.atan2(p.orientation.z, p.orientation.w)
        assert p.position.x == pytest.approx(1.8, abs=0.15) and -1.4 < p.position.y < 0.3
        assert heading == pytest.approx(math.pi / 2, abs=0.35)  # walking north (+y)
    assert np.median([a.scale.x for a in arrows]) == pytest.approx(0.5, abs=0.1)  # m/s
