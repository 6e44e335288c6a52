"""Judge one episode from ground truth (ROS-free): tasks done in order, collisions, time in
keep-out and hot zones.

- navigate: the robot's base_footprint stays within station_radius_m of the stop point for dwell_s;
- pick:     the part is held at least lift_m above where it started, for dwell_s;
- place:    the part rests within place_radius_m of the target, back at its starting height (so
            it is standing on a surface, not held), for dwell_s;
- inspect:  evidence before credit: only reports (on /inspection/report) that arrive after a
            camera frame the simulator published showed the item (in view, within range) count;
            the first of those must name the item's true label. A wrong one fails the task for
            good, and the job goes on with the next one. Reports that came before the camera had
            seen the item are ignored, and listed.
- report:   the end-of-shift report to the MES terminal at a station: the first shift report (on
            /shift/report) that comes while the robot stands within station_radius_m of it must
            list exactly the tasks carried out before it (their names, e.g. "navigate:press
            pick:bracket", in any order; an inspection whose verdict was wrong was carried out
            too): claiming a task not carried out, or leaving one out, fails the task.

Zones (the robot's base_footprint inside the rectangle): seconds in keep-out zones add up in
`keep_out_s`; seconds in hot zones (in front of a furnace door) in `hot_s`, and each of those
seconds weighed by its zone's `penalty_per_s` in `hot_penalty` (where hot zones overlap, the
hottest counts). Entering either kind of zone is an event.

Safety around people: touching a worker or a forklift is a collision like any other (the
simulator names it `actor:<id>`). Near a worker the judge also measures the clearance from the
robot's base_footprint to the worker's edge, and counts a near miss each time the robot drives
(faster than NEAR_MISS_MIN_SPEED_MPS) within NEAR_MISS_DISTANCE_M of a worker; the next one with
that worker counts only after the robot has left that distance. Workers move as a pure function
of sim time (common_pkg.actors), so the judge knows where they are from the scenario alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from common_pkg.worldspec import Pose2D, WorldSpec, Zone
from curriculum_pkg.checks.base import CheckResult
from curriculum_pkg.scenario import Scenario, Task

COLLISION_DEBOUNCE_S = 0.5  # touching the same thing again within this time is the same collision
REST_HEIGHT_TOLERANCE_M = 0.01
NEAR_MISS_DISTANCE_M = 0.5  # from the worker's edge to the robot's base_footprint
NEAR_MISS_MIN_SPEED_MPS = 0.05  # slower than this, the robot counts as standing
SPEED_WINDOW_S = 0.1  # the robot's speed is measured over this much sim time (physics jitter)


@dataclass(frozen=True)
class EpisodeEvent:
    """A moment worth seeing again in the replay (`rootroute view`): a task done or failed, a
    collision, entering a keep-out or hot zone, a near miss, a safety mux intervention."""

    kind: str  # task_done | task_failed | collision | keep_out | hot_zone | near_miss | mux_intervention
    t_s: float
    en: str
    ko: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "t_s": self.t_s, "en": self.en, "ko": self.ko}


@dataclass
class EpisodeMetrics:
    tasks_total: int
    tasks_done: list[str] = field(default_factory=list)  # task names, e.g. "navigate:rinse_check"
    tasks_failed: list[str] = field(
        default_factory=list
    )  # e.g. "inspect:pcb_check said good, is scratch"
    # inspections reported before the camera had seen the item: (sim time, station key, label)
    unseen_reports: list[tuple[float, str, str]] = field(default_factory=list)
    task_times_s: list[float] = field(default_factory=list)
    completion_time_s: float | None = None
    collisions: list[tuple[float, str]] = field(default_factory=list)  # (sim time, what was hit)
    keep_out_s: float = 0.0
    hot_s: float = 0.0  # seconds in hot zones
    hot_penalty: float = 0.0  # sum over those seconds of the zone's penalty_per_s (safety score)
    mux_interventions: int = 0  # times the safety mux overrode a command (when the graph has one)
    sim_time_s: float = 0.0
    trajectory: list[tuple[float, float, float]] = field(
        default_factory=list
    )  # (t, x, y) world frame
    parts_final: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    # Smallest clearance between the robot's base_footprint and a worker's edge (None: no workers)
    min_worker_clearance_m: float | None = None
    near_misses: list[tuple[float, str]] = field(default_factory=list)  # (sim time, worker id)
    # The assignment's checks (curriculum_pkg.checks), when it has any: then they, not the
    # scenario's steps, make the task score
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.completion_time_s is not None

    @property
    def progress(self) -> float:
        if self.checks:
            total = sum(c.weight for c in self.checks)
            return sum(c.score * c.weight for c in self.checks) / total if total else 0.0
        return len(self.tasks_done) / self.tasks_total if self.tasks_total else 0.0


class EpisodeJudge:
    """Fed the true pose, contacts and part positions every control period by the grader."""

    def __init__(self, scenario: Scenario, world: WorldSpec, trajectory_period_s: float = 0.2):
        self.scenario = scenario
        self.world = world
        self.metrics = EpisodeMetrics(tasks_total=len(scenario.tasks))
        self._part_start_z = {p.name: p.base_z_m + p.size_xyz[2] / 2 for p in world.parts}
        self._holding_since: float | None = None
        self._last_touch: dict[str, float] = {}
        self._last_sample = -math.inf
        self._period = trajectory_period_s
        self._last_t: float | None = None
        self._next = 0  # index of the task being worked on
        self._workers = [a for a in world.actors if a.kind == "worker"]
        self._near: set[str] = set()  # workers the robot is within NEAR_MISS_DISTANCE_M of
        self._speed_ref: tuple[float, float, float] | None = None  # (t, x, y)
        self._speed_mps = 0.0
        self._seen_at: dict[str, float] = {}  # station id -> when a published frame first showed it
        self._unseen_counted: set[tuple[str, float, str]] = set()
        self._in_keep_out = False
        self._in_hot: Zone | None = None  # the hot zone the robot is in
        self._arrived_at: float | None = None  # report: when the robot reached the station
        self._carried_out_failed: set[str] = set()  # names of tasks done wrong (inspect verdicts)
        self._events: list[EpisodeEvent] = []

    def drain_events(self) -> list[EpisodeEvent]:
        """The events since the last call (the grader records them in the episode's MCAP)."""
        events, self._events = self._events, []
        return events

    def _event(self, kind: str, t: float, en: str, ko: str) -> None:
        self._events.append(EpisodeEvent(kind, round(t, 3), en, ko))

    @property
    def done(self) -> bool:
        return self._next >= len(self.scenario.tasks)

    def update(
        self,
        t: float,
        pose: Pose2D,
        contacts: set[str],
        parts: dict[str, np.ndarray] | None = None,
        reports: dict[str, list[tuple[float, str]]] | None = None,
        seen: set[str] = frozenset(),
        shift_reports: list[tuple[float, str]] = (),
    ) -> None:
        """`parts`: true part centres; `reports`: inspection reports per station key, (sim time,
        label) in order; `seen`: stations whose item a camera frame published now showed;
        `shift_reports`: (sim time, text) of the end-of-shift reports, in order."""
        m = self.metrics
        parts = parts or {}
        dt = 0.0 if self._last_t is None else t - self._last_t
        self._last_t = t
        m.sim_time_s = t
        m.parts_final = {
            name: tuple(round(float(v), 4) for v in xyz) for name, xyz in parts.items()
        }
        if t - self._last_sample >= self._period:
            m.trajectory.append((round(t, 3), round(pose.x, 4), round(pose.y, 4)))
            self._last_sample = t
        self._judge_zones(t, dt, pose)
        for thing in contacts:
            if t - self._last_touch.get(thing, -math.inf) > COLLISION_DEBOUNCE_S:
                m.collisions.append((round(t, 3), thing))
                en, ko = describe_contact(thing, self.world)
                self._event("collision", t, f"collision with {en}", f"충돌: {ko}")
            self._last_touch[thing] = t
        if self._workers:
            self._watch_workers(t, pose)
        for station_id in seen:
            self._seen_at.setdefault(station_id, t)
        if self.done:
            return
        task = self.scenario.tasks[self._next]
        if task.kind == "inspect":
            said = self._first_report_with_evidence(task.station_id, (reports or {}))
            if said is not None and said == task.expected_label:
                self._finish(task, t)
            elif said is not None:
                m.tasks_failed.append(f"{task.name} said {said}, is {task.expected_label}")
                self._carried_out_failed.add(task.name)
                self._event(
                    "task_failed", t, f"{task.name}: reported {said}, is {task.expected_label}",
                    f"{task.name}: {said}(으)로 보고, 실제는 {task.expected_label}",
                )  # fmt: skip
                self._advance(t)
            return
        if task.kind == "report":
            self._judge_report(task, t, pose, parts, shift_reports)
            return
        if not self._condition_met(task, pose, parts):
            self._holding_since = None
            return
        if self._holding_since is None:
            self._holding_since = t
        if t - self._holding_since >= self.scenario.dwell_s:
            self._finish(task, t)

    def _judge_report(self, task: Task, t: float, pose: Pose2D, parts, shift_reports) -> None:
        if not self._condition_met(task, pose, parts):
            self._arrived_at = None
            return
        if self._arrived_at is None:
            self._arrived_at = t
        said = next((text for when, text in shift_reports if when >= self._arrived_at), None)
        if said is None:
            return
        m = self.metrics
        claimed, done = set(said.split()), set(m.tasks_done) | self._carried_out_failed
        if claimed == done:
            self._finish(task, t)
            return
        wrong = sorted(claimed - done) or ["-"]
        missing = sorted(done - claimed) or ["-"]
        m.tasks_failed.append(
            f"{task.name} claimed {' '.join(wrong)} not done, left out {' '.join(missing)}"
        )
        self._event(
            "task_failed", t, f"{task.name}: the report does not match what was done",
            f"{task.name}: 보고 내용이 실제 한 일과 다릅니다",
        )  # fmt: skip
        self._advance(t)

    def _judge_zones(self, t: float, dt: float, pose: Pose2D) -> None:
        m = self.metrics
        here = np.array([pose.x, pose.y])
        inside = [z for z in self.world.zones if z.contains(here)]
        zone = next((z for z in inside if z.kind == "keep_out"), None)
        if zone is not None:
            m.keep_out_s += dt
            if not self._in_keep_out:
                self._event(
                    "keep_out", t, f"entered keep-out zone {zone.name_en}",
                    f"출입 금지 구역 진입: {zone.name_ko}",
                )  # fmt: skip
        self._in_keep_out = zone is not None
        hot = max(
            (z for z in inside if z.kind == "hot"), key=lambda z: z.penalty_per_s, default=None
        )
        if hot is not None:
            m.hot_s += dt
            m.hot_penalty += hot.penalty_per_s * dt
            if hot is not self._in_hot:
                self._event(
                    "hot_zone", t, f"entered hot zone {hot.name_en} (-{hot.penalty_per_s:g}/s)",
                    f"고온 구역 진입: {hot.name_ko} (초당 -{hot.penalty_per_s:g})",
                )  # fmt: skip
        self._in_hot = hot

    def _first_report_with_evidence(
        self, station_id: str, reports: dict[str, list[tuple[float, str]]]
    ) -> str | None:
        """The first label reported for the station after the camera saw its item; reports that
        came before are noted in metrics.unseen_reports (once each) and do not count."""
        seen_at = self._seen_at.get(station_id)
        for when, label in reports.get(station_id, ()):
            if seen_at is not None and when >= seen_at:
                return label
            if (station_id, when, label) not in self._unseen_counted:
                self._unseen_counted.add((station_id, when, label))
                self.metrics.unseen_reports.append((round(when, 3), station_id, label))
        return None

    def _watch_workers(self, t: float, pose: Pose2D) -> None:
        m = self.metrics
        if self._speed_ref is None or t - self._speed_ref[0] >= SPEED_WINDOW_S:
            if self._speed_ref is not None:
                t0, x0, y0 = self._speed_ref
                self._speed_mps = math.hypot(pose.x - x0, pose.y - y0) / (t - t0)
            self._speed_ref = (t, pose.x, pose.y)
        for worker in self._workers:
            x, y, _ = worker.pose_at(t)
            clearance = math.hypot(pose.x - x, pose.y - y) - worker.radius_m
            if m.min_worker_clearance_m is None or clearance < m.min_worker_clearance_m:
                m.min_worker_clearance_m = round(clearance, 3)
            if clearance >= NEAR_MISS_DISTANCE_M:
                self._near.discard(worker.id)
            elif worker.id not in self._near and self._speed_mps > NEAR_MISS_MIN_SPEED_MPS:
                m.near_misses.append((round(t, 3), worker.id))
                self._event(
                    "near_miss", t, f"near miss with worker {worker.id}",
                    f"아차사고: 작업자 {worker.id}",
                )  # fmt: skip
                self._near.add(worker.id)

    def _finish(self, task: Task, t: float) -> None:
        self.metrics.tasks_done.append(task.name)
        self.metrics.task_times_s.append(round(t, 3))
        if task.kind == "navigate":
            station = self.scenario.station(task.station_id)
            en, ko = f"station reached: {station.name_en}", f"스테이션 도착: {station.name_ko}"
        else:
            en, ko = f"task done: {task.name}", f"과제 완료: {task.name}"
        self._event("task_done", t, en, ko)
        self._advance(t)

    def _advance(self, t: float) -> None:
        """On to the next task; the job is complete when the last one ends and none failed."""
        self._holding_since = None
        self._arrived_at = None
        self._next += 1
        if self.done and not self.metrics.tasks_failed:
            self.metrics.completion_time_s = round(t, 3)

    def _condition_met(self, task: Task, pose: Pose2D, parts: dict[str, np.ndarray]) -> bool:
        s = self.scenario
        if task.kind in ("navigate", "report"):
            stop = s.station(task.station_id).stop_xy
            return math.hypot(pose.x - stop[0], pose.y - stop[1]) <= s.station_radius_m
        where = parts.get(task.part)
        if where is None:
            return False
        start_z = self._part_start_z[task.part]
        if task.kind == "pick":
            return where[2] >= start_z + s.lift_m
        near = (
            math.hypot(where[0] - task.target_xy[0], where[1] - task.target_xy[1])
            <= s.place_radius_m
        )
        return near and abs(where[2] - start_z) <= REST_HEIGHT_TOLERANCE_M


def describe_contact(thing: str, world: WorldSpec) -> tuple[str, str]:
    """(en, ko) name of what the robot hit: "worker w1" / "작업자 w1" for an actor, else the
    simulator's geom name (a wall, an obstacle, a station post)."""
    for actor in world.actors:
        if thing == actor.contact_name:
            return f"{actor.kind} {actor.id}", f"{actor.kind_ko} {actor.id}"
    return thing, thing
