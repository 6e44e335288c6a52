"""Grade a whole class: one worker process per submission, results in SQLite, a leaderboard.

Each submission (an immediate sub-folder of the class folder; its name is the submission id) is
graded by `python -m curriculum_pkg.cli grade` in a process and session of its own, so a worker
that dies (a segfault, the OOM killer, a hang) costs that one submission a row marked `error`,
never the batch. The batch process is the only writer of `batch.sqlite`.

A row goes queued -> running -> done or error. `done` means result.json was written: a broken
submission is `done` with 0 points and its located error, a final verdict. `error` means there is
no result (the worker died, hung or crashed) and the next run tries again. Running the same
command again resumes: rows `done` with the same files and the same assignment are skipped,
everything else is graded (again); `force` regrades all.

Official grading needs the whole sandbox (curriculum_pkg.sandbox): before anything is graded the
batch sets one run's sandbox up in a throwaway process, and refuses the class if a part is
missing, unless the teacher passes `allow_unsandboxed`. Each row records whether its run had
the complete sandbox (`sandboxed`), as its result.json does.

By default as many submissions are graded at once as the machine serves fairly (`fair_workers`);
a teacher may ask for more, and is told what that costs.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

from curriculum_pkg.assignment import Assignment
from curriculum_pkg.cgroups import (
    CONCURRENT_RUNS_ENV,
    MEMORY_LIMIT_BYTES,
    CgroupLayout,
    RunCgroup,
)
from curriculum_pkg.errors import LocatedError
from curriculum_pkg.hidden import HiddenOptions
from curriculum_pkg.leaderboard import (
    RESULTS_DIR,
    Standing,
    first_line,
    now_utc,
    write_leaderboard,
)
from curriculum_pkg.processes import become_subreaper
from curriculum_pkg.sandbox import SandboxInfo, probe_sandbox

if TYPE_CHECKING:
    from curriculum_pkg.batchbar import BatchBar

DB_NAME = "batch.sqlite"
POLL_S = 0.5
KILL_WAIT_S = 5.0
# Ctrl-C and `kill`: the CLI turns both into a KeyboardInterrupt.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SKIPPED_IN_HASH = {"__pycache__", "build", ".git"}  # and *.egg-info, *.pyc: build output
RUN_MARKER = "ROOTROUTE_RUN"  # a grading run's id, in its worker's environment (grader.grade)
# CPU cores one grading run needs to itself: the simulator and the student's nodes. They take
# turns more than they run together (the simulator waits for the student's graph: lockstep), so
# one core keeps a run from waiting on another run's processes.
CORES_PER_RUN = 1

# MIGRATIONS[n] takes the database from PRAGMA user_version n to n + 1 (0 is a new file).
MIGRATIONS = {
    0: """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE submissions (
    id                TEXT PRIMARY KEY,   -- the submission's folder name
    path              TEXT NOT NULL,      -- absolute path of that folder when last seen
    content_sha256    TEXT NOT NULL,      -- of its files, build output excluded
    assignment_sha256 TEXT NOT NULL,      -- of the assignment file and its scenario files
    status            TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'error')),
    points            REAL,
    passed            INTEGER,
    error_location    TEXT,
    error_en          TEXT,
    error_ko          TEXT,
    result_json       TEXT,               -- relative to the batch folder
    worker_pid        INTEGER,
    started_at        TEXT,               -- UTC, ISO 8601
    finished_at       TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE episodes (
    submission_id     TEXT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    scenario          TEXT NOT NULL,
    variant           INTEGER NOT NULL,
    seed              INTEGER,
    points            REAL NOT NULL,
    graph_points      REAL,
    task_points       REAL,
    safety_points     REAL,
    efficiency_points REAL,
    completed         INTEGER,
    sim_time_s        REAL,
    collisions        INTEGER,
    keep_out_s        REAL,
    mux_interventions INTEGER,
    spoofed_topics    INTEGER,
    real_time_factor  REAL,
    wall_s            REAL,
    PRIMARY KEY (submission_id, scenario, variant)
);
""",
    1: """
