"""The logistics_crossing assignment end to end: real processes, real DDS, a real forklift.

Its reference crosses the forklift's aisle without being hit, and its starter runs and earns the
graph points. One visible episode at 6x real time, like conftest's quick_assignment. The same
reference crosses the welding cell's walkway (banwol_welding_01) behind the welder: the whole
assignment, every hidden variant of both scenarios, in a heavy test (test_every_assignment leaves
this assignment to this file).
"""

import dataclasses
from pathlib import Path

import pytest
import yaml

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.grader import grade

ASSIGNMENT_DIR = (
    Path(__file__).resolve().parents[1] / "src/curriculum_pkg/assignments/logistics_crossing"
)


def visible_only(tmp_path_factory, scenario_id: str):
    """The assignment with one visible episode of `scenario_id`, at 6x real time."""
    data = yaml.safe_load((ASSIGNMENT_DIR / "assignment.yaml").read_text())
    data["scenarios"] = [{"scenario": scenario_id, "variants": 1, "seed": 1}]
    data["real_time_factor"] = 6.0
    data.pop("reference")
    data.pop("starter")
    path = tmp_path_factory.mktemp("assignment") / "assignment.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_assignment(path)


@pytest.fixture(scope="module")
def one_episode(tmp_path_factory):
    """The warehouse with its visible variant only, at 6x real time."""
    return visible_only(tmp_path_factory, "sihwa_logistics_01")


def test_reference_crosses_the_forklift_aisle_unhit_and_passes(one_episode, tmp_path):
    result = grade(
        ASSIGNMENT_DIR / "reference", one_episode, tmp_path / "out", progress=lambda _m: None
    )
    assert result.error is None
    (episode,) = result.episodes
    assert episode.metrics.completed
    assert not episode.metrics.collisions  # the forklift hits a robot that stops in its aisle
    assert not episode.metrics.near_misses
    assert result.passed and result.points >= 90.0


@pytest.mark.heavy  # as in test_every_assignment: make test-heavy
def test_starter_runs_and_earns_its_graph_points(one_episode, tmp_path):
    # The starter stands still: 20 s of simulation show that as well as the full 240 s.
    (run,) = one_episode.runs
    short = dataclasses.replace(
        one_episode,
        runs=(
            dataclasses.replace(run, scenario=dataclasses.replace(run.scenario, time_limit_s=20.0)),
        ),
    )
    result = grade(ASSIGNMENT_DIR / "starter", short, tmp_path / "out", progress=lambda _m: None)
    assert result.error is None
    (episode,) = result.episodes
    scores = {c.key: c.score for c in episode.criteria}
    assert scores["graph"] == 1.0  # every node, topic and rate, the scan_processor's included
    assert scores["task"] == 0.0 and scores["safety"] == 0.0
    assert not result.passed and result.points == pytest.approx(20.0)


# Every scenario and hidden variant of the assignment: 6 episodes, 6-8 minutes on 2 cores.
@pytest.mark.heavy
@pytest.mark.timeout(1500)
def test_reference_passes_every_scenario_and_hidden_variant(tmp_path, grading_secret):
    assignment = load_assignment(ASSIGNMENT_DIR / "assignment.yaml")
    assert {run.scenario.id for run in assignment.runs} == {
        "sihwa_logistics_01",
        "banwol_welding_01",
    }
    result = grade(
        ASSIGNMENT_DIR / "reference",
        assignment,
        tmp_path / "out",
        progress=print,  # shown if it fails: where the time went
        secret=grading_secret,
    )
    assert result.error is None
    assert len(result.episodes) == sum(run.variants for run in assignment.runs)
    for ep in result.episodes:
        where = f"{ep.scenario_id} variant {ep.variant}"
        assert ep.metrics.completed, where
        assert not ep.metrics.collisions and not ep.metrics.near_misses, where
        assert ep.metrics.keep_out_s == 0.0, where  # the welding booths' spark keep-out zones
        assert ep.points >= 90.0, f"{where}: {ep.points}"
    assert result.passed
