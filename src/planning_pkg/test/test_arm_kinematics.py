import mujoco
import numpy as np
import pytest

from planning_pkg.arm_kinematics import (
    UnreachableError,
    forward_kinematics,
    inverse_kinematics,
    inverse_kinematics_batch,
    solve_ik,
)
from planning_pkg.trajectory import gripper_command, time_parameterize
from sim_pkg.world import SimWorld


def random_joints(geometry, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(geometry.lower_rad, geometry.upper_rad, size=(n, 4))


def angle_error(a, b):
    return np.abs((np.asarray(a) - b + np.pi) % (2 * np.pi) - np.pi)


def test_forward_kinematics_matches_mujoco_end_effector_site(geometry, profile, empty_room):
    world = SimWorld(empty_room, profile)
    model, data = world.model, world.data
    qpos = [model.jnt_qposadr[model.joint(name).id] for name in geometry.joint_names]
    link1, site = model.body("link1").id, model.site("end_effector").id
    for q in random_joints(geometry, 50):
        data.qpos[qpos] = q
        mujoco.mj_kinematics(model, data)
        rotation = data.xmat[link1].reshape(3, 3)
        in_link1 = rotation.T @ (data.site_xpos[site] - data.xpos[link1])
        np.testing.assert_allclose(forward_kinematics(geometry, q)[:3], in_link1, atol=1e-6)


def test_forward_kinematics_at_zero_points_up_then_forward_and_joint2_leans_forward(geometry):
    j1, j2, j3, j4, ee = (
        geometry.joint1_offset_m,
        geometry.joint2_offset_m,
        geometry.joint3_offset_m,
        geometry.joint4_offset_m,
        geometry.end_effector_offset_m,
    )
    x, y, z, pitch = forward_kinematics(geometry, np.zeros(4))
    assert x == pytest.approx(j1[0] + j2[0] + j3[0] + j4[0] + ee[0])
    assert z == pytest.approx(j1[2] + j2[2] + j3[2])
    assert (y, pitch) == (0.0, 0.0)
    leaning = forward_kinematics(geometry, np.array([0.0, 0.3, 0.0, 0.0]))
    assert leaning[0] > x and leaning[2] < z and leaning[3] == pytest.approx(0.3)


def test_forward_kinematics_takes_one_vector_or_a_batch(geometry):
    q = random_joints(geometry, 7)
    batch = forward_kinematics(geometry, q)
    assert batch.shape == (7, 4)
    np.testing.assert_allclose(forward_kinematics(geometry, q[3]), batch[3])


def test_every_ik_solution_is_within_limits_and_reaches_5000_random_targets(geometry):
    q_true = random_joints(geometry, 5000, seed=1)
    poses = forward_kinematics(geometry, q_true)
    counts = []
    for q, pose in zip(q_true, poses, strict=True):
        solutions = inverse_kinematics(geometry, pose[:3], pose[3])
        counts.append(len(solutions))
        assert solutions, f"no solution for a pose made by FK of {q}"
        reached = forward_kinematics(geometry, np.array(solutions))
        assert geometry.within_limits(np.array(solutions)).all()
        assert np.abs(reached[:, :3] - pose[:3]).max() < 1e-3
        assert angle_error(reached[:, 3], pose[3]).max() < 1e-9
        # the joint vector that made the target is one of the solutions
        assert min(angle_error(s, q).max() for s in solutions) < 1e-6
    assert max(counts) <= 4


def test_unreachable_target_has_no_solution_and_solve_ik_says_why_in_both_languages(geometry):
    far = np.array([1.0, 0.0, 0.2])
    assert inverse_kinematics(geometry, far, 0.0) == []
    with pytest.raises(UnreachableError) as caught:
        solve_ik(geometry, far, 0.0)
    assert isinstance(caught.value, ValueError)
    assert "out of the arm's reach" in str(caught.value)
    assert "닿지 않습니다" in str(caught.value)
    assert "(1.000, 0.000, 0.200)" in str(caught.value)


def test_solve_ik_picks_the_solution_closest_to_the_current_joints(geometry):
    poses = forward_kinematics(geometry, random_joints(geometry, 500, seed=2))
    pose = next(p for p in poses if len(inverse_kinematics(geometry, p[:3], p[3])) == 2)
    first, second = inverse_kinematics(geometry, pose[:3], pose[3])
    np.testing.assert_allclose(solve_ik(geometry, pose[:3], pose[3]), first)
    np.testing.assert_allclose(solve_ik(geometry, pose[:3], pose[3], second + 0.01), second)


def test_batch_ik_returns_the_first_scalar_solution_for_each_target(geometry):
    poses = forward_kinematics(geometry, random_joints(geometry, 300, seed=3))
    targets = np.vstack([poses[:, :3], [[1.0, 0.0, 0.2], [0.0, 0.0, -0.5]]])
    pitch = np.concatenate([poses[:, 3], [0.0, 0.0]])
    q, ok = inverse_kinematics_batch(geometry, targets, pitch)
    for target, p, q_row, ok_row in zip(targets, pitch, q, ok, strict=True):
        solutions = inverse_kinematics(geometry, target, p)
        assert ok_row == bool(solutions)
        if solutions:
            np.testing.assert_allclose(q_row, solutions[0], atol=1e-12)
        else:
            assert np.isnan(q_row).all()


def test_trajectory_stays_within_limits_and_hits_every_waypoint_together(geometry):
    waypoints = random_joints(geometry, 6, seed=4)
    waypoints[3] = waypoints[2]  # a repeated waypoint takes no time
    v_max = np.array(geometry.max_velocity_rps)
    a_max = np.array([6.0, 4.0, 8.0, 10.0])
    plan = time_parameterize(waypoints, v_max, a_max)
    assert plan.times_s[0] == 0.0 and np.all(np.diff(plan.times_s) >= 0.0)
    assert plan.times_s[3] == plan.times_s[2]
    np.testing.assert_allclose(plan.sample(plan.times_s), waypoints, atol=1e-12)
    np.testing.assert_allclose(plan.sample_velocity(plan.times_s), 0.0, atol=1e-12)

    dt = 1e-3
    t = np.arange(0.0, plan.duration_s + dt, dt)
    q, qd = plan.sample(t), plan.sample_velocity(t)
    assert np.all(np.abs(qd) <= v_max * (1 + 1e-9))
    assert np.all(np.abs(np.diff(q, axis=0)) / dt <= v_max * (1 + 1e-9))
    assert np.all(np.abs(np.diff(qd, axis=0)) / dt <= a_max * (1 + 1e-6))
    # time-optimal for each straight segment: some joint is at its velocity or acceleration limit
    for k in range(len(waypoints) - 1):
        if plan.times_s[k + 1] == plan.times_s[k]:
            continue
        inside = (t > plan.times_s[k]) & (t < plan.times_s[k + 1])
        speed = np.abs(qd[inside]).max(axis=0) / v_max
        accel = np.abs(np.diff(qd[inside], axis=0)).max(axis=0) / dt / a_max
        assert max(speed.max(), accel.max()) > 0.99


def test_trajectory_of_one_waypoint_holds_it(geometry):
    plan = time_parameterize(np.zeros((1, 4)), np.ones(4), np.ones(4))
    assert plan.duration_s == 0.0
    np.testing.assert_array_equal(plan.sample(5.0), np.zeros(4))


def test_trajectory_rejects_bad_limits():
    with pytest.raises(ValueError):
        time_parameterize(np.zeros((2, 4)), np.zeros(4), np.ones(4))


def test_gripper_command_opens_to_the_upper_limit_and_closes_to_the_lower(profile):
    assert gripper_command(True, profile) == profile.gripper.upper
    assert gripper_command(False, profile) == profile.gripper.lower
