"""Pick and place in the simulator with real contacts: the part rises by friction in the fingers."""

import numpy as np
import pytest

from planning_pkg.arm_kinematics import UnreachableError
from planning_pkg.pick_place import ArmMove, GripperMove, plan_pick_and_place
from planning_pkg.trajectory import gripper_command, time_parameterize
from sim_pkg.arm import TrajectoryPoint
from sim_pkg.world import SimWorld


def arm_q(world):
    js = world.joint_states()
    return np.array([js.positions[js.names.index(j.name)] for j in world.profile.arm_joints])


def to_base(world, xyz):
    """World point -> base_link of the (standing) robot."""
    pose = world.true_pose()
    local = pose.inverse_transform_point(np.asarray(xyz[:2]))
    return np.array([local[0], local[1], xyz[2] - world.profile.raw["base"]["base_link_height_m"]])


def execute(world, steps, part_name, speed_scale=0.5):
    """Run the plan as the bridge would: trajectories on the arm, positions on the gripper."""
    p = world.profile
    heights = []
    for step in steps:
        if isinstance(step, GripperMove):
            world.command_gripper(gripper_command(step.open, p))
            duration = 1.0
        else:
            waypoints = np.vstack([arm_q(world), step.waypoints_rad])
            plan = time_parameterize(
                waypoints,
                speed_scale * np.array([j.max_velocity for j in p.arm_joints]),
                speed_scale * np.array(p.arm_max_acceleration_rps2),
            )
            world.command_arm(
                [j.name for j in p.arm_joints],
                [
                    TrajectoryPoint(t, tuple(q))
                    for t, q in zip(plan.times_s[1:], plan.positions_rad[1:], strict=True)
                ],
            )
            duration = plan.duration_s + 1.0
        for _ in range(int(duration / p.control_period_s)):
            world.step()
            heights.append(world.part_positions()[part_name][2])
    return np.array(heights)


def test_pick_and_place_lifts_the_part_by_friction_and_puts_it_down(
    profile, geometry, workcell, part
):
    world = SimWorld(workcell, profile)
    for _ in range(50):
        world.step()  # let the part settle on the table
    start = world.part_positions()[part.name]
    place_world = start + np.array([0.0, 0.08, 0.0])
    steps = plan_pick_and_place(
        geometry,
        to_base(world, start),
        to_base(world, place_world),
        arm_q(world),
        np.array(profile.arm_home_rad),
    )
    heights = execute(world, steps, part.name)
    assert heights.max() > start[2] + 0.05  # lifted well clear of the table by the fingers
    end = world.part_positions()[part.name]
    assert np.linalg.norm(end[:2] - place_world[:2]) < 0.02  # put down where asked
    assert end[2] == pytest.approx(start[2], abs=0.01)  # standing on the table again
    assert not world.robot_contacts()  # the arm never hit the table


def test_unreachable_pick_is_refused_before_anything_moves(profile, geometry):
    with pytest.raises(UnreachableError) as err:
        plan_pick_and_place(
            geometry,
            np.array([0.8, 0.0, 0.05]),
            np.array([0.2, 0.0, 0.05]),
            np.zeros(4),
            np.array(profile.arm_home_rad),
        )
    assert "reach" in err.value.en and "닿지" in err.value.ko


def test_plan_is_a_complete_pick_place_sequence(profile, geometry):
    steps = plan_pick_and_place(
        geometry,
        np.array([0.17, 0.0, 0.075]),
        np.array([0.17, 0.08, 0.075]),
        np.array(profile.arm_home_rad),
        np.array(profile.arm_home_rad),
    )
    kinds = [(type(s).__name__, getattr(s, "open", None)) for s in steps]
    assert kinds == [
        ("GripperMove", True),
        ("ArmMove", None),
        ("GripperMove", False),
        ("ArmMove", None),
        ("GripperMove", True),
        ("ArmMove", None),
    ]
    for s in steps:
        if isinstance(s, ArmMove):
            assert geometry.within_limits(s.waypoints_rad).all()
