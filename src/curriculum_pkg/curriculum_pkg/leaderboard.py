"""A batch's leaderboard: standings from batch.sqlite, ranked, as Markdown, CSV and a table.

Ranked by points, then by total simulated time (faster is better), then by submission id. Only
submissions with a verdict get a rank; the rest are listed unranked (grading failed, not yet
graded).
"""

from __future__ import annotations

import csv
import math
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

RESULTS_DIR = "results"  # a batch's results/<submission id>/: result.json, report.md, grade.log


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

    @property
    def scored(self) -> bool:
        """Graded without an error: its criteria and sim time mean something."""
        return self.status == "done" and self.error_en is None


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


def load_standings(conn: sqlite3.Connection) -> list[Standing]:
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
            )
            for r in rows
        ]
    )


def _verdict(s: Standing) -> tuple[str, str]:
    if s.status == "done":
        return ("통과", "PASS") if s.passed else ("미통과", "NOT PASSED")
    if s.status == "error":
        return "채점 실패", "grading failed"
    return "채점 전", "not graded yet"


def first_line(text: str | None) -> str:
    """The first line of an error; the rest (a log tail) is in the submission's report."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[0].rstrip(":") if lines else ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def leaderboard_markdown(standings: list[Standing], meta: dict[str, str]) -> str:
    graded = [s for s in standings if s.status == "done"]
    passed = sum(s.passed for s in graded)
    pass_mark = float(meta.get("pass_mark", 0))
    lines = [
        f"# 순위표 / Leaderboard: {meta.get('title_ko', '')} / {meta.get('title_en', '')}",
        "",
        f"- 과제 / Assignment: `{meta.get('assignment_id', '?')}`, "
        f"통과 기준 {pass_mark:g}점 / pass mark {pass_mark:g} points",
        f"- 제출물 {len(standings)}개 중 채점 완료 {len(graded)}개, 통과 {passed}개 / "
        f"{len(standings)} submissions, {len(graded)} graded, {passed} passed",
        "- 점수가 같으면 시뮬레이션 시간 합계가 짧은 쪽이 앞섭니다 / "
        "Equal points: the shorter total sim time ranks first",
        f"- 작성 시각 / Written: {now_utc()}",
        "",
        "| 순위 / Rank | 제출물 / Submission | 점수 / Points | 결과 / Result | "
        + " | ".join(h for _, h in CRITERIA)
        + " | 시뮬레이션 시간 / Sim time (s) |",
        "|---:|---|---:|---|" + "---:|" * len(CRITERIA) + "---:|",
    ]
    for s in standings:
        ko, en = _verdict(s)
        criteria = [
            f"{s.criteria[k]:.1f}" if s.scored and k in s.criteria else "—" for k, _ in CRITERIA
        ]
        sim = f"{s.sim_time_s:.1f}" if s.scored and s.sim_time_s is not None else "—"
        lines.append(
            f"| {s.rank or '—'} | {_cell(s.submission_id)} | {s.points:.1f} | {ko} / {en} | "
            + " | ".join(criteria)
            + f" | {sim} |"
        )
    errors = [s for s in standings if s.error_en]
    if errors:
        lines += [
            "",
            "## 오류 / Errors",
            "",
            "0점을 받았거나 채점하지 못한 제출물입니다. 자세한 내용은 각 제출물의 보고서를 보세요.",
            "These scored 0 or could not be graded; each one's report has the details.",
            "",
        ]
        for s in errors:
            report = f"{RESULTS_DIR}/{s.submission_id}/" + (
                "report.md" if s.status == "done" else "grade.log"
            )
            lines.append(
                f"- **{_cell(s.submission_id)}** — `{_cell(s.error_location or '')}`: "
                f"{_cell(first_line(s.error_ko))} / {_cell(first_line(s.error_en))} "
                f"([{report.rsplit('/', 1)[1]}]({report}))"
            )
    return "\n".join(lines) + "\n"


def write_leaderboard(out_dir: Path, conn: sqlite3.Connection) -> list[Standing]:
    """Write leaderboard.md and leaderboard.csv from the batch database; returns the standings."""
    out_dir = Path(out_dir)
    standings = load_standings(conn)
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    (out_dir / "leaderboard.md").write_text(leaderboard_markdown(standings, meta))
    # utf-8 with a BOM: Excel, what most teachers open a CSV with, then shows the Korean right.
    with (out_dir / "leaderboard.csv").open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["rank", "submission", "status", "points", "passed"]
            + [key for key, _ in CRITERIA]
            + ["sim_time_s", "error_location", "error_en", "error_ko"]
        )
        for s in standings:
            writer.writerow(
                [s.rank or "", s.submission_id, s.status, f"{s.points:.2f}", int(s.passed)]
                + [
                    f"{s.criteria[k]:.2f}" if s.scored and k in s.criteria else ""
                    for k, _ in CRITERIA
                ]
                + [
                    f"{s.sim_time_s:.3f}" if s.scored and s.sim_time_s is not None else "",
                    s.error_location or "",
                    first_line(s.error_en),
                    first_line(s.error_ko),
                ]
            )
    return standings


def standings_table(standings: list[Standing]) -> str:
    """The leaderboard as a few console lines."""
    lines = [f"{'순위/rank':>9}  {'제출물 / submission':<24}{'점수/points':>12}  결과 / result"]
    for s in standings:
        ko, en = _verdict(s)
        lines.append(f"{s.rank or '—':>9}  {s.submission_id:<24}{s.points:>12.1f}  {ko} / {en}")
    return "\n".join(lines)
