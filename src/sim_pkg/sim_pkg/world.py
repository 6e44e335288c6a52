"""SimWorld: the MuJoCo physics of one scenario with the robot in it (ROS-free).

It steps the physics, applies commands within the profile's limits, and produces what the
robot's sensors would: lidar ranges, camera frames, wheel odometry and joint states. It moves
the scenario's workers and forklifts along their paths in sim time. The true pose, the actors'
poses and the contacts are available too, for the grader only; the bridge never publishes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from common_pkg.profile import RobotProfile
from common_pkg.worldspec import Pose2D, WorldSpec
from sim_pkg.arm import Trajectory, TrajectoryPoint, make_trajectory, rate_limit, sample_trajectory
from sim_pkg.lidar import apply_range_model, ray_directions
from sim_pkg.mjcf import ROBOT_GROUP, WORLD_GROUP, build_mjcf
from sim_pkg.mjcf_actors import actor_body_name
from sim_pkg.mjcf_robot import ROBOT_ROOT_BODY
from sim_pkg.odometry import OdomState, clamp_twist, integrate_wheels, twist_to_wheel_speeds


@dataclass(frozen=True)
class JointStates:
    names: tuple[str, ...]
    positions: np.ndarray
    velocities: np.ndarray


class SimWorld:
    """One simulated episode. Deterministic for a given scenario, profile, seed and command stream."""

    def __init__(self, spec: WorldSpec, profile: RobotProfile, seed: int = 0):
        self.spec = spec
        self.profile = profile
        self.mjcf, self.assets = build_mjcf(spec, profile)
        self.model = mujoco.MjModel.from_xml_string(self.mjcf, self.assets)
        self.data = mujoco.MjData(self.model)
        self._rng = np.random.default_rng(seed)
        self.last_scan_truth: np.ndarray | None = None  # see scan()
        self._substeps = max(1, round(profile.control_period_s / profile.physics_timestep_s))
        m = self.model
        self._root_body = m.body(ROBOT_ROOT_BODY).id
        self._lidar_site = m.site("lidar_site").id
        self._wheel_qpos = [m.jnt_qposadr[m.joint(n).id] for n in profile.wheel_joint_names]
        self._wheel_act = [m.actuator("wheel_left_motor").id, m.actuator("wheel_right_motor").id]
        arm_names = [j.name for j in profile.arm_joints]
        self._arm_qpos = [m.jnt_qposadr[m.joint(n).id] for n in arm_names]
        self._arm_act = [m.actuator(f"{n}_servo").id for n in arm_names]
        self._grip_act = m.actuator("gripper_servo").id
        self._state_joints = (
            *profile.wheel_joint_names,
            *arm_names,
            profile.gripper.name,
            profile.gripper_mimic_joint,
        )
        self._state_qpos = [m.jnt_qposadr[m.joint(n).id] for n in self._state_joints]
        self._state_qvel = [m.jnt_dofadr[m.joint(n).id] for n in self._state_joints]
        self._robot_bodies = self._subtree(self._root_body)
        self._part_bodies = {part.name: m.body(f"part_{part.name}").id for part in spec.parts}
        self._part_geoms = {m.geom(f"part_{part.name}").id for part in spec.parts}
        # Actors are mocap bodies: SimWorld sets their poses, the physics only meets them.
        self._actor_mocap = [m.body_mocapid[m.body(actor_body_name(a)).id] for a in spec.actors]
        actor_bodies = {m.body(actor_body_name(a)).id: a.contact_name for a in spec.actors}
        self._actor_geoms = {
            g: actor_bodies[int(m.geom_bodyid[g])]
            for g in range(m.ngeom)
            if int(m.geom_bodyid[g]) in actor_bodies
        }
        self._lidar_groups = np.zeros(6, dtype=np.uint8)
        self._lidar_groups[WORLD_GROUP] = 1  # the lidar sees the world, not the robot's own arm
        self._renderer = None
        self._camera = m.camera("front_camera").id
        self._displays = {
            st.id: m.geom(f"display_{st.id}").id for st in spec.stations if st.display_image
        }

        # Start with the arm at home, the gripper open and the wheels still.
        home = np.array(profile.arm_home_rad)
        for adr, q in zip(self._arm_qpos, home, strict=True):
            self.data.qpos[adr] = q
        self.data.ctrl[self._arm_act] = home
        self._arm_ctrl = home.copy()
        self._arm_traj: Trajectory | None = None
        self.data.ctrl[self._grip_act] = profile.gripper.upper
        self._place_actors(0.0)
        mujoco.mj_forward(m, self.data)
        self._cmd = (0.0, 0.0)
        self._cmd_time_s = -math.inf
        self._odom = OdomState(
            left_rad=self.data.qpos[self._wheel_qpos[0]],
            right_rad=self.data.qpos[self._wheel_qpos[1]],
        )
        self._odom_time_s = 0.0
        self._odom_origin = self.true_pose()  # odometry starts at zero where the robot starts

    # ------------------------------------------------------------------ commands
    def command_base(self, linear_mps: float, angular_rps: float) -> tuple[float, float]:
        """Set the base velocity command; returns it after clamping to the profile's limits."""
        p = self.profile
        self._cmd = clamp_twist(linear_mps, angular_rps, p.max_linear_mps, p.max_angular_rps)
        self._cmd_time_s = self.time_s
        return self._cmd

    def command_arm(self, joint_names: list[str], points: list[TrajectoryPoint]) -> None:
        current = np.array([self.data.qpos[a] for a in self._arm_qpos])
        self._arm_traj = make_trajectory(
            joint_names, points, self.time_s, current, self.profile.arm_joints
        )

    def command_gripper(self, position_m: float) -> float:
        pos = (
            self.profile.gripper.clamp(position_m)
            if math.isfinite(position_m)
            else self.profile.gripper.upper
        )
        self.data.ctrl[self._grip_act] = pos
        return pos

    # ------------------------------------------------------------------ stepping
    @property
    def time_s(self) -> float:
        return float(self.data.time)

    def step(self) -> None:
        """Advance one control period: apply commands, then step the physics."""
        p = self.profile
        v, w = self._cmd if self.time_s - self._cmd_time_s <= p.cmd_vel_timeout_s else (0.0, 0.0)
        left, right = twist_to_wheel_speeds(v, w, p.wheel_radius_m, p.wheel_separation_m)
        self.data.ctrl[self._wheel_act[0]] = left
        self.data.ctrl[self._wheel_act[1]] = right
        dt = p.control_period_s
        if self._arm_traj is not None:
            target = sample_trajectory(self._arm_traj, self.time_s + dt)
            vmax = np.array([j.max_velocity for j in p.arm_joints])
            self._arm_ctrl = rate_limit(self._arm_ctrl, target, vmax, dt)
            self.data.ctrl[self._arm_act] = self._arm_ctrl
        # The actors jump to where they are at the end of this period: the physics then meets
        # them there in every substep, and the sensors read after step() see them there.
        self._place_actors(self.time_s + self._substeps * self.model.opt.timestep)
        mujoco.mj_step(self.model, self.data, nstep=self._substeps)
        self._integrate_odometry()

    def _place_actors(self, t_s: float) -> None:
        for actor, mocap in zip(self.spec.actors, self._actor_mocap, strict=True):
            x, y, yaw = actor.pose_at(t_s)
            self.data.mocap_pos[mocap] = (x, y, 0.0)
            self.data.mocap_quat[mocap] = (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))

    # ------------------------------------------------------------------ sensors
    def scan(self) -> np.ndarray:
        """One lidar turn: `samples` ranges in metres, index 0 straight ahead, counter-clockwise."""
        p = self.profile
        origin = self.data.site_xpos[self._lidar_site].copy()
        rot = self.data.site_xmat[self._lidar_site].reshape(3, 3)
        yaw = math.atan2(rot[1, 0], rot[0, 0])
        dirs = ray_directions(p.lidar_samples, yaw)
        dist = np.empty(p.lidar_samples)
        geomid = np.empty(p.lidar_samples, dtype=np.int32)
        mujoco.mj_multiRay(
            self.model,
            self.data,
            origin,
            dirs.ravel(),
            self._lidar_groups,
            1,
            -1,
            geomid,
            dist,
            None,
            p.lidar_samples,
            p.lidar_range_max_m + 1.0,
        )
        # The noiseless distances of this turn, for the grader (inf: nothing within reach).
        self.last_scan_truth = np.where(dist < 0.0, np.inf, dist)
        return apply_range_model(
            dist,
            p.lidar_range_min_m,
            p.lidar_range_max_m,
            p.lidar_noise_std_m,
            p.lidar_noise_std_fraction,
            self._rng,
            p.lidar_invalid_value,
        )

    def odometry(self) -> OdomState:
        """Wheel odometry in the odom frame (zero where the robot started)."""
        return self._odom

    def _integrate_odometry(self) -> None:
        p = self.profile
        left = float(self.data.qpos[self._wheel_qpos[0]])
        right = float(self.data.qpos[self._wheel_qpos[1]])
        dt = self.time_s - self._odom_time_s
        self._odom = integrate_wheels(
            self._odom, left, right, dt, p.wheel_radius_m, p.wheel_separation_m
        )
        self._odom_time_s = self.time_s

    def joint_states(self) -> JointStates:
        return JointStates(
            self._state_joints,
            self.data.qpos[self._state_qpos].copy(),
            self.data.qvel[self._state_qvel].copy(),
        )

    def render_camera(self) -> np.ndarray:
        """One RGB frame (height x width x 3, uint8) from the forward camera, through EGL."""
        if self._renderer is None:
            p = self.profile
            self._renderer = mujoco.Renderer(self.model, p.camera_height_px, p.camera_width_px)
            flags = self._renderer.scene.flags
            for flag in (
                mujoco.mjtRndFlag.mjRND_SHADOW,
                mujoco.mjtRndFlag.mjRND_REFLECTION,
                mujoco.mjtRndFlag.mjRND_SKYBOX,
                mujoco.mjtRndFlag.mjRND_HAZE,
            ):
                flags[flag] = False
        self._renderer.update_scene(self.data, camera="front_camera")
        return self._renderer.render()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    # ------------------------------------------------------------------ ground truth (grader only)
    def true_pose(self) -> Pose2D:
        """The robot's true base_footprint pose in the world frame."""
        pos = self.data.xpos[self._root_body]
        quat = self.data.xquat[self._root_body]  # w, x, y, z
        yaw = math.atan2(
            2 * (quat[0] * quat[3] + quat[1] * quat[2]), 1 - 2 * (quat[2] ** 2 + quat[3] ** 2)
        )
        return Pose2D(float(pos[0]), float(pos[1]), yaw)

    def odom_origin(self) -> Pose2D:
        """Where the odom frame's origin lies in the world (the true start pose)."""
        return self._odom_origin

    def displays_in_view(self, max_range_m: float) -> set[str]:
        """Stations whose item on display has its centre inside the forward camera's field of
        view, no farther than `max_range_m`: the grader's evidence that the camera could see it
        (occlusion is not checked). MuJoCo cameras look along their -z axis, y up."""
        p = self.profile
        position = self.data.cam_xpos[self._camera]
        to_camera = self.data.cam_xmat[self._camera].reshape(3, 3).T
        tan_h, tan_v = math.tan(p.camera_hfov_rad / 2), math.tan(p.camera_vfov_rad / 2)
        seen = set()
        for station_id, geom in self._displays.items():
            x, y, z = to_camera @ (self.data.geom_xpos[geom] - position)
            depth = -z
            if (
                depth > 0
                and math.sqrt(x * x + y * y + z * z) <= max_range_m
                and abs(x) <= depth * tan_h
                and abs(y) <= depth * tan_v
            ):
                seen.add(station_id)
        return seen

    def part_positions(self) -> dict[str, np.ndarray]:
        """True centre of every loose part, in the world frame."""
        return {name: self.data.xpos[body].copy() for name, body in self._part_bodies.items()}

    def actor_poses(self) -> dict[str, Pose2D]:
        """True pose of every worker and forklift (actor id -> pose), in the world frame."""
        return {actor.id: Pose2D(*actor.pose_at(self.time_s)) for actor in self.spec.actors}

    def robot_contacts(self) -> set[str]:
        """Names of world geoms the robot is touching right now: not the floor, and not the loose
        parts, which the robot is meant to handle. A worker or forklift is named `actor:<id>`,
        whichever of its geoms was touched."""
        touched = set()
        m, d = self.model, self.data
        floor = m.geom("floor").id
        for i in range(d.ncon):
            c = d.contact[i]
            g1, g2 = int(c.geom1), int(c.geom2)
            r1 = m.geom_bodyid[g1] in self._robot_bodies
            r2 = m.geom_bodyid[g2] in self._robot_bodies
            if r1 != r2:
                other = g2 if r1 else g1
                if (
                    other != floor
                    and other not in self._part_geoms
                    and m.geom_group[other] != ROBOT_GROUP
                ):
                    touched.add(
                        self._actor_geoms.get(other)
                        or mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_GEOM, other)
                        or f"geom{other}"
                    )
        return touched

    def _subtree(self, root: int) -> set[int]:
        bodies = {root}
        for b in range(self.model.nbody):
            parent = b
            while parent != 0:
                if parent == root:
                    bodies.add(b)
                    break
                parent = self.model.body_parentid[parent]
        return bodies
