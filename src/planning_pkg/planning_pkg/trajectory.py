"""Time-parameterized arm joint trajectories (ROS-free, numpy in, numpy out).

Each segment between two waypoints is a straight line in joint space, travelled with one
trapezoidal speed profile shared by all joints: they start together, stay within their own
velocity and acceleration limits, and arrive together. The arm comes to rest at every waypoint
(rest-to-rest), which is the time-optimal profile for that straight line but not for the whole
path; blending through waypoints is left to a later issue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from common_pkg.profile import RobotProfile


@dataclass(frozen=True, eq=False)
class JointTrajectoryPlan:
    """Waypoints with arrival times, and the speed profile of each segment.

    times_s (K,) start at 0 and never decrease (a repeated waypoint takes no time); positions_rad
    (K, J) are the waypoints. Segment k runs from waypoint k to k+1 along the path parameter
    s in [0, 1]: accelerating at peak_rate_ps / accel_time_s for accel_time_s, cruising at
    peak_rate_ps (1/s), then decelerating symmetrically.
    """

    times_s: np.ndarray
    positions_rad: np.ndarray
    accel_time_s: np.ndarray
    peak_rate_ps: np.ndarray

    @property
    def duration_s(self) -> float:
        return float(self.times_s[-1])

    def _path_state(self, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Segment index, path parameter s and its rate ds/dt (1/s) at the times t_s (M,)."""
        t = np.clip(t_s, 0.0, self.duration_s)
        n_segments = len(self.times_s) - 1
        if n_segments == 0:
            return np.zeros(t.shape, dtype=int), np.ones_like(t), np.zeros_like(t)
        k = np.clip(np.searchsorted(self.times_s, t, side="right") - 1, 0, n_segments - 1)
        tau = t - self.times_s[k]
        seg_duration = self.times_s[k + 1] - self.times_s[k]
        ta, vp = self.accel_time_s[k], self.peak_rate_ps[k]
        accel = np.divide(vp, ta, out=np.zeros_like(vp), where=ta > 0)
        remaining = seg_duration - tau
        s = np.where(
            tau < ta,
            0.5 * accel * tau**2,
            np.where(remaining < ta, 1.0 - 0.5 * accel * remaining**2, vp * (tau - 0.5 * ta)),
        )
        rate = np.where(tau < ta, accel * tau, np.where(remaining < ta, accel * remaining, vp))
        done = seg_duration <= 0.0
        return k, np.where(done, 1.0, np.clip(s, 0.0, 1.0)), np.where(done, 0.0, rate)

    def sample(self, t_s: float | np.ndarray) -> np.ndarray:
        """Joint positions (rad) at time(s) t_s: (J,) for a scalar, (M, J) for an array.

        Times before 0 or after the end hold the first or last waypoint.
        """
        t = np.asarray(t_s, dtype=float)
        k, s, _ = self._path_state(np.atleast_1d(t))
        start = self.positions_rad[k]
        end = self.positions_rad[np.minimum(k + 1, len(self.times_s) - 1)]
        q = start + s[:, None] * (end - start)
        return q[0] if t.ndim == 0 else q

    def sample_velocity(self, t_s: float | np.ndarray) -> np.ndarray:
        """Joint velocities (rad/s) at time(s) t_s, shaped like `sample`."""
        t = np.asarray(t_s, dtype=float)
        k, _, rate = self._path_state(np.atleast_1d(t))
        start = self.positions_rad[k]
        end = self.positions_rad[np.minimum(k + 1, len(self.times_s) - 1)]
        qd = rate[:, None] * (end - start)
        return qd[0] if t.ndim == 0 else qd


def time_parameterize(
    waypoints_rad: np.ndarray,
    max_velocity_rps: np.ndarray,
    max_acceleration_rps2: np.ndarray,
) -> JointTrajectoryPlan:
    """Fastest rest-to-rest timing of the waypoints (K, J) under per-joint limits (J,).

    Per segment, the shared path parameter s gets the tightest limits of the joints that move:
    ds/dt <= min v_j / |d_j| and d2s/dt2 <= min a_j / |d_j|, with d_j the joint's travel.
    """
    q = np.atleast_2d(np.asarray(waypoints_rad, dtype=float))
    v_max = np.asarray(max_velocity_rps, dtype=float)
    a_max = np.asarray(max_acceleration_rps2, dtype=float)
    if q.ndim != 2 or q.shape[0] < 1 or not np.all(np.isfinite(q)):
        raise ValueError(f"waypoints must be a finite (K, J) array with K >= 1, got {q.shape}")
    if v_max.shape != (q.shape[1],) or a_max.shape != (q.shape[1],):
        raise ValueError(f"velocity and acceleration limits must have shape ({q.shape[1]},)")
    if np.any(v_max <= 0) or np.any(a_max <= 0):
        raise ValueError("velocity and acceleration limits must be positive")

    travel = np.abs(np.diff(q, axis=0))  # (K-1, J)
    with np.errstate(divide="ignore"):
        rate_limit = np.min(np.where(travel > 0, v_max / travel, np.inf), axis=1)
        accel_limit = np.min(np.where(travel > 0, a_max / travel, np.inf), axis=1)
    moving = np.isfinite(rate_limit)
    rate_limit, accel_limit = np.where(moving, rate_limit, 1.0), np.where(moving, accel_limit, 1.0)
    # Trapezoid over s in [0, 1]; a triangle when the peak rate is never reached.
    triangle = rate_limit**2 / accel_limit >= 1.0
    accel_time = np.where(triangle, np.sqrt(1.0 / accel_limit), rate_limit / accel_limit)
    peak_rate = accel_limit * accel_time
    duration = np.where(triangle, 2.0 * accel_time, 1.0 / rate_limit + rate_limit / accel_limit)
    duration = np.where(moving, duration, 0.0)
    times = np.concatenate([[0.0], np.cumsum(duration)])
    return JointTrajectoryPlan(
        times_s=times,
        positions_rad=q,
        accel_time_s=np.where(moving, accel_time, 0.0),
        peak_rate_ps=np.where(moving, peak_rate, 0.0),
    )


def gripper_command(open: bool, profile: RobotProfile) -> float:
    """gripper_left_joint position (m) that opens (upper limit) or closes (lower limit) the hand."""
    return float(profile.gripper.upper if open else profile.gripper.lower)
