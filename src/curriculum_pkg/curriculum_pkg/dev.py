"""The student's loop: the grader's world, interactively (`rootroute dev`, `rootroute sim`).

`rootroute dev SUBMISSION -a ASSIGNMENT` runs the assignment's visible scenario as the grader
runs it: the same world and seed, the mission topics, the platform's nodes locked to the
assignment's parameters, the student's launch file, the same graph checks and the same judge. The
differences are for a person watching: a real-time factor the student chooses (1 by default)
instead of lockstep, no wall-time limit, no sandbox, and it goes on until stopped. Every simulated
second it prints the task progress and the score the grader would give so far; when an episode
ends it prints the score in full. `r` + Enter starts the episode again (reinstalling the package,
so edits count), `q` + Enter or Ctrl-C stops. A submission error is the grader's, located and
bilingual, and the session waits for a restart instead of ending.

`rootroute sim SCENARIO` is the same world with the mission topics and nothing else, for nodes a
student starts by hand (`ros2 run`, `python my_node.py`) on the same ROS_DOMAIN_ID.

Both run on the user's own ROS_DOMAIN_ID (0 if unset), localhost only, so that their own tools
(the keyboard teleop, their own nodes) are in the same graph.
"""

from __future__ import annotations

import math
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from common_pkg.profile import RobotProfile, load_profile
from curriculum_pkg.assignment import Assignment
from curriculum_pkg.episode import EpisodeJudge
from curriculum_pkg.errors import LocatedError, SubmissionError
from curriculum_pkg.grader import (
    CHECK_EVERY_STEPS,
    EpisodePlan,
    EpisodeRun,
    RunContext,
    mission_goals_odom,
)
from curriculum_pkg.processes import become_subreaper, reap_orphans, track_descendants
from curriculum_pkg.ros.session import RosSession, SimEpisode, run_paced
from curriculum_pkg.sandbox import Sandbox, SandboxInfo, platform_paths
from curriculum_pkg.scenario import Scenario
from curriculum_pkg.scoring import score_episode, total_points
from curriculum_pkg.submission import install_submission
from sim_pkg.domain import DomainLease
from sim_pkg.world import SimWorld

RESTART, QUIT = "restart", "quit"
DEV_CPU_BUDGET_S = 24 * 3600  # a development session is not graded: no CPU budget worth having


@dataclass
class DevOptions:
    real_time_factor: float = 1.0
    view_port: int = 0  # the live view in a browser (sim_pkg.liveview); 0 = off
    foxglove_port: int = 0  # a Foxglove WebSocket server (sim_pkg.ros.foxglove_live); 0 = off
    once: bool = False  # end after the first episode (scripts and tests)
    out_dir: Path = field(default_factory=lambda: Path("runs/dev"))


class Commands:
    """What the person at the terminal asks for: lines on stdin (`r` restart, `q` quit), read
    on a thread of their own so that the simulation never waits for them."""

    def __init__(self, stream=None):
        self._queue: queue.Queue[str] = queue.Queue()
        self._stream = stream
        if stream is not None:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._stream:
            word = line.strip().lower()
            if word in ("r", "restart", "다시"):
                self._queue.put(RESTART)
            elif word in ("q", "quit", "exit", "끝"):
                self._queue.put(QUIT)
        # End of input (no terminal, a closed pipe): Ctrl-C or --once end the session then.

    def put(self, command: str) -> None:
        self._queue.put(command)

    def pending(self) -> bool:
        return not self._queue.empty()

    def wait(self) -> str:
        """The next command (blocking)."""
        return self._queue.get()

    def take(self) -> str | None:
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None


def user_domain() -> DomainLease:
    """The user's own ROS domain (ROS_DOMAIN_ID, 0 if unset): not leased, since their own
    terminals must join it."""
    try:
        domain = int(os.environ.get("ROS_DOMAIN_ID", "0"))
    except ValueError:
        domain = 0
    return DomainLease(domain, -1)


def progress_line(t_s: float, judge: EpisodeJudge, points: float | None = None) -> str:
    """One line of task progress (and, in dev mode, the score the grader would give so far)."""
    m = judge.metrics
    done = ", ".join(name.split(":", 1)[-1] for name in m.tasks_done) or "-"
    task = f"작업 / tasks {len(m.tasks_done)}/{m.tasks_total} ({done})"
    if m.checks:  # the assignment's checks make the task
        task = "점검 / checks " + ", ".join(f"{c.kind} {c.score:.0%}" for c in m.checks)
    line = (
        f"  t={t_s:6.1f} s  {task}  "
        f"충돌 / collisions {len(m.collisions)}  금지 구역 / keep-out {m.keep_out_s:.1f} s"
        + (f"  고온 구역 / hot {m.hot_s:.1f} s" if m.hot_s > 0 else "")
    )
    return line if points is None else f"{line}  지금 점수 / score so far {points:.1f}"


