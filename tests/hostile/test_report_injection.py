"""Report injection: student text in report.md, junit.xml, leaderboard.md and leaderboard.csv.

A student controls their node's log (the error's tail), node names, the values their node reports,
file names and their submission folder's name. Each lands in a report; each must show there as
text: no heading, table row, image, link or HTML of its own, no code block closed early, no
spreadsheet formula, no XML that does not parse. The results are built directly (no grading run).
"""

from __future__ import annotations

import csv
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.batch import open_db
from curriculum_pkg.episode import EpisodeMetrics
from curriculum_pkg.errors import SubmissionError
from curriculum_pkg.grader import EpisodeResult, GradeResult
from curriculum_pkg.graphcheck import Finding
from curriculum_pkg.leaderboard import CSV_HEADER, sandbox_gaps, standings_table, write_leaderboard
from curriculum_pkg.report import junit, markdown, write_reports
from curriculum_pkg.scoring import Criterion

PLATING = load_assignment("plating_stations")

SCRIPT = "<script>alert(1)</script>"
IMG_TAG = '<img src=x onerror="alert(1)">'
FAKE_ROW = "| fake | 100 |"
FAKE_HEADING = "# total 100 PASS"
IMAGE = "![x](http://evil/x.png)"
LINK = "[click](javascript:alert(1))"
# One line of each, as a node would print or report them, plus what can only close something.
PAYLOADS = [SCRIPT, IMG_TAG, "```", "````", FAKE_ROW, FAKE_HEADING, IMAGE, LINK, "</details>"]
HOSTILE = " ".join(PAYLOADS) + "\n" + FAKE_HEADING + "\n" + FAKE_ROW + "\n**bold** _x_ `code`"
FORMULA_NAMES = ['=HYPERLINK("http://evil","x")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3"]


def unescaped(text: str, char: str) -> int:
    """How many times `char` occurs in Markdown source not escaped by a backslash."""
    count, i = 0, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        count += text[i] == char
        i += 1
    return count


def _fence_of(line: str) -> str | None:
    run = re.match(r"^ {0,3}(`{3,})", line)
    return run.group(1) if run else None


def headings(md: str) -> list[str]:
    """ATX headings outside code blocks (a line starting with 1-6 '#' and a space)."""
    return [line for line in outside_code(md).splitlines() if re.match(r"^ {0,3}#{1,6}( |$)", line)]


def outside_code(md: str) -> str:
    """The Markdown source without its fenced code blocks and code spans, which a renderer shows
    literally (CommonMark: a block or span ends only at a backtick run as long as its opening)."""
    kept, fence = [], None
    for line in md.splitlines():
        if fence is None and (fence := _fence_of(line)):
            continue
        if fence is not None:
            if re.fullmatch(rf" {{0,3}}{fence}`*\s*", line):
                fence = None
            continue
        kept.append(line)
    spans = re.compile(r"(?<![`\\])(`+)(?!`)(.+?)(?<!`)\1(?!`)")
    return spans.sub("", "\n".join(kept))


def table_lines(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("|")]


def assert_no_live_markup(md: str) -> None:
    """Nothing outside code that a renderer would turn into HTML, an image or a link of the
    student's: their text is there only escaped."""
    text = outside_code(md)
    for raw in ("<script", "<img", "http://evil"):
        assert raw not in text, raw
    assert not re.search(r"(?<!\\)\]\((javascript|http)", text)  # a link of the student's
    images = re.findall(r"(?<!\\)!\[[^\]]*\]\(([^)]*)\)", text)
    assert all(target.startswith("trajectory_") for target in images), images


SHOWN_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"  # <script> as a reader sees it


def hostile_result(tmp_path: Path) -> GradeResult:
    metrics = EpisodeMetrics(tasks_total=3, sim_time_s=60.0)
    episode = EpisodeResult(
        "banwol_plating_01",
        0,
        1,
        criteria=[
            Criterion("graph", 0.2, 1.0, f"node /evil said {HOSTILE}", f"노드 {HOSTILE}"),
            Criterion("task", 0.5, 1 / 3, f"inspect:pcb_check said {HOSTILE}, is scratch", "x"),
            Criterion("safety", 0.2, 1.0, "ok", "좋음"),
            Criterion("efficiency", 0.1, 0.5, "slow", "느림"),
        ],
        metrics=metrics,
        graph_findings=[Finding(False, f"node /a{HOSTILE} missing", f"노드 /a{HOSTILE} 없음")],
        spoofers=[("/clock", f"/``{HOSTILE}``")],
        real_time_factor=4.0,
    )
    return GradeResult(
        PLATING,
        tmp_path / f"team {SCRIPT} ``` |x|",
        tmp_path,
        episodes=[episode],
    )


def test_report_md_shows_hostile_node_names_and_reported_values_as_text(tmp_path):
    md = markdown(hostile_result(tmp_path))
    assert_no_live_markup(md)
    assert SHOWN_SCRIPT in md
    assert headings(md) == [
        f"# {PLATING.title['ko']} / {PLATING.title['en']}",
        "## banwol_plating_01 — variant 0 (공개 / visible): 61.7 points",
    ]
    rows = table_lines(md)
    assert len(rows) == 2 + 4  # header, separator, one row per criterion: no injected row
    assert all(unescaped(row, "|") == 6 for row in rows), rows  # five cells each
    assert "said " in md and "\\| fake \\| 100 \\|" in md  # the text is there, escaped
    assert outside_code(md).count("</details>") == 1  # our own closing tag, once


def test_an_error_log_cannot_close_its_code_block(tmp_path):
    log = "\n".join(["Traceback (most recent call last):", *PAYLOADS, "`````", "x" * 10])
    result = GradeResult(
        PLATING,
        tmp_path / "team",
        tmp_path,
        error=SubmissionError(f"launch/{FAKE_ROW}`.yaml", f"node crashed:\n{log}", f"노드:\n{log}"),
    )
    md = markdown(result)
    assert_no_live_markup(md)
    assert headings(md)[1:] == ["## 오류 / Error"]
    lines = md.splitlines()
    opening = next(i for i, line in enumerate(lines) if line.startswith("```"))
    fence = re.match(r"`+", lines[opening]).group(0)
    assert len(fence) > 5  # longer than the longest backtick run in the log
    closing = next(
        i for i in range(opening + 1, len(lines)) if re.fullmatch(rf"{fence}`*\s*", lines[i])
    )
    inside = "\n".join(lines[opening + 1 : closing])
    assert inside.count(FAKE_HEADING) == 2 and inside.count(SCRIPT) == 2  # ko and en, verbatim
    assert lines[closing + 2].startswith("제출물에 문제가 있어 0점")  # the block ended where we did


def test_a_long_log_tail_is_capped_in_lines_and_characters(tmp_path):
    log = "\n".join(f"line {i} " + "y" * 5000 for i in range(2000)) + "\nValueError: the end"
    result = GradeResult(
        PLATING, tmp_path / "team", tmp_path, error=SubmissionError("x.py", log, log)
    )
    md = markdown(result)
    assert len(md) < 40_000
    assert "ValueError: the end" in md  # where a traceback ends is kept
    assert "줄 생략 / " in md and "lines cut" in md and "characters cut" in md
    root = ET.fromstring(junit(result))
    failure = root.find("testcase/failure")
    assert len(failure.get("message")) < 1200 and len(failure.text) < 40_000


def test_junit_xml_parses_whatever_the_student_printed(tmp_path):
    nasty = f"{HOSTILE}\x1b[31mred\x1b[0m\x00\x07\x0b]]>\udcff\ufffe &amp; \u202eevil"
    result = hostile_result(tmp_path)
    result.error = SubmissionError(f"pkg/{nasty}.py", nasty, nasty)
    root = ET.fromstring(junit(result))  # a real XML parser: escaping is the library's
    failures = root.findall("testcase/failure")
    assert failures and all("\n" not in f.get("message") for f in failures)
    assert SCRIPT in failures[0].text and "]]>" in failures[0].text  # as text
    assert "\x1b" not in failures[0].text and "\u202e" not in failures[0].text


def test_reports_are_written_for_a_folder_name_that_is_not_utf8(tmp_path):
    # os.fsdecode turns an undecodable byte into a lone surrogate, which UTF-8 cannot encode.
    name = os.fsdecode(b"team_\xff_" + SCRIPT.encode())
    result = GradeResult(
        PLATING,
        tmp_path / name,
        tmp_path,
        error=SubmissionError(f"{name}/setup.py", f"broken {name}", f"망가짐 {name}"),
    )
    write_reports(result)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "\ufffd" in md
    assert_no_live_markup(md)
    ET.parse(tmp_path / "junit.xml")
    assert json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))["error"]["en"]


