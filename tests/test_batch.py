"""Grading a whole class: worker processes, results in SQLite, resume, leaderboard, clean stops."""

import contextlib
import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.batch import MIGRATIONS, SandboxRefused, hash_assignment, open_db, run_batch
from curriculum_pkg.cgroups import RunCgroup
from curriculum_pkg.cli import main
from curriculum_pkg.hidden import HiddenOptions
from curriculum_pkg.leaderboard import Standing, rank_standings

PLATING = load_assignment("plating_stations")


def add_submission(class_dir: Path, name: str, source: Path, broken_install: bool = False) -> Path:
    dest = class_dir / name
    shutil.copytree(source, dest)
    if broken_install:
        setup_py = dest / "station_runner/setup.py"
        setup_py.write_text(setup_py.read_text() + "\nthis is not python\n")
    return dest


def rows(out: Path, table: str = "submissions", key: str = "id") -> dict:
    conn = sqlite3.connect(out / "batch.sqlite")
    conn.row_factory = sqlite3.Row
    try:
        return {r[key]: dict(r) for r in conn.execute(f"SELECT * FROM {table}")}
    finally:
        conn.close()


def quiet(_message: str) -> None:
    pass


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory, quick_assignment, grading_secret):
    """Three teams graded once, two at a time, with the teacher's secret and per-team variants:
    the reference, the starter, and one that does not install. The resume tests work on copies
    of it."""
    root = tmp_path_factory.mktemp("batch")
    class_dir = root / "class"
    add_submission(class_dir, "team_ref", PLATING.reference_dir)
    add_submission(class_dir, "team_starter", PLATING.starter_dir)
    add_submission(class_dir, "team_broken", PLATING.starter_dir, broken_install=True)
    messages = []
    hidden = HiddenOptions(Path(grading_secret.source), per_team=True)
    summary = run_batch(
        class_dir,
        quick_assignment,
        root / "out",
        workers=2,
        progress=messages.append,
        hidden=hidden,
    )
    return SimpleNamespace(
        class_dir=class_dir, out=root / "out", summary=summary, log=messages, hidden=hidden
    )


def test_batch_hands_the_secret_and_each_teams_id_to_its_runs(graded_class, grading_secret):
    result = json.loads((graded_class.out / "results/team_ref/result.json").read_text())
    assert result["hidden"]["graded"] is True
    assert result["hidden"]["secret_fingerprint"] == grading_secret.fingerprint
    assert result["hidden"]["team"] == "team_ref"
    assert grading_secret.key.decode() not in json.dumps(result)
    # another secret, or shared instead of per-team variants, makes every result stale
    shared = HiddenOptions(Path(grading_secret.source), per_team=False)
    per_team = HiddenOptions(Path(grading_secret.source), per_team=True)
    assert hash_assignment(PLATING, shared) != hash_assignment(PLATING, per_team)
    assert hash_assignment(PLATING, per_team) == hash_assignment(PLATING, per_team)


def clone(graded_class, tmp_path: Path) -> SimpleNamespace:
    """A copy of the graded class folder and its batch folder, to run the batch again on."""
    class_dir, out = tmp_path / "class", tmp_path / "out"
    shutil.copytree(graded_class.class_dir, class_dir)
    shutil.copytree(graded_class.out, out)
    return SimpleNamespace(class_dir=class_dir, out=out)