-- 1: the run had the complete sandbox, 0: it had not (--allow-unsandboxed), NULL: no result
ALTER TABLE submissions ADD COLUMN sandboxed INTEGER;
""",
    2: """
-- seconds in hot zones (result.json 1.8); NULL for episodes graded before
ALTER TABLE episodes ADD COLUMN hot_s REAL;
""",
}
SCHEMA_VERSION = len(MIGRATIONS)


class BatchError(LocatedError):
    """A batch cannot start: no class folder, no submissions, a busy or too new batch folder."""


class SandboxRefused(BatchError):
    """The sandbox would be incomplete and the teacher did not allow that (--allow-unsandboxed)."""


@dataclass(frozen=True)
class BatchSummary:
    graded: tuple[str, ...]  # graded in this run (done)
    skipped: tuple[str, ...]  # already done, unchanged
    failed: tuple[str, ...]  # no result: the worker died, hung or crashed (status error)
    interrupted: bool  # Ctrl-C / SIGTERM: unfinished rows are queued again
    standings: tuple[Standing, ...]  # the leaderboard written at the end


def open_db(out_dir: Path, create: bool = True) -> sqlite3.Connection:
    path = Path(out_dir) / DB_NAME
    if not create and not path.is_file():
        raise BatchError(
            str(path),
            "no batch database here; run `rootroute batch` first",
            "일괄 채점 데이터베이스가 없습니다. 먼저 `rootroute batch`를 실행하세요",
        )
    conn = sqlite3.connect(path, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        conn.close()
        raise BatchError(
            str(path),
            f"database schema {version} is newer than this rootroute knows ({SCHEMA_VERSION})",
            f"데이터베이스 스키마 {version}이(가) 이 rootroute가 아는 버전({SCHEMA_VERSION})보다 새롭습니다",
        )
    for step in range(version, SCHEMA_VERSION):
        with conn:
            conn.executescript(MIGRATIONS[step])
            conn.execute(f"PRAGMA user_version = {step + 1}")
    return conn


def hash_submission(folder: Path) -> str:
    """sha256 of every file's relative path and bytes; build output and caches do not count."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d for d in dirs if d not in SKIPPED_IN_HASH and not d.endswith(".egg-info")
        )
        for name in sorted(files):
            if name.endswith(".pyc"):
                continue
            path = Path(root, name)
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            if path.is_symlink() or not path.is_file():  # never read through a link or a device:
                digest.update(b"not a regular file")  # the grader rejects those (check_files)
            else:
                try:
                    digest.update(path.read_bytes())
                except OSError as exc:
                    digest.update(f"unreadable: {exc.strerror}".encode())
            digest.update(b"\0")
    return digest.hexdigest()


def hash_assignment(
    assignment: Assignment, hidden: HiddenOptions | None = None, distro: str | None = None
) -> str:
    """A changed assignment or scenario file, or another grading secret or hidden scenario
    folder, or another pacing or --distro, makes every earlier result stale."""
    digest = hashlib.sha256()
    files = [assignment.path, *sorted({run.scenario.path for run in assignment.runs})]
    for path in files:
        digest.update(Path(path).read_bytes())
    if hidden is not None:
        digest.update(hidden.fingerprint().encode())
    digest.update(f"pacing {assignment.pacing}".encode())  # another --pacing grades again
    if distro:  # (no --distro hashes as before: earlier batches stay resumable)
        digest.update(f"distro {distro}".encode())
    return digest.hexdigest()


def worker_timeout_s(assignment: Assignment) -> float:
    """A generous wall-time bound for grading one submission; a hung worker is stopped after it."""
    episodes_s = sum(
        run.variants
        * (assignment.wall_ceiling_s(run.scenario.time_limit_s) + assignment.startup_timeout_s + 90)
        for run in assignment.runs
    )
    return 300.0 + episodes_s  # + installing the packages


