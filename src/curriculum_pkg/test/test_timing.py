"""The grader's verdict on its own timing (curriculum_pkg.timing): when an episode is not scored
because the machine could not run it fairly, and when the student is told their graph was slow."""

import pytest

from curriculum_pkg.timing import FIXED_FAIR_FRACTION, graph_was_slow, make_pacer, unfair_reason
from sim_pkg.lockstep import PacingReport, ThreadWatch


def fixed(achieved: float, target: float = 2.0) -> PacingReport:
    return PacingReport("fixed", achieved, target, wall_s=60.0, ticks=3000)


def lockstep(
    unsynced: int = 0, cpu_s: float = 4.0, cpu_wait_s: float = 0.5, held: int = 0
) -> PacingReport:
    return PacingReport(
        "lockstep",
        real_time_factor=3.0,
        max_real_time_factor=0.0,
        wall_s=40.0,
        ticks=6000,
        unsynced_ticks=unsynced,
        held_seconds=held,
        waited_s=12.0,
        graph_cpu_s=cpu_s,
        graph_cpu_wait_s=cpu_wait_s,
    )


def has_hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


@pytest.mark.parametrize(
    ("pacing", "wall_limit_hit", "unfair"),
    [
        pytest.param(fixed(0.9), False, True, id="fixed-machine-too-slow-for-the-factor"),
        pytest.param(fixed(2.0), False, False, id="fixed-on-target"),
        pytest.param(fixed(FIXED_FAIR_FRACTION * 2.0), False, False, id="fixed-at-the-fair-share"),
        pytest.param(fixed(2.0), True, True, id="fixed-cut-off-in-wall-time"),
        pytest.param(fixed(5.0, target=0.0), False, False, id="fixed-as-fast-as-possible"),
        pytest.param(lockstep(), False, False, id="lockstep-always-in-step"),
        pytest.param(
            lockstep(unsynced=40, cpu_s=1.0, cpu_wait_s=6.0),
            False,
            True,
            id="lockstep-graph-starved-of-cpu",
        ),
        pytest.param(
            lockstep(unsynced=40, cpu_s=9.0, cpu_wait_s=0.3),
            False,
            False,
            id="lockstep-graph-busy-itself",
        ),
        pytest.param(
            lockstep(unsynced=40, cpu_s=2.0, cpu_wait_s=2.0),
            False,
            False,
            id="lockstep-as-much-waiting-as-running-is-the-graphs",
        ),
        pytest.param(
            lockstep(cpu_s=1.0, cpu_wait_s=6.0), True, True, id="lockstep-starved-and-cut-off"
        ),
    ],
)
def test_episode_is_unscored_only_when_the_machine_could_not_run_it_fairly(
    pacing, wall_limit_hit, unfair
):
    reason = unfair_reason(pacing, wall_limit_hit)
    assert (reason is not None) == unfair
    if reason is not None:
        english, korean = reason
        assert english and korean
        assert has_hangul(korean) and not has_hangul(english)


def test_starved_lockstep_episode_says_how_long_the_graph_waited_and_how_many_ticks_went_on():
    english, korean = unfair_reason(lockstep(unsynced=40, cpu_s=1.0, cpu_wait_s=6.0), False)
    for text in (english, korean):
        assert "6.0" in text and "1.0" in text and "40" in text
    assert "grade again" in english


def test_student_is_told_when_their_own_graph_kept_the_simulator_waiting():
    busy = lockstep(unsynced=40, cpu_s=9.0, cpu_wait_s=0.3, held=7)
    assert unfair_reason(busy, False) is None  # a fair verdict ...
    english, korean = graph_was_slow(busy)  # ... with the reason in the report
    assert "40" in english and "9.0" in english and "7 simulated second" in english
    assert has_hangul(korean) and "40" in korean and "7초" in korean


@pytest.mark.parametrize(
    ("real_time_factor", "wall_per_sim_s", "held_budget_s"),
    [(4.0, 5.0, 0.25), (1.0, 15.0, 1.0), (0.1, 5.0, 5.0)],
)
def test_after_a_second_the_graph_held_lockstep_waits_as_long_as_fixed_pacing_would(
    real_time_factor, wall_per_sim_s, held_budget_s
):
    # A busy loop holds every second: each must not cost wall_per_sim_s of wall time.
    watch = ThreadWatch(lambda: [], include_self=False)
    pacer = make_pacer("lockstep", real_time_factor, 0.0, wall_per_sim_s, watch, 0.0)
    assert (pacer.wall_per_sim_s, pacer.held_budget_s) == (wall_per_sim_s, held_budget_s)


@pytest.mark.parametrize(
    "pacing",
    [
        pytest.param(lockstep(), id="lockstep-in-step"),
        pytest.param(fixed(0.9), id="fixed-pacing-has-no-graph-verdict"),
    ],
)
def test_nothing_to_tell_the_student_when_the_simulator_never_went_on_without_the_graph(pacing):
    assert graph_was_slow(pacing) is None
