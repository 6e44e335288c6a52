"""Pick and place as a sequence of arm moves and gripper commands (ROS-free).

approach above the part -> descend -> close -> lift -> carry above the place -> lower -> open
-> retreat -> home. Positions are in base_link (REP-103); the gripper points as steeply down as
the arm can reach at each spot (from vertical towards horizontal), and every waypoint goes
through the analytic IK, so an unreachable pick or place is refused before anything moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planning_pkg.arm_kinematics import ArmGeometry, UnreachableError, solve_ik


@dataclass(frozen=True)
class ArmMove:
    """Move the arm through these joint waypoints (rad, joint1..joint4), from where it is."""

    waypoints_rad: np.ndarray  # (K, 4)
    label: str


@dataclass(frozen=True)
class GripperMove:
    open: bool
    label: str


@dataclass(frozen=True)
class PickPlaceConfig:
    approach_height_m: float = 0.06  # above the grasp point before descending
    lift_height_m: float = 0.08
    # The end_effector site sits at the finger tips; grasp this far above the part's centre so
    # the pads close on its middle.
    grasp_offset_m: float = 0.012
    pitch_candidates_rad: tuple[float, ...] = tuple(np.linspace(np.pi / 2, 0.0, 19))


def _reachable_pitch(
    geom: ArmGeometry, points_base: list[np.ndarray], cfg: PickPlaceConfig, current_q: np.ndarray
) -> tuple[float, list[np.ndarray]]:
    """The steepest pitch at which every point is reachable, and the IK solutions, each chosen
    closest to the previous one so that the arm moves smoothly between them."""
    mount = np.array(geom.mount_xyz_m)
    last_error: UnreachableError | None = None
    for pitch in cfg.pitch_candidates_rad:
        try:
            q_prev, solutions = current_q, []
            for p in points_base:
                q_prev = solve_ik(geom, p - mount, pitch, q_prev)
                solutions.append(q_prev)
            return pitch, solutions
        except UnreachableError as err:
            last_error = err
    assert last_error is not None
    raise last_error


def plan_pick_and_place(
    geom: ArmGeometry,
    pick_base_m: np.ndarray,
    place_base_m: np.ndarray,
    current_q: np.ndarray,
    home_q: np.ndarray,
    cfg: PickPlaceConfig = PickPlaceConfig(),
) -> list[ArmMove | GripperMove]:
    """The whole sequence for a part whose centre is at `pick_base_m`, put down at `place_base_m`.

    Raises UnreachableError (bilingual) if the pick or the place cannot be reached.
    """
    up = np.array([0.0, 0.0, 1.0])
    grasp = np.asarray(pick_base_m, dtype=float) + cfg.grasp_offset_m * up
    release = np.asarray(place_base_m, dtype=float) + cfg.grasp_offset_m * up
    _, (above_pick, at_pick, lifted) = _reachable_pitch(
        geom,
        [grasp + cfg.approach_height_m * up, grasp, grasp + cfg.lift_height_m * up],
        cfg,
        current_q,
    )
    _, (above_place, at_place, retreat) = _reachable_pitch(
        geom,
        [release + cfg.lift_height_m * up, release, release + cfg.approach_height_m * up],
        cfg,
        lifted,
    )
    return [
        GripperMove(True, "open / 그리퍼 열기"),
        ArmMove(np.array([above_pick, at_pick]), "approach and descend / 접근 후 내려가기"),
        GripperMove(False, "grasp / 잡기"),
        ArmMove(np.array([lifted, above_place, at_place]), "lift and carry / 들어 올려 옮기기"),
        GripperMove(True, "release / 놓기"),
        ArmMove(np.array([retreat, home_q]), "retreat and go home / 물러나서 홈 자세로"),
    ]