def test_report_md_renders_without_live_html_in_github_markdown(tmp_path):
    """The same checks on what GitHub's own renderer (cmark-gfm) makes of the reports, with raw
    HTML allowed as the most permissive Markdown viewers do."""
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    result = hostile_result(tmp_path)
    result.error = SubmissionError("x.py", f"crash:\n{HOSTILE}\n````\n{HOSTILE}", HOSTILE)
    html = cmarkgfm.github_flavored_markdown_to_html(
        markdown(result), options=Options.CMARK_OPT_UNSAFE
    )
    assert "<script" not in html and "onerror=" not in html.replace("onerror=&quot;", "")
    images = re.findall(r"<img [^>]*src=\"([^\"]*)\"", html)
    assert images == ["trajectory_banwol_plating_01_v0.png"] and html.count("<img") == 1
    assert "<a " not in html  # no link at all: not the student's, not an autolinked URL
    assert len(re.findall(r"<h[1-6]>", html)) == 3  # title, error, episode
    assert html.count("<tr>") == 1 + 4 and html.count("<pre") == 1
    assert html.count("<strong>") == 1  # the score line's, not the student's **bold**
    assert SHOWN_SCRIPT in html  # visible as text


# --- leaderboard -----------------------------------------------------------------------------

COMPLETE = {"requested": True, "network_namespace": True, "bubblewrap": True, "cgroup_limits": True}


