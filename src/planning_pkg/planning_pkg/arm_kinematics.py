"""Forward and inverse kinematics of the OpenMANIPULATOR-X (ROS-free, numpy in, numpy out).

Conventions (REP-103: x forward, y left, z up, metres and radians):

- Positions are in the **link1 frame**: link1 is bolted to base_link at `mount_xyz_m`, with no
  rotation, so a point in base_link is `p_link1 = p_base_link - mount_xyz_m`.
- joint1 turns about +z; joints 2-4 turn about +y, where a positive angle turns +z towards +x
  (positive joint2 leans the arm forward and down). At q = 0 the arm points straight up to joint3,
  then forward.
- **Pitch** is the angle of the end-effector x axis below the horizontal, measured in the arm's
  vertical plane in the direction the arm faces (joint1's yaw): pitch = q2 + q3 + q4. 0 = tool
  horizontal and pointing away from joint1, +pi/2 = tool pointing straight down.

The "reach over the back" solutions turn joint1 by pi and keep the pitch, so a horizontal tool then
points back towards joint1; for pitch = +-pi/2 (vertical tool) both approaches are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common_pkg.profile import RobotProfile

_REACH_TOL = 1e-9  # slack on |cos(elbow)| <= 1 and on the joint limits, for rounding only
_SAME_SOLUTION_RAD = 1e-9


class UnreachableError(ValueError):
    """No joint vector within the limits puts the end effector at the target with that pitch."""

    def __init__(self, en: str, ko: str):
        self.en = en
        self.ko = ko
        super().__init__(f"{en} / {ko}")


@dataclass(frozen=True)
class ArmGeometry:
    """The arm's joint origins (each relative to its parent link, in metres) and joint limits."""

    joint_names: tuple[str, ...]
    mount_xyz_m: tuple[float, float, float]  # link1 in base_link
    joint1_offset_m: tuple[float, float, float]  # joint1 origin in link1
    joint2_offset_m: tuple[float, float, float]
    joint3_offset_m: tuple[float, float, float]
    joint4_offset_m: tuple[float, float, float]
    end_effector_offset_m: tuple[float, float, float]  # end_effector site in link5
    lower_rad: tuple[float, ...]
    upper_rad: tuple[float, ...]
    max_velocity_rps: tuple[float, ...]

    @classmethod
    def from_profile(cls, profile: RobotProfile) -> ArmGeometry:
        arm = profile.raw["arm"]

        def vec(key: str) -> tuple[float, float, float]:
            x, y, z = (float(v) for v in arm[key])
            return (x, y, z)

        return cls(
            joint_names=tuple(j.name for j in profile.arm_joints),
            mount_xyz_m=vec("mount_xyz_m"),
            joint1_offset_m=vec("joint1_offset_m"),
            joint2_offset_m=vec("joint2_offset_m"),
            joint3_offset_m=vec("joint3_offset_m"),
            joint4_offset_m=vec("joint4_offset_m"),
            end_effector_offset_m=vec("end_effector_offset_m"),
            lower_rad=tuple(float(j.lower) for j in profile.arm_joints),
            upper_rad=tuple(float(j.upper) for j in profile.arm_joints),
            max_velocity_rps=tuple(float(j.max_velocity) for j in profile.arm_joints),
        )

    def within_limits(self, q: np.ndarray, tol_rad: float = _REACH_TOL) -> np.ndarray:
        """True where every joint of q ((4,) or (N, 4)) is inside its limits."""
        q = np.asarray(q, dtype=float)
        inside = (q >= np.array(self.lower_rad) - tol_rad) & (
            q <= np.array(self.upper_rad) + tol_rad
        )
        return inside.all(axis=-1)


def _wrap(angle_rad: np.ndarray) -> np.ndarray:
    """Wrap to [-pi, pi)."""
    return (angle_rad + np.pi) % (2.0 * np.pi) - np.pi


