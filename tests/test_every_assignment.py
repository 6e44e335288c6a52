"""Every assignment of the course, graded as a teacher would: its reference passes the visible
scenario and hidden variants with at least 90 points, and its starter runs and earns graph points
but no task points. A new assignment folder is picked up without touching this file.

Sampled, to stay inside CI's time (make test-heavy): each scenario of the assignment runs its
visible variant and its FIRST hidden variant (seeded from this test's fixed grading secret, so
the sample is the same on every run); the other hidden variants are graded in full by the
assignments' own heavy tests (test_logistics_crossing, hostile/test_open_loop, test_factory_shift).
A starter runs the visible variant of the first scenario only, cut to 20 s of sim time: it stands
still or answers nothing, and 20 s show that as well as the whole limit.
"""

from __future__ import annotations

import dataclasses

import pytest

from curriculum_pkg.assignment import ASSIGNMENT_DIR, load_assignment
from curriculum_pkg.grader import grade
from curriculum_pkg.hidden import GradingSecret

ASSIGNMENTS = sorted(p.parent.name for p in ASSIGNMENT_DIR.glob("*/assignment.yaml"))
SECRET = GradingSecret(b"test-every-assignment: a fixed teacher's secret", "test")
STARTER_SIM_S = 20.0


def sampled(assignment):
    """Visible + the first hidden variant of every scenario."""
    runs = tuple(dataclasses.replace(r, variants=min(r.variants, 2)) for r in assignment.runs)
    return dataclasses.replace(assignment, runs=runs)


def starter_run(assignment):
    run = assignment.runs[0]
    scenario = dataclasses.replace(
        run.scenario, time_limit_s=min(run.scenario.time_limit_s, STARTER_SIM_S)
    )
    return dataclasses.replace(
        assignment, runs=(dataclasses.replace(run, scenario=scenario, variants=1),)
    )


@pytest.mark.heavy
@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_the_reference_passes_visible_and_hidden_variants(assignment_id, tmp_path):
    assignment = load_assignment(assignment_id)
    result = grade(
        assignment.reference_dir,
        sampled(assignment),
        tmp_path / "out",
        progress=lambda _m: None,
        secret=SECRET,
    )
    assert result.error is None, result.error
    shown = [(e.scenario_id, e.variant, e.points) for e in result.episodes]
    assert any(e.hidden for e in result.episodes), shown
    assert len(result.episodes) == sum(min(r.variants, 2) for r in assignment.runs), shown
    for episode in result.episodes:
        assert episode.metrics.completed, shown
        assert episode.points >= 90.0, shown
    assert result.passed


@pytest.mark.heavy
@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_the_starter_earns_graph_points_and_no_task_points(assignment_id, tmp_path):
    assignment = load_assignment(assignment_id)
    result = grade(
        assignment.starter_dir, starter_run(assignment), tmp_path / "out", progress=lambda _m: None
    )
    assert result.error is None, result.error  # it installs, starts, and publishes what it must
    (episode,) = result.episodes
    criteria = {c.key: c for c in episode.criteria}
    assert criteria["graph"].score > 0.5, criteria["graph"].en
    assert criteria["task"].score == 0.0, criteria["task"].en
    assert not result.passed
