"""`rootroute new-assignment`: a new assignment from a scenario, whose starter grades as it is."""

import subprocess
import sys

import pytest
import yaml

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.grader import grade


def new_assignment(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "curriculum_pkg.cli", "new-assignment", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_starter_of_a_new_assignment_is_wired_to_every_required_topic(tmp_path):
    run = new_assignment("machining_round", "-s", "sihwa_machining_01", "-o", str(tmp_path))
    assert run.returncode == 0, run.stderr
    folder = tmp_path / "machining_round"
    # One visible episode at a faster pace: this test is about the wiring, not the mission.
    data = yaml.safe_load((folder / "assignment.yaml").read_text())
    assert data["graph"]["nodes"][0]["publishes"][1]["topic"] == "/arm_controller/joint_trajectory"
    data["scenarios"][0]["variants"] = 1
    data["real_time_factor"] = 8.0
    (folder / "assignment.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    assignment = load_assignment(folder / "assignment.yaml")
    assert assignment.starter_dir == folder / "starter"

    result = grade(assignment.starter_dir, assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.error is None, result.error
    (episode,) = result.episodes
    wiring = [f for f in episode.graph_findings if "publishes /" in f.en or "subscribes to" in f.en]
    assert len(wiring) == 8 and all(f.ok for f in wiring), [f.en for f in wiring]
    # What it does not do yet: move the arm (event topics never sent), or anything of the mission.
    missing = sorted(f.en for f in episode.graph_findings if not f.ok)
    assert missing == [
        "node /mission_controller never published /arm_controller/joint_trajectory during the "
        "episode",
        "node /mission_controller never published /gripper_controller/commands during the episode",
    ]
    scores = {c.key: c.score for c in episode.criteria}
    assert scores["task"] == 0.0 and not result.passed


@pytest.mark.parametrize(
    ("args", "en", "ko"),
    [
        (["Bad-Id", "-s", "banwol_plating_01"], "assignment id", "과제 ID"),
        (
            ["plating_two", "-s", "no_such_scenario"],
            "no_such_scenario",
            "시나리오를 찾을 수 없습니다",
        ),
    ],
)
def test_bad_input_is_a_located_bilingual_error(tmp_path, args, en, ko):
    run = new_assignment(*args, "-o", str(tmp_path))
    assert run.returncode == 2
    assert en in run.stderr and ko in run.stderr and "Traceback" not in run.stderr
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_an_existing_assignment_is_never_overwritten(tmp_path):
    assert (
        new_assignment("plating_two", "-s", "banwol_plating_01", "-o", str(tmp_path)).returncode
        == 0
    )
    marker = tmp_path / "plating_two" / "assignment.yaml"
    marker.write_text("# the teacher's edits\n")
    run = new_assignment("plating_two", "-s", "banwol_plating_01", "-o", str(tmp_path))
    assert run.returncode == 2 and "already exists" in run.stderr and "이미 있습니다" in run.stderr
    assert marker.read_text() == "# the teacher's edits\n"
