"""`rootroute scenario list` and `rootroute assignment list`: the library, one row per item.

On a terminal the rows are a rich table, Korean above English in a cell; anywhere else (a pipe,
a file, `--plain`) they are tab-separated text with a header line, a bilingual column split in
two (`title_ko`, `title_en`), ready for `cut`, `sort` or a spreadsheet.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from curriculum_pkg.assignment import ASSIGNMENT_DIR, Assignment, ScenarioRun, load_assignment
from curriculum_pkg.errors import LocatedError
from curriculum_pkg.scenario import DIFFICULTIES, load_scenario

Cell = str | tuple[str, str]  # one text, or (Korean, English)


@dataclass(frozen=True)
class Column:
    key: str  # the plain header; a bilingual column gives key_ko and key_en
    ko: str
    en: str
    bilingual: bool = False


@dataclass(frozen=True)
class Listing:
    title: tuple[str, str]  # (Korean, English), shown above the table on a terminal
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


# ------------------------------------------------------------------------------ what is listed
def library_assignments(
    folder: Path = ASSIGNMENT_DIR,
) -> list[tuple[Path, Assignment | LocatedError]]:
    """Every assignment folder of the library: (assignment.yaml, its Assignment or the
    LocatedError that stopped it loading)."""
    found: list[tuple[Path, Assignment | LocatedError]] = []
    for path in sorted(folder.glob("*/assignment.yaml")):
        try:
            found.append((path, load_assignment(path)))
        except LocatedError as err:
            found.append((path, err))
    return found


def graded_variants(assignments: Iterable[Assignment]) -> dict[str, list[tuple[str, int]]]:
    """scenario id -> [(assignment id, variants graded, the visible one included)]."""
    out: dict[str, list[tuple[str, int]]] = {}
    for assignment in assignments:
        for run in assignment.runs:
            out.setdefault(run.scenario.id, []).append((assignment.id, run.variants))
    return out


def task_counts(tasks: Sequence) -> str:
    """'navigate×2, inspect×1': each kind of step, in the order it first comes."""
    counts = Counter(task.kind for task in tasks)
    return ", ".join(f"{kind}×{n}" for kind, n in counts.items())


def _farthest_m(offset) -> float:
    """How far a position bound (describe_bounds' jitter_m) lets a thing move at most."""
    if isinstance(offset, dict):
        x = max((abs(v) for v in offset.get("x", (0.0,))), default=0.0)
        y = max((abs(v) for v in offset.get("y", (0.0,))), default=0.0)
        return math.hypot(x, y)
    return float(offset)


def _moved(bounds: Iterable[dict]) -> tuple[float, float]:
    """(farthest move in m, largest turn in degrees) over a group of bounds."""
    return (
        max((_farthest_m(j["jitter_m"]) for j in bounds), default=0.0),
        max((j.get("yaw_jitter_deg", 0.0) for j in bounds), default=0.0),
    )


def _span(far_m: float, yaw_deg: float) -> str:
    return f"≤{far_m:.2f} m" + (f" ±{yaw_deg:g}°" if yaw_deg else "")


def bounds_summary(bounds: dict) -> tuple[str, str]:
    """`Scenario.variant_bounds()` in one line each, (Korean, English): per kind of thing, how
    many vary and the farthest any of them may move, e.g. "start ≤0.14 m ±8°; 2 stations
    ≤0.36 m; marker ids from 20". variants.bounds_lines says the same item by item."""
    ko: list[str] = []
    en: list[str] = []
    far, yaw = _moved([bounds["start"]])
    if far or yaw:
        ko.append(f"시작 {_span(far, yaw)}")
        en.append(f"start {_span(far, yaw)}")
    for group, word_ko, counter_ko, word_en in (
        ("stations", "스테이션", "곳", "station"),
        ("obstacles", "장애물", "개", "obstacle"),
    ):
        if bounds[group]:
            n, span = len(bounds[group]), _span(*_moved(bounds[group].values()))
            ko.append(f"{word_ko} {n}{counter_ko} {span}")
            en.append(f"{n} {word_en}{'s' if n > 1 else ''} {span}")
    if bounds["parts"]:
        parts = bounds["parts"].values()
        n, span = len(parts), _span(*_moved(parts))
        target = _span(*_moved({"jitter_m": p["target_jitter_m"]} for p in parts))
        ko.append(f"부품 {n}개 {span}, 놓을 자리 {target}")
        en.append(f"{n} part{'s' if n > 1 else ''} {span}, target {target}")
    if bounds["marker_ids"]:
        ko.append(f"마커 ID {len(bounds['marker_ids'])}개 중")
        en.append(f"marker ids from {len(bounds['marker_ids'])}")
    if bounds["inspect_items"]:
        items = sum(v["count"] for v in bounds["inspect_items"].values())
        labels = len({label for v in bounds["inspect_items"].values() for label in v["labels"]})
        ko.append(f"검사 대상 {items}개(판정 {labels}종)")
        en.append(f"{items} display items ({labels} labels)")
    timed = [
        t
        for t in bounds["actors"].values()
        if t["start_anywhere"] or tuple(t["speed_scale"]) != (1.0, 1.0) or t["pause_jitter_s"]
    ]
    if timed:
        how_ko, how_en = [], []
        if any(t["start_anywhere"] for t in timed):
            how_ko.append("출발 위치 무작위")
            how_en.append("start anywhere")
        lo = min(t["speed_scale"][0] for t in timed)
        hi = max(t["speed_scale"][1] for t in timed)
        if (lo, hi) != (1.0, 1.0):
            how_ko.append(f"속도 ×{lo:g}–{hi:g}")
            how_en.append(f"speed ×{lo:g}–{hi:g}")
        pause = max(t["pause_jitter_s"] for t in timed)
        if pause:
            how_ko.append(f"멈춤 ±{pause:g} s")
            how_en.append(f"pauses ±{pause:g} s")
        ko.append(f"작업자·지게차 {len(timed)}: {', '.join(how_ko)}")
        en.append(f"{len(timed)} actor{'s' if len(timed) > 1 else ''}: {', '.join(how_en)}")
    return ("; ".join(ko) or "없음", "; ".join(en) or "none")


def _hidden_cell(graded: list[tuple[str, int]]) -> str:
    """'2 (logistics_crossing)': hidden variants (the visible one aside) per assignment."""
    if not graded:
        return "0 (쓰는 과제 없음 / no assignment)"
    return ", ".join(f"{variants - 1} ({assignment})" for assignment, variants in graded)


def scenario_listing(paths: Sequence[Path], assignments: Iterable[Assignment]) -> Listing:
    """One row per scenario file; one that does not load shows its error instead."""
    graded = graded_variants(assignments)
    rows: list[tuple[Cell, ...]] = []
    for path in paths:
        try:
            s = load_scenario(path)
        except LocatedError as err:
            rows.append(_invalid_row(path.stem, err))
            continue
        rows.append(
            (
                s.id,
                s.industry,
                f"{s.difficulty} ({DIFFICULTIES[s.difficulty]})",
                (s.title["ko"], s.title["en"]),
                task_counts(s.tasks),
                bounds_summary(s.variant_bounds()),
                _hidden_cell(graded.get(s.id, [])),
            )
        )
    return Listing(
        ("시나리오 라이브러리", "scenario library"),
        (
            Column("id", "ID", "id"),
            Column("industry", "업종", "industry"),
            Column("difficulty", "난이도", "difficulty"),
            Column("title", "제목", "title", bilingual=True),
            Column("tasks", "작업", "tasks"),
            Column("bounds", "숨은 변형의 범위", "hidden-variant bounds", bilingual=True),
            Column("hidden_variants", "채점하는 숨은 변형 수", "hidden variants graded"),
        ),
        tuple(rows),
    )


def _scenarios_cell(runs: Sequence[ScenarioRun]) -> Cell:
    ko = ", ".join(f"{r.scenario.id}: 공개 1 + 숨은 {r.variants - 1}" for r in runs)
    en = ", ".join(f"{r.scenario.id}: 1 visible + {r.variants - 1} hidden" for r in runs)
    return (ko, en)


def _pacing_cell(assignment: Assignment) -> str:
    if assignment.pacing == "fixed":
        return f"fixed ×{assignment.real_time_factor:g}"
    ceiling = assignment.max_real_time_factor
    return "lockstep" + (f" ≤×{ceiling:g}" if ceiling else "")


def assignment_listing(found: Sequence[tuple[Path, Assignment | LocatedError]]) -> Listing:
    """One row per assignment folder (library_assignments); one that does not load shows its
    error instead."""
    rows: list[tuple[Cell, ...]] = []
    for path, assignment in found:
        if isinstance(assignment, LocatedError):
            rows.append(_invalid_row(path.parent.name, assignment))
            continue
        rubric = " · ".join(f"{k} {w * 100:.3g}" for k, w in assignment.rubric.items())
        rows.append(
            (
                assignment.id,
                (assignment.title["ko"], assignment.title["en"]),
                _scenarios_cell(assignment.runs),
                f"{assignment.pass_mark:g}",
                rubric,
                _pacing_cell(assignment),
            )
        )
    return Listing(
        ("과제 목록", "assignments"),
        (
            Column("id", "ID", "id"),
            Column("title", "제목", "title", bilingual=True),
            Column("scenarios", "시나리오(변형 수)", "scenarios (variants)", bilingual=True),
            Column("pass_mark", "통과 점수", "pass mark"),
            Column("rubric", "채점 기준 가중치(%)", "rubric weights (%)"),
            Column("pacing", "시간 진행", "pacing"),
        ),
        tuple(rows),
    )


def _invalid_row(name: str, err: LocatedError) -> tuple[Cell, ...]:
    """A row for a file that does not load: its name, INVALID, and the located error in the
    next column, whatever that column is."""
    return (name, "INVALID", err.bilingual())


# ---------------------------------------------------------------------------------- rendering
def _plain_cells(columns: Sequence[Column], row: Sequence[Cell]) -> list[str]:
    out: list[str] = []
    for column, cell in zip(columns, row, strict=False):  # an INVALID row is shorter
        if column.bilingual:
            out += list(cell) if isinstance(cell, tuple) else [cell, ""]
        else:
            out.append(" / ".join(cell) if isinstance(cell, tuple) else cell)
    # One record per line, one field per tab: neither may appear inside a field.
    return [" ".join(text.split()) for text in out]


def _header(columns: Sequence[Column]) -> list[str]:
    out: list[str] = []
    for c in columns:
        out += [f"{c.key}_ko", f"{c.key}_en"] if c.bilingual else [c.key]
    return out


def plain_lines(listing: Listing) -> list[str]:
    """The listing as tab-separated lines, a header first."""
    width = len(_header(listing.columns))
    lines = ["\t".join(_header(listing.columns))]
    for row in listing.rows:
        cells = _plain_cells(listing.columns, row)
        lines.append("\t".join((cells + [""] * width)[:width]))
    return lines


def print_listing(listing: Listing, plain: bool | None = None, console=None) -> None:
    """A rich table on a terminal, else (or with plain=True) tab-separated text."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text  # cells are plain text, never rich markup

    console = console or Console()  # stdout; rich finds out whether it is a terminal
    if plain or (plain is None and not console.is_terminal):
        for line in plain_lines(listing):
            print(line)
        return
    ko, en = listing.title
    table = Table(title=f"{ko} / {en}", show_lines=True, title_justify="left")
    for column in listing.columns:
        table.add_column(f"{column.ko}\n{column.en}", overflow="fold")
    for row in listing.rows:
        table.add_row(
            *(
                Text("\n".join(dict.fromkeys(cell)) if isinstance(cell, tuple) else cell)
                for cell in row
            ),
            style="red" if row[1:2] == ("INVALID",) else None,
        )
    console.print(table)