class DevEpisodeRun(EpisodeRun):
    """An EpisodeRun for a person watching: paced at a fixed real-time factor (or by the live
    view's play/pause and speed), no wall-time limit, a progress line every simulated second,
    stopped early by the person at the terminal."""

    def __init__(
        self,
        ctx: RunContext,
        plan: EpisodePlan,
        options: DevOptions,
        commands: Commands,
        say: Callable[[str], None],
    ):
        super().__init__(ctx, plan)
        self.options, self.commands, self.say = options, commands, say
        self._live = None
        self._foxglove = None

    def run(self) -> None:
        world = self.episode.world
        self.judge = EpisodeJudge(self.scenario, self.scenario.world)
        self._start_s = world.time_s
        self._wall_limit_s = math.inf
        self._wall_start = time.monotonic()
        track_descendants(self.procs)
        self._live, self._foxglove = start_viewers(
            self.episode, self.options, self.scenario, lambda: self.judge
        )
        run_paced(
            self.episode.bridge,
            self._start_s + self.ctx.assignment.episode_length_s(self.scenario.time_limit_s),
            self.options.real_time_factor,
            should_stop=lambda: self._should_stop() or self.commands.pending(),
            on_step=self._on_dev_step,
            pacer=None if self._live is None else self._live.pacer,
        )
        self._check_spoofers()

    def _on_dev_step(self) -> None:
        self._on_step()
        if self._live is not None:
            self._live.on_step()
        if self._steps % CHECK_EVERY_STEPS == 0:  # every simulated second
            if self.checks:  # the checks' scores so far
                self.judge.metrics.checks = [self._check_result(c) for c in self.checks]
            criteria = score_episode(
                self.ctx.assignment.rubric,
                self.scenario,
                self.judge.metrics,
                self.result.graph_findings,
                self.result.spoofers,
                self.ctx.assignment.intervention_penalty,
            )
            self.say(progress_line(self.episode.world.time_s, self.judge, total_points(criteria)))

    def tear_down(self) -> None:
        stop_viewers(self._live, self._foxglove)
        super().tear_down()


def start_viewers(
    episode: SimEpisode,
    options: DevOptions,
    scenario: Scenario,
    judge: Callable[[], EpisodeJudge | None] = lambda: None,
):
    """The live view and the Foxglove server on the episode's bridge, as options ask. The live
    view's progress line comes from `judge()` (the episode's judge, once there is one)."""
    from sim_pkg.nodes.bridge_node import start_foxglove, start_live_view

    def progress() -> dict | None:
        current = judge()
        if current is None:
            return None
        m = current.metrics
        done, total = len(m.tasks_done), m.tasks_total
        return {"ko": f"작업 {done}/{total} 완료", "en": f"{done} of {total} tasks done"}

    live = start_live_view(
        episode.bridge,
        options.view_port,
        scenario.id,
        options.real_time_factor,
        title=scenario.title,
        progress=progress,
    )
    foxglove = start_foxglove(episode.bridge, options.foxglove_port)
    return live, foxglove


def stop_viewers(live, foxglove) -> None:
    if live is not None:
        live.stop()
    if foxglove is not None:
        foxglove.close()


def _env_words(lease: DomainLease, profile: RobotProfile) -> str:
    """`ROS_DOMAIN_ID=.. <localhost-only variable>=..`: what another terminal needs to join."""
    return " ".join(f"{k}={v}" for k, v in lease.env(profile.ros_distro).items())


def _say(line: str) -> None:
    print(line, flush=True)


def _error_lines(err: LocatedError) -> str:
    return f"오류 / error: {err.location}: {err.en}\n          {err.ko}"


def run_dev(
    submission: Path,
    assignment: Assignment,
    options: DevOptions,
    commands: Commands,
    profile: RobotProfile | None = None,
    say: Callable[[str], None] = _say,
) -> int:
    """`rootroute dev`: the assignment's first visible scenario, episode after episode, until
    the person at the terminal says quit. Returns the exit code."""
    profile = profile or load_profile()
    first = assignment.runs[0]
    plan = EpisodePlan(first.scenario, 0, first.seed, False)
    out_dir = Path(options.out_dir).resolve()
    info = SandboxInfo(requested=False)
    lease = user_domain()
    become_subreaper()
    run_id = uuid.uuid4().hex[:12]
    sandbox = Sandbox.for_run(info, run_id, platform_paths(), enabled=False)
    say(
        f"개발 모드 / dev mode: {assignment.id}, {plan.scenario.id} (공개 변형 / visible variant), "
        f"ROS_DOMAIN_ID={lease.domain_id}, 배속 / real-time factor {options.real_time_factor:g}\n"
        "  r + Enter: 다시 시작 / restart    q + Enter (Ctrl-C): 끝내기 / quit\n"
        "  키보드로 몰기 / drive by keyboard (다른 터미널 / another terminal): "
        f"{_env_words(lease, profile)} teleop_keyboard"
    )
    with RosSession(lease.domain_id) as session:
        while True:
            try:
                say("설치 / install: " + str(submission))
                installed = install_submission(
                    submission,
                    assignment.launch_file,
                    out_dir / "prefix",
                    out_dir / "logs",
                    sandbox,
                    required=assignment.nodes,
                )
                ctx = RunContext(
                    session,
                    lease,
                    installed,
                    assignment,
                    profile,
                    out_dir / "logs",
                    run_id,
                    sandbox,
                    out_dir / "recordings",
                    DEV_CPU_BUDGET_S,
                )
                result = _dev_episode(ctx, plan, options, commands, say)
                say(_summary(result, assignment))
            except SubmissionError as err:
                say(_error_lines(err))
            except KeyboardInterrupt:
                return 0
            finally:
                reap_orphans()
            command = commands.take()
            if command is None:
                if options.once:
                    return 0
                say("  r + Enter: 다시 시작 / restart    q + Enter: 끝내기 / quit")
                try:
                    command = commands.wait()
                except KeyboardInterrupt:
                    return 0
            if command == QUIT:
                return 0
            say("다시 시작 / restarting")


