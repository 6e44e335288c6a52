"""Grade one submission against one assignment, end to end.

plan the episodes (the visible variants; hidden ones only with the teacher's secret) -> install
-> lease a ROS domain -> per episode: start the simulator, the platform's nodes, then the
student's, check the live graph, run the episode judged from ground truth, kill the process tree
-> score -> result.json, report.md, trajectory plot. A bad submission gets a located, bilingual
error and a score of 0; the grader itself never crashes because a student's code did.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from common_pkg.distro import check_distro, graph_env
from common_pkg.profile import RobotProfile, load_profile
from curriculum_pkg import handoff
from curriculum_pkg.assignment import Assignment, for_distro
from curriculum_pkg.cgroups import MEMORY_LIMIT_BYTES, RunCgroup
from curriculum_pkg.checks import Check, StepTruth, make_checks, variant_problem, vets_variants
from curriculum_pkg.episode import EpisodeJudge, EpisodeMetrics
from curriculum_pkg.errors import GraderFault, LocatedError, SubmissionError
from curriculum_pkg.graphcheck import Finding, check_interfaces, check_rates
from curriculum_pkg.hidden import SECRET_ENV, GradingSecret, redraw_seed
from curriculum_pkg.processes import (
    SINGLE_THREADED_MATH,
    NodeProcess,
    become_subreaper,
    kill_all,
    reap_orphans,
    start_node,
    track_descendants,
)
from curriculum_pkg.recording import RecordingSummary, episode_topics
from curriculum_pkg.ros.replay_channels import ReplayChannels
from curriculum_pkg.ros.session import RosSession, SimEpisode, run_paced
from curriculum_pkg.sandbox import (
    FILE_SIZE_LIMIT_BYTES,
    Limits,
    Sandbox,
    SandboxInfo,
    log_limit_bytes,
    mount_install_space,
    platform_paths,
)
from curriculum_pkg.scenario import Scenario
from curriculum_pkg.scoring import Criterion, score_episode, total_points
from curriculum_pkg.submission import (
    PLATFORM_PACKAGES,
    InstalledSubmission,
    install_submission,
)
from curriculum_pkg.timing import make_pacer, unfair_reason
from sim_pkg.domain import DomainLease, lease_domain
from sim_pkg.lockstep import PacingReport, ThreadWatch
from sim_pkg.world import SimWorld

CHECK_EVERY_STEPS = 100  # processes and spoofers are checked every second of sim time
SETTLE_AFTER_DONE_S = 0.5
FLOOD_RATE_HZ = (
    150.0  # a required topic faster than this (sim time) floods; controllers need <= 100
)
FLOOD_CHECK_STEPS = 300  # ... checked every 3 s of sim time, so a flood ends the episode early
DISCOVERY_SETTLE_S = 0.5  # after the grader's endpoints matched, for the nodes' own matches
CLOCK_CHANNEL_PREFIX = "/rootroute/clock_"  # + the process's place in the graph
PLATFORM_SETTLE_S = (
    0.5  # after the platform's required topics appear, for the rest of its endpoints
)
# An inspection counts only after a published camera frame showed the item this close (its
# centre inside the field of view): the stop point is ~0.5 m from the display.
INSPECT_RANGE_M = 1.5


@dataclass
class EpisodeResult:
    scenario_id: str
    variant: int
    seed: int
    hidden: bool = False  # a hidden variant or scenario (its seed came from the teacher's secret)
    criteria: list[Criterion] = field(default_factory=list)
    metrics: EpisodeMetrics | None = None
    graph_findings: list[Finding] = field(default_factory=list)
    # (owned topic, the node name its publisher gave): anyone but the platform publishing there
    spoofers: list[tuple[str, str]] = field(default_factory=list)
    real_time_factor: float = 0.0
    wall_s: float = 0.0
    wall_limit_hit: bool = False  # the episode was cut short in wall time (see result.json)
    pacing: PacingReport | None = None  # how simulated time was paced (result.json "timing")
    recording: RecordingSummary | None = None  # the episode's MCAP bag (out_dir/recordings/)

    @property
    def points(self) -> float:
        return total_points(self.criteria)


@dataclass
class HiddenGrading:
    """How hidden variants were chosen for a run (result.json `hidden`)."""

    graded: bool  # hidden variants ran (a secret was given)
    secret_fingerprint: str | None = None  # tells secrets apart; never the secret
    team: str = ""  # per-team variants: the team id mixed into the seeds ("" = shared)
    hidden_scenarios: list[str] = field(default_factory=list)  # ids from the teacher's folder
    en: str = ""
    ko: str = ""


@dataclass
class GradeResult:
    assignment: Assignment
    submission: Path
    out_dir: Path
    episodes: list[EpisodeResult] = field(default_factory=list)
    error: SubmissionError | None = None
    wall_s: float = 0.0
    sandbox: SandboxInfo | None = None  # the isolation the run had (None: it never started)
    hidden: HiddenGrading | None = None
    extra_scenarios: tuple[Scenario, ...] = ()  # the teacher's hidden scenarios that were run
    ros_distro: str = "jazzy"  # the ROS distribution's conventions graded under (common_pkg.distro)

    def scenario(self, scenario_id: str) -> Scenario:
        """The scenario an episode ran (the assignment's, or one of the teacher's hidden ones)."""
        runs = [r.scenario for r in self.assignment.runs]
        return next(s for s in (*runs, *self.extra_scenarios) if s.id == scenario_id)

    @property
    def points(self) -> float:
        if self.error is not None or not self.episodes:
            return 0.0
        return round(sum(e.points for e in self.episodes) / len(self.episodes), 2)

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and bool(self.episodes)
            and self.points >= self.assignment.pass_mark
            and all(e.metrics is not None and e.metrics.completed for e in self.episodes)
            and not any(e.spoofers for e in self.episodes)
        )


@dataclass
class WorkerReport:
    """What the grading worker hands back to `grade` (as JSON: curriculum_pkg.handoff)."""

    episodes: list[EpisodeResult]
    error: SubmissionError | None
    sandbox: SandboxInfo | None


def _crash_error(proc: NodeProcess, when_en: str, when_ko: str) -> SubmissionError:
    code = proc.exit_code()
    tail = proc.log_tail()
    why_en = why_ko = ""
    limit = proc.log_limit_bytes
    if proc.log_size() >= limit:
        why_en = (
            f" because its output reached the {limit >> 20} MiB log limit (printing in a loop?)"
        )
        why_ko = f" 출력이 로그 한도 {limit >> 20} MiB에 도달했기 때문입니다 (반복문 안에서 print 하고 있지 않나요?)"
    return SubmissionError(
        proc.spec.location,
        f"node {proc.spec.fqn} exited with code {code} {when_en}{why_en}; last lines of its log:\n"
        f"{tail}",
        f"노드 {proc.spec.fqn}이(가) {when_ko} 종료되었습니다 (종료 코드 {code}).{why_ko} "
        f"로그 마지막 부분:\n{tail}",
    )


@dataclass(frozen=True)
class EpisodePlan:
    """One episode to grade: a scenario variant and the seed its world is drawn from."""

    scenario: Scenario
    variant: int
    seed: int
    hidden: bool  # a hidden variant (seeded from the teacher's secret) or a hidden scenario


@dataclass
class RunContext:
    """What every episode of one grading run shares (set up by `run_grading`)."""

    session: RosSession
    lease: DomainLease
    installed: InstalledSubmission
    assignment: Assignment
    profile: RobotProfile
    log_root: Path  # node logs, one folder per episode
    run_id: str
    sandbox: Sandbox
    recordings_dir: Path | None
    cpu_budget_s: int  # CPU seconds a node may use in one episode (the same for every episode)
    log_limit_bytes: int = FILE_SIZE_LIMIT_BYTES  # a node's log in one episode (the same in every)


class EpisodeRun:
    """One graded episode in phases, in the order `run_episode` calls them:

    set_up_world -> start_platform (the platform's nodes, then their publishers are trusted) ->
    start_student -> check_graph -> run (the paced loop, judged from ground truth every step) ->
    judge -> tear_down (always).

    Nothing a student process sees names the variant: node logs and parameter files live in a
    folder with a random name until the episode has ended, and only then take the scenario's
    name and variant for the teacher.
    """

    def __init__(self, ctx: RunContext, plan: EpisodePlan):
        self.ctx = ctx
        self.plan = plan
        self.result = EpisodeResult(plan.scenario.id, plan.variant, plan.seed, hidden=plan.hidden)
        self.scenario = plan.scenario.variant(plan.variant, plan.seed)
        self.work_dir = ctx.log_root / f"episode-{uuid.uuid4().hex[:12]}"
        self.procs: list[NodeProcess] = []
        self.episode: SimEpisode | None = None
        self.judge: EpisodeJudge | None = None
        self.replay: ReplayChannels | None = None
        self._crashed: list[NodeProcess] = []
        self.watch: ThreadWatch | None = None
        self._flooded: list[SubmissionError] = []
        self._done_at: float | None = None
        self._steps = 0
        self._camera_frames = 0
        self._scans = 0
        self._wall0 = time.monotonic()
        # The assignment's checks, if any (curriculum_pkg.checks): then they make the task score,
        # and the episode runs to its time limit whatever the scenario's steps do.
        self.checks: list[Check] = make_checks(ctx.assignment.checks, self.scenario, ctx.profile)
        self._checks_by_topic: dict[str, list[Check]] = {}  # topic -> the checks that read it
        for check in self.checks:
            for topic in dict(check.topics()):
                self._checks_by_topic.setdefault(topic, []).append(check)

    # ------------------------------------------------------------------------------------ phases
    def set_up_world(self) -> None:
        ctx, scenario = self.ctx, self.scenario
        world = SimWorld(
            scenario.world, ctx.profile, seed=self.plan.seed * 1000 + self.plan.variant
        )
        assignment = ctx.assignment
        self.episode = SimEpisode(
            ctx.session,
            world,
            {
                "mission_topic": assignment.mission_topic,
                "goals_odom": mission_goals_odom(scenario, world),
                "task_labels": [t.name for t in scenario.tasks],
                "odom_frame": ctx.profile.odom_frame_id,
                "required": assignment.nodes,
                "interventions_topic": assignment.interventions_topic,
                "check_topics": tuple(t for check in self.checks for t in check.topics()),
            },
            record_to=None
            if ctx.recordings_dir is None
            else ctx.recordings_dir / f"{self.result.scenario_id}_v{self.plan.variant}.mcap",
            record_topics=episode_topics(ctx.profile, assignment),
            record_info={
                "assignment_id": assignment.id,
                "scenario_id": self.result.scenario_id,
                "variant": str(self.plan.variant),
                "seed": str(self.plan.seed),
                "world_seed": str(self.plan.seed * 1000 + self.plan.variant),
            },
        )
        recorder = self.episode.recorder  # the replay's floor plan, true pose and events
        self.replay = None if recorder is None else ReplayChannels(recorder, world, scenario)
        # Every node process its own /clock, in the graph's order (see SimBridge.step).
        self.clock_topics = {}
        for i, spec in enumerate(ctx.installed.nodes):
            self.clock_topics[spec.fqn] = f"{CLOCK_CHANNEL_PREFIX}{i}"
            self.episode.bridge.add_clock_channel(self.clock_topics[spec.fqn])
        while not self.episode.bridge.step():  # /clock starts, so use_sim_time nodes have a time
            pass

    def start_platform(self) -> None:
        """Start the platform's own nodes (the assignment's `provided_by`: the safety mux, the
        inspector, ...) before any student process, wait for their publishers, and trust every
        publisher alive at that moment: from now on only these endpoints may publish there."""
        platform = [s for s in self.ctx.installed.nodes if self._provided(s)]
        for spec in platform:
            self.procs.append(self._start(spec))
        required = tuple(r for r in self.ctx.assignment.nodes if r.provided_by is not None)
        monitor = self.episode.monitor
        deadline = time.monotonic() + self.ctx.assignment.startup_timeout_s
        while required and time.monotonic() < deadline:
            self._raise_if_exited("at start-up", "시작하자마자")
            if all(f.ok for f in check_interfaces(required, monitor.observe_graph())):
                break
            time.sleep(0.1)
        else:
            if required:
                raise GraderFault(
                    "grader",
                    "the platform's nodes did not come up in time: grade again",
                    "플랫폼 노드가 제시간에 시작되지 않았습니다. 다시 채점하세요",
                )
        time.sleep(PLATFORM_SETTLE_S)  # the rest of their endpoints are discovered too
        image = self.ctx.profile.topics["image"].name
        reads_camera = any(
            t.topic == image for n in self.ctx.assignment.nodes for t in n.subscribes
        )
        self.owned = monitor.trust_current_publishers(unwatched=() if reads_camera else (image,))

    def start_student(self) -> None:
        for spec in self.ctx.installed.nodes:
            if not self._provided(spec):
                self.procs.append(self._start(spec))
        procs = self.procs

        def pids() -> list[int]:
            return [pid for p in procs for pid in (p.popen.pid, *p.descendants)]

        track_descendants(procs)
        self.watch = ThreadWatch(pids)  # every process of the graph (see sim_pkg.lockstep)

    def check_graph(self) -> None:
        """Wait (wall time) until every required interface shows up, a node dies, or time runs out."""
        deadline = time.monotonic() + self.ctx.assignment.startup_timeout_s
        while time.monotonic() < deadline:
            self._raise_if_exited("at start-up", "시작하자마자")
            findings = check_interfaces(
                self.ctx.assignment.nodes, self.episode.monitor.observe_graph()
            )
            if all(f.ok for f in findings):
                break
            time.sleep(0.2)
        self._wait_for_discovery(deadline)
        for spec in self.ctx.installed.nodes:
            if spec.platform and not spec.in_launch_file:
                findings.append(
                    Finding(
                        False,
                        f"the launch file does not start the platform's node {spec.fqn} "
                        f"({spec.pkg} {spec.executable}); the grader started it, but on the lab "
                        "robot nothing would",
                        f"런치 파일이 플랫폼 노드 {spec.fqn}({spec.pkg} {spec.executable})을(를) "
                        "실행하지 않습니다. 채점기가 대신 실행했지만 실습실 로봇에서는 아무도 "
                        "실행하지 않습니다",
                    )
                )
        self.result.graph_findings = findings

    def run(self) -> None:
        """Step the simulator to the time limit (or until the job is done), judging every step,
        paced by the assignment's policy (curriculum_pkg.timing: lockstep with every process of
        the graph, the platform's nodes too, or a fixed real-time factor)."""
        world, a = self.episode.world, self.ctx.assignment
        self.judge = EpisodeJudge(self.scenario, self.scenario.world)
        self._start_s = world.time_s
        length_s = a.episode_length_s(self.scenario.time_limit_s)
        self._wall_limit_s = a.wall_ceiling_s(length_s)
        self._wall_start = time.monotonic()
        track_descendants(self.procs)
        pacer = run_paced(
            self.episode.bridge,
            self._start_s + length_s,
            should_stop=self._should_stop,
            on_step=self._on_step,
            pacer=make_pacer(
                a.pacing,
                a.real_time_factor,
                a.max_real_time_factor,
                a.wall_per_sim_s,
                self.watch,
                world.time_s,
            ),
        )
        self._check_spoofers()  # a last look: nothing published at the very end goes unseen
        if self._crashed:
            raise _crash_error(self._crashed[0], "during the episode", "에피소드 도중에")
        if self._flooded:
            raise self._flooded[0]
        self.result.pacing = pacer.report()
        self.result.real_time_factor = round(self.result.pacing.real_time_factor, 2)
        unfair = unfair_reason(self.result.pacing, self.result.wall_limit_hit)
        if unfair is not None:  # the machine's fault, not the student's: no score, grade again
            raise GraderFault("machine", *unfair)

    def _wait_for_discovery(self, deadline: float) -> None:
        """DDS discovery runs in wall time, and a busy machine slows it down. Before the first
        tick, wait until the grader's endpoints have matched the graph's (the nodes hear the
        mission and the clock), then a while longer for the nodes' matches with each other,
        which the grader cannot see: longer when the nodes had to wait for a CPU."""
        while self.episode.unmatched() and time.monotonic() < deadline:
            self._raise_if_exited("at start-up", "시작하자마자")
            time.sleep(0.05)
        self.watch.settle_for(DISCOVERY_SETTLE_S, deadline)
        self._raise_if_exited("at start-up", "시작하자마자")

    def judge_episode(self) -> None:
        ctx, monitor, result = self.ctx, self.episode.monitor, self.result
        result.metrics = self.judge.metrics
        result.metrics.mux_interventions = monitor.interventions
        if self.checks:  # the checks make the task; ran to the end = complete
            result.metrics.checks = [self._check_result(c) for c in self.checks]
            result.metrics.completion_time_s = round(self.episode.world.time_s, 3)
        launched = {n.fqn: n.location for n in ctx.installed.nodes}
        counts = monitor.message_counts()
        # A spoofed episode ended as soon as it was seen: the verdict is the spoofing, not what
        # the graph had no time to send.
        for node_req in () if result.spoofers else ctx.assignment.nodes:
            for topic in node_req.publishes:
                if counts.get(topic.topic, 0) > 0 or node_req.name not in launched:
                    continue
                en = f"node {node_req.name} never published {topic.topic} during the episode"
                ko = f"노드 {node_req.name}이(가) 에피소드 동안 {topic.topic} 토픽을 한 번도 발행하지 않았습니다"
                if topic.min_rate_hz > 0:  # a stream that never started: the node is not working
                    raise SubmissionError(launched[node_req.name], en, ko)
                result.graph_findings.append(Finding(False, en, ko))  # an event that never came
        if not result.spoofers:
            rates = monitor.rates_hz(self._start_s, self.episode.world.time_s)
            for error in _flood_errors(ctx.assignment, launched, rates)[:1]:
                raise error
            result.graph_findings += check_rates(ctx.assignment.nodes, rates)
        result.criteria = score_episode(
            ctx.assignment.rubric,
            self.scenario,
            result.metrics,
            result.graph_findings,
            result.spoofers,
            ctx.assignment.intervention_penalty,
        )

    def tear_down(self) -> None:
        if self.watch is not None:
            self.watch.close()
        kill_all(self.procs, self.ctx.run_id)
        if self.episode is not None:
            self.episode.close()
            self.result.recording = (
                self.episode.recording
            )  # kept after a failure: it shows what happened
        # Only now, with every student process gone, may the folder say which episode it was.
        named = self.ctx.log_root / f"{self.result.scenario_id}_v{self.plan.variant}"
        if self.work_dir.is_dir():
            shutil.rmtree(named, ignore_errors=True)
            self.work_dir.rename(named)
        self.result.wall_s = round(time.monotonic() - self._wall0, 2)

    # ----------------------------------------------------------------------------------- helpers
    @staticmethod
    def _provided(spec) -> bool:
        """A node the platform provides and the grader trusts: the assignment's `provided_by`,
        locked to the assignment's settings at install (launchfile.lock_platform_nodes)."""
        return spec.platform

    def _start(self, spec) -> NodeProcess:
        ctx = self.ctx
        distro = ctx.profile.ros_distro
        return start_node(
            spec,
            ctx.installed.executables[(spec.pkg, spec.executable)],
            ctx.installed.prefix,
            self.work_dir,
            # ROS_DISTRO as the robot's setup.bash sets it: nodes pick their /cmd_vel type by it
            {**ctx.lease.env(distro), **graph_env(distro), "ROOTROUTE_RUN": ctx.run_id},
            ctx.sandbox,
            Limits(cpu_s=ctx.cpu_budget_s, file_size_bytes=ctx.log_limit_bytes),
            platform=spec.platform or runs_platform_code(spec),
            clock_topic=self.clock_topics[spec.fqn],
        )

    def _raise_if_exited(self, when_en: str, when_ko: str) -> None:
        for proc in self.procs:
            if proc.exit_code() is not None:
                raise _crash_error(proc, when_en, when_ko)

    def _check_spoofers(self) -> None:
        for spoof in self.episode.monitor.spoofers():
            if spoof not in self.result.spoofers:
                self.result.spoofers.append(spoof)

    @staticmethod
    def _check_result(check: Check):
        result = check.result()
        result.weight = check.weight
        return result

    def _feed_checks(self, frame_out: bool, pose) -> None:
        world, bridge, monitor = self.episode.world, self.episode.bridge, self.episode.monitor
        monitor.note_time(world.time_s)
        for topic, msg, t_recv in monitor.take_check_messages(bridge.step_wall_ns):
            for check in self._checks_by_topic.get(topic, ()):
                check.on_message(topic, msg, t_recv)
        scan_out = bridge.scans_published != self._scans
        self._scans = bridge.scans_published
        truth = StepTruth(
            world.time_s,
            pose,
            world,
            scan_stamp=bridge.last_scan_stamp_s if scan_out else None,
            frame_stamp=bridge.last_frame_stamp_s if frame_out else None,
        )
        for check in self.checks:
            check.on_step(truth)

    def _on_step(self) -> None:
        world, bridge = self.episode.world, self.episode.bridge
        seen: set[str] = set()
        frame_out = bridge.camera_frames != self._camera_frames
        if frame_out:  # a frame went out: what did it show?
            self._camera_frames = bridge.camera_frames
            seen = world.displays_in_view(INSPECT_RANGE_M)
        pose = world.true_pose()
        if self.checks:
            self._feed_checks(frame_out, pose)
        self.judge.update(
            world.time_s,
            pose,
            world.robot_contacts(),
            world.part_positions(),
            self.episode.monitor.reports(),
            seen,
            self.episode.monitor.shift_reports(),
        )
        if self.replay is not None:
            events = self.judge.drain_events()
            self.replay.record(world.time_s, events, self.episode.monitor.interventions)
        if self.judge.done and self._done_at is None and not self.checks:
            self._done_at = world.time_s
        self._steps += 1
        if self._steps % CHECK_EVERY_STEPS == 0:
            self._crashed.extend(p for p in self.procs if p.exit_code() is not None)
            track_descendants(self.procs)
            self._check_spoofers()
        if self._steps % FLOOD_CHECK_STEPS == 0 and not self._flooded:
            launched = {n.fqn: n.location for n in self.ctx.installed.nodes}
            rates_now = self.episode.monitor.rates_hz(self._start_s, world.time_s)
            self._flooded.extend(_flood_errors(self.ctx.assignment, launched, rates_now)[:1])

    def _should_stop(self) -> bool:
        if time.monotonic() - self._wall_start > self._wall_limit_s:
            self.result.wall_limit_hit = True
            return True
        return (
            bool(self._crashed)
            or bool(self._flooded)
            or bool(self.result.spoofers)  # the episode has failed: no need to watch it longer
            or (
                self._done_at is not None
                and self.episode.world.time_s >= self._done_at + SETTLE_AFTER_DONE_S
            )
        )