def test_batch_grades_every_submission_into_the_database(graded_class):
    assert set(graded_class.summary.graded) == {"team_ref", "team_starter", "team_broken"}
    assert not graded_class.summary.failed and not graded_class.summary.interrupted
    assert sum("채점 시작 / grading" in m for m in graded_class.log) == 3
    assert any("샌드박스 / sandbox: 완전함 / complete" in m for m in graded_class.log)
    subs = rows(graded_class.out)
    assert {s["status"] for s in subs.values()} == {"done"}
    assert {s["attempts"] for s in subs.values()} == {1}
    assert {s["sandboxed"] for s in subs.values()} == {1}  # this machine has the whole sandbox
    ref, starter, broken = subs["team_ref"], subs["team_starter"], subs["team_broken"]
    assert ref["passed"] == 1 and ref["points"] >= 60 and ref["error_en"] is None
    assert starter["passed"] == 0 and starter["points"] == pytest.approx(20.0)
    assert broken["points"] == 0 and broken["error_location"].endswith("setup.py")
    assert "failed to install" in broken["error_en"] and "설치에 실패" in broken["error_ko"]
    assert (graded_class.out / ref["result_json"]).is_file()
    assert ref["started_at"] <= ref["finished_at"] and len(ref["content_sha256"]) == 64

    episodes = rows(graded_class.out, "episodes", key="submission_id")
    assert "team_broken" not in episodes  # it never ran
    ep = episodes["team_ref"]
    assert (ep["scenario"], ep["variant"]) == ("banwol_plating_01", 0)
    assert ep["completed"] == 1 and ep["collisions"] == 0 and ep["sim_time_s"] > 0
    assert ep["keep_out_s"] == 0 and ep["hot_s"] == 0  # the plating plant has no hot zone
    parts = ("graph_points", "task_points", "safety_points", "efficiency_points")
    assert sum(ep[p] for p in parts) == pytest.approx(ep["points"], abs=0.05)

    conn = sqlite3.connect(graded_class.out / "batch.sqlite")
    assert conn.execute("PRAGMA user_version").fetchone() == (3,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_leaderboard_ranks_by_points_and_explains_errors(graded_class):
    with (graded_class.out / "leaderboard.csv").open(encoding="utf-8-sig") as f:
        table = list(csv.DictReader(f))
    assert [(r["rank"], r["submission"]) for r in table] == [
        ("1", "team_ref"),
        ("2", "team_starter"),
        ("3", "team_broken"),
    ]
    assert table[2]["error_ko"].startswith("패키지 station_runner 설치에 실패")
    md = (graded_class.out / "leaderboard.md").read_text()
    assert md.startswith("# 순위표 / Leaderboard")
    rows_in_order = ["| 1 | team_ref |", "| 2 | team_starter |", "| 3 | team_broken |"]
    assert sorted(rows_in_order, key=md.index) == rows_in_order
    assert "통과 / PASS" in md and "미통과 / NOT PASSED" in md
    assert "## 오류 / Errors" in md and "**team_broken**" in md
    assert "**team_starter**" not in md  # 20 points, no error


def test_running_the_same_batch_again_grades_nothing(graded_class, quick_assignment, tmp_path):
    again = clone(graded_class, tmp_path)
    messages = []
    summary = run_batch(
        again.class_dir,
        quick_assignment,
        again.out,
        progress=messages.append,
        hidden=graded_class.hidden,
    )
    assert summary.graded == () and set(summary.skipped) == set(graded_class.summary.graded)
    assert {s["attempts"] for s in rows(again.out).values()} == {1}
    assert not any("채점 시작 / grading" in m for m in messages)
    assert [s.submission_id for s in summary.standings] == [
        "team_ref",
        "team_starter",
        "team_broken",
    ]


def test_a_changed_submission_is_graded_again(graded_class, quick_assignment, tmp_path):
    again = clone(graded_class, tmp_path)
    setup_py = again.class_dir / "team_broken/station_runner/setup.py"
    setup_py.write_text(setup_py.read_text() + "still not python\n")
    summary = run_batch(
        again.class_dir, quick_assignment, again.out, progress=quiet, hidden=graded_class.hidden
    )
    assert summary.graded == ("team_broken",)
    attempts = {k: v["attempts"] for k, v in rows(again.out).items()}
    assert attempts == {"team_ref": 1, "team_starter": 1, "team_broken": 2}


def test_a_row_left_running_by_an_interrupted_batch_is_graded_again(
    graded_class, quick_assignment, tmp_path
):
    again = clone(graded_class, tmp_path)
    with sqlite3.connect(again.out / "batch.sqlite") as conn:
        conn.execute("UPDATE submissions SET status = 'running' WHERE id = 'team_broken'")
    summary = run_batch(
        again.class_dir, quick_assignment, again.out, progress=quiet, hidden=graded_class.hidden
    )
    assert summary.graded == ("team_broken",)
    broken = rows(again.out)["team_broken"]
    assert broken["status"] == "done" and broken["attempts"] == 2


def test_force_regrades_and_a_removed_folder_leaves_the_leaderboard(
    graded_class, quick_assignment, tmp_path
):
    again = clone(graded_class, tmp_path)
    shutil.rmtree(again.class_dir / "team_ref")
    shutil.rmtree(again.class_dir / "team_starter")
    summary = run_batch(
        again.class_dir,
        quick_assignment,
        again.out,
        force=True,
        progress=quiet,
        hidden=graded_class.hidden,
    )
    assert summary.graded == ("team_broken",)
    assert {k: v["attempts"] for k, v in rows(again.out).items()} == {"team_broken": 2}
    assert "team_ref" not in (again.out / "leaderboard.md").read_text()


def test_report_writes_the_leaderboard_from_the_database(graded_class, tmp_path, capsys):
    again = clone(graded_class, tmp_path)
    (again.out / "leaderboard.md").unlink()
    (again.out / "leaderboard.csv").unlink()
    assert main(["report", str(again.out)]) == 0
    assert "team_ref" in capsys.readouterr().out
    assert "| 1 | team_ref |" in (again.out / "leaderboard.md").read_text()
    assert (again.out / "leaderboard.csv").is_file()


def test_ties_are_broken_by_total_sim_time_then_by_id():
    def standing(sub_id, points, sim_time_s, status="done"):
        return Standing(sub_id, status, points, points >= 60, sim_time_s, {})

    ranked = rank_standings(
        [
            standing("c_slow", 90.0, 80.0),
            standing("b_fast", 90.0, 60.0),
            standing("a_fast", 90.0, 60.0),
            standing("d_best", 95.0, 99.0),
            standing("e_queued", 0.0, None, status="queued"),
        ]
    )
    assert [(s.rank, s.submission_id) for s in ranked] == [
        (1, "d_best"),
        (2, "a_fast"),
        (3, "b_fast"),
        (4, "c_slow"),
        (None, "e_queued"),
    ]


@pytest.mark.parametrize(
    ("argv", "en", "ko"),
    [
        (["batch", "{tmp}/missing", "-a", "plating_stations"], "does not exist", "폴더가 없습니다"),
        (["batch", "{tmp}/empty", "-a", "plating_stations"], "no submissions", "하나도 없습니다"),
        (["batch", "{tmp}/empty", "-a", "no_such_assignment"], "cannot read", "읽을 수 없습니다"),
        (["report", "{tmp}/missing"], "rootroute batch", "먼저"),
    ],
)
def test_cli_rejects_bad_input_with_a_bilingual_message(tmp_path, capsys, argv, en, ko):
    (tmp_path / "empty").mkdir()
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("오류 / error:") and en in err and ko in err
    assert "Traceback" not in err


def still_running(procs: list[psutil.Process]) -> list[psutil.Process]:
    """The processes that have not exited (a zombie waiting for a reaper has)."""
    running = []
    for proc in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                running.append(proc)
    return running


def all_ended(procs: list[psutil.Process]) -> bool:
    psutil.wait_procs(procs, timeout=10)
    return not still_running(procs)


def start_cli_batch(class_dir: Path, out: Path, assignment) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "curriculum_pkg.cli", "batch", str(class_dir)]
    cmd += ["-a", str(assignment.path), "-o", str(out)]
    cmd += ["-j", "1"]  # one at a time, as these tests expect, whatever the machine's fair count
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def cmdline(proc: psutil.Process) -> list[str]:
    try:
        return proc.cmdline()
    except psutil.Error:  # ended, or a zombie
        return []


