"""Evidence before credit: an answer that did not come from looking is not an inspection."""

import dataclasses
import math
import shutil

import pytest

from common_pkg.worldspec import Pose2D
from curriculum_pkg.assignment import ScenarioRun, load_assignment
from curriculum_pkg.grader import grade

PCB = load_assignment("pcb_inspection")


@pytest.mark.heavy  # a whole grading: make test-heavy
def test_an_oracle_that_reports_the_public_label_without_looking_scores_no_task_points(tmp_path):
    # The visible board's label is in the public scenario: the oracle reports it the moment the
    # mission arrives. Here the robot stands with its back to the board, so no camera frame ever
    # shows it: whenever the report comes, it comes without evidence.
    (run,) = PCB.runs
    start = run.scenario.world.robot_start
    turned = Pose2D(start.x, start.y, start.yaw + math.pi)
    scenario = dataclasses.replace(
        run.scenario, world=dataclasses.replace(run.scenario.world, robot_start=turned)
    )
    assignment = dataclasses.replace(PCB, runs=(ScenarioRun(scenario, 1, run.seed),))
    submission = tmp_path / "oracle"
    shutil.copytree(PCB.starter_dir, submission)
    node = submission / "pcb_report/pcb_report/reporter_node.py"
    label = scenario.tasks[0].expected_label
    station = scenario.tasks[0].station_id
    text = node.read_text()
    old = "        self.steps = msg.data.split()\n"
    assert old in text
    node.write_text(
        text.replace(
            old,
            old + f"        self.report_pub.publish(KeyValue(key={station!r}, value={label!r}))\n",
        )
    )
    result = grade(submission, assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.error is None
    (episode,) = result.episodes  # no grading secret: the visible variant only
    assert episode.metrics.tasks_done == []
    assert [(s, said) for _t, s, said in episode.metrics.unseen_reports] == [(station, label)]
    task = next(c for c in episode.criteria if c.key == "task")
    assert task.score == 0 and "before the camera" in task.en and "카메라가" in task.ko
    assert not result.passed
