"""The logistics_crossing assignment end to end: real processes, real DDS, a real forklift.

Its reference crosses the forklift's aisle without being hit, and its starter runs and earns the
graph points. One visible episode at 6x real time, like conftest's quick_assignment.
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


@pytest.fixture(scope="module")
def one_episode(tmp_path_factory):
    """The assignment with its visible variant only, at 6x real time."""
    data = yaml.safe_load((ASSIGNMENT_DIR / "assignment.yaml").read_text())
    data["scenarios"] = [{"scenario": "sihwa_logistics_01", "variants": 1, "seed": 1}]
    data["real_time_factor"] = 6.0
    data.pop("reference")
    data.pop("starter")
    path = tmp_path_factory.mktemp("assignment") / "assignment.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_assignment(path)


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
