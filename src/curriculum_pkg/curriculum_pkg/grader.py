"""Grade one submission against one assignment, end to end.

install -> lease a ROS domain -> per scenario variant: start the simulator and the student's
nodes, check the live graph, run the episode judged from ground truth, kill the process tree
-> score -> result.json, report.md, trajectory plot. A bad submission gets a located, bilingual
error and a score of 0; the grader itself never crashes because a student's code did.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from curriculum_pkg.assignment import Assignment
from curriculum_pkg.episode import EpisodeJudge, EpisodeMetrics
from curriculum_pkg.errors import GraderFault, SubmissionError
from curriculum_pkg.graphcheck import Finding, check_interfaces, check_rates
from curriculum_pkg.processes import (
    NodeProcess,
    become_subreaper,
    kill_all,
    reap_orphans,
    start_node,
    track_descendants,
)
from curriculum_pkg.recording import RecordingSummary, episode_topics
from curriculum_pkg.ros.session import RosSession, SimEpisode, run_paced
from curriculum_pkg.sandbox import (
    FILE_SIZE_LIMIT_BYTES,
    MEMORY_LIMIT_BYTES,
    Limits,
    RunCgroup,
    Sandbox,
    SandboxInfo,
    platform_paths,
)
from curriculum_pkg.scenario import Scenario
from curriculum_pkg.scoring import Criterion, score_episode, total_points
from curriculum_pkg.submission import (
    InstalledSubmission,
    check_platform_nodes,
    install_submission,
)
from sim_pkg.domain import DomainLease, lease_domain
from sim_pkg.profile import RobotProfile, load_profile
from sim_pkg.world import SimWorld

SIM_OWNED = ("clock", "odom", "scan", "image", "camera_info", "joint_states")
CHECK_EVERY_STEPS = 25  # processes and spoofers are checked every 0.25 s of sim time
SETTLE_AFTER_DONE_S = 0.5
FLOOD_RATE_HZ = (
    150.0  # a required topic faster than this (sim time) floods; controllers need <= 100
)
FLOOD_CHECK_STEPS = 300  # ... checked every 3 s of sim time, so a flood ends the episode early
WALL_TIME_MARGIN = 4.0  # an episode may take this many times its nominal wall time, plus a minute


@dataclass
class EpisodeResult:
    scenario_id: str
    variant: int
    seed: int
    criteria: list[Criterion] = field(default_factory=list)
    metrics: EpisodeMetrics | None = None
    graph_findings: list[Finding] = field(default_factory=list)
    spoofers: list[tuple[str, str]] = field(default_factory=list)
    real_time_factor: float = 0.0
    wall_s: float = 0.0
    wall_limit_hit: bool = False  # the episode was cut short in wall time (see result.json)
    recording: RecordingSummary | None = None  # the episode's MCAP bag (out_dir/recordings/)

    @property
    def points(self) -> float:
        return total_points(self.criteria)


@dataclass
class GradeResult:
    assignment: Assignment
    submission: Path
    out_dir: Path
    episodes: list[EpisodeResult] = field(default_factory=list)
    error: SubmissionError | None = None
    wall_s: float = 0.0
    sandbox: SandboxInfo | None = None  # the isolation the run had (None: it never started)

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
        )


def _crash_error(proc: NodeProcess, when_en: str, when_ko: str) -> SubmissionError:
    code = proc.exit_code()
    tail = proc.log_tail()
    why_en = why_ko = ""
    limit = FILE_SIZE_LIMIT_BYTES
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


def run_episode(
    session: RosSession,
    lease: DomainLease,
    installed: InstalledSubmission,
    assignment: Assignment,
    scenario: Scenario,
    variant: int,
    seed: int,
    profile: RobotProfile,
    run_dir: Path,
    run_id: str,
    sandbox: Sandbox,
    recordings_dir: Path | None = None,
) -> EpisodeResult:
    """Run one scenario variant. Raises SubmissionError for a fatal student-side failure."""
    wall0 = time.monotonic()
    result = EpisodeResult(scenario.id, variant, seed)
    scenario = scenario.variant(variant, seed)  # its start pose, its items on display, their labels
    spec = scenario.world
    world = SimWorld(spec, profile, seed=seed * 1000 + variant)
    origin = world.odom_origin()
    # The mission, in the odom frame (where the robot started): one point per task, in order.
    goals_odom = []
    for task in scenario.tasks:
        x, y, z = scenario.task_point(task)
        ox, oy = origin.inverse_transform_point((x, y))
        goals_odom.append((float(ox), float(oy), z))
    procs: list[NodeProcess] = []
    episode = SimEpisode(
        session,
        world,
        {
            "mission_topic": assignment.mission_topic,
            "goals_odom": goals_odom,
            "task_labels": [t.name for t in scenario.tasks],
            "odom_frame": profile.odom_frame_id,
            "required": assignment.nodes,
            "interventions_topic": assignment.interventions_topic,
        },
        record_to=None
        if recordings_dir is None
        else recordings_dir / f"{result.scenario_id}_v{variant}.mcap",
        record_topics=episode_topics(profile, assignment),
        record_info={
            "assignment_id": assignment.id,
            "scenario_id": result.scenario_id,
            "variant": str(variant),
            "seed": str(seed),
            "world_seed": str(seed * 1000 + variant),
        },
    )
    try:
        episode.bridge.step()  # /clock starts, so use_sim_time nodes have a time
        ros_env = {**lease.env(), "ROOTROUTE_RUN": run_id}
        cpu_budget = int(scenario.time_limit_s / max(assignment.real_time_factor, 0.1) * 4 + 120)
        for node in installed.nodes:
            exe = installed.executables[(node.pkg, node.executable)]
            procs.append(
                start_node(
                    node,
                    exe,
                    installed.prefix,
                    run_dir / f"{scenario.id}_v{variant}",
                    ros_env,
                    sandbox,
                    Limits(cpu_s=cpu_budget),
                )
            )
        result.graph_findings = _wait_for_graph(procs, episode.monitor, assignment)
        judge = EpisodeJudge(scenario, spec)
        counter = {"steps": 0, "done_at": None}
        crashed: list[NodeProcess] = []
        flooded: list[SubmissionError] = []
        # Who alone may publish what: the simulator its sensors, and a platform node (the safety
        # mux) its outputs; anyone else publishing there bypasses it, and counts as spoofing.
        owners = [([profile.topics[k].name for k in SIM_OWNED], episode.bridge_name)] + [
            ([t.topic for t in req.publishes], req.name)
            for req in assignment.nodes
            if req.provided_by is not None
        ]
        launched = {n.fqn: n.location for n in installed.nodes}
        start_s = world.time_s

        def on_step() -> None:
            judge.update(
                world.time_s,
                world.true_pose(),
                world.robot_contacts(),
                world.part_positions(),
                episode.monitor.first_reports(),
            )
            if judge.done and counter["done_at"] is None:
                counter["done_at"] = world.time_s
            counter["steps"] += 1
            if counter["steps"] % CHECK_EVERY_STEPS == 0:
                crashed.extend(p for p in procs if p.exit_code() is not None)
                track_descendants(procs)
                for topics, owner in owners:
                    for spoof in episode.monitor.spoofers(topics, owner):
                        if spoof not in result.spoofers:
                            result.spoofers.append(spoof)
            if counter["steps"] % FLOOD_CHECK_STEPS == 0 and not flooded:
                rates_now = episode.monitor.rates_hz(start_s, world.time_s)
                flooded.extend(_flood_errors(assignment, launched, rates_now)[:1])

        # A flooded executor or an overloaded machine slows the simulation down; scores are in
        # sim time and stay fair, but an episode must still end in reasonable wall time.
        wall_limit_s = scenario.time_limit_s / assignment.real_time_factor * WALL_TIME_MARGIN + 60.0
        wall_start = time.monotonic()

        def should_stop() -> bool:
            done_at = counter["done_at"]
            if time.monotonic() - wall_start > wall_limit_s:
                result.wall_limit_hit = True
                return True
            return (
                bool(crashed)
                or bool(flooded)
                or (done_at is not None and world.time_s >= done_at + SETTLE_AFTER_DONE_S)
            )

        pacer = run_paced(
            episode.bridge,
            start_s + scenario.time_limit_s,
            assignment.real_time_factor,
            should_stop,
            on_step,
        )
        if crashed:
            raise _crash_error(crashed[0], "during the episode", "에피소드 도중에")
        if flooded:
            raise flooded[0]
        result.real_time_factor = round(pacer.achieved_factor, 2)
        result.metrics = judge.metrics
        result.metrics.mux_interventions = episode.monitor.interventions
        counts = episode.monitor.message_counts()
        for node_req in assignment.nodes:
            for topic in node_req.publishes:
                if counts.get(topic.topic, 0) > 0 or node_req.name not in launched:
                    continue
                en = f"node {node_req.name} never published {topic.topic} during the episode"
                ko = f"노드 {node_req.name}이(가) 에피소드 동안 {topic.topic} 토픽을 한 번도 발행하지 않았습니다"
                if topic.min_rate_hz > 0:  # a stream that never started: the node is not working
                    raise SubmissionError(launched[node_req.name], en, ko)
                result.graph_findings.append(Finding(False, en, ko))  # an event that never came
        rates = episode.monitor.rates_hz(start_s, world.time_s)
        for error in _flood_errors(assignment, launched, rates)[:1]:
            raise error
        result.graph_findings += check_rates(assignment.nodes, rates)
        result.criteria = score_episode(
            assignment.rubric,
            scenario,
            judge.metrics,
            result.graph_findings,
            len({t for t, _ in result.spoofers}),
            assignment.intervention_penalty,
        )
    finally:
        kill_all(procs, run_id)
        episode.close()
        result.recording = episode.recording  # kept after a failure too: it shows what happened
    result.wall_s = round(time.monotonic() - wall0, 2)
    return result


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


def _wait_for_graph(procs: list[NodeProcess], monitor, assignment: Assignment) -> list[Finding]:
    """Wait (wall time) until every required interface shows up, a node dies, or time runs out."""
    deadline = time.monotonic() + assignment.startup_timeout_s
    findings: list[Finding] = []
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.exit_code() is not None:
                raise _crash_error(proc, "at start-up", "시작하자마자")
        findings = check_interfaces(assignment.nodes, monitor.observe_graph())
        if all(f.ok for f in findings):
            break
        time.sleep(0.2)
    return findings


def grade(
    submission: Path,
    assignment: Assignment,
    out_dir: Path,
    profile: RobotProfile | None = None,
    progress=print,
    isolate: bool = True,
) -> GradeResult:
    """Grade and write the reports. Never raises for a problem in the submission.

    The run itself (install + episodes) happens in a worker process inside the run's sandbox
    (curriculum_pkg.sandbox: a private loopback network, bubblewrap, cgroups); this process only
    starts it, relays its progress, makes sure nothing of the run outlives it, and reports.
    `isolate=False` runs the same worker without the sandbox (for debugging and to measure
    what the sandbox costs); the result says so.
    """
    from curriculum_pkg.report import write_reports  # matplotlib is only needed here

    t0 = time.monotonic()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4().hex[:12]
    job = GradeJob(
        Path(submission).resolve(), assignment, out_dir, profile or load_profile(), run_id
    )
    job_path = out_dir / ".grade_job.pickle"
    job_path.write_bytes(pickle.dumps(job))
    result_path = job_path.with_name(".grade_result.pickle")
    result_path.unlink(missing_ok=True)
    become_subreaper()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "curriculum_pkg.grade_worker",
            str(job_path),
            str(result_path),
            *([] if isolate else ["--no-sandbox"]),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        env={**os.environ, "ROOTROUTE_RUN": run_id},
    )
    tail: list[str] = []
    try:
        for line in worker.stdout:
            line = line.rstrip("\n")
            if line.startswith(PROGRESS_PREFIX):
                progress(line[len(PROGRESS_PREFIX) :])
            else:  # the worker's own warnings and errors: kept for the report if it fails
                tail = [*tail[-40:], line]
        code = worker.wait()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        kill_all([], run_id)  # anything of the run the worker left behind
        RunCgroup(run_id).kill_all()
    try:
        result = pickle.loads(result_path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError):
        result = GradeResult(assignment, job.submission, out_dir)
        log = "\n".join(tail[-12:])
        result.error = GraderFault(
            "grader",
            f"the grading run ended abnormally (worker exit code {code}); this is not your "
            f"code's fault as far as we can tell: ask your teacher to grade again. Log:\n{log}",
            f"채점 실행이 비정상적으로 끝났습니다 (워커 종료 코드 {code}). 학생 코드의 문제가 아닐 수 "
            f"있으니 선생님께 재채점을 요청하세요. 로그:\n{log}",
        )
    for path in (job_path, result_path):
        path.unlink(missing_ok=True)
    result.wall_s = round(time.monotonic() - t0, 2)
    progress("[3/3] report / 보고서")
    write_reports(result)
    return result


@dataclass
class GradeJob:
    """What the grading worker needs; written by `grade`, read by curriculum_pkg.grade_worker."""

    submission: Path
    assignment: Assignment
    out_dir: Path
    profile: RobotProfile
    run_id: str


PROGRESS_PREFIX = "@progress "  # worker lines for the person watching; the rest is diagnostics


def run_grading(job: GradeJob, info: SandboxInfo, progress) -> GradeResult:
    """The run itself, in the worker, already inside its private network (see `grade`)."""
    result = GradeResult(job.assignment, job.submission, job.out_dir, sandbox=info)
    become_subreaper()
    sandbox = Sandbox.for_run(info, job.run_id, platform_paths(), enabled=info.requested)
    for en, _ko in info.missing:
        progress(f"      sandbox / 샌드박스: {en}")
    try:
        progress(f"[1/3] install / 설치: {job.submission}")
        installed = install_submission(
            job.submission,
            job.assignment.launch_file,
            job.out_dir / "prefix",
            job.out_dir / "logs",
            sandbox,
        )
        check_platform_nodes(installed.nodes, job.assignment.nodes)
        with lease_domain() as lease:
            where = "private loopback network" if info.network else "localhost only"
            progress(f"[2/3] run / 실행: ROS_DOMAIN_ID={lease.domain_id}, {where}")
            with RosSession(lease.domain_id) as session:
                for run in job.assignment.runs:
                    for variant in range(run.variants):
                        progress(f"      episode / 에피소드: {run.scenario.id} variant {variant}")
                        ep = run_episode(
                            session,
                            lease,
                            installed,
                            job.assignment,
                            run.scenario,
                            variant,
                            run.seed,
                            job.profile,
                            job.out_dir / "logs",
                            job.run_id,
                            sandbox,
                            job.out_dir / "recordings",
                        )
                        result.episodes.append(ep)
                        progress(
                            f"      -> {ep.points:.1f} points, sim {ep.metrics.sim_time_s:.1f} s, "
                            f"real-time factor {ep.real_time_factor:.1f}, wall {ep.wall_s:.1f} s"
                        )
    except SubmissionError as err:
        result.error = err
        progress(f"      error / 오류: {err.location}: {err.en}")
    finally:
        if sandbox.cgroup is not None:
            if sandbox.cgroup.oom_killed() and result.error is not None:
                result.error = SubmissionError(
                    result.error.location,
                    f"{result.error.en}\n(the run's nodes together used more than "
                    f"{MEMORY_LIMIT_BYTES >> 30} GiB of memory and one was killed)",
                    f"{result.error.ko}\n(노드들이 함께 쓴 메모리가 {MEMORY_LIMIT_BYTES >> 30} GiB를 "
                    f"넘어 강제 종료되었습니다)",
                )
            sandbox.cgroup.kill_all()
        reap_orphans()
    return result