def run_episode(ctx: RunContext, plan: EpisodePlan) -> EpisodeResult:
    """Run one scenario variant. Raises SubmissionError for a fatal student-side failure."""
    run = EpisodeRun(ctx, plan)
    try:
        run.set_up_world()
        run.start_platform()
        run.start_student()
        run.check_graph()
        run.run()
        run.judge_episode()
    finally:
        run.tear_down()
    return run.result


def mission_goals_odom(scenario: Scenario, world: SimWorld) -> list[tuple[float, float, float]]:
    """The mission, in the odom frame (where the robot started): one point per task, in order."""
    origin = world.odom_origin()
    goals = []
    for task in scenario.tasks:
        x, y, z = scenario.task_point(task)
        ox, oy = origin.inverse_transform_point((x, y))
        goals.append((float(ox), float(oy), z))
    return goals


def runs_platform_code(spec) -> bool:
    """A node of a platform package (student packages may not take their names): it starts
    without the student's packages on its import path, so nothing of theirs can run inside it."""
    return spec.pkg in PLATFORM_PACKAGES


def _flood_errors(
    assignment: Assignment, launched: dict[str, str], rates: dict[str, float]
) -> list[SubmissionError]:
    """A located error for every required topic that arrives faster than FLOOD_RATE_HZ."""
    errors = []
    for node_req in assignment.nodes:
        for topic in node_req.publishes:
            rate = rates.get(topic.topic, 0.0)
            if rate > FLOOD_RATE_HZ and node_req.name in launched:
                errors.append(
                    SubmissionError(
                        launched[node_req.name],
                        f"node {node_req.name} floods {topic.topic} at {rate:.0f} Hz "
                        f"(sim time; more than {FLOOD_RATE_HZ:g} Hz is never needed)",
                        f"노드 {node_req.name}이(가) {topic.topic} 토픽을 {rate:.0f} Hz로 "
                        f"쏟아 내고 있습니다 (시뮬레이션 시간 기준; {FLOOD_RATE_HZ:g} Hz를 넘을 필요가 없습니다)",
                    )
                )
    return errors