def wait_for_student_node(out: Path, sub_id: str, batch: subprocess.Popen) -> psutil.Process:
    """The grading worker of `sub_id`, once a student node runs under it."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and batch.poll() is None:
        try:
            row = rows(out).get(sub_id)
        except sqlite3.Error:  # the batch has not created its tables yet
            row = None
        if row and row["status"] == "running" and row["worker_pid"]:
            with contextlib.suppress(psutil.Error):
                worker = psutil.Process(row["worker_pid"])
                if any("--ros-args" in cmdline(c) for c in worker.children(recursive=True)):
                    return worker
        time.sleep(0.2)
    raise AssertionError(f"no student node of {sub_id} ever ran: {batch.communicate()[0]}")


def run_cgroups_of(procs: list[psutil.Process]) -> list[Path]:
    """The cgroup folders of the grading runs these processes belong to."""
    runs = set()
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            runs.add(proc.environ().get("ROOTROUTE_RUN"))
    return [folder for run in runs - {None} for folder in RunCgroup(run).dirs if folder.exists()]


def test_a_worker_killed_hard_is_an_error_and_the_batch_goes_on(tmp_path, quick_assignment):
    class_dir, out = tmp_path / "class", tmp_path / "out"
    add_submission(class_dir, "a_victim", PLATING.starter_dir)
    add_submission(class_dir, "b_broken", PLATING.starter_dir, broken_install=True)
    batch = start_cli_batch(class_dir, out, quick_assignment)
    worker = wait_for_student_node(out, "a_victim", batch)
    tree = worker.children(recursive=True)
    run_groups = run_cgroups_of(tree)
    assert run_groups  # the student node's run has its cgroups
    worker.kill()  # what the OOM killer does; the student nodes in it are left orphaned
    output = batch.communicate(timeout=300)[0]
    assert batch.returncode == 1, output  # some submission has no result
    subs = rows(out)
    assert subs["a_victim"]["status"] == "error"
    assert "killed by SIGKILL" in subs["a_victim"]["error_en"]
    assert "강제 종료" in subs["a_victim"]["error_ko"]
    assert subs["b_broken"]["status"] == "done"  # graded after the victim died
    assert "failed to install" in subs["b_broken"]["error_en"]
    assert all_ended(tree)  # the orphaned student nodes were killed too
    assert not [d for d in run_groups if d.exists()]  # and their run's cgroups removed
    assert "채점 실패 / grading failed" in (out / "leaderboard.md").read_text()


def test_ctrl_c_stops_the_workers_and_queues_their_submissions(tmp_path, quick_assignment):
    class_dir, out = tmp_path / "class", tmp_path / "out"
    add_submission(class_dir, "team_starter", PLATING.starter_dir)
    batch = start_cli_batch(class_dir, out, quick_assignment)
    worker = wait_for_student_node(out, "team_starter", batch)
    tree = [worker, *worker.children(recursive=True)]
    batch.send_signal(signal.SIGINT)
    output = batch.communicate(timeout=60)[0]
    assert batch.returncode == 130, output
    assert "Traceback" not in output and "중단됨 / interrupted" in output
    row = rows(out)["team_starter"]
    assert row["status"] == "queued" and row["worker_pid"] is None and row["attempts"] == 1
    assert all_ended(tree)
    assert "채점 전 / not graded yet" in (out / "leaderboard.md").read_text()


def test_a_batch_killed_outright_is_resumed_and_its_old_worker_stopped(tmp_path, quick_assignment):
    class_dir, out = tmp_path / "class", tmp_path / "out"
    team = add_submission(class_dir, "team_starter", PLATING.starter_dir)
    batch = start_cli_batch(class_dir, out, quick_assignment)
    worker = wait_for_student_node(out, "team_starter", batch)
    tree = [worker, *worker.children(recursive=True)]
    run_groups = run_cgroups_of(tree)
    batch.kill()  # no clean-up at all: the row stays `running`, the worker runs on
    batch.communicate(timeout=30)
    assert rows(out)["team_starter"]["status"] == "running" and worker.is_running()
    setup_py = team / "station_runner/setup.py"  # quick to regrade: it no longer installs
    setup_py.write_text(setup_py.read_text() + "\nthis is not python\n")
    left_over = []

    def watch(message: str) -> None:
        if "채점 시작 / grading" in message:  # the new worker has just started
            left_over.extend(still_running(tree))

    summary = run_batch(class_dir, quick_assignment, out, progress=watch)
    assert summary.graded == ("team_starter",)
    assert not left_over  # the old worker was stopped first, not left racing the new one
    assert run_groups and not [d for d in run_groups if d.exists()]  # nor its cgroups left
    row = rows(out)["team_starter"]
    assert row["status"] == "done" and row["attempts"] == 2
    assert "failed to install" in row["error_en"]


@pytest.fixture
def no_bubblewrap(tmp_path, monkeypatch):
    """This machine as if bubblewrap were not installed: PATH holds every other program."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in os.environ["PATH"].split(os.pathsep):
        for program in Path(folder).glob("*") if Path(folder).is_dir() else ():
            if program.name != "bwrap" and not (bin_dir / program.name).exists():
                (bin_dir / program.name).symlink_to(program)
    monkeypatch.setenv("PATH", str(bin_dir))


