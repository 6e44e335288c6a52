"""The first-week checks: does the student's node read the lidar and the odometry right?

nearest_obstacle (geometry_msgs/PointStamped, in the lidar's frame, stamped with the scan's stamp)
    For every /scan the simulator published, the grader keeps the noiseless distances of that
    turn. The FIRST answer stamped with that scan's stamp decides it (later ones for the same
    scan are ignored, so guessing many bearings gains nothing): it is right when
      - it arrived within `max_age_s` of the scan (sim time),
      - its distance sqrt(x² + y²) is within the tolerance of the true nearest return, and
      - its bearing atan2(y, x) points (within `bearing_tolerance_deg`) at a beam whose true
        range is within that tolerance of the nearest too (two walls equally near are both right).
    The tolerance follows the lidar's noise model (3 σ at that range, plus 2 cm), so a node that
    takes the smallest VALID reading (the LDS-01 says 0.0 for "no return": skip those and
    anything outside range_min..range_max) is always right. Scans whose nearest true return lies
    within that tolerance of range_min or range_max (the noise may have dropped it) are not
    counted, nor scans with no return at all. Score: right answers / scans published after `warmup_s`, up to `max_age_s` before
    the end.

distance_travelled (std_msgs/Float64, metres since the start)
    The true path length of base_footprint, sampled every 0.1 s of sim time. At every whole
    second after `warmup_s` the latest value sent in the `max_age_s` before it is right when it
    lies within [truth `max_age_s` ago - tol, truth now + tol], tol = max(5 cm, 5 %): summing the
    steps between /odom messages is always right, wheel slip included. Score: right seconds /
    seconds counted.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np

from curriculum_pkg.checks.base import Check, CheckResult, StepTruth, register

MAX_SCANS_KEPT = 32  # truth of the latest scans waiting for their answer, by stamp
PATH_SAMPLE_S = 0.1
# Answers are judged by when they were SENT; they reach the check a little later (DDS, and the
# grader's own thread on a busy machine), so a second or a scan is decided this much later.
DECIDE_DELAY_S = 2.5
MAX_ANSWERS_KEPT = 256
# /scan is best effort, as the LDS-01 driver publishes it: on a busy machine a node may never
# get some scans, which is not its fault. Answering this share of the scans is full coverage.
MIN_COVERAGE = 0.5


def _stamp_s(header) -> float:
    return header.stamp.sec + header.stamp.nanosec * 1e-9


def _key(t: float) -> int:
    return round(t * 1000)  # ms: stamps are whole control periods


@register
class NearestObstacle(Check):
    kind = "nearest_obstacle"

    def __init__(self, spec, scenario, profile):
        super().__init__(spec, scenario, profile)
        self.topic = spec.get("topic", "/sensors/nearest_obstacle")
        self.max_age_s = float(spec.get("max_age_s", 0.5))
        self.warmup_s = float(spec.get("warmup_s", 1.0))
        self.bearing_tol = math.radians(float(spec.get("bearing_tolerance_deg", 3.0)))
        self.frame_id = profile.lidar_frame_id
        n = profile.lidar_samples
        self._angles = np.arange(n) * (2.0 * math.pi / n)  # index 0 ahead, counter-clockwise
        self._pending: OrderedDict[int, tuple[float, np.ndarray]] = OrderedDict()  # stamp -> truth
        self._decided: set[int] = set()
        self._t0: float | None = None
        self.counted = 0  # scans graded
        self.late = 0  # answers that came after max_age_s
        self.latest_late_s = 0.0
        self.right = 0
        self.wrong: dict[str, int] = {}  # reason -> answers
        self.first_problem: tuple[float, str, str] | None = None  # (t, en, ko)

    def topics(self):
        return [(self.topic, "geometry_msgs/msg/PointStamped")]

    def _tolerance(self, d: float) -> float:
        p = self.profile
        return 3.0 * max(p.lidar_noise_std_m, p.lidar_noise_std_fraction * d) + 0.02

    def on_step(self, truth: StepTruth) -> None:
        if self._t0 is None:
            self._t0 = truth.t
        if truth.scan_stamp is not None and truth.world.last_scan_truth is not None:
            ranges = truth.world.last_scan_truth
            p = self.profile
            valid = (ranges >= p.lidar_range_min_m) & (ranges <= p.lidar_range_max_m)
            nearest = float(ranges[valid].min()) if valid.any() else math.inf
            tol = self._tolerance(nearest)
            # Counted only when the noisy scan surely holds the nearest return: not when it lies
            # within the noise of range_min or range_max (the driver may have dropped it).
            clear = p.lidar_range_min_m + tol <= nearest <= p.lidar_range_max_m - tol
            if clear and truth.scan_stamp >= self._t0 + self.warmup_s:
                truth_ranges = np.where(valid, ranges, np.inf)
                self._pending[_key(truth.scan_stamp)] = (truth.scan_stamp, truth_ranges)
        # Scans whose answers are all in are decided: unanswered ones count as wrong.
        while self._pending:
            key, (stamp, _) = next(iter(self._pending.items()))
            waited = truth.t - stamp > self.max_age_s + DECIDE_DELAY_S
            if not waited and len(self._pending) <= MAX_SCANS_KEPT:
                break
            self._pending.popitem(last=False)
            if key not in self._decided:
                self._decided.add(key)
                self._grade(stamp, None, "no answer", "답 없음")

    def on_message(self, topic, msg, t_recv):
        key = _key(_stamp_s(msg.header))
        if key in self._decided or key not in self._pending:
            return  # already decided, or not a scan we are waiting for (never one the sim sent)
        stamp, ranges = self._pending[key]
        if t_recv - stamp > self.max_age_s:
            self.late += 1  # too late: it does not decide the scan (unanswered in time = wrong)
            self.latest_late_s = max(self.latest_late_s, t_recv - stamp)
            return
        self._decided.add(key)
        if msg.header.frame_id.lstrip("/") != self.frame_id:
            self._grade(
                stamp, False, f"frame_id is '{msg.header.frame_id}', not '{self.frame_id}'",
                f"frame_id가 '{msg.header.frame_id}'입니다 ('{self.frame_id}'이어야 합니다)",
            )  # fmt: skip
            return
        x, y = float(msg.point.x), float(msg.point.y)
        if not (math.isfinite(x) and math.isfinite(y)):
            self._grade(stamp, False, "the point is not a number", "점 좌표가 숫자가 아닙니다")
            return
        d, bearing = math.hypot(x, y), math.atan2(y, x)
        nearest = float(ranges.min())
        tol = self._tolerance(nearest)
        if abs(d - nearest) > tol:
            self._grade(
                stamp, False, f"distance {d:.2f} m, the nearest return is {nearest:.2f} m",
                f"거리 {d:.2f} m, 실제 가장 가까운 값은 {nearest:.2f} m",
            )  # fmt: skip
            return
        near = ranges <= nearest + tol
        off = np.abs((self._angles[near] - bearing + math.pi) % (2.0 * math.pi) - math.pi)
        if off.min() > self.bearing_tol:
            true_bearing = math.degrees(float(self._angles[int(np.argmin(ranges))]))
            true_bearing = (true_bearing + 180.0) % 360.0 - 180.0
            self._grade(
                stamp, False,
                f"bearing {math.degrees(bearing):.0f}°, the nearest return is at {true_bearing:.0f}°",
                f"방향 {math.degrees(bearing):.0f}°, 실제 가장 가까운 방향은 {true_bearing:.0f}°",
            )  # fmt: skip
            return
        self._grade(stamp, True, "", "")

    def _grade(self, stamp: float, ok: bool | None, en: str, ko: str) -> None:
        self.counted += 1
        if ok:
            self.right += 1
            return
        reason = "no answer" if ok is None else en.split(" ")[0]
        self.wrong[reason] = self.wrong.get(reason, 0) + 1
        if self.first_problem is None and ok is not None:
            self.first_problem = (round(stamp, 2), en, ko)

    def result(self) -> CheckResult:
        unanswered = self.wrong.get("no answer", 0)
        answered = self.counted - unanswered
        accuracy = self.right / answered if answered else 0.0
        coverage = min(1.0, answered / (MIN_COVERAGE * self.counted)) if self.counted else 0.0
        score = accuracy * coverage
        en = (
            f"nearest obstacle right for {self.right} of the {answered} scans answered "
            f"({self.counted} scans)"
        )
        ko = f"가장 가까운 장애물: 답한 스캔 {answered}개 중 {self.right}개 정답 (스캔 {self.counted}개)"
        if coverage < 1.0:
            en += f"; answer at least {MIN_COVERAGE:.0%} of the scans within {self.max_age_s:g} s"
            ko += f"; 스캔의 {MIN_COVERAGE:.0%} 이상에 {self.max_age_s:g}초 안에 답해야 합니다"
        if self.first_problem is not None:
            t, p_en, p_ko = self.first_problem
            en += f"; first miss at {t:.1f} s: {p_en}"
            ko += f"; 첫 오답 {t:.1f}초: {p_ko}"
        details = {
            "scans": self.counted,
            "right": self.right,
            "wrong": dict(self.wrong),
            "late_answers": self.late,
            "latest_late_s": round(self.latest_late_s, 3),
        }
        return CheckResult(self.kind, round(score, 4), en, ko, details)


@register
class DistanceTravelled(Check):
    kind = "distance_travelled"

    def __init__(self, spec, scenario, profile):
        super().__init__(spec, scenario, profile)
        self.topic = spec.get("topic", "/sensors/distance_travelled")
        self.max_age_s = float(spec.get("max_age_s", 0.5))
        self.warmup_s = float(spec.get("warmup_s", 1.0))
        self._t0: float | None = None
        self._last_xy: tuple[float, float] | None = None
        self._next_sample = -math.inf
        self._path_m = 0.0
        self._history: list[tuple[float, float]] = []  # (t, path) over the last max_age_s
        self._answers: list[tuple[float, float]] = []  # (sim time sent, value), in order
        self._next_second: float | None = None
        self.counted = 0
        self.right = 0
        self.first_problem: tuple[float, str, str] | None = None

    def topics(self):
        return [(self.topic, "std_msgs/msg/Float64")]

    def on_message(self, topic, msg, t_recv):
        self._answers.append((t_recv, float(msg.data)))
        if len(self._answers) > MAX_ANSWERS_KEPT:
            del self._answers[: len(self._answers) - MAX_ANSWERS_KEPT]

    def on_step(self, truth: StepTruth) -> None:
        t = truth.t
        if self._t0 is None:
            self._t0, self._next_second = t, math.floor(t + self.warmup_s) + 1.0
        if t >= self._next_sample:
            self._next_sample = t + PATH_SAMPLE_S - 1e-9
            if self._last_xy is not None:
                self._path_m += math.hypot(
                    truth.pose.x - self._last_xy[0], truth.pose.y - self._last_xy[1]
                )
            self._last_xy = (truth.pose.x, truth.pose.y)
            self._history.append((t, self._path_m))
            keep_s = self.max_age_s + DECIDE_DELAY_S + 1.0
            while self._history and self._history[0][0] < t - keep_s:
                self._history.pop(0)
        while t + 1e-9 >= self._next_second + DECIDE_DELAY_S:
            self._grade_second(self._next_second)
            self._next_second += 1.0

    def _path_at(self, t: float) -> float:
        before = [path for when, path in self._history if when <= t + 1e-9]
        return before[-1] if before else 0.0

    def _grade_second(self, s: float) -> None:
        lo_truth, hi_truth = self._path_at(s - self.max_age_s), self._path_at(s)
        tol = max(0.05, 0.05 * hi_truth)
        self.counted += 1
        sent = [(when, v) for when, v in self._answers if s - self.max_age_s <= when <= s + 1e-9]
        self._answers = [(when, v) for when, v in self._answers if when > s - self.max_age_s]
        if not sent:
            problem = (
                f"nothing published in the {self.max_age_s:g} s before",
                f"그 전 {self.max_age_s:g}초 동안 발행한 값이 없습니다",
            )
        else:
            value = sent[-1][1]  # the latest sent by then
            if math.isfinite(value) and lo_truth - tol <= value <= hi_truth + tol:
                self.right += 1
                return
            problem = (
                f"said {value:.2f} m, the robot had gone {hi_truth:.2f} m",
                f"{value:.2f} m라고 했지만 로봇은 {hi_truth:.2f} m 움직였습니다",
            )
        if self.first_problem is None:
            self.first_problem = (round(s, 2), *problem)

    def result(self) -> CheckResult:
        score = self.right / self.counted if self.counted else 0.0
        en = f"distance travelled right at {self.right}/{self.counted} s"
        ko = f"이동 거리: {self.counted}초 중 {self.right}초 정답"
        if self.first_problem is not None:
            t, p_en, p_ko = self.first_problem
            en += f"; first miss at {t:.1f} s: {p_en}"
            ko += f"; 첫 오답 {t:.1f}초: {p_ko}"
        details = {
            "seconds": self.counted,
            "right": self.right,
            "true_path_m": round(self._path_m, 3),
        }
        return CheckResult(self.kind, round(score, 4), en, ko, details)