def forward_kinematics(geom: ArmGeometry, q: np.ndarray) -> np.ndarray:
    """End-effector pose for joint vectors q of shape (4,) or (N, 4).

    Returns [x, y, z, pitch_rad] with the same leading shape: (4,) or (N, 4). The position is the
    end_effector site in the link1 frame, the pitch is q2 + q3 + q4 (see the module docstring).
    """
    q = np.asarray(q, dtype=float)
    q1, q2, q3, q4 = np.moveaxis(q, -1, 0)
    a, b, c = q2, q2 + q3, q2 + q3 + q4
    j1, j2, j3, j4, ee = (
        geom.joint1_offset_m,
        geom.joint2_offset_m,
        geom.joint3_offset_m,
        geom.joint4_offset_m,
        geom.end_effector_offset_m,
    )
    # In joint1's frame: Ry(t) maps (x, y, z) to (x cos t + z sin t, y, -x sin t + z cos t).
    r = j2[0]
    z = j1[2] + j2[2]
    for (ox, _, oz), angle in ((j3, a), (j4, b), (ee, c)):
        r = r + ox * np.cos(angle) + oz * np.sin(angle)
        z = z - ox * np.sin(angle) + oz * np.cos(angle)
    lateral_m = j2[1] + j3[1] + j4[1] + ee[1]  # y offsets survive the pitch joints unchanged
    x = j1[0] + r * np.cos(q1) - lateral_m * np.sin(q1)
    y = j1[1] + r * np.sin(q1) + lateral_m * np.cos(q1)
    return np.stack([x, y, z, c], axis=-1)