def test_batch_refuses_a_class_when_the_sandbox_is_incomplete(
    tmp_path, capsys, quick_assignment, no_bubblewrap
):
    class_dir, out = tmp_path / "class", tmp_path / "out"
    add_submission(class_dir, "team_starter", PLATING.starter_dir)
    argv = ["batch", str(class_dir), "-a", str(quick_assignment.path), "-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # Korean first, then English; each says what is missing and how to go on anyway.
    assert err.startswith("오류 / error: 샌드박스가 완전하지 않아 채점을 시작하지 않았습니다")
    assert err.index("bubblewrap(bwrap)이 설치되어") < err.index("the sandbox is incomplete")
    assert "bubblewrap (bwrap) is not installed" in err
    assert err.count("--allow-unsandboxed") == 2
    assert not out.exists()  # nothing graded, not even a database


def test_batch_with_allow_unsandboxed_grades_and_records_the_missing_sandbox(
    tmp_path, quick_assignment, no_bubblewrap
):
    class_dir, out = tmp_path / "class", tmp_path / "out"
    add_submission(class_dir, "team_broken", PLATING.starter_dir, broken_install=True)
    with pytest.raises(SandboxRefused):
        run_batch(class_dir, quick_assignment, out, progress=quiet)
    messages = []
    summary = run_batch(
        class_dir, quick_assignment, out, progress=messages.append, allow_unsandboxed=True
    )
    assert summary.graded == ("team_broken",)
    assert any(m.startswith("⚠️ 샌드박스 없이 채점합니다 (--allow-unsandboxed)") for m in messages)
    row = rows(out)["team_broken"]
    assert row["status"] == "done" and row["sandboxed"] == 0
    box = json.loads((out / row["result_json"]).read_text())["sandbox"]
    assert box["complete"] is False and box["bubblewrap"] is False
    assert any("bubblewrap" in gap["en"] for gap in box["missing"])


def test_a_batch_database_of_schema_1_gains_the_sandboxed_and_hot_zone_columns(tmp_path):
    conn = sqlite3.connect(tmp_path / "batch.sqlite")
    conn.executescript(MIGRATIONS[0])
    conn.execute(
        "INSERT INTO submissions (id, path, content_sha256, assignment_sha256, status, points)"
        " VALUES ('team_old', '/x', 'a', 'b', 'done', 75.0)"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with contextlib.closing(open_db(tmp_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        row = conn.execute("SELECT points, sandboxed FROM submissions").fetchone()
        columns = {r["name"] for r in conn.execute("PRAGMA table_info(episodes)")}
    assert (row["points"], row["sandboxed"]) == (75.0, None)  # kept; not known to have had it
    assert {"keep_out_s", "hot_s"} <= columns