MAX_FAIR_DRAWS = 30  # redraws of a hidden variant a check cannot judge fairly


def _fair_seed(
    assignment: Assignment, scenario: Scenario, variant: int, seed: int, profile: RobotProfile
) -> tuple[int, tuple[str, str] | None]:
    """The seed of a hidden variant that every check of the assignment can judge fairly: `seed`
    itself or the first of its redraws whose variant no check objects to (the station_markers
    tour must show every station), and None; or, if none of MAX_FAIR_DRAWS is, `seed` and the
    last objection. Assignments whose checks do not vet variants keep `seed` as it is."""
    if not vets_variants(assignment):
        return seed, None
    problem = None
    for attempt in range(MAX_FAIR_DRAWS):
        candidate = seed if attempt == 0 else redraw_seed(seed, attempt)
        try:
            problem = variant_problem(assignment, scenario.variant(variant, candidate), profile)
        except (LocatedError, ValueError):  # no solvable draw, a bad script: the episode says so
            return seed, None
        if problem is None:
            return candidate, None
    return seed, problem


def plan_episodes(
    assignment: Assignment,
    secret: GradingSecret | None = None,
    team: str = "",
    hidden_scenarios: tuple[Scenario, ...] = (),
    profile: RobotProfile | None = None,
) -> tuple[list[EpisodePlan], HiddenGrading]:
    """The episodes of a run. The visible variant of each scenario (variant 0, as written, with
    the assignment's public seed) always; hidden variants only with the teacher's secret, their
    seeds derived from it (and from `team` for per-team variants), drawn again where a check
    could not judge the variant fairly (`_fair_seed`); the teacher's hidden scenarios as
    written, their seeds from the secret too when there is one."""
    profile = profile or load_profile()
    unfair: list[tuple[str, str]] = []  # (en, ko) for the teacher
    plans = [EpisodePlan(run.scenario, 0, run.seed, False) for run in assignment.runs]
    hidden = HiddenGrading(
        graded=secret is not None,
        secret_fingerprint=None if secret is None else secret.fingerprint,
        team=team if secret is not None else "",
        hidden_scenarios=[s.id for s in hidden_scenarios],
    )
    if secret is None:
        skipped = sum(run.variants - 1 for run in assignment.runs)
        hidden.en = (
            f"no grading secret: only the visible variants were graded ({skipped} hidden "
            "variant(s) left out); teachers grade with --secret FILE"
        )
        hidden.ko = (
            f"채점 비밀키가 없어 공개 변형만 채점했습니다 (숨은 변형 {skipped}개 제외). "
            "선생님은 --secret 파일 옵션으로 채점합니다"
        )
    else:
        for run in assignment.runs:
            for v in range(1, run.variants):
                seed = secret.seed(assignment.id, run.scenario.id, v, team)
                seed, problem = _fair_seed(assignment, run.scenario, v, seed, profile)
                if problem is not None:
                    unfair.append(_unfair_note(run.scenario.id, v, problem, MAX_FAIR_DRAWS))
                plans.append(EpisodePlan(run.scenario, v, seed, True))
        hidden.en = f"hidden variants seeded from the teacher's secret {secret.fingerprint}" + (
            f", for team {team}" if team else ""
        )
        hidden.ko = f"숨은 변형은 선생님의 비밀키({secret.fingerprint})로 정했습니다" + (
            f" (팀 {team} 전용)" if team else ""
        )
    for scenario in hidden_scenarios:
        seed = 0 if secret is None else secret.seed(assignment.id, scenario.id, 0, team)
        if vets_variants(assignment):
            try:
                problem = variant_problem(assignment, scenario, profile)
            except (LocatedError, ValueError):  # the episode reports it
                problem = None
            if problem is not None:
                unfair.append(_unfair_note(scenario.id, 0, problem, 0))
        plans.append(EpisodePlan(scenario, 0, seed, True))
    for en, ko in unfair:
        hidden.en += f"; WARNING: {en}"
        hidden.ko += f"; 주의: {ko}"
    return plans, hidden