def batch_folder(tmp_path: Path, teams: dict[str, dict | None]) -> Path:
    """A batch folder with its database and, per team, a done row and a result.json with the
    given `sandbox` object (None: no result.json at all)."""
    out = tmp_path / "batch"
    out.mkdir()
    conn = open_db(out)
    with conn:
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [("assignment_id", "plating_stations"), ("title_ko", "도금"), ("title_en", "Plating"),
             ("pass_mark", "60")],
        )  # fmt: skip
        for i, (team, sandbox) in enumerate(teams.items()):
            result_json = f"results/{team}/result.json"
            if sandbox is not None:
                (out / "results" / team).mkdir(parents=True)
                (out / result_json).write_text(json.dumps({"sandbox": sandbox}))
            conn.execute(
                """INSERT INTO submissions (id, path, content_sha256, assignment_sha256, status,
                   points, passed, error_location, error_en, error_ko, result_json)
                   VALUES (?, ?, '', '', 'done', ?, 0, ?, ?, ?, ?)""",
                (
                    team,
                    str(tmp_path / team),
                    -1.5 if i == 0 else 10.0 * i,  # a negative number stays a number
                    f"{team}/launch/x.launch.yaml",
                    f"{team} crashed: {HOSTILE}",
                    f"{team} 종료: {HOSTILE}",
                    result_json,
                ),
            )
    conn.close()
    return out


