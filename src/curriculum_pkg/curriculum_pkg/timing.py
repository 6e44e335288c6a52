"""The grader's timing policy in one place: how an episode is paced, how long it may take in wall
time, and whether it was run fairly (ROS-free).

Lockstep pacing (sim_pkg.lockstep) makes an episode independent of the machine's load: the
simulator waits for the graph. It stops waiting only when the graph holds one simulated second
longer than the assignment's `wall_per_sim_s`; then the run is no longer the same whatever the
load, and someone is to blame:
- the machine, when the graph's processes spent longer waiting for a CPU than running on one
  (another grading run, a teacher's browser): no verdict, the episode is graded again;
- the student, when their processes were running all along (a busy loop, a heavy planner): the
  verdict stands, and the report says the simulator went on without them.
With a fixed real-time factor, an episode is fair only if the machine kept to the factor.
"""

from __future__ import annotations

from sim_pkg.lockstep import LockstepPacer, PacingReport, ThreadWatch
from sim_pkg.pacing import Pacer

FIXED_FAIR_FRACTION = 0.8  # fixed pacing: the least share of the target factor that is fair
WALL_TIME_MARGIN = 4.0  # fixed pacing: an episode may take 4x its nominal wall time, plus a minute


def make_pacer(
    pacing: str,
    real_time_factor: float,
    max_real_time_factor: float,
    wall_per_sim_s: float,
    watch: ThreadWatch,
    sim_start_s: float,
) -> Pacer | LockstepPacer:
    """Lockstep with every process `watch` sees (the default), or a fixed real-time factor.
    In lockstep, a second after one the graph held past `wall_per_sim_s` waits at most what a
    simulated second takes at the fixed factor: a busy loop is graded at about that speed."""
    if pacing == "fixed":
        return Pacer(real_time_factor, sim_start_s)
    return LockstepPacer(
        watch,
        sim_start_s,
        wall_per_sim_s,
        max_real_time_factor,
        held_budget_s=1.0 / real_time_factor,
    )


def wall_ceiling_s(
    pacing: str, real_time_factor: float, wall_per_sim_s: float, sim_s: float
) -> float:
    """The most wall time `sim_s` simulated seconds may take before an episode is cut off: a
    backstop that a fair run never gets near."""
    if pacing == "fixed":
        return sim_s / real_time_factor * WALL_TIME_MARGIN + 60.0
    return sim_s * wall_per_sim_s + 60.0


def unfair_reason(pacing: PacingReport, wall_limit_hit: bool) -> tuple[str, str] | None:
    """(English, Korean) if the machine could not run the episode fairly, else None."""
    if pacing.mode == "fixed":
        target = pacing.max_real_time_factor
        slow = target > 0 and pacing.real_time_factor < FIXED_FAIR_FRACTION * target
        if not (slow or wall_limit_hit):
            return None
        return (
            f"the machine could not keep the real-time factor ({pacing.real_time_factor:.1f}x "
            f"of {target:g}x{', cut off in wall time' if wall_limit_hit else ''}): the "
            "episode is not scored; grade again on a quieter machine, or with lockstep pacing",
            f"채점 컴퓨터가 실시간 배속을 지키지 못했습니다 ({target:g}배 중 "
            f"{pacing.real_time_factor:.1f}배{', 실제 시간 제한으로 중단' if wall_limit_hit else ''}). "
            "이 에피소드는 점수를 매기지 않습니다. 한가한 컴퓨터에서 다시 채점하거나 "
            "lockstep 방식으로 채점하세요",
        )
    if not (pacing.unsynced_ticks or wall_limit_hit):
        return None
    if pacing.graph_cpu_wait_s <= pacing.graph_cpu_s:
        return None  # the graph itself was busy: the student's verdict (see graph_was_slow)
    return (
        f"the machine was too busy to run the episode fairly: the nodes waited "
        f"{pacing.graph_cpu_wait_s:.1f} s for a CPU and ran {pacing.graph_cpu_s:.1f} s, and "
        f"the simulator went on without them for {pacing.unsynced_ticks} tick(s): the episode "
        "is not scored; grade again (rootroute batch does so by itself)",
        f"채점 컴퓨터가 너무 바빠 에피소드를 공정하게 돌리지 못했습니다. 노드들이 CPU를 "
        f"{pacing.graph_cpu_wait_s:.1f}초 기다리고 {pacing.graph_cpu_s:.1f}초 실행되었으며, "
        f"시뮬레이터가 {pacing.unsynced_ticks}번의 틱을 노드를 기다리지 않고 진행했습니다. "
        "이 에피소드는 점수를 매기지 않습니다. 다시 채점하세요 (rootroute batch는 자동으로 다시 "
        "채점합니다)",
    )


def graph_was_slow(pacing: PacingReport) -> tuple[str, str] | None:
    """(English, Korean) for the report when the student's own graph kept the simulator
    waiting past its wall budget (a fair verdict, but the student should know why)."""
    if pacing.mode != "lockstep" or not pacing.unsynced_ticks:
        return None
    return (
        f"your nodes kept the simulator waiting too long ({pacing.graph_cpu_s:.1f} CPU s in "
        f"all, {pacing.held_seconds} simulated second(s) held past their wall budget): for "
        f"{pacing.unsynced_ticks} tick(s) simulated time went on without waiting for them, as "
        "it would on the robot. Look for busy loops or heavy work in callbacks",
        f"노드들이 시뮬레이터를 너무 오래 붙잡았습니다 (CPU 모두 {pacing.graph_cpu_s:.1f}초, "
        f"실제 시간 한도를 넘긴 시뮬레이션 {pacing.held_seconds}초). "
        f"{pacing.unsynced_ticks}번의 틱 동안 시뮬레이션 시간이 노드를 기다리지 않고 흘렀습니다 "
        "(실제 로봇에서처럼). 콜백 안의 바쁜 반복문이나 무거운 계산을 찾아보세요",
    )
