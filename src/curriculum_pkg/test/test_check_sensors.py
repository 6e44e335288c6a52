"""The first-week checks (curriculum_pkg.checks.sensors) against a real simulator: a node that
reads the lidar and the odometry right scores 1; the usual mistakes and the cheap tricks do not.

The world is banwol_plating_01 in MuJoCo; the robot drives a fixed arc. Answers are built from
the very messages the bridge would publish (the noisy scan, the odometry), as a student's node
would see them."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geometry_msgs.msg import PointStamped
from std_msgs.msg import Float64

from common_pkg.profile import load_profile
from curriculum_pkg.checks import REGISTRY, StepTruth
from curriculum_pkg.scenario import load_scenario
from sim_pkg.world import SimWorld

STEPS = 1200  # 12 s of sim time
SCAN_EVERY = 20  # 5 Hz at a 10 ms control period


def nearest_valid(ranges: np.ndarray, profile) -> tuple[float, float] | None:
    valid = (ranges >= profile.lidar_range_min_m) & (ranges <= profile.lidar_range_max_m)
    if not valid.any():
        return None
    i = int(np.argmin(np.where(valid, ranges, np.inf)))
    return float(ranges[i]), i * 2 * math.pi / len(ranges)


def point(stamp: float, frame: str, r: float, bearing: float) -> PointStamped:
    msg = PointStamped()
    msg.header.frame_id = frame
    msg.header.stamp.sec = int(stamp)
    msg.header.stamp.nanosec = round((stamp - int(stamp)) * 1e9)
    msg.point.x, msg.point.y = r * math.cos(bearing), r * math.sin(bearing)
    return msg


def run(answer_scan=None, answer_odom=None, latency_steps: int = 2):
    """Drive the robot on an arc for STEPS control periods. `answer_scan(stamp, noisy ranges,
    profile)` -> messages to send about that scan; `answer_odom(odom)` -> a value or None.
    Answers arrive `latency_steps` later. Returns the two checks' results."""
    profile = load_profile()
    scenario = load_scenario("banwol_plating_01")
    world = SimWorld(scenario.world, profile, seed=3)
    nearest = REGISTRY["nearest_obstacle"]({"kind": "nearest_obstacle"}, scenario, profile)
    distance = REGISTRY["distance_travelled"]({"kind": "distance_travelled"}, scenario, profile)
    inbox: list[tuple[int, object, object]] = []  # (due step, check, msg)
    for step in range(STEPS):
        world.command_base(0.2, 0.3 if step > 300 else 0.0)
        world.step()
        scan_stamp = None
        if step % SCAN_EVERY == 0:
            ranges = world.scan()
            scan_stamp = world.time_s
            for msg in (answer_scan or (lambda *_: []))(scan_stamp, ranges, profile):
                inbox.append((step + latency_steps, nearest, msg))
        if step % 3 == 0 and answer_odom is not None:
            value = answer_odom(world.odometry())
            if value is not None:
                inbox.append((step + latency_steps, distance, Float64(data=value)))
        for _due, check, msg in [m for m in inbox if m[0] <= step]:
            check.on_message("", msg, world.time_s)
        inbox = [m for m in inbox if m[0] > step]
        truth = StepTruth(world.time_s, world.true_pose(), world, scan_stamp=scan_stamp)
        nearest.on_step(truth)
        distance.on_step(truth)
    world.close()
    return nearest.result(), distance.result()


def right_scan(stamp, ranges, profile):
    found = nearest_valid(ranges, profile)
    return [] if found is None else [point(stamp, profile.lidar_frame_id, *found)]


class Odometer:
    def __init__(self):
        self.last, self.total = None, 0.0

    def __call__(self, odom):
        if self.last is not None:
            self.total += math.hypot(odom.x - self.last[0], odom.y - self.last[1])
        self.last = (odom.x, odom.y)
        return self.total


def test_a_node_that_reads_the_sensors_right_scores_full_marks():
    nearest, distance = run(right_scan, Odometer())
    assert nearest.score == pytest.approx(1.0) and nearest.details["scans"] >= 50
    assert distance.score == pytest.approx(1.0) and distance.details["true_path_m"] > 1.5


def test_taking_the_invalid_zero_readings_as_obstacles_is_wrong():
    def naive(stamp, ranges, profile):  # min() over everything, 0.0 "no return" included
        i = int(np.argmin(ranges))
        return [point(stamp, profile.lidar_frame_id, float(ranges[i]), i * math.pi / 180)]

    nearest, _ = run(naive, Odometer())
    assert nearest.score < 0.5  # the plating plant is big: most turns have "no return" beams
    assert "distance 0.00 m" in nearest.en and "거리 0.00 m" in nearest.ko


def test_a_wrong_frame_or_a_made_up_stamp_does_not_count():
    def wrong_frame(stamp, ranges, profile):
        return [point(stamp, "base_link", *nearest_valid(ranges, profile))]

    def made_up_stamp(stamp, ranges, profile):
        return [point(stamp + 0.05, profile.lidar_frame_id, *nearest_valid(ranges, profile))]

    nearest, _ = run(wrong_frame)
    assert nearest.score == 0.0 and "frame_id is 'base_link'" in nearest.en
    nearest, _ = run(made_up_stamp)
    assert nearest.score == 0.0 and "answer at least 50% of the scans" in nearest.en


def test_guessing_many_bearings_for_one_scan_gains_nothing():
    def spray(stamp, ranges, profile):  # the right distance at every bearing: first one decides
        found = nearest_valid(ranges, profile)
        r = found[0]
        return [point(stamp, profile.lidar_frame_id, r, math.radians(a)) for a in range(0, 360, 2)]

    nearest, _ = run(spray)
    assert nearest.score < 0.3


def test_a_late_answer_does_not_count():
    nearest, _ = run(right_scan, latency_steps=80)  # 0.8 s after the scan: too late
    assert nearest.score == 0.0


def test_silence_and_a_constant_distance_score_nothing():
    nearest, distance = run(None, lambda _odom: 0.0)
    assert nearest.score == 0.0 and nearest.details["right"] == 0
    assert distance.score < 0.2  # zero is right only before the robot has gone 5 cm
    assert "the robot had gone" in distance.en


def test_a_flood_keeps_memory_bounded():
    def flood(stamp, ranges, profile):
        return [point(stamp - k * 0.01, profile.lidar_frame_id, 1.0, 0.0) for k in range(200)]

    nearest, _ = run(flood, latency_steps=1)
    assert nearest.score < 0.3


def test_scans_a_busy_machine_lost_cost_nothing_but_rare_answers_do():
    # /scan is best effort: a node that never got every other scan is not at fault ...
    seen = {"n": 0}

    def every(k):
        def answer(stamp, ranges, profile):
            seen["n"] += 1
            return right_scan(stamp, ranges, profile) if seen["n"] % k == 0 else []

        return answer

    nearest, _ = run(every(2))
    assert nearest.score == pytest.approx(1.0, abs=0.03)
    nearest, _ = run(every(4))  # ... one that answers a quarter of them is
    assert 0.4 < nearest.score < 0.7 and "answer at least 50% of the scans" in nearest.en
