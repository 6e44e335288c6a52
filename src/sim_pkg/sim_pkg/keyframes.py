"""Keyframes of a moving actor for Gazebo: its own motion, sampled densely enough to replay.

A Gazebo actor follows a scripted trajectory: keyframes (time, pose) through which gz-common
draws a Catmull-Rom spline. The simulator's actor (common_pkg.actors) drives straight legs at a
constant speed, waits, and turns on the spot. Keyframes every few centimetres of driving, and
on both sides of every moment its motion changes, make the spline follow it to a few millimetres.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

KEYFRAME_SPACING_M = 0.05  # Gazebo's spline then stays within ~5 mm of the simulator's actor
TURN_S = 0.002  # the simulator's actors turn on the spot at once; Gazebo's, in 2 ms


def _moves_linearly(pose_at, t0: float, t1: float) -> bool:
    """Whether (x, y, yaw) changes linearly from t0 to t1, with a constant heading."""
    x0, y0, yaw0 = pose_at(t0)
    x1, y1, yaw1 = pose_at(t1)
    for f in (0.25, 0.5, 0.75):
        x, y, yaw = pose_at(t0 + f * (t1 - t0))
        if abs(math.remainder(yaw - yaw0, math.tau)) > 1e-9:
            return False
        if math.dist((x, y), (x0 + f * (x1 - x0), y0 + f * (y1 - y0))) > 1e-7:
            return False
    return abs(math.remainder(yaw1 - yaw0, math.tau)) <= 1e-9


def _motion_changes(pose_at, times) -> list[float]:
    """The moments (to 1e-7 s) at which a piecewise-linear motion turns, stops or starts, found
    by bisecting every interval between successive `times` in which it is not linear."""
    changes = []
    stack = list(itertools.pairwise(times))
    while stack:
        t0, t1 = stack.pop()
        if _moves_linearly(pose_at, t0, t1):
            continue
        if t1 - t0 < 1e-7:
            changes.append((t0 + t1) / 2)
            continue
        mid = (t0 + t1) / 2
        stack += [(t0, mid), (mid, t1)]
    return sorted(changes)


def actor_keyframes(actor) -> list[tuple[float, float, float, float]]:
    """(time_s, x, y, yaw_rad) keyframes of one period of an actor's motion, from sim time 0.

    They are the actor's own `pose_at()` (the one the simulator and the grader use), taken every
    KEYFRAME_SPACING_M of driving and on both sides of every moment its motion changes
    (a corner, a turn on the spot, a pause starting or ending). Gazebo runs a Catmull-Rom spline
    through keyframes; this densely, it stays within a centimetre of the simulator's actor.
    """
    period = actor.period_s
    count = math.ceil(period * actor.speed_mps / KEYFRAME_SPACING_M)
    grid = [period * i / count for i in range(count + 1)]
    times = set(grid)
    # A change at the period's end is one at its start: the loop closes with a turn there too.
    for change in [*_motion_changes(actor.pose_at, grid), period]:
        times.update((change - TURN_S / 2, change + TURN_S / 2))
    keyframes = []
    for t in sorted(t for t in times if 0.0 <= t <= period):
        if keyframes and t - keyframes[-1] < 1e-6:
            continue
        keyframes.append(t)
    poses = [actor.pose_at(t) for t in keyframes]
    # Unwrapped, so that the interpolation between two keyframes turns the short way.
    yaws = np.unwrap([yaw for _, _, yaw in poses])
    return [(t, x, y, float(yaw)) for t, (x, y, _), yaw in zip(keyframes, poses, yaws, strict=True)]
