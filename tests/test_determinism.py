"""Same submission, same score, at any load (issue 11), through the public grading interfaces.

Heavy (make test-heavy): three gradings of a reference while a CPU hog keeps every core busy,
and a batch whose machine cannot keep a fixed real-time factor. The full table, for every
assignment at -j 1, -j 2 and under a hog, is benchmarks/bench_determinism.py.
"""

import json
import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml
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


def test_three_gradings_under_a_cpu_hog_get_the_same_score(cpu_hog, quick_assignment, tmp_path):
    """The simulator waits for the graph at every tick, and each process gets the time in
    turn: however the hog and the two cores share out the machine, the score is the same, the
    simulator never had to go on without the graph, and it never waited in vain for a CPU the
    graph did not get. (Tick for tick identity with a probe node: src/sim_pkg/test/
    test_lockstep.py; here a late DDS match at start-up can still shift a run by a few ticks.)"""
    scores = []
    for i in range(3):
        result = grade(
            PLATING.reference_dir, quick_assignment, tmp_path / f"run{i}", progress=lambda _m: None
        )
        assert result.error is None, result.error.bilingual()
        (episode,) = result.episodes
        assert episode.pacing.mode == "lockstep" and episode.pacing.unsynced_ticks == 0
        assert episode.pacing.graph_cpu_wait_s > 0  # the hog really competed for the CPUs
        assert (
            len(commands(tmp_path / f"run{i}" / "recordings" / "banwol_plating_01_v0.mcap")) > 100
        )
        scores.append(result.points)
    assert max(scores) - min(scores) <= 1.0 and min(scores) >= 90


def test_an_episode_the_machine_cannot_run_fairly_is_regraded_never_scored(
    quick_assignment, tmp_path
):
    """Fixed pacing at a factor no machine keeps: the episode is not scored as the student's
    timeout but reported as the machine's fault, and the batch grades it again."""
    # A file of its own: the batch's workers load the assignment from its path.
    data = yaml.safe_load(Path(quick_assignment.path).read_text())
    data.update(pacing="fixed", real_time_factor=50.0)
    (tmp_path / "impossible.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    impossible = load_assignment(tmp_path / "impossible.yaml")
    assert impossible.pacing == "fixed"
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
