"""A batch's leaderboard: standings from batch.sqlite, ranked, as Markdown, CSV and a table.

Ranked by points, then by total simulated time (faster is better), then by submission id. Only
submissions with a verdict get a rank; the rest are listed unranked (grading failed, not yet
graded).

Each graded result also says whether its run had the complete sandbox (result.json's `sandbox`);
one that did not is marked in every output, since its student code could reach the network, other
files or other runs. Submission ids are folder names a student chooses: every output escapes them
(curriculum_pkg.reports).
"""

from __future__ import annotations

import csv
import json
import math
import os
import sqlite3
import stat
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from curriculum_pkg.reports.safe_text import csv_cell, first_line, plain_text, shorten
from curriculum_pkg.reports.templating import render_markdown

RESULTS_DIR = "results"  # a batch's results/<submission id>/: result.json, report.md, grade.log
RESULT_JSON_MAX_BYTES = 64 << 20  # episodes carry trajectories; far above a real result.json


def now_utc() -> str:
    """The time now, as the batch database and the leaderboard write it (UTC, seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


CRITERIA = (  # rubric key, short column heading
    ("graph", "그래프 / Graph"),
    ("task", "작업 / Task"),
    ("safety", "안전 / Safety"),
    ("efficiency", "효율 / Efficiency"),
)


@dataclass(frozen=True)
class Standing:
    submission_id: str
    status: str
    points: float
    passed: bool
    sim_time_s: float | None  # total over the episodes; the tie-break
    criteria: dict[str, float]  # mean points per rubric key over the episodes
    error_location: str | None = None
    error_en: str | None = None
    error_ko: str | None = None
    rank: int | None = None  # None: not graded (queued, running, or no result)
    # What its run's sandbox lacked, (en, ko) each; () for a complete sandbox; None: not known
    # (not graded, or standings not read from a batch folder).
    sandbox_gaps: tuple[tuple[str, str], ...] | None = None

    @property
    def scored(self) -> bool:
        """Graded without an error: its criteria and sim time mean something."""
        return self.status == "done" and self.error_en is None

    @property
    def unsandboxed(self) -> bool:
        """Graded, but not shown to have had the complete sandbox."""
        return self.status == "done" and bool(self.sandbox_gaps)


def rank_standings(standings: list[Standing]) -> list[Standing]:
    """Graded ones by points, then shorter total sim time, then id; the rest after, unranked."""
    graded = [s for s in standings if s.status == "done"]
    graded.sort(
        key=lambda s: (
            -s.points,
            s.sim_time_s if s.scored and s.sim_time_s is not None else math.inf,
            s.submission_id,
        )
    )
    others = sorted((s for s in standings if s.status != "done"), key=lambda s: s.submission_id)
    return [replace(s, rank=i + 1) for i, s in enumerate(graded)] + [
        replace(s, rank=None) for s in others
    ]


def load_standings(conn: sqlite3.Connection, out_dir: Path | None = None) -> list[Standing]:
    """The batch's standings, ranked. With `out_dir` (the batch folder), each graded one also
    says what its run's sandbox lacked (the row's `sandboxed`, the reasons from result.json)."""
    averages = ", ".join(f"AVG(e.{key}_points) AS {key}" for key, _ in CRITERIA)
    rows = conn.execute(
        f"""SELECT s.*, SUM(e.sim_time_s) AS total_sim_time_s, {averages}
            FROM submissions s LEFT JOIN episodes e ON e.submission_id = s.id
            GROUP BY s.id"""
    ).fetchall()
    return rank_standings(
        [
            Standing(
                submission_id=r["id"],
                status=r["status"],
                points=r["points"] or 0.0,
                passed=bool(r["passed"]),
                sim_time_s=r["total_sim_time_s"],
                criteria={key: r[key] for key, _ in CRITERIA if r[key] is not None},
                error_location=r["error_location"],
                error_en=r["error_en"],
                error_ko=r["error_ko"],
                sandbox_gaps=None
                if out_dir is None or r["status"] != "done"
                else sandbox_gaps(Path(out_dir), r["result_json"], _column(r, "sandboxed")),
            )
            for r in rows
        ]
    )


_NO_RECORD = (
    "no record of its sandbox (result.json missing, unreadable or too old)",
    "샌드박스 기록이 없습니다 (result.json이 없거나 읽을 수 없거나 예전 형식)",
)
_SANDBOX_FLAGS = ("requested", "network_namespace", "bubblewrap", "cgroup_limits")
MAX_GAPS = 6  # per submission, in the leaderboard


def _column(row: sqlite3.Row, name: str):
    """A column a newer batch database has; None in an older one."""
    return row[name] if name in row.keys() else None  # noqa: SIM118 (`in row` reads values)


def sandbox_gaps(
    out_dir: Path, result_json: str | None, sandboxed: int | None = None
) -> tuple[tuple[str, str], ...]:
    """What the sandbox of a graded run lacked, (en, ko) each; () when it was complete.

    `sandboxed` is what the batch recorded when it graded the run (1 complete, 0 not, None not
    recorded: an older database); result.json's `sandbox` object decides when it is None, and
    gives the reasons. A run not shown to have had the complete sandbox counts as one without:
    a missing or unreadable result.json, no `sandbox` object in it."""
    if sandboxed == 1:
        return ()
    box = _sandbox_record(out_dir, result_json)
    if box is None:
        return (_NO_RECORD,)
    if "complete" in box:  # result.json 1.5 and later
        complete = box["complete"] is True and box.get("requested", True) is True
    else:
        complete = all(box.get(flag) is True for flag in _SANDBOX_FLAGS) and not box["missing"]
    if complete and sandboxed is None:
        return ()
    gaps = box["missing"] or [("the sandbox was incomplete", "샌드박스가 완전하지 않았습니다")]
    if len(gaps) > MAX_GAPS:
        more = len(gaps) - MAX_GAPS + 1
        gaps = [*gaps[: MAX_GAPS - 1], (f"and {more} more", f"외 {more}개")]
    return tuple(gaps)


def _sandbox_record(out_dir: Path, result_json: str | None) -> dict | None:
    """result.json's `sandbox` object, its `missing` as (en, ko) pairs; None if there is none
    (no file, not inside the batch's results, unreadable, too big, no such object)."""
    if not result_json:
        return None
    path = (out_dir / result_json).resolve()
    if not path.is_relative_to((out_dir / RESULTS_DIR).resolve()):
        return None
    try:
        box = read_json_bounded(path, RESULT_JSON_MAX_BYTES).get("sandbox")
    except (OSError, ValueError, RecursionError, AttributeError):
        return None
    if not isinstance(box, dict):
        return None
    missing = box.get("missing")
    box["missing"] = [
        (str(m.get("en", "")), str(m.get("ko", "")))
        for m in (missing if isinstance(missing, list) else [])
        if isinstance(m, dict)
    ]
    return box


def read_json_bounded(path: Path, max_bytes: int) -> object:
    """A JSON file of at most `max_bytes`, and a regular file (a FIFO would block the read; a
    symlink is not followed). Raises OSError or ValueError otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            raise ValueError(f"{path}: not a regular file of at most {max_bytes} bytes")
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"{path}: more than {max_bytes} bytes")
    return json.loads(data)


def _verdict(s: Standing) -> tuple[str, str]:
    if s.status == "done":
        return ("통과", "PASS") if s.passed else ("미통과", "NOT PASSED")
    if s.status == "error":
        return "채점 실패", "grading failed"
    return "채점 전", "not graded yet"


SANDBOX_MARK = ("샌드박스 없이 채점", "graded without a complete sandbox")


def _sandbox_cell(s: Standing) -> str:
    if s.status != "done" or s.sandbox_gaps is None:
        return "—"
    return "⚠️ 불완전 / incomplete" if s.sandbox_gaps else "완전 / complete"


def leaderboard_markdown(standings: list[Standing], meta: dict[str, str]) -> str:
    """leaderboard.md: the table, then the errors, then the results graded without a complete
    sandbox. Student text (ids, errors) is escaped by the template (curriculum_pkg.reports)."""
    graded = [s for s in standings if s.status == "done"]
    rows = []
    for s in standings:
        ko, en = _verdict(s)
        rows.append(
            {
                "rank": s.rank or "—",
                "submission_id": s.submission_id,
                "points": f"{s.points:.1f}",
                "result": f"{ko} / {en}",
                "criteria": [
                    f"{s.criteria[k]:.1f}" if s.scored and k in s.criteria else "—"
                    for k, _ in CRITERIA
                ],
                "sim_time": f"{s.sim_time_s:.1f}" if s.scored and s.sim_time_s is not None else "—",
                "sandbox": _sandbox_cell(s),
            }
        )
    errors = [
        {
            "submission_id": s.submission_id,
            "error_location": s.error_location or "",
            "error_ko": first_line(s.error_ko),
            "error_en": first_line(s.error_en),
            "report_name": (name := "report.md" if s.status == "done" else "grade.log"),
            "report_path": f"{RESULTS_DIR}/{s.submission_id}/{name}",
        }
        for s in standings
        if s.error_en
    ]
    unsandboxed = [
        {"submission_id": s.submission_id, "gaps": s.sandbox_gaps}
        for s in standings
        if s.unsandboxed
    ]
    return render_markdown(
        "leaderboard.md.j2",
        meta=meta,
        pass_mark=float(meta.get("pass_mark", 0)),
        rows=rows,
        graded=len(graded),
        passed=sum(s.passed for s in graded),
        written=now_utc(),
        criteria_headings=[h for _, h in CRITERIA],
        errors=errors,
        unsandboxed=unsandboxed,
    )


CSV_HEADER = [
    "rank",
    "submission",
    "status",
    "points",
    "passed",
    *(key for key, _ in CRITERIA),
    "sim_time_s",
    "error_location",
    "error_en",
    "error_ko",
    "sandbox_complete",  # 1, 0, or empty (not graded)
    "sandbox_note",  # why not, both languages
]


def _csv_values(s: Standing) -> list:
    """One leaderboard.csv row: our numbers as numbers, every text through `csv_cell` (which
    also keeps a student's folder name from being read as a formula)."""
    if s.status != "done" or s.sandbox_gaps is None:
        complete, note = "", ""
    elif s.sandbox_gaps:
        ko, en = SANDBOX_MARK
        gaps = "; ".join(f"{g_ko} / {g_en}" for g_en, g_ko in s.sandbox_gaps)
        complete, note = 0, f"{ko} / {en}: {gaps}"
    else:
        complete, note = 1, ""
    return [
        s.rank or "",
        s.submission_id,
        s.status,
        round(s.points, 2),
        int(s.passed),
        *(round(s.criteria[k], 2) if s.scored and k in s.criteria else "" for k, _ in CRITERIA),
        round(s.sim_time_s, 3) if s.scored and s.sim_time_s is not None else "",
        s.error_location or "",
        first_line(s.error_en),
        first_line(s.error_ko),
        complete,
        note,
    ]


def write_leaderboard(out_dir: Path, conn: sqlite3.Connection) -> list[Standing]:
    """Write leaderboard.md and leaderboard.csv from the batch database; returns the standings."""
    out_dir = Path(out_dir)
    standings = load_standings(conn, out_dir)
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    (out_dir / "leaderboard.md").write_text(leaderboard_markdown(standings, meta), encoding="utf-8")
    # utf-8 with a BOM: Excel, what most teachers open a CSV with, then shows the Korean right.
    with (out_dir / "leaderboard.csv").open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_HEADER)
        writer.writerows([csv_cell(v) for v in _csv_values(s)] for s in standings)
    return standings


def standings_table(standings: list[Standing]) -> str:
    """The leaderboard as a few console lines (ids printable only: no terminal escapes)."""
    lines = [f"{'순위/rank':>9}  {'제출물 / submission':<24}{'점수/points':>12}  결과 / result"]
    for s in standings:
        ko, en = _verdict(s)
        name = shorten(" ".join(plain_text(s.submission_id).split()), 60)
        mark = f"  ⚠️ {SANDBOX_MARK[0]} / {SANDBOX_MARK[1]}" if s.unsandboxed else ""
        lines.append(f"{s.rank or '—':>9}  {name:<24}{s.points:>12.1f}  {ko} / {en}{mark}")
    return "\n".join(lines)