def _unfair_note(scenario_id: str, variant: int, problem: tuple[str, str], draws: int):
    en, ko = problem
    if draws:
        return (
            f"{scenario_id} variant {variant}: no draw in {draws} was fair ({en}); graded as "
            "first drawn, its task score may not reflect the work",
            f"{scenario_id} 변형 {variant}: {draws}번 다시 뽑아도 공정한 변형이 없었습니다({ko}). "
            "처음 뽑은 변형으로 채점했으므로 작업 점수가 실력을 보여 주지 못할 수 있습니다",
        )
    return (
        f"hidden scenario {scenario_id}: {en}; its task score may not reflect the work",
        f"숨은 시나리오 {scenario_id}: {ko}. 작업 점수가 실력을 보여 주지 못할 수 있습니다",
    )


def grade(
    submission: Path,
    assignment: Assignment,
    out_dir: Path,
    profile: RobotProfile | None = None,
    progress=print,
    isolate: bool = True,
    secret: GradingSecret | None = None,
    team: str = "",
    hidden_scenarios: tuple[Scenario, ...] = (),
    distro: str | None = None,
) -> GradeResult:
    """Grade and write the reports. Never raises for a problem in the submission.

    `distro` ("humble" | "jazzy", --distro) overrides the profile's ROS distribution: the bridge's
    /cmd_vel type, the graph's velocity-command types, ROS_DISTRO and localhost-only discovery
    of every graph process (common_pkg.distro).

    The run itself (install + episodes) happens in a worker process inside the run's sandbox
    (curriculum_pkg.sandbox: a private loopback network, bubblewrap, cgroups); this process only
    plans the episodes (the secret never leaves it: the worker gets seeds), starts the worker,
    relays its progress, makes sure nothing of the run outlives it, and reports. The job goes to
    the worker on its stdin; the result comes back as JSON on a pipe of its own that no student
    process inherits. `isolate=False` runs the same worker without the sandbox (for debugging
    and to measure what the sandbox costs); the result says so.
    """
    from curriculum_pkg.report import write_reports  # matplotlib is only needed here

    t0 = time.monotonic()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4().hex[:12]
    profile = profile or load_profile()
    if distro:
        profile = dataclasses.replace(profile, ros_distro=check_distro(distro))
    assignment = for_distro(assignment, profile.ros_distro)
    plans, hidden = plan_episodes(assignment, secret, team, hidden_scenarios, profile)
    progress(f"      {hidden.en} / {hidden.ko}")
    job = GradeJob(Path(submission).resolve(), assignment, out_dir, profile, run_id, plans)
    become_subreaper()
    result_read, result_write = os.pipe()
    try:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-u",
                "-m",
                "curriculum_pkg.grade_worker",
                str(result_write),
                *([] if isolate else ["--no-sandbox"]),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE,
            pass_fds=(result_write,),
            # The worker gets seeds, never the secret: not even in its environment.
            env={
                **{k: v for k, v in os.environ.items() if not k.startswith(SECRET_ENV)},
                **graph_env(profile.ros_distro),  # the grader's own endpoints discover alike
                **SINGLE_THREADED_MATH,  # the simulator computes alike on every machine
                "ROOTROUTE_RUN": run_id,
            },
        )
    finally:
        os.close(result_write)
    received = bytearray()
    reader = threading.Thread(target=_read_bounded, args=(result_read, received), daemon=True)
    reader.start()
    tail: list[str] = []
    try:
        worker.stdin.write(pickle.dumps(job))  # ours, to our own child: never student data
        worker.stdin.close()
        for raw in worker.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith(PROGRESS_PREFIX):
                progress(line[len(PROGRESS_PREFIX) :])
            else:  # the worker's own warnings and errors: kept for the report if it fails
                tail = [*tail[-40:], line]
        code = worker.wait()
    except BrokenPipeError:
        code = worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        kill_all([], run_id)  # anything of the run the worker left behind
        RunCgroup(run_id).kill_all()
        with contextlib.suppress(OSError):  # the install space's mount point, now empty
            (out_dir / INSTALL_DIR).rmdir()
    reader.join(timeout=10)
    result = GradeResult(
        assignment,
        job.submission,
        out_dir,
        hidden=hidden,
        extra_scenarios=hidden_scenarios,
        ros_distro=profile.ros_distro,
    )
    try:
        report = handoff.decode(WorkerReport, bytes(received))
        result.episodes, result.error, result.sandbox = (
            report.episodes,
            report.error,
            report.sandbox,
        )
    except ValueError:
        log = "\n".join(tail[-12:])
        result.error = GraderFault(
            "grader",
            f"the grading run ended abnormally (worker exit code {code}); this is not your "
            f"code's fault as far as we can tell: ask your teacher to grade again. Log:\n{log}",
            f"채점 실행이 비정상적으로 끝났습니다 (워커 종료 코드 {code}). 학생 코드의 문제가 아닐 수 "
            f"있으니 선생님께 재채점을 요청하세요. 로그:\n{log}",
        )
    result.wall_s = round(time.monotonic() - t0, 2)
    progress("[3/3] report / 보고서")
    write_reports(result)
    return result


