"""The `report` task step: an end-of-shift report to the MES terminal at a station, judged
against what the judge saw done (ROS-free). A claim is evidence only when it matches."""

from __future__ import annotations

import dataclasses

import pytest

from common_pkg.worldspec import Pose2D
from curriculum_pkg.episode import EpisodeJudge
from curriculum_pkg.errors import ScenarioError
from curriculum_pkg.scenario import Task, load_scenario


@pytest.fixture
def scenario():
    """The plating round, then a report at the outgoing rack."""
    base = load_scenario("banwol_plating_01")
    tasks = (Task("navigate", "rinse_check"), Task("report", "outgoing_rack"))
    return dataclasses.replace(base, tasks=tasks)


def drive(judge, scenario, reports, start=0.0):
    """Reach the rinse check (dwell), then stand at the outgoing rack; `reports` (t, text)."""
    rinse = Pose2D(*scenario.station("rinse_check").stop_xy, 0.0)
    rack = Pose2D(*scenario.station("outgoing_rack").stop_xy, 0.0)
    t = start
    for _ in range(200):
        t += 0.01
        judge.update(t, rinse, set(), shift_reports=[r for r in reports if r[0] <= t])
    for _ in range(300):
        t += 0.01
        judge.update(t, rack, set(), shift_reports=[r for r in reports if r[0] <= t])
    return judge.metrics


def test_an_honest_report_at_the_terminal_completes_the_shift(scenario):
    m = drive(EpisodeJudge(scenario, scenario.world), scenario, [(3.0, "navigate:rinse_check")])
    assert m.tasks_done == ["navigate:rinse_check", "report:outgoing_rack"] and m.completed


def test_claiming_work_not_done_fails_the_report(scenario):
    m = drive(
        EpisodeJudge(scenario, scenario.world),
        scenario,
        [(3.0, "navigate:rinse_check pick:bushing")],
    )
    assert m.tasks_done == ["navigate:rinse_check"] and not m.completed
    assert m.tasks_failed == ["report:outgoing_rack claimed pick:bushing not done, left out -"]


def test_a_report_sent_before_reaching_the_terminal_does_not_count(scenario):
    # Sent on the way (t = 1 s, at the rinse check): the robot must be at the terminal.
    m = drive(EpisodeJudge(scenario, scenario.world), scenario, [(1.0, "navigate:rinse_check")])
    assert m.tasks_done == ["navigate:rinse_check"] and not m.tasks_failed


def test_a_report_step_names_an_existing_station(tmp_path):
    text = (
        load_scenario("banwol_plating_01").path.read_text()
        .replace("  - {type: navigate, station: outgoing_rack}", "  - {type: report, station: mes}")
    )  # fmt: skip
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert "'mes'" in error.value.en and "tasks" in error.value.location
