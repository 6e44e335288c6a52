"""Cores of curriculum_pkg: scenario and launch parsing with located errors, judging, scoring."""

import numpy as np
import pytest

from common_pkg.worldspec import Pose2D
from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.episode import EpisodeJudge, EpisodeMetrics
from curriculum_pkg.errors import ScenarioError, SubmissionError
from curriculum_pkg.graphcheck import Finding
from curriculum_pkg.launchfile import parse_launch_file
from curriculum_pkg.scenario import SCENARIO_DIR, load_scenario
from curriculum_pkg.scoring import score_episode, total_points

PLATING = SCENARIO_DIR / "banwol_plating_01.yaml"


def test_every_library_scenario_validates():
    scenario = load_scenario(PLATING)
    assert scenario.title["ko"] and scenario.title["en"]
    assert [t.station_id for t in scenario.tasks] == ["rinse_check", "outgoing_rack"]
    assert scenario.reference_solution.is_dir()


def test_scenario_error_names_file_line_and_key(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text(PLATING.read_text().replace("marker_id: 12", "marker_id: 11"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    assert err.value.location.startswith("broken.yaml:")
    assert "world.stations[1].marker_id" in err.value.location
    assert "11" in err.value.en and "11" in err.value.ko


def test_scenario_task_must_name_an_existing_station(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text(PLATING.read_text().replace("station: outgoing_rack}", "station: paint_booth}"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    assert "tasks[1].station" in err.value.location


def test_hidden_variants_move_the_start_deterministically():
    scenario = load_scenario(PLATING)
    assert scenario.variant(0, 1) == scenario
    a, b = scenario.variant(1, 1).world, scenario.variant(1, 1).world
    assert a == b and a.robot_start != scenario.world.robot_start
    assert abs(a.robot_start.x - scenario.world.robot_start.x) <= scenario.start_jitter_m


def test_launch_file_subset_with_var_substitution(assignment_dir):
    nodes = parse_launch_file(
        assignment_dir / "reference/station_runner/launch/plating_stations.launch.yaml"
    )
    assert [(n.pkg, n.executable, n.fqn) for n in nodes] == [
        ("station_runner", "navigator", "/navigator"),
        ("teleop_pkg", "safety_mux", "/safety_mux"),
    ]
    assert nodes[0].remaps == (("/cmd_vel", "/cmd_vel_autonomy"),)
    assert nodes[0].params["max_linear_mps"] == pytest.approx(
        0.22
    )  # "$(var ...)" read as YAML, like ros2 launch


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("launch:\n  - node: {pkg: p, exec: e, name: n, remap: oops}\n", "launch[0].node.remap"),
        ("launch:\n  - node: {pkg: p}\n", "launch[0].node"),
        ("launch: [\n", "bad.launch.yaml:"),
        (
            "launch:\n  - node: {pkg: p, exec: e, param: [{name: x, value: '$(env HOME)'}]}\n",
            "param[0].value",
        ),
    ],
)
def test_broken_launch_file_error_is_located(tmp_path, text, where):
    path = tmp_path / "bad.launch.yaml"
    path.write_text(text)
    with pytest.raises(SubmissionError) as err:
        parse_launch_file(path)
    assert where in err.value.location
    assert err.value.ko


def _judge_drive(scenario, points):
    judge = EpisodeJudge(scenario, scenario.world)
    t = 0.0
    for x, y, seconds, contacts in points:
        for _ in range(int(seconds / 0.01)):
            t += 0.01
            judge.update(t, Pose2D(x, y, 0.0), contacts)
    return judge.metrics


def test_judge_counts_stations_in_order_only_after_dwell():
    scenario = load_scenario(PLATING)
    a, b = (s.stop_xy for s in scenario.world.stations)
    m = _judge_drive(scenario, [(*b, 3.0, set()), (*a, 0.5, set())])
    assert m.tasks_done == []  # B first does not count; A not held for the dwell time
    m = _judge_drive(scenario, [(*a, 1.2, set()), (*b, 1.2, set())])
    assert m.tasks_done == ["navigate:rinse_check", "navigate:outgoing_rack"] and m.completed


def test_judge_counts_collisions_once_per_contact_and_keep_out_time():
    scenario = load_scenario(PLATING)
    zone = scenario.world.zones[0]
    m = _judge_drive(scenario, [(1.0, 1.0, 1.0, {"chemical_drum"}), (*zone.center_xy, 2.0, set())])
    assert [what for _, what in m.collisions] == ["chemical_drum"]
    assert m.keep_out_s == pytest.approx(2.0, abs=0.02)


def test_scoring_arithmetic():
    assignment = load_assignment("plating_stations")
    scenario = assignment.runs[0].scenario
    metrics = EpisodeMetrics(
        tasks_total=2,
        tasks_done=["navigate:rinse_check", "navigate:outgoing_rack"],
        completion_time_s=140.0,
        collisions=[(3.0, "wall_east")],
        keep_out_s=1.0,
    )
    findings = [
        Finding(True, "", ""),
        Finding(True, "", ""),
        Finding(False, "", ""),
        Finding(True, "", ""),
    ]
    crit = {c.key: c for c in score_episode(assignment.rubric, scenario, metrics, findings)}
    assert crit["graph"].score == pytest.approx(0.75)
    assert crit["task"].score == pytest.approx(1.0)
    assert crit["safety"].score == pytest.approx(1 - 0.25 - 0.10)
    assert crit["efficiency"].score == pytest.approx(70 / 140)
    expected = 100 * (0.2 * 0.75 + 0.5 * 1.0 + 0.2 * 0.65 + 0.1 * 0.5)
    assert total_points(list(crit.values())) == pytest.approx(expected)


def test_safety_is_earned_only_with_progress():
    assignment = load_assignment("plating_stations")
    idle = EpisodeMetrics(tasks_total=2)
    crit = {
        c.key: c for c in score_episode(assignment.rubric, assignment.runs[0].scenario, idle, [])
    }
    assert crit["safety"].score == 0.0 and crit["efficiency"].score == 0.0


MACHINING = SCENARIO_DIR / "sihwa_machining_01.yaml"


def test_judge_counts_pick_when_lifted_and_place_when_resting_on_target():
    scenario = load_scenario(MACHINING)
    judge = EpisodeJudge(scenario, scenario.world)
    start = np.array(scenario.task_point(scenario.tasks[0]))
    target = np.array(scenario.task_point(scenario.tasks[1]))
    pose = scenario.world.robot_start
    t = 0.0
    for xyz, seconds in (
        (start, 1.0),
        (start + [0, 0, 0.05], 1.2),
        (target + [0, 0, 0.05], 1.0),
        (target + [0.01, 0, 0.0], 1.2),
    ):
        for _ in range(int(seconds / 0.01)):
            t += 0.01
            judge.update(t, pose, set(), {"bushing": xyz})
    assert judge.metrics.tasks_done == ["pick:bushing", "place:bushing"]
    assert judge.metrics.completed


def test_part_held_above_the_target_is_not_placed():
    scenario = load_scenario(MACHINING)
    judge = EpisodeJudge(scenario, scenario.world)
    start = np.array(scenario.task_point(scenario.tasks[0]))
    target = np.array(scenario.task_point(scenario.tasks[1]))
    t = 0.0
    for xyz in [start + [0, 0, 0.05]] * 150 + [target + [0, 0, 0.04]] * 300:
        t += 0.01
        judge.update(t, scenario.world.robot_start, set(), {"bushing": xyz})
    assert judge.metrics.tasks_done == ["pick:bushing"]


def test_place_task_without_a_target_is_a_located_error(tmp_path):
    bad = tmp_path / "no_target.yaml"
    bad.write_text(
        MACHINING.read_text().replace(
            "  - {type: place, part: bushing, target_m: [1.17, 1.56]}",
            "  - {type: place, part: bushing}",
        )
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    assert "tasks[1]" in err.value.location and "target_m" in err.value.en


def inspect_scenario(tmp_path, label="scratch"):
    """The plating scenario with a board on display at the first station, to be inspected."""
    import cv2
    import yaml

    cv2.imwrite(str(tmp_path / "board.png"), np.full((120, 160, 3), (40, 120, 40), np.uint8))
    data = yaml.safe_load(PLATING.read_text())
    data["world"]["stations"][0]["display"] = {"image": "board.png", "size_m": [0.16, 0.12]}
    data["tasks"] = [
        {"type": "inspect", "station": "rinse_check", "label": label},
        {"type": "navigate", "station": "outgoing_rack"},
    ]
    data.pop("reference_solution")
    path = tmp_path / "inspect.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return load_scenario(path)


def test_inspect_task_done_on_a_correct_first_report_after_the_camera_saw_it(tmp_path):
    scenario = inspect_scenario(tmp_path)
    assert scenario.world.stations[0].display_image == tmp_path / "board.png"
    right = EpisodeJudge(scenario, scenario.world)
    right.update(1.0, scenario.world.robot_start, set(), {}, {}, seen={"rinse_check"})
    right.update(2.0, scenario.world.robot_start, set(), {}, {"rinse_check": [(1.5, "scratch")]})
    assert right.metrics.tasks_done == ["inspect:rinse_check"]
    wrong = EpisodeJudge(scenario, scenario.world)
    wrong.update(0.5, scenario.world.robot_start, set(), {}, {}, seen={"rinse_check"})
    wrong.update(1.0, scenario.world.robot_start, set(), {}, {"rinse_check": [(1.0, "good")]})
    assert wrong.metrics.tasks_done == [] and wrong.metrics.tasks_failed == [
        "inspect:rinse_check said good, is scratch"
    ]
    stop = scenario.station("outgoing_rack").stop_xy  # the job goes on after a failed inspection
    for i in range(150):
        wrong.update(2.0 + i * 0.01, Pose2D(*stop, 0.0), set(), {}, {})
    assert wrong.metrics.tasks_done == ["navigate:outgoing_rack"] and not wrong.metrics.completed


def test_inspect_task_needs_a_station_with_a_display(tmp_path):
    scenario_file = tmp_path / "no_display.yaml"
    inspect_scenario(tmp_path)
    scenario_file.write_text(
        (tmp_path / "inspect.yaml").read_text().replace("display:", "unused_display:")
    )
    with pytest.raises(ScenarioError):
        load_scenario(scenario_file)


def test_safety_mux_interventions_cost_safety_points():
    assignment = load_assignment("plating_stations")
    scenario = assignment.runs[0].scenario
    metrics = EpisodeMetrics(
        tasks_total=2,
        tasks_done=["navigate:rinse_check", "navigate:outgoing_rack"],
        completion_time_s=60.0,
        mux_interventions=3,
    )
    crit = {
        c.key: c
        for c in score_episode(assignment.rubric, scenario, metrics, [], intervention_penalty=0.1)
    }
    assert crit["safety"].score == pytest.approx(0.7)
    assert "3 safety-mux intervention(s)" in crit["safety"].en and "개입 3회" in crit["safety"].ko