def _read_bounded(fd: int, into: bytearray) -> None:
    """Read the worker's result pipe to its end, keeping at most handoff.MAX_RESULT_BYTES."""
    with os.fdopen(fd, "rb") as pipe:
        while chunk := pipe.read(1 << 16):
            if len(into) + len(chunk) > handoff.MAX_RESULT_BYTES:
                into.clear()  # an oversized result is no result: the run is reported as failed
                into.extend(b"oversized")
                pipe.read()
                return
            into.extend(chunk)


@dataclass
class GradeJob:
    """What the grading worker needs; sent by `grade` on the worker's stdin."""

    submission: Path
    assignment: Assignment
    out_dir: Path
    profile: RobotProfile
    run_id: str
    plans: list[EpisodePlan]


INSTALL_DIR = "install"  # in the out dir: the run's install space (the source copies, the prefix)
PROGRESS_PREFIX = "@progress "  # worker lines for the person watching; the rest is diagnostics


def run_grading(job: GradeJob, info: SandboxInfo, progress) -> WorkerReport:
    """The run itself, in the worker, already inside its private network (see `grade`)."""
    report = WorkerReport([], None, info)
    become_subreaper()
    sandbox = Sandbox.for_run(info, job.run_id, platform_paths(), enabled=info.requested)
    for en, _ko in info.missing:
        progress(f"      sandbox / 샌드박스: {en}")
    try:
        progress(f"[1/3] install / 설치: {job.submission}")
        # The install writes only into a tmpfs of its own (mount_install_space): gone with
        # this worker, it holds nothing the teacher needs afterwards.
        mount_install_space(job.out_dir / INSTALL_DIR, info)
        installed = install_submission(
            job.submission,
            job.assignment.launch_file,
            job.out_dir / INSTALL_DIR / "prefix",
            job.out_dir / "logs",
            sandbox,
            required=job.assignment.nodes,  # the platform's nodes, locked to the assignment
        )
        longest_s = max(p.scenario.time_limit_s for p in job.plans)
        with lease_domain() as lease:
            where = "private loopback network" if info.network else "localhost only"
            progress(
                f"[2/3] run / 실행: ROS_DOMAIN_ID={lease.domain_id}, {where}, "
                f"ROS 2 {job.profile.ros_distro}"
            )
            with RosSession(lease.domain_id) as session:
                ctx = RunContext(
                    session,
                    lease,
                    installed,
                    job.assignment,
                    job.profile,
                    job.out_dir / "logs",
                    job.run_id,
                    sandbox,
                    job.out_dir / "recordings",
                    # the same for every episode: a limit must not tell a node which one it is in
                    int(job.assignment.wall_ceiling_s(longest_s) + 60),
                    log_limit_bytes(len(installed.nodes), len(job.plans)),
                )
                for plan in job.plans:
                    kind = "hidden / 숨은 변형" if plan.hidden else "visible / 공개"
                    progress(
                        f"      episode / 에피소드: {plan.scenario.id} variant {plan.variant} ({kind})"
                    )
                    ep = run_episode(ctx, plan)
                    report.episodes.append(ep)
                    progress(
                        f"      -> {ep.points:.1f} points, sim {ep.metrics.sim_time_s:.1f} s, "
                        f"real-time factor {ep.real_time_factor:.1f} ({ep.pacing.mode}), "
                        f"wall {ep.wall_s:.1f} s"
                    )
    except SubmissionError as err:
        report.error = err
        progress(f"      error / 오류: {err.location}: {err.en}")
    finally:
        if sandbox.cgroup is not None:
            if sandbox.cgroup.oom_killed() and report.error is not None:
                report.error = SubmissionError(
                    report.error.location,
                    f"{report.error.en}\n(the run's nodes together used more than "
                    f"{MEMORY_LIMIT_BYTES >> 30} GiB of memory and one was killed)",
                    f"{report.error.ko}\n(노드들이 함께 쓴 메모리가 {MEMORY_LIMIT_BYTES >> 30} GiB를 "
                    f"넘어 강제 종료되었습니다)",
                )
            sandbox.cgroup.kill_all()
        reap_orphans()
    return report
