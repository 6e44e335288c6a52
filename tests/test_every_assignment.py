"""Every assignment of the course, graded as a teacher would: its reference passes the visible
scenario and hidden variants with at least 90 points, and its starter runs and earns graph points
but no task points. A new assignment folder is picked up without touching this file.

Sampled, to stay inside CI's time (make test-heavy): each scenario of the assignment runs its
visible variant and its FIRST hidden variant (seeded from this test's fixed grading secret, so
the sample is the same on every run); hostile/test_open_loop replays against every hidden
variant. A starter runs the visible variant of the first scenario only, cut to 20 s of sim time:
it stands still or answers nothing, and 20 s show that as well as the whole limit.

Assignments in GRADED_IN_FULL are left out here: their own heavy tests grade the reference on
every variant and the starter with closer checks, so sampling them again would grade the same
episodes twice (the capstone's are minutes each). A light test checks those tests still exist,
are heavy, and grade the assignment's every variant.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest

from common_pkg.profile import load_profile
from curriculum_pkg.assignment import ASSIGNMENT_DIR, load_assignment
from curriculum_pkg.checks import vets_variants
from curriculum_pkg.grader import grade
from curriculum_pkg.hidden import GradingSecret
from curriculum_pkg.tour import drive_tour, tour_parameters, tour_script

ASSIGNMENTS = sorted(p.parent.name for p in ASSIGNMENT_DIR.glob("*/assignment.yaml"))
TESTS_DIR = Path(__file__).resolve().parent
# assignment -> (its own test file, the test grading the reference on every variant, the one
# grading the starter); both heavy
GRADED_IN_FULL = {
    "factory_shift": (
        "test_factory_shift.py",
        "test_reference_works_the_whole_shift_on_every_variant",
        "test_starter_runs_and_earns_graph_points_but_no_task_points",
    ),
    "logistics_crossing": (
        "test_logistics_crossing.py",
        "test_reference_passes_every_scenario_and_hidden_variant",
        "test_starter_runs_and_earns_its_graph_points",
    ),
    "plating_stations": (
        "test_grading_e2e.py",
        "test_reference_solution_passes_every_variant",
        "test_starter_gets_graph_points_but_not_task_success",
    ),
}
SAMPLED = [a for a in ASSIGNMENTS if a not in GRADED_IN_FULL]
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


@pytest.mark.parametrize("assignment_id", sorted(GRADED_IN_FULL))
def test_an_assignment_left_out_here_is_graded_in_full_by_its_own_tests(assignment_id):
    assert assignment_id in ASSIGNMENTS
    filename, reference_test, starter_test = GRADED_IN_FULL[assignment_id]
    spec = importlib.util.spec_from_file_location(
        f"graded_in_full_{assignment_id}", TESTS_DIR / filename
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in (reference_test, starter_test):
        test = getattr(module, name)  # renamed or deleted: this list must follow
        marks = {mark.name for mark in getattr(test, "pytestmark", [])}
        assert "heavy" in marks, f"{filename}::{name} is not in make test-heavy"
        assert "parametrize" not in marks, f"{filename}::{name}"
    # The reference test grades the assignment as it is: every run, every variant, not a sample
    # of them (a copy cut down with dataclasses.replace).
    source = inspect.getsource(getattr(module, reference_test))
    assert "reference" in source and "replace(" not in source and "variants=" not in source
    assert "starter" in inspect.getsource(getattr(module, starter_test))


@pytest.mark.heavy
@pytest.mark.parametrize("assignment_id", SAMPLED)
def test_the_reference_passes_visible_and_hidden_variants(assignment_id, tmp_path):
    assignment = load_assignment(assignment_id)
    result = grade(
        assignment.reference_dir,
        sampled(assignment),
        tmp_path / "out",
        progress=print,  # shown if it fails: where the time went
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
    if vets_variants(assignment):
        for episode in result.episodes:
            _ran_the_forecast_tour(assignment, episode)


def _ran_the_forecast_tour(assignment, episode) -> None:
    """The platform's tour went where curriculum_pkg.tour forecast it (the grader vets hidden
    variants with that forecast), and every station was shown clearly enough to be asked for."""
    (run,) = [r for r in assignment.runs if r.scenario.id == episode.scenario_id]
    scenario = run.scenario.variant(episode.variant, episode.seed)
    frames = list(
        drive_tour(scenario, load_profile(), tour_script(assignment), tour_parameters(assignment))
    )
    t_ran, x_ran, y_ran = np.array(episode.metrics.trajectory).T
    times = [f.t for f in frames]
    x_forecast = np.interp(t_ran, times, [f.pose.x for f in frames])
    y_forecast = np.interp(t_ran, times, [f.pose.y for f in frames])
    off = np.hypot(x_ran - x_forecast, y_ran - y_forecast)
    assert len(off) > 100 and max(off) < 0.25, (episode.variant, max(off))
    (check,) = episode.metrics.checks
    assert check.details["stations_visible"] == len(scenario.world.stations), check.details


@pytest.mark.heavy
@pytest.mark.parametrize("assignment_id", SAMPLED)
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