def read_csv(out: Path) -> list[dict]:
    raw = (out / "leaderboard.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to show Korean
    with (out / "leaderboard.csv").open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def write(out: Path):
    conn = open_db(out, create=False)
    try:
        return write_leaderboard(out, conn)
    finally:
        conn.close()


def test_leaderboard_shows_hostile_team_folder_names_as_text(tmp_path):
    names = [*FORMULA_NAMES, f"team {FAKE_ROW}", f"team\n{FAKE_HEADING}", IMG_TAG.replace("/", "")]
    names += ["``` ````", "\tx", "[click](javascript:alert(1))"]
    out = batch_folder(tmp_path, dict.fromkeys(names, COMPLETE))
    standings = write(out)

    md = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert_no_live_markup(md)
    assert SHOWN_SCRIPT in md
    assert headings(md) == ["# 순위표 / Leaderboard: 도금 / Plating", "## 오류 / Errors"]
    rows = table_lines(md)
    assert len(rows) == 2 + len(names)
    assert {unescaped(row, "|") for row in rows} == {11}  # ten cells in every row
    for name in names:  # each error's report link stays inside its own folder
        assert f"(results/{name}/" not in md

    table = read_csv(out)
    assert list(table[0]) == CSV_HEADER
    assert len(table) == len(names)
    for row in table:
        for column in ("submission", "status", "error_location", "error_en", "error_ko"):
            assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r")), row[column]
        float(row["points"])  # our numbers are still numbers
    assert {r["submission"] for r in table} >= {"'" + n for n in FORMULA_NAMES}
    assert "-1.5" in {r["points"] for r in table}
    assert "\x1b" not in standings_table(standings)


def test_leaderboard_marks_results_graded_without_a_complete_sandbox(tmp_path):
    gap = {"en": "bubblewrap (bwrap) is not installed", "ko": "bubblewrap이 없습니다"}
    off = {"en": "the sandbox was switched off for this run (--no-sandbox)", "ko": "샌드박스를 끔"}
    out = batch_folder(
        tmp_path,
        {
            "a_sandboxed": {**COMPLETE, "missing": []},
            "b_no_bwrap": {**COMPLETE, "bubblewrap": False, "missing": [gap]},
            "c_no_sandbox": {**COMPLETE, "requested": False, "missing": [off]},
            "d_no_result": None,
            "e_fifo": COMPLETE,
            "f_no_sandbox_object": COMPLETE,
            "g_cgroup_v1_no_cpu": {**COMPLETE, "cgroup_limits": False, "complete": False},
            "h_complete": {**COMPLETE, "complete": True, "missing": []},
        },
    )
    fifo = out / "results/e_fifo/result.json"
    fifo.unlink()
    os.mkfifo(fifo)  # would block a plain read forever
    (out / "results/f_no_sandbox_object/result.json").write_text('{"score": 1}')
    standings = write(out)

    md = (out / "leaderboard.md").read_text(encoding="utf-8")
    marks = {row.split("|")[2].strip(): row.split("|")[-2].strip() for row in table_lines(md)[2:]}
    assert marks.pop("a_sandboxed") == marks.pop("h_complete") == "완전 / complete"
    assert set(marks.values()) == {"⚠️ 불완전 / incomplete"}
    assert "## ⚠️ 샌드박스 없이 채점 / Graded without a complete sandbox" in md
    assert "- ⚠️ 샌드박스 없이 채점된 결과 6개" in md
    assert "bubblewrap이 없습니다 / bubblewrap (bwrap) is not installed" in md
    assert "(--no-sandbox)" in md

    table = {r["submission"]: r for r in read_csv(out)}
    assert (
        table["a_sandboxed"]["sandbox_complete"] == "1" and not table["a_sandboxed"]["sandbox_note"]
    )
    unsandboxed = ["b_no_bwrap", "c_no_sandbox", "d_no_result", "e_fifo", "f_no_sandbox_object"]
    for team in [*unsandboxed, "g_cgroup_v1_no_cpu"]:
        assert table[team]["sandbox_complete"] == "0"
        assert table[team]["sandbox_note"].startswith(
            "샌드박스 없이 채점 / graded without a complete sandbox"
        )
    assert "no record of its sandbox" in table["e_fifo"]["sandbox_note"]
    console = standings_table(standings)
    assert console.count("graded without a complete sandbox") == 6
    # What the batch recorded when it graded (its `sandboxed` column) comes first.
    assert sandbox_gaps(out, "results/d_no_result/result.json", sandboxed=1) == ()
    assert sandbox_gaps(out, "results/h_complete/result.json", sandboxed=0)
    assert sandbox_gaps(out, "../../etc/passwd") == sandbox_gaps(out, None)  # no record