def _dev_episode(ctx, plan, options, commands, say):
    run = DevEpisodeRun(ctx, plan, options, commands, say)
    try:
        run.set_up_world()
        run.start_platform()
        run.start_student()
        run.check_graph()
        for finding in run.result.graph_findings:
            if not finding.ok:
                say(f"  그래프 / graph: {finding.ko} / {finding.en}")
        run.run()
        if not commands.pending():  # stopped by the person: no verdict on half an episode
            run.judge_episode()
    finally:
        run.tear_down()
    return run.result


def _summary(result, assignment: Assignment) -> str:
    if not result.criteria:
        return "에피소드를 멈췄습니다 / episode stopped"
    lines = [
        f"채점기라면 / the grader would give: {result.points:.1f} / 100 "
        f"(합격선 / pass mark {assignment.pass_mark})"
    ]
    for c in result.criteria:
        lines.append(f"  {c.key}: {c.points:.1f}/{100 * c.weight:g}  {c.ko} / {c.en}")
    for topic, node in result.spoofers:
        lines.append(f"  사칭 / spoofing: {node} on {topic}")
    return "\n".join(lines)


def run_world(
    scenario: Scenario,
    options: DevOptions,
    commands: Commands,
    seed: int = 0,
    mission_topic: str = "/mission/waypoints",
    profile: RobotProfile | None = None,
    say: Callable[[str], None] = _say,
) -> int:
    """`rootroute sim`: the scenario's world, its mission topics and the judge's progress, for
    nodes started by hand. Runs until quit; `r` starts the world again."""
    profile = profile or load_profile()
    lease = user_domain()
    say(
        f"시뮬레이터 / simulator: {scenario.id}, ROS_DOMAIN_ID={lease.domain_id}, "
        f"배속 / real-time factor {options.real_time_factor:g}; 미션 토픽 / mission topics: "
        f"{mission_topic}, /mission/steps\n"
        "  r + Enter: 다시 시작 / restart    q + Enter (Ctrl-C): 끝내기 / quit"
    )
    with RosSession(lease.domain_id) as session:
        while True:
            world = SimWorld(scenario.world, profile, seed=seed)
            episode = SimEpisode(
                session,
                world,
                {
                    "mission_topic": mission_topic,
                    "goals_odom": mission_goals_odom(scenario, world),
                    "task_labels": [t.name for t in scenario.tasks],
                    "odom_frame": profile.odom_frame_id,
                    "required": (),
                },
            )
            watcher = _WorldWatcher(episode, scenario, say)
            try:
                watcher.live, watcher.foxglove = start_viewers(
                    episode, options, scenario, lambda w=watcher: w.judge
                )
                while not episode.bridge.step():  # /clock starts
                    pass
                run_paced(
                    episode.bridge,
                    math.inf,
                    options.real_time_factor,
                    should_stop=commands.pending,
                    on_step=watcher.on_step,
                    pacer=None if watcher.live is None else watcher.live.pacer,
                )
            except KeyboardInterrupt:
                return 0
            finally:
                stop_viewers(watcher.live, watcher.foxglove)
                episode.close()
            if commands.take() == QUIT:
                return 0
            say("다시 시작 / restarting")


class _WorldWatcher:
    """`rootroute sim`'s step hook: the judge's task progress, a line every simulated second."""

    def __init__(self, episode: SimEpisode, scenario: Scenario, say: Callable[[str], None]):
        self.episode, self.say = episode, say
        self.judge = EpisodeJudge(scenario, scenario.world)
        self.live = self.foxglove = None
        self.steps = 0

    def on_step(self) -> None:
        w = self.episode.world
        self.judge.update(
            w.time_s, w.true_pose(), w.robot_contacts(), w.part_positions(),
            self.episode.monitor.reports(), set(),
        )  # fmt: skip
        if self.live is not None:
            self.live.on_step()
        self.steps += 1
        if self.steps % CHECK_EVERY_STEPS == 0:
            self.say(progress_line(w.time_s, self.judge))


def stdin_commands() -> Commands:
    return Commands(sys.stdin if sys.stdin is not None else None)
