"""The factory_shift capstone end to end: real processes, real DDS, a real worker to wait for.

Its reference works the whole shift (navigate, pick, place, inspect, navigate) on the visible
variant and on the hidden ones, and its starter runs and earns graph points but no task points.
Both are gradings of minutes each, so they are heavy; the assignment file's check is fast.
test_every_assignment leaves this assignment to this file.
"""

import dataclasses
from pathlib import Path

import pytest

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.cli import main
from curriculum_pkg.grader import grade

ASSIGNMENT_DIR = (
    Path(__file__).resolve().parents[1] / "src/curriculum_pkg/assignments/factory_shift"
)
SHIFT = [
    "navigate:cnc_outfeed",
    "pick:sensor_housing",
    "place:sensor_housing",
    "inspect:qc_post",
    "report:shipping_dock",
]


def test_assignment_validate_accepts_the_capstone(capsys):
    assert main(["assignment", "validate", str(ASSIGNMENT_DIR / "assignment.yaml")]) == 0
    assert capsys.readouterr().out.splitlines() == [f"OK {ASSIGNMENT_DIR / 'assignment.yaml'}"]


def test_the_capstone_grades_one_scenario_with_two_hidden_variants_and_the_rubric_of_the_course():
    assignment = load_assignment(ASSIGNMENT_DIR / "assignment.yaml")
    (run,) = assignment.runs
    assert (run.scenario.id, run.variants) == ("banwol_auto_parts_01", 3)
    assert [task.name for task in run.scenario.tasks] == SHIFT
    assert run.scenario.world.actors and any(
        zone.kind == "keep_out" for zone in run.scenario.world.zones
    )
    weights = {key: round(100 * value) for key, value in assignment.rubric.items()}
    assert weights == {"graph": 10, "task": 60, "safety": 20, "efficiency": 10}


# The visible variant and two hidden ones: 3 episodes, 3-5 minutes each on 2 cores (lockstep
# with the camera rendered for the inspection; slower on a slower machine, never different).
@pytest.mark.heavy
@pytest.mark.timeout(2400)
def test_reference_works_the_whole_shift_on_every_variant(tmp_path, grading_secret):
    assignment = load_assignment(ASSIGNMENT_DIR / "assignment.yaml")
    result = grade(
        ASSIGNMENT_DIR / "reference",
        assignment,
        tmp_path / "out",
        progress=print,  # shown if it fails: where the time went
        secret=grading_secret,
    )
    assert result.error is None
    assert [ep.variant for ep in result.episodes] == [0, 1, 2]
    for ep in result.episodes:
        where = f"variant {ep.variant}: {ep.metrics.tasks_done} {ep.metrics.tasks_failed}"
        assert ep.metrics.completed and ep.metrics.tasks_done == SHIFT, where
        assert not ep.metrics.collisions and not ep.metrics.near_misses, where
        assert ep.metrics.keep_out_s == 0.0, where
        assert ep.points >= 90.0, f"{where}: {ep.points}"
    assert result.passed


@pytest.mark.heavy  # a grading of 20 simulated seconds: the starter stands still all the same
def test_starter_runs_and_earns_graph_points_but_no_task_points(tmp_path):
    assignment = load_assignment(ASSIGNMENT_DIR / "assignment.yaml")
    (run,) = assignment.runs
    short = dataclasses.replace(
        assignment,
        runs=(
            dataclasses.replace(
                run,
                variants=1,
                scenario=dataclasses.replace(run.scenario, time_limit_s=20.0),
            ),
        ),
    )
    result = grade(ASSIGNMENT_DIR / "starter", short, tmp_path / "out", progress=lambda _m: None)
    assert result.error is None
    (episode,) = result.episodes
    scores = {c.key: c.score for c in episode.criteria}
    # Every node, topic and rate is there; the two checks it misses are the reports it never
    # sends (events a starter cannot fake without spending the inspection or the shift report).
    failed = [f.en for f in episode.graph_findings if not f.ok]
    assert failed == [
        "node /shift_controller never published /shift/report during the episode",
        "node /inspection_reporter never published /inspection/report during the episode",
    ]
    assert scores["graph"] > 0.9
    assert scores["task"] == 0.0 and scores["safety"] == 0.0 and scores["efficiency"] == 0.0
    assert not result.passed and 9.0 < result.points < 10.0
