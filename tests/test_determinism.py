"""Same submission, same score, at any load (issue 11), through the public grading interfaces.

Heavy (make test-heavy): three gradings of a reference while a CPU hog keeps every core busy,
and a batch whose machine cannot keep a fixed real-time factor. The full table, for every
assignment at -j 1, -j 2 and under a hog, is benchmarks/bench_determinism.py.
"""

import dataclasses
import json
import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import pytest
from mcap.reader import make_reader

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.batch import run_batch
from curriculum_pkg.grader import grade

pytestmark = pytest.mark.heavy

PLATING = load_assignment("plating_stations")


def _spin() -> None:
    while True:
        pass


@pytest.fixture
def cpu_hog():
    """Every core busy with a process that never sleeps, for as long as the test runs."""
    hogs = [
        multiprocessing.Process(target=_spin, daemon=True)
        for _ in range(multiprocessing.cpu_count())
    ]
    for hog in hogs:
        hog.start()
    yield
    for hog in hogs:
        hog.kill()
        hog.join()


def commands(bag: Path) -> list[tuple[int, bytes]]:
    """Every /cmd_vel the robot received: (sim time, serialized message)."""
    with bag.open("rb") as f:
        return [
            (message.log_time, message.data)
            for _schema, _channel, message in make_reader(f).iter_messages(topics=["/cmd_vel"])
        ]


def test_three_gradings_under_a_cpu_hog_are_the_same_tick_for_tick(
    cpu_hog, quick_assignment, tmp_path
):
    """The simulator waits for the graph at every tick, and each process gets the time in
    turn: not only the score but every command the robot received is the same, at the same
    simulated time, however the hog and the two cores share out the machine."""
    runs = []
    for i in range(3):
        result = grade(
            PLATING.reference_dir, quick_assignment, tmp_path / f"run{i}", progress=lambda _m: None
        )
        assert result.error is None, result.error.bilingual()
        (episode,) = result.episodes
        assert episode.pacing.mode == "lockstep" and episode.pacing.unsynced_ticks == 0
        runs.append(
            (
                result.points,
                episode.pacing.ticks,
                episode.metrics.sim_time_s,
                commands(tmp_path / f"run{i}" / "recordings" / "banwol_plating_01_v0.mcap"),
            )
        )
    scores = [r[0] for r in runs]
    assert max(scores) - min(scores) <= 1.0 and scores[0] >= 90
    assert runs[0][1:3] == runs[1][1:3] == runs[2][1:3]  # ticks and simulated time
    assert len(runs[0][3]) > 100 and runs[0][3] == runs[1][3] == runs[2][3]


def test_an_episode_the_machine_cannot_run_fairly_is_regraded_never_scored(
    quick_assignment, tmp_path
):
    """Fixed pacing at a factor no machine keeps: the episode is not scored as the student's
    timeout but reported as the machine's fault, and the batch grades it again."""
    impossible = dataclasses.replace(quick_assignment, pacing="fixed", real_time_factor=50.0)
    result = grade(PLATING.reference_dir, impossible, tmp_path / "one", progress=lambda _m: None)
    assert result.error is not None and result.error.location == "machine"
    assert "real-time factor" in result.error.en and "실시간 배속" in result.error.ko
    data = json.loads((tmp_path / "one" / "result.json").read_text())
    assert data["error"]["kind"] == "grader"

    class_dir = tmp_path / "class"
    shutil.copytree(PLATING.reference_dir, class_dir / "team_a")
    lines = []
    summary = run_batch(class_dir, impossible, tmp_path / "out", workers=1, progress=lines.append)
    regrades = [line for line in lines if "regrading" in line]
    assert len(regrades) == 2  # graded three times in all, then left for the next batch
    assert summary.failed == ("team_a",) and not summary.graded
    conn = sqlite3.connect(tmp_path / "out" / "batch.sqlite")
    (status, location) = conn.execute(
        "SELECT status, error_location FROM submissions WHERE id = 'team_a'"
    ).fetchone()
    conn.close()
    assert (status, location) == ("error", "machine")