def _ik_candidates(
    geom: ArmGeometry, targets_xyz: np.ndarray, pitch_rad: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All four closed-form candidates per target: q (N, 4, 4) and valid (N, 4).

    Candidate order is the preference order: front elbow-up, front elbow-down, back elbow-up,
    back elbow-down. "Front" has joint1 facing the target, "back" is joint1 + pi with the arm
    reaching over its top. "Elbow-up" is the one of the two mirror images with joint3 higher.
    """
    j1, j2, j3, j4, ee = (
        np.array(v)
        for v in (
            geom.joint1_offset_m,
            geom.joint2_offset_m,
            geom.joint3_offset_m,
            geom.joint4_offset_m,
            geom.end_effector_offset_m,
        )
    )
    dx, dy = targets_xyz[:, 0] - j1[0], targets_xyz[:, 1] - j1[1]
    lateral_m = j2[1] + j3[1] + j4[1] + ee[1]
    rho_sq = dx**2 + dy**2
    reach_m = np.sqrt(np.maximum(rho_sq - lateral_m**2, 0.0))
    lateral_ok = rho_sq >= lateral_m**2 - _REACH_TOL

    # Planar 2-link problem in the arm's vertical plane (r along the arm, z up): the wrist centre
    # (joint4) is the target minus the tool vector at the requested pitch.
    c = pitch_rad
    tool_r = ee[0] * np.cos(c) + ee[2] * np.sin(c)
    tool_z = -ee[0] * np.sin(c) + ee[2] * np.cos(c)
    upper_len, fore_len = np.hypot(j3[0], j3[2]), np.hypot(j4[0], j4[2])
    # Angles of the link vectors at zero joint angle (atan2(z, x)); Ry(t) lowers them by t.
    upper_angle, fore_angle = np.arctan2(j3[2], j3[0]), np.arctan2(j4[2], j4[0])
    wz = targets_xyz[:, 2] - tool_z - (j1[2] + j2[2])

    qs, valid = [], []
    for side in (1.0, -1.0):  # front, back
        r = side * reach_m
        q1 = np.arctan2(dy, dx) - np.arctan2(lateral_m, r)
        wr = r - tool_r - j2[0]
        cos_elbow = (wr**2 + wz**2 - upper_len**2 - fore_len**2) / (2.0 * upper_len * fore_len)
        reachable = lateral_ok & (np.abs(cos_elbow) <= 1.0 + _REACH_TOL)
        elbow = np.arccos(np.clip(cos_elbow, -1.0, 1.0))
        branches = []
        for bend in (elbow, -elbow):
            # wrist = e^{i alpha} (L_upper + L_fore e^{-i bend}), alpha = upper link's angle
            alpha = np.arctan2(wz, wr) - np.arctan2(
                -fore_len * np.sin(bend), upper_len + fore_len * np.cos(bend)
            )
            a = upper_angle - alpha
            b = fore_angle - alpha + bend
            q = np.stack([q1, a, b - a, c - b], axis=-1)
            branches.append((_wrap(q), np.sin(alpha)))
        (q_pos, h_pos), (q_neg, h_neg) = branches
        pos_is_up = (h_pos >= h_neg)[:, None]
        qs += [np.where(pos_is_up, q_pos, q_neg), np.where(pos_is_up, q_neg, q_pos)]
        valid += [reachable, reachable]
    q_all = np.stack(qs, axis=1)
    ok = np.stack(valid, axis=1) & geom.within_limits(q_all)
    lower, upper = np.array(geom.lower_rad), np.array(geom.upper_rad)
    return np.clip(q_all, lower, upper), ok


def _as_targets(targets_xyz: np.ndarray, pitch_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    targets = np.atleast_2d(np.asarray(targets_xyz, dtype=float))
    if targets.ndim != 2 or targets.shape[1] != 3:
        raise ValueError(f"targets must have shape (3,) or (N, 3), got {targets.shape}")
    pitch = np.broadcast_to(np.asarray(pitch_rad, dtype=float), (targets.shape[0],))
    return targets, pitch


def inverse_kinematics(
    geom: ArmGeometry, target_xyz: np.ndarray, pitch_rad: float
) -> list[np.ndarray]:
    """Every joint vector (4,) within the limits that reaches target_xyz (link1 frame, m) with
    the tool at pitch_rad, in preference order (see `_ik_candidates`); [] if there is none.

    Closed form: joint1 from atan2, then a planar 2-link problem for the wrist centre, whose first
    link (joint2 to joint3) is tilted by atan2(0.024, 0.128) from the vertical.
    """
    targets, pitch = _as_targets(target_xyz, pitch_rad)
    if targets.shape[0] != 1:
        raise ValueError("inverse_kinematics takes one target; use inverse_kinematics_batch")
    q_all, ok = _ik_candidates(geom, targets, pitch)
    solutions: list[np.ndarray] = []
    for q in q_all[0][ok[0]]:
        if all(np.max(np.abs(q - s)) > _SAME_SOLUTION_RAD for s in solutions):
            solutions.append(q)
    return solutions


def solve_ik(
    geom: ArmGeometry,
    target_xyz: np.ndarray,
    pitch_rad: float,
    current_q: np.ndarray | None = None,
) -> np.ndarray:
    """The IK solution closest to current_q (largest joint move smallest), or the preferred one.

    Raises UnreachableError (a ValueError) with a Korean and English message if there is none.
    """
    solutions = inverse_kinematics(geom, target_xyz, pitch_rad)
    if not solutions:
        x, y, z = np.asarray(target_xyz, dtype=float).reshape(3)
        where = f"({x:.3f}, {y:.3f}, {z:.3f}) m"
        raise UnreachableError(
            f"target {where} at pitch {pitch_rad:.3f} rad is out of the arm's reach "
            "(link1 frame, joint limits included)",
            f"목표 위치 {where}, 피치 {pitch_rad:.3f} rad에 팔이 닿지 않습니다 "
            "(link1 기준, 관절 한계 포함)",
        )
    if current_q is None:
        return solutions[0]
    current = np.asarray(current_q, dtype=float)
    return min(solutions, key=lambda q: float(np.max(np.abs(q - current))))


def inverse_kinematics_batch(
    geom: ArmGeometry, targets_xyz: np.ndarray, pitch_rad: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One solution per target, vectorized: q (N, 4) and ok (N,) bool.

    targets_xyz is (N, 3) in the link1 frame, pitch_rad is (N,) or a scalar. Each row holds the
    first valid solution in the same preference order as `inverse_kinematics`; rows where ok is
    False hold NaN.
    """
    targets, pitch = _as_targets(targets_xyz, pitch_rad)
    q_all, valid = _ik_candidates(geom, targets, pitch)
    ok = valid.any(axis=1)
    first = np.argmax(valid, axis=1)
    q = q_all[np.arange(targets.shape[0]), first]
    q[~ok] = np.nan
    return q, ok
