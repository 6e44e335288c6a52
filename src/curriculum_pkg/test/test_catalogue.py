"""`rootroute scenario list`, `rootroute assignment list` and `rootroute assignment validate`."""

from __future__ import annotations

import io
import re
import shutil

import pytest
from rich.console import Console

from curriculum_pkg.assignment import ASSIGNMENT_DIR, load_assignment
from curriculum_pkg.catalogue import bounds_summary, plain_lines, print_listing, scenario_listing
from curriculum_pkg.cli import main
from curriculum_pkg.errors import ScenarioError
from curriculum_pkg.scenario import SCENARIO_DIR, list_scenarios, load_scenario

ASSIGNMENTS = sorted(path.parent for path in ASSIGNMENT_DIR.glob("*/assignment.yaml"))


def plain_rows(capsys, *argv: str) -> list[dict[str, str]]:
    assert main([*argv, "--plain"]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    keys = header.split("\t")
    return [dict(zip(keys, line.split("\t"), strict=True)) for line in lines]


def at(text: str, fragment: str) -> str:
    """'LINE:COL' of the first `fragment` in a file's text, as errors locate it."""
    index = text.index(fragment)
    return f"{text.count(chr(10), 0, index) + 1}:{index - text.rfind(chr(10), 0, index)}"


@pytest.fixture
def plating(tmp_path):
    """A copy of the plating assignment to break: (its assignment.yaml, the file's text)."""
    folder = tmp_path / "plating_stations"
    shutil.copytree(
        ASSIGNMENT_DIR / "plating_stations",
        folder,
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    path = folder / "assignment.yaml"
    return path, path.read_text()


def validate(capsys, path) -> str:
    assert main(["assignment", "validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"FAIL {path}\n") and "Traceback" not in out
    return out


# ------------------------------------------------------------------------------ scenario list
def test_scenario_list_shows_every_library_scenario_with_difficulty_tasks_and_bounds(capsys):
    rows = {row["id"]: row for row in plain_rows(capsys, "scenario", "list")}
    scenarios = [load_scenario(path) for path in list_scenarios()]
    assert set(rows) == {s.id for s in scenarios}
    for s in scenarios:
        row = rows[s.id]
        assert row["industry"] == s.industry
        assert row["difficulty"].split()[0] == s.difficulty
        assert (row["title_ko"], row["title_en"]) == (s.title["ko"], s.title["en"])
        assert (row["bounds_ko"], row["bounds_en"]) == bounds_summary(s.variant_bounds())
    plating = rows["banwol_plating_01"]
    assert plating["difficulty"] == "beginner (입문)"
    assert plating["tasks"] == "navigate×2"
    assert "2 stations ≤0.36 m" in plating["bounds_en"] and "스테이션 2곳" in plating["bounds_ko"]
    assert rows["sihwa_machining_01"]["tasks"] == "pick×1, place×1"
    for folder in ASSIGNMENTS:  # e.g. "1 (plating_stations)": variants: 2, one of them visible
        assignment = load_assignment(folder)
        for run in assignment.runs:
            graded = f"{run.variants - 1} ({assignment.id})"
            assert graded in rows[run.scenario.id]["hidden_variants"].split(", ")


def test_bounds_summary_says_per_kind_how_many_vary_and_how_far_in_one_line():
    bounds = {
        "start": {"jitter_m": {"x": [-0.3, 0.3], "y": [-0.4, 0.4]}, "yaw_jitter_deg": 5.0},
        "stations": {"dock": {"jitter_m": 0.2, "yaw_jitter_deg": 0.0}},
        "obstacles": {},
        "parts": {},
        "marker_ids": [1, 2, 3],
        "inspect_items": {},
        "actors": {
            "w1": {"start_anywhere": False, "speed_scale": [0.8, 1.2], "pause_jitter_s": 2.0},
            "w2": {"start_anywhere": False, "speed_scale": [1.0, 1.0], "pause_jitter_s": 0.0},
        },
    }
    ko, en = bounds_summary(bounds)
    assert en == (
        "start ≤0.50 m ±5°; 1 station ≤0.20 m; marker ids from 3; "
        "1 actor: speed ×0.8–1.2, pauses ±2 s"
    )
    assert ko.startswith("시작 ≤0.50 m ±5°; 스테이션 1곳 ≤0.20 m")
    still = {**bounds, "start": {"jitter_m": 0.0, "yaw_jitter_deg": 0.0}, "stations": {}}
    assert bounds_summary({**still, "marker_ids": [], "actors": {}}) == ("없음", "none")


def test_scenario_list_on_a_terminal_is_a_table_in_both_languages():
    out = io.StringIO()
    listing = scenario_listing(list_scenarios(), [])
    print_listing(listing, console=Console(file=out, force_terminal=True, width=240))
    table = out.getvalue()
    assert "난이도" in table and "difficulty" in table and "┃" in table
    assert "반월 도금 공장" in table and "Banwol plating plant" in table


def test_scenario_without_difficulty_is_refused_with_the_values_to_choose_from(tmp_path):
    text = (SCENARIO_DIR / "banwol_plating_01.yaml").read_text()
    broken = tmp_path / "old.yaml"
    broken.write_text(re.sub(r"\ndifficulty:[^\n]*", "", text))
    with pytest.raises(ScenarioError) as err:
        load_scenario(broken)
    assert err.value.location.startswith("old.yaml:")
    assert "beginner, intermediate or advanced" in err.value.en
    assert "입문" in err.value.ko


# ---------------------------------------------------------------------------- assignment list
def test_assignment_list_shows_every_assignment_with_scenarios_rubric_and_pacing(capsys):
    rows = {row["id"]: row for row in plain_rows(capsys, "assignment", "list")}
    assert set(rows) == {folder.name for folder in ASSIGNMENTS}
    assert {"plating_stations", "machining_pick_place", "pcb_inspection", "logistics_crossing"} <= (
        set(rows)
    )
    for folder in ASSIGNMENTS:
        assignment, row = load_assignment(folder), rows[folder.name]
        assert (row["title_ko"], row["title_en"]) == (
            assignment.title["ko"],
            assignment.title["en"],
        )
        for run in assignment.runs:
            assert (
                f"{run.scenario.id}: 1 visible + {run.variants - 1} hidden" in row["scenarios_en"]
            )
            assert f"{run.scenario.id}: 공개 1 + 숨은 {run.variants - 1}" in row["scenarios_ko"]
        assert row["pass_mark"] == f"{assignment.pass_mark:g}"
        assert re.fullmatch(
            r"graph [\d.]+ · task [\d.]+ · safety [\d.]+ · efficiency [\d.]+", row["rubric"]
        )
        assert row["pacing"].split()[0] == assignment.pacing
    plating = rows["plating_stations"]  # 20/50/20/10 in assignment.yaml; shares of 100
    assert "banwol_plating_01: 1 visible + 1 hidden" in plating["scenarios_en"]
    assert plating["rubric"] == "graph 20 · task 50 · safety 20 · efficiency 10"


# ------------------------------------------------------------------------ assignment validate
def test_validate_passes_every_assignment_of_the_library(capsys):
    assert main(["assignment", "validate", *map(str, ASSIGNMENTS)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"OK {folder}" for folder in ASSIGNMENTS]


def test_validate_points_at_a_misspelled_message_type(plating, capsys):
    path, text = plating
    path.write_text(text.replace("sensor_msgs/msg/LaserScan", "sensor_msgs/msg/LaserScn", 1))
    out = validate(capsys, path)
    where = at(path.read_text(), "sensor_msgs/msg/LaserScn")
    assert (
        f"  assignment.yaml:{where}: graph.nodes[0].subscribes[0].type: message type "
        "sensor_msgs/msg/LaserScn is not installed (did you mean sensor_msgs/msg/LaserScan?) / "
        "메시지 타입 sensor_msgs/msg/LaserScn이(가) 설치되어 있지 않습니다"
    ) in out


def test_validate_refuses_rubric_weights_that_do_not_add_up_to_100(plating, capsys):
    path, text = plating
    path.write_text(text.replace("task: 50", "task: 40"))
    out = validate(capsys, path)
    assert re.search(
        r"  assignment\.yaml:\d+:\d+: rubric: rubric weights add up to 20 \+ 40 \+ 20 \+ 10 = 90: "
        r"make them add up to 100 \(or 1\).* / 채점 기준 가중치의 합이 .*100\(또는 1\)",
        out,
    )


def test_validate_names_a_missing_scenario_where_the_assignment_names_it(plating, capsys):
    path, text = plating
    path.write_text(text.replace("scenario: banwol_plating_01", "scenario: banwol_plating_99"))
    out = validate(capsys, path)
    where = at(path.read_text(), "banwol_plating_99")
    assert (
        f"  assignment.yaml:{where}: scenarios[0].scenario: scenario banwol_plating_99 not found"
    ) in out
    assert "시나리오 banwol_plating_99을(를) 찾을 수 없습니다" in out


@pytest.mark.parametrize(
    ("breaks", "en", "ko"),
    [
        (
            lambda pkg: (pkg / "package.xml").unlink(),
            "reference: folder reference holds no ROS 2 package",
            "폴더 reference에 ROS 2 패키지가 없습니다",
        ),
        (
            lambda pkg: (pkg / "package.xml").write_text(
                (pkg / "package.xml").read_text().replace('format="3"', 'format="2"')
            ),
            'reference -> reference/station_runner: package.xml is not <package format="3">',
            'package.xml이 <package format="3">이 아닙니다',
        ),
        (
            lambda pkg: (pkg / "launch" / "plating_stations.launch.yaml").unlink(),
            "reference -> reference: launch file plating_stations.launch.yaml not found",
            "launch 파일 plating_stations.launch.yaml이(가) 없습니다",
        ),
    ],
    ids=["no-package-xml", "package-format-2", "no-launch-file"],
)
def test_validate_refuses_a_reference_folder_that_is_not_a_package(plating, capsys, breaks, en, ko):
    path, _ = plating
    breaks(path.parent / "reference" / "station_runner")
    out = validate(capsys, path)
    assert re.search(rf"  assignment\.yaml:\d+:\d+: {re.escape(en)}", out)
    assert ko in out
    assert "starter" not in out  # the starter is still fine


@pytest.mark.parametrize(
    ("provided_by", "en", "ko"),
    [
        (
            "teleop_pkg/safety_muxer",
            "teleop_pkg has no executable 'safety_muxer' (its console_scripts: input_player, safety_mux,",
            "teleop_pkg에 실행 파일 'safety_muxer'이(가) 없습니다",
        ),
        (
            "nav2_pkg/safety_mux",
            "nav2_pkg is not a platform package (planning_pkg, perception_pkg, teleop_pkg)",
            "nav2_pkg은(는) 플랫폼 패키지",
        ),
    ],
)
def test_validate_refuses_a_platform_node_that_names_no_platform_executable(
    plating, capsys, provided_by, en, ko
):
    path, text = plating
    path.write_text(
        text.replace("provided_by: teleop_pkg/safety_mux", f"provided_by: {provided_by}")
    )
    out = validate(capsys, path)
    where = at(path.read_text(), provided_by)
    assert f"  assignment.yaml:{where}: graph.nodes[1].provided_by: {en}" in out
    assert ko in out


def test_scenario_list_shows_a_scenario_that_does_not_load_with_its_located_error(tmp_path):
    text = (SCENARIO_DIR / "banwol_plating_01.yaml").read_text()
    broken = tmp_path / "broken_01.yaml"
    broken.write_text(text.replace("difficulty: beginner", "difficulty: easy"))
    _, row = plain_lines(scenario_listing([broken], []))
    name, verdict, error, *_ = row.split("\t")
    assert (name, verdict) == ("broken_01", "INVALID")
    assert error.startswith(f"broken_01.yaml:{at(broken.read_text(), 'easy')}: difficulty: 'easy'")
    assert "값이 올바르지 않습니다" in error