def usable_cpus() -> float:
    """The CPUs we may run on, within our own cgroup's CPU quota if any (a container's --cpus),
    as cgroups.CgroupLimits counts them."""
    quota = CgroupLayout.detect().cpu_quota_cores()
    return min(len(os.sched_getaffinity(0)), quota or math.inf)


def fair_workers(cpus: float | None = None, memory_bytes: int | None = None) -> int:
    """How many grading runs the machine serves at once without them competing: one per
    CORES_PER_RUN usable CPUs, and no more than fit in memory with MEMORY_LIMIT_BYTES each.
    Defaults: this machine's usable CPUs and total memory. Always at least 1."""
    cpus = usable_cpus() if cpus is None else cpus
    memory_bytes = psutil.virtual_memory().total if memory_bytes is None else memory_bytes
    return max(1, min(int(cpus // CORES_PER_RUN), memory_bytes // MEMORY_LIMIT_BYTES))


def _above_fair_warning(workers: int) -> str | None:
    """What grading more than fair_workers() at once costs, Korean then English; None if the
    machine serves `workers` fairly. The batch goes on with `workers`: the teacher decides."""
    cpus, memory_bytes = usable_cpus(), psutil.virtual_memory().total
    fair = fair_workers(cpus, memory_bytes)
    if workers <= fair:
        return None
    machine_ko = f"CPU {cpus:g}코어, 메모리 {memory_bytes / 2**30:.0f} GiB"
    machine_en = f"{cpus:g} CPU cores, {memory_bytes / 2**30:.0f} GiB of memory"
    per_run_gib = MEMORY_LIMIT_BYTES >> 30
    return (
        f"⚠️ 동시 채점 수(--workers) {workers}개는 이 컴퓨터({machine_ko})에서 공정하게 돌릴 수 "
        f"있는 {fair}개보다 많습니다(채점 1건당 CPU {CORES_PER_RUN}코어, 메모리 최대 "
        f"{per_run_gib} GiB). 여러 채점이 CPU를 나눠 쓰게 되어 한 건 한 건이 느려지고, 시간 "
        "제한에 걸리는 경우도 늘어납니다. 채점기가 학생 노드의 처리를 기다렸다가 시뮬레이션을 "
        "진행하므로(락스텝) 점수는 그대로지만, 전체 채점 시간은 길어집니다. 요청한 대로 "
        f"{workers}개씩 동시에 채점합니다.\n"
        f"⚠️ {workers} workers (--workers) is more than this machine ({machine_en}) serves "
        f"fairly: {fair} (a run needs {CORES_PER_RUN} CPU core and up to {per_run_gib} GiB). The "
        "runs will compete for CPU, so each run grades slower and more runs hit their time "
        "limit. The grader waits for the student's nodes (lockstep), so scores stay the same, "
        f"but the batch takes longer. Grading {workers} at once, as asked."
    )


def find_submissions(class_dir: Path, out_dir: Path) -> dict[str, Path]:
    class_dir = Path(class_dir)
    if not class_dir.is_dir():
        raise BatchError(
            str(class_dir), "submissions folder does not exist", "제출물 폴더가 없습니다"
        )
    out = Path(out_dir).resolve()
    found = {
        p.name: p.resolve()
        for p in sorted(class_dir.iterdir())
        if p.is_dir() and not p.name.startswith(".") and p.resolve() != out
    }
    if not found:
        raise BatchError(
            str(class_dir),
            "no submissions inside: put one sub-folder per student or team here",
            "제출물이 하나도 없습니다. 학생(또는 팀)마다 하위 폴더를 하나씩 두세요",
        )
    return found


def check_sandbox(workers: int, allow_unsandboxed: bool, progress) -> SandboxInfo:
    """Set one run's sandbox up as the workers will (sandbox.probe_sandbox) before grading
    anything. Incomplete: SandboxRefused, naming what is missing, unless `allow_unsandboxed`."""
    info = probe_sandbox(concurrent_runs=workers)
    if info.complete:
        progress(
            f"샌드박스 / sandbox: 완전함 / complete (cgroup v{info.cgroup_version}, "
            f"CPU {info.cpu_limit_cores:g}코어 / cores per run)"
        )
        return info
    gaps_ko = "".join(f"\n  - {ko}" for _en, ko in info.missing)
    gaps_en = "".join(f"\n  - {en}" for en, _ko in info.missing)
    if not allow_unsandboxed:
        raise SandboxRefused(
            "sandbox",
            f"the sandbox is incomplete here, so the class was not graded:{gaps_en}\n"
            "Fix what is missing (`rootroute doctor` checks it), or pass --allow-unsandboxed to "
            "grade anyway: the leaderboard then marks every result as graded without it.",
            f"샌드박스가 완전하지 않아 채점을 시작하지 않았습니다:{gaps_ko}\n"
            "부족한 부분을 갖춘 뒤(`rootroute doctor`로 확인) 다시 실행하세요. 그래도 채점하려면 "
            "--allow-unsandboxed를 붙이세요. 이때 순위표에는 샌드박스 없이 채점했다고 표시됩니다.",
        )
    progress(
        f"⚠️ 샌드박스 없이 채점합니다 (--allow-unsandboxed):{gaps_ko}\n"
        f"⚠️ grading without the complete sandbox (--allow-unsandboxed):{gaps_en}"
    )
    return info


@contextlib.contextmanager
def _batch_lock(out_dir: Path):
    """One batch per folder at a time; the lock goes with the process, even if it is killed."""
    fd = os.open(out_dir / "batch.lock", os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise BatchError(
            str(out_dir),
            "another batch is running in this folder",
            "이 폴더에서 다른 일괄 채점이 이미 실행 중입니다",
        ) from None
    try:
        yield
    finally:
        os.close(fd)


@dataclass
class _Worker:
    submission_id: str
    result_dir: Path
    popen: subprocess.Popen
    deadline: float
    seen: dict[int, psutil.Process] = field(default_factory=dict)  # every descendant met
    runs: set[str] = field(default_factory=set)  # the grading runs among them (their ids)

    def track(self) -> None:
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.popen.pid).children(recursive=True):
                if child.pid not in self.seen:
                    self.seen[child.pid] = child
                    self.runs |= _runs_of([child])

    def stop(self) -> None:
        """Kill the worker and everything it started (student nodes run in sessions of their
        own, and outlive a worker that dies). Frozen first, so that nothing new is spawned."""
        alive = self.popen.poll() is None
        if alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, signal.SIGSTOP)
        self.track()
        for proc in list(self.seen.values()):
            with contextlib.suppress(psutil.Error):
                proc.suspend()
        self.track()
        if alive:
            self.popen.kill()
        for proc in self.seen.values():
            with contextlib.suppress(psutil.Error):
                proc.kill()
        self.popen.wait()
        psutil.wait_procs(list(self.seen.values()), timeout=KILL_WAIT_S)
        _remove_run_cgroups(self.runs)


def _runs_of(procs: list[psutil.Process]) -> set[str]:
    runs = set()
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            runs.add(proc.environ().get(RUN_MARKER))
    return runs - {None}


def _remove_run_cgroups(runs: set[str]) -> None:
    """A grading run killed outright cannot take its cgroups down itself: once its processes
    are gone, we do (cgroups.RunCgroup, found again from the run's id)."""
    for run_id in runs:
        RunCgroup(run_id).kill_all()


def _kill_stale_worker(row: sqlite3.Row, out_dir: Path) -> None:
    """A batch that was itself killed leaves its workers running; stop them before regrading."""
    marker = str(out_dir / RESULTS_DIR / row["id"])
    if not row["worker_pid"]:
        return
    try:
        proc = psutil.Process(row["worker_pid"])
        if marker not in " ".join(proc.cmdline()):
            return
        victims = [proc, *proc.children(recursive=True)]
    except (psutil.Error, TypeError, ValueError):
        return
    runs = _runs_of(victims)
    for victim in victims:
        with contextlib.suppress(psutil.Error):
            victim.kill()
    psutil.wait_procs(victims, timeout=KILL_WAIT_S)
    _remove_run_cgroups(runs)


def _sync_rows(
    conn: sqlite3.Connection,
    submissions: dict[str, Path],
    assignment_sha: str,
    force: bool,
    out_dir: Path,
    progress,
) -> tuple[list[str], list[str]]:
    """Bring the table in line with the class folder; returns (to grade, skipped)."""
    rows = {r["id"]: r for r in conn.execute("SELECT * FROM submissions")}
    to_grade, skipped = [], []
    with conn:
        for gone in sorted(set(rows) - set(submissions)):
            conn.execute("DELETE FROM submissions WHERE id = ?", (gone,))
            progress(
                f"  목록에서 뺌 / removed: {gone} (제출물 폴더에 없음 / no longer in the folder)"
            )
        for sub_id, path in submissions.items():
            content_sha = hash_submission(path)
            row = rows.get(sub_id)
            if row is not None and row["status"] == "running":
                _kill_stale_worker(row, out_dir)  # an interrupted batch's left-over
            unchanged = (
                row is not None
                and row["status"] == "done"
                and row["content_sha256"] == content_sha
                and row["assignment_sha256"] == assignment_sha
            )
            if unchanged and not force:
                conn.execute("UPDATE submissions SET path = ? WHERE id = ?", (str(path), sub_id))
                skipped.append(sub_id)
                continue
            conn.execute("DELETE FROM episodes WHERE submission_id = ?", (sub_id,))
            conn.execute(
                """INSERT INTO submissions (id, path, content_sha256, assignment_sha256, status)
                   VALUES (?, ?, ?, ?, 'queued')
                   ON CONFLICT (id) DO UPDATE SET path = excluded.path,
                     content_sha256 = excluded.content_sha256,
                     assignment_sha256 = excluded.assignment_sha256, status = 'queued',
                     points = NULL, passed = NULL, error_location = NULL, error_en = NULL,
                     error_ko = NULL, result_json = NULL, worker_pid = NULL,
                     started_at = NULL, finished_at = NULL, sandboxed = NULL""",
                (sub_id, str(path), content_sha, assignment_sha),
            )
            to_grade.append(sub_id)
    return to_grade, skipped


def _start_worker(
    sub_id: str,
    path: Path,
    assignment: Assignment,
    out_dir: Path,
    workers: int,
    hidden: HiddenOptions | None = None,
    distro: str | None = None,
) -> _Worker:
    result_dir = out_dir / RESULTS_DIR / sub_id
    shutil.rmtree(result_dir, ignore_errors=True)  # no stale result.json can pass for a new one
    result_dir.mkdir(parents=True)
    cmd = [
        sys.executable,
        "-m",
        "curriculum_pkg.cli",
        "grade",
        str(path),
        "-a",
        str(Path(assignment.path).resolve()),
        "-o",
        str(result_dir),
        *(hidden.grade_args() if hidden is not None else []),
        "--pacing",
        assignment.pacing,
        *(["--distro", distro] if distro else []),
    ]
    with (result_dir / "grade.log").open("wb") as log:
        popen = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # The number of runs at once sets each run's CPU share (cgroups.cpu_cores_per_run).
            env={**os.environ, "PYTHONUNBUFFERED": "1", CONCURRENT_RUNS_ENV: str(workers)},
            start_new_session=True,  # Ctrl-C reaches the batch only; it stops the workers itself
        )
    return _Worker(sub_id, result_dir, popen, time.monotonic() + worker_timeout_s(assignment))


def _mark_running(conn: sqlite3.Connection, worker: _Worker) -> None:
    with conn:
        conn.execute(
            """UPDATE submissions SET status = 'running', worker_pid = ?, started_at = ?,
               finished_at = NULL, attempts = attempts + 1 WHERE id = ?""",
            (worker.popen.pid, now_utc(), worker.submission_id),
        )


def _read_result(worker: _Worker) -> dict | None:
    """result.json of a worker that ended by itself, or None if there is no usable one."""
    if worker.popen.returncode is None or worker.popen.returncode < 0:
        return None
    try:
        data = json.loads((worker.result_dir / "result.json").read_text())
    except (OSError, ValueError):
        return None
    try:
        if not str(data["schema_version"]).startswith("1."):
            return None
        float(data["score"]), bool(data["passed"])
        [_episode_row(worker.submission_id, ep) for ep in data["episodes"]]
    except (KeyError, TypeError, ValueError):  # not a result this batch can read
        return None
    return data


def _failure_text(worker: _Worker, timed_out: bool, timeout_s: float) -> tuple[str, str]:
    code = worker.popen.returncode
    if timed_out:
        en = f"grading took longer than {timeout_s:.0f} s and was stopped"
        ko = f"채점이 {timeout_s:.0f}초 안에 끝나지 않아 중단했습니다"
    elif code is not None and code < 0:
        name = signal.Signals(-code).name
        en = f"the grading process was killed by {name} (out of memory, or a crash in the grader)"
        ko = f"채점 프로세스가 {name} 신호로 강제 종료되었습니다 (메모리 부족이거나 채점기 내부 오류)"
    else:
        en = f"the grading process exited with code {code} without writing result.json"
        ko = f"채점 프로세스가 result.json을 남기지 않고 종료되었습니다 (종료 코드 {code})"
    try:
        lines = (worker.result_dir / "grade.log").read_text(errors="replace").strip().splitlines()
    except OSError:
        lines = []
    if lines:
        tail = "\n".join(lines[-8:])
        en += f"; last lines of grade.log:\n{tail}"
        ko += f". grade.log 마지막 부분:\n{tail}"
    return en, ko


def _episode_row(sub_id: str, ep: dict) -> dict:
    metrics = ep.get("metrics") or {}
    points = {c["key"]: c["points"] for c in ep.get("criteria", [])}
    return {
        "submission_id": sub_id,
        "scenario": ep["scenario"],
        "variant": ep["variant"],
        "seed": ep.get("seed"),
        "points": ep["score"],
        "graph_points": points.get("graph"),
        "task_points": points.get("task"),
        "safety_points": points.get("safety"),
        "efficiency_points": points.get("efficiency"),
        "completed": metrics.get("completed"),
        "sim_time_s": metrics.get("sim_time_s"),
        "collisions": len(metrics["collisions"]) if "collisions" in metrics else None,
        "keep_out_s": metrics.get("keep_out_s"),
        "hot_s": metrics.get("hot_s"),
        "mux_interventions": metrics.get("mux_interventions"),
        "spoofed_topics": len({s["topic"] for s in ep.get("spoofed", [])}),
        "real_time_factor": ep.get("real_time_factor_achieved"),
        "wall_s": ep.get("wall_s"),
    }


def _had_complete_sandbox(data: dict) -> int:
    """1 if result.json shows the run had the complete sandbox, else 0 (a result without a
    `sandbox` object, as from an older rootroute, does not show it)."""
    box = data.get("sandbox")
    return int(isinstance(box, dict) and box.get("complete") is True)


def _record(
    conn: sqlite3.Connection, worker: _Worker, out_dir: Path, timed_out: bool, timeout_s: float
) -> dict | None:
    """Store what a finished worker left: its verdict (done), or why there is none (error).
    Returns result.json's content for a verdict, None otherwise."""
    data = None if timed_out else _read_result(worker)
    err = (data or {}).get("error") or {}
    result_json = str((worker.result_dir / "result.json").relative_to(out_dir))
    if data is None:
        status, location, result_json = (
            "error",
            f"{RESULTS_DIR}/{worker.submission_id}/grade.log",
            None,
        )
        en, ko = _failure_text(worker, timed_out, timeout_s)
    elif err.get("kind") == "grader":  # the grading run itself failed: no verdict, retried
        status, location, en, ko = "error", err["location"], err.get("en"), err.get("ko")
    else:
        status, location, en, ko = "done", err.get("location"), err.get("en"), err.get("ko")
    with conn:
        conn.execute(
            """UPDATE submissions SET status = ?, points = ?, passed = ?, error_location = ?,
               error_en = ?, error_ko = ?, result_json = ?, worker_pid = NULL, finished_at = ?,
               sandboxed = ? WHERE id = ?""",
            (
                status,
                float(data["score"]) if status == "done" else 0.0,
                int(bool(data["passed"])) if status == "done" else 0,
                location,
                en,
                ko,
                result_json,
                now_utc(),
                _had_complete_sandbox(data) if status == "done" else None,
                worker.submission_id,
            ),
        )
        rows = [_episode_row(worker.submission_id, ep) for ep in (data or {}).get("episodes", [])]
        if status == "done" and rows:  # (checked by _read_result)
            names = list(rows[0])
            conn.executemany(
                f"INSERT INTO episodes ({', '.join(names)}) "
                f"VALUES ({', '.join(':' + n for n in names)})",
                rows,
            )
    return data if status == "done" else None


def run_batch(
    class_dir: Path,
    assignment: Assignment,
    out_dir: Path,
    workers: int = 1,
    force: bool = False,
    progress=print,
    allow_unsandboxed: bool = False,
    hidden: HiddenOptions | None = None,
    bar: BatchBar | None = None,
    distro: str | None = None,
) -> BatchSummary:
    """Grade every submission in `class_dir` into `out_dir`, resuming what an earlier run did.

    `progress` gets the batch's lines for people to read; `bar` (batchbar.BatchBar), if given,
    counts the submissions done. More `workers` than fair_workers() are graded as asked, after a
    warning through `progress`.

    Raises BatchError for bad input, SandboxRefused (before grading anything) when the sandbox
    would be incomplete and `allow_unsandboxed` is not set; a Ctrl-C (KeyboardInterrupt) stops
    the workers, queues their submissions again and returns with `interrupted` set.
    """
    if workers < 1:
        raise BatchError(
            "--workers",
            f"needs at least 1 worker, not {workers}",
            "동시 채점 수(--workers)는 1 이상이어야 합니다",
        )
    out_dir = Path(out_dir).resolve()
    submissions = find_submissions(class_dir, out_dir)
    warning = _above_fair_warning(workers)
    if warning is not None:
        progress(warning)
    check_sandbox(workers, allow_unsandboxed, progress)
    out_dir.mkdir(parents=True, exist_ok=True)
    # The student nodes of a worker that dies are re-parented to us, so we can kill and reap them.
    become_subreaper()
    with _batch_lock(out_dir):
        conn = open_db(out_dir)
        try:
            return _run_locked(
                conn,
                submissions,
                assignment,
                out_dir,
                workers,
                force,
                progress,
                hidden,
                bar,
                distro,
            )
        finally:
            conn.close()


MACHINE_FAULT = "machine"  # error location of an episode the machine could not run fairly
MACHINE_RETRIES = 2  # regrades of one submission after machine faults, in one batch


def _run_locked(
    conn,
    submissions,
    assignment,
    out_dir,
    workers,
    force,
    progress,
    hidden=None,
    bar=None,
    distro=None,
) -> BatchSummary:
    with conn:
        meta = {
            "assignment_id": assignment.id,
            "assignment_path": str(Path(assignment.path).resolve()),
            "title_ko": assignment.title["ko"],
            "title_en": assignment.title["en"],
            "pass_mark": str(assignment.pass_mark),
        }
        conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
    progress(
        f"일괄 채점 / batch: 제출물 / submissions {len(submissions)}, "
        f"과제 / assignment {assignment.id}, 동시 채점 / workers {workers}"
    )
    queue, skipped = _sync_rows(
        conn, submissions, hash_assignment(assignment, hidden, distro), force, out_dir, progress
    )
    for sub_id in skipped:
        progress(f"  건너뜀 / skipped: {sub_id} (이미 채점됨, 변경 없음 / graded, unchanged)")
    if bar is not None:  # skipped submissions are done already
        bar.start(total=len(queue) + len(skipped), done=len(skipped))
    timeout_s = worker_timeout_s(assignment)
    total, finished = len(queue), 0
    graded, failed, running = [], [], []
    retries: dict[str, int] = {}  # regrades after a machine fault, per submission
    interrupted = False
    try:
        while queue or running:
            while queue and len(running) < workers:
                sub_id = queue.pop(0)
                running.append(
                    _start_worker(
                        sub_id, submissions[sub_id], assignment, out_dir, workers, hidden, distro
                    )
                )
                _mark_running(conn, running[-1])
                progress(f"  [{finished + len(running)}/{total}] 채점 시작 / grading: {sub_id}")
            time.sleep(POLL_S)
            for worker in list(running):
                worker.track()
                timed_out = time.monotonic() > worker.deadline
                if worker.popen.poll() is None and not timed_out:
                    continue
                worker.stop()
                running.remove(worker)
                finished += 1
                data = _record(conn, worker, out_dir, timed_out, timeout_s)
                sub_id = worker.submission_id
                row = conn.execute(
                    "SELECT error_en, error_location FROM submissions WHERE id = ?", (sub_id,)
                ).fetchone()
                if (
                    data is None
                    and row["error_location"] == MACHINE_FAULT
                    and retries.get(sub_id, 0) < MACHINE_RETRIES
                ):
                    # The machine could not run an episode fairly (timing.py): no verdict on
                    # the student, so grade again, once the others are through.
                    retries[sub_id] = retries.get(sub_id, 0) + 1
                    queue.append(sub_id)
                    total += 1
                    progress(
                        f"  [{finished}/{total}] {sub_id}: 다시 채점 / regrading: 채점 컴퓨터가 "
                        "너무 바빠 공정하게 채점하지 못했습니다 / the machine was too busy to "
                        "grade it fairly"
                    )
                    continue  # not done yet: the bar waits for it
                if data is None:
                    failed.append(worker.submission_id)
                    progress(
                        f"  [{finished}/{total}] {worker.submission_id}: 채점 실패 / grading "
                        f"failed: {first_line(row['error_en'])}"
                    )
                else:
                    graded.append(worker.submission_id)
                    verdict = "통과 / PASS" if data["passed"] else "미통과 / NOT PASSED"
                    progress(
                        f"  [{finished}/{total}] {worker.submission_id}: "
                        f"{data['score']:.1f}점 / points, {verdict}"
                    )
                if bar is not None:
                    bar.advance()
    except KeyboardInterrupt:
        interrupted = True
        with _interrupts_ignored():
            for worker in running:
                worker.stop()
            with conn:
                conn.execute(
                    "UPDATE submissions SET status = 'queued', worker_pid = NULL "
                    "WHERE status = 'running'"
                )
            progress(
                f"중단됨 / interrupted: 채점 중이던 {len(running)}개는 다음 실행 때 다시 채점합니다 "
                f"/ {len(running)} unfinished will be graded on the next run"
            )
    with _interrupts_ignored():
        standings = write_leaderboard(out_dir, conn)
    progress(f"순위표 / leaderboard: {out_dir}/leaderboard.md, leaderboard.csv")
    return BatchSummary(tuple(graded), tuple(skipped), tuple(failed), interrupted, tuple(standings))


@contextlib.contextmanager
def _interrupts_ignored():
    """A second Ctrl-C (or `kill`) must not cut the clean-up short."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread gets signals and may set their handlers
        return
    old = {signum: signal.signal(signum, signal.SIG_IGN) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)
