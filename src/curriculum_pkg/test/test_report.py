"""Reports from a grading result: result.json, report.md and the trajectory plot (no ROS)."""

import json
from pathlib import Path

import numpy as np
import yaml
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.image import imread

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.episode import EpisodeMetrics
from curriculum_pkg.grader import EpisodeResult, GradeResult
from curriculum_pkg.preview import preview_layout
from curriculum_pkg.report import RESULT_SCHEMA_VERSION, write_reports
from curriculum_pkg.reports.safe_text import (
    bounded,
    csv_cell,
    csv_text,
    md_code,
    md_fence,
    md_inline,
    plain_text,
)
from curriculum_pkg.scoring import Criterion

PLATING = Path(__file__).resolve().parents[1] / "assignments/plating_stations"


def test_an_episode_among_workers_reports_collisions_and_near_misses(tmp_path):
    data = yaml.safe_load((PLATING / "assignment.yaml").read_text())
    data["scenarios"] = [{"scenario": "sihwa_logistics_01", "variants": 1, "seed": 3}]
    data.pop("reference")
    data.pop("starter")
    (tmp_path / "assignment.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    assignment = load_assignment(tmp_path / "assignment.yaml")
    metrics = EpisodeMetrics(
        tasks_total=3,
        tasks_done=["navigate:incoming_dock"],
        collisions=[(37.1, "actor:forklift_1"), (40.0, "wall_north"), (41.0, "wall_north")],
        sim_time_s=60.0,
        trajectory=[(t, 1.0 + 0.08 * t, 3.0 + 0.02 * t) for t in np.arange(0, 60, 0.2)],
        min_worker_clearance_m=0.31,
        near_misses=[(20.0, "picker_1")],
    )
    episode = EpisodeResult(
        "sihwa_logistics_01",
        0,
        3,
        criteria=[Criterion("task", 1.0, 1 / 3, "1 of 3", "3개 중 1개")],
        metrics=metrics,
    )
    out = tmp_path / "out"
    out.mkdir()
    result = GradeResult(assignment, tmp_path / "sub", out, episodes=[episode])
    write_reports(result)

    saved = json.loads((out / "result.json").read_text())
    assert saved["schema_version"] == RESULT_SCHEMA_VERSION
    m = saved["episodes"][0]["metrics"]
    assert m["min_worker_clearance_m"] == 0.31
    assert m["near_misses"] == [{"t_s": 20.0, "worker": "picker_1"}]
    assert {"t_s": 37.1, "with": "actor:forklift_1"} in m["collisions"]
    report = (out / "report.md").read_text()
    assert "Closest to a worker: 0.31 m; 아차사고 / near misses: 1" in report
    # The plot is the scenario's preview with the trajectory on top: the robot's path is drawn
    # in blue where the preview's layout puts the trajectory's middle point.
    picture = imread(out / "trajectory_sihwa_logistics_01_v0.png")[..., :3]
    layout = preview_layout(assignment.runs[0].scenario.variant(0, 3))
    assert picture.shape[1::-1] == tuple(layout.size_px)

    def robot_blue_near(xy) -> bool:  # matplotlib's tab:blue, the trajectory's colour
        px, py = layout.to_pixel(xy)
        patch = picture[int(py) - 3 : int(py) + 4, int(px) - 3 : int(px) + 4]
        return bool((np.abs(patch - (0.12, 0.47, 0.71)).max(axis=-1) < 0.12).any())

    assert robot_blue_near((1.0 + 0.08 * 30, 3.0 + 0.02 * 30)), "no trajectory where it is"
    assert not robot_blue_near((3.0, 7.5)), "trajectory colour where the robot never was"


# Student text in a report (curriculum_pkg.reports.safe_text): whatever it is, it stays text.
# The attacks themselves, on whole reports and leaderboards: tests/hostile/test_report_injection.py.
MARKDOWN_HEAVY = st.text(alphabet=st.sampled_from("`|<>&\\*_[]()!#~$@:/.w \n\r\t\x1bx한"))
ANY_TEXT = st.one_of(MARKDOWN_HEAVY, st.text())


def unescaped_count(text: str, char: str) -> int:
    count, i = 0, 0
    while i < len(text):
        count += text[i] == char
        i += 2 if text[i] == "\\" else 1
    return count


@given(ANY_TEXT)
def test_inline_student_text_stays_in_its_line_and_table_cell(text):
    md = md_inline(text)
    assert "\n" not in md and "\r" not in md and "<" not in md and ">" not in md
    for char in "|[]`*":
        assert unescaped_count(md, char) == 0, char


@given(ANY_TEXT)
def test_no_line_of_a_fenced_log_can_close_its_fence(text):
    lines = md_fence(text).split("\n")
    fence = lines[0].removesuffix("text")
    assert len(fence) >= 3 and set(fence) == {"`"} and lines[-1] == fence
    assert not any(line.strip().startswith(fence) for line in lines[1:-1])


@given(ANY_TEXT)
def test_an_inline_code_span_cannot_be_closed_early(text):
    span = md_code(text)
    if span:
        ticks = len(span) - len(span.lstrip("`"))
        assert "`" * ticks not in span[ticks:-ticks] and "\n" not in span


@given(ANY_TEXT)
def test_a_csv_text_cell_never_starts_a_formula(text):
    assert (
        not csv_text(text)
        .lstrip(" \t\r\n")
        .startswith(("=", "+", "-", "@", "＝", "＋", "－", "＠"))
    )
    assert not csv_text(text).startswith(("\t", "\r", "\n"))


def test_our_numbers_stay_numbers_in_csv():
    assert csv_cell(-1.5) == -1.5 and csv_cell(3) == 3 and csv_cell(True) == 1
    assert csv_cell("-1.5") == "'-1.5"  # text from elsewhere is text
    assert csv_cell(None) == ""


def test_a_log_is_bounded_in_lines_and_characters_and_keeps_its_end():
    log = "\n".join(["node x exited"] + [f"{i} " + "z" * 1000 for i in range(500)] + ["Error: end"])
    shown = bounded(log, max_lines=30, max_line_chars=240)
    lines = shown.split("\n")
    assert len(lines) == 30 and lines[0] == "node x exited" and lines[-1] == "Error: end"
    assert "(473줄 생략 / 473 lines cut)" in shown
    assert max(len(line) for line in lines) < 300


def test_terminal_escapes_and_bidi_overrides_are_not_passed_on():
    assert plain_text("\x1b[31mred\x1b[0m \x1b]8;;http://x\x07link\x1b]8;;\x07") == "red link"
    assert plain_text("a\u202eb\x00c\udcff") == "a\ufffdb\ufffdc\ufffd"
    assert plain_text("a\r\nb\rc\u2028d") == "a\nb\nc\nd"
