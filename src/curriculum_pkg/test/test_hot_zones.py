"""Hot zones (in front of a furnace door): the robot may cross them, and every second inside
costs the zone's own penalty_per_s of the safety score. ROS-free: the judge, the scoring, the
schema and the solvability check, on the library's heat-treatment shop."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from common_pkg.worldspec import Pose2D
from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.episode import EpisodeJudge, EpisodeMetrics
from curriculum_pkg.errors import ScenarioError
from curriculum_pkg.grader import EpisodeResult, GradeResult
from curriculum_pkg.report import write_reports
from curriculum_pkg.scenario import SCENARIO_DIR, load_scenario
from curriculum_pkg.scoring import safety_score, score_episode
from curriculum_pkg.solvability import find_problems

HEAT = SCENARIO_DIR / "sihwa_heat_treatment_01.yaml"
RUBRIC = {"graph": 0.2, "task": 0.5, "safety": 0.2, "efficiency": 0.1}


def drive(scenario, legs, step_s=0.01):
    """Feed the judge the robot standing at (x, y) for so many seconds, leg after leg."""
    judge = EpisodeJudge(scenario, scenario.world)
    t = 0.0
    for x, y, seconds in legs:
        for _ in range(round(seconds / step_s)):
            t += step_s
            judge.update(t, Pose2D(x, y, 0.0), set())
    return judge


def hot_zone(scenario, index=0):
    return [z for z in scenario.world.zones if z.kind == "hot"][index]


def test_the_heat_treatment_shop_has_hot_zones_with_their_penalty():
    scenario = load_scenario(HEAT)
    zones = [z for z in scenario.world.zones if z.kind == "hot"]
    assert len(zones) == 2 and all(z.penalty_per_s == pytest.approx(0.05) for z in zones)


def test_judge_adds_up_seconds_in_a_hot_zone_and_records_entering_it():
    scenario = load_scenario(HEAT)
    zone = hot_zone(scenario)
    outside = (zone.center_xy[0], zone.center_xy[1] - zone.size_xy[1])
    judge = drive(scenario, [(*outside, 1.0), (*zone.center_xy, 3.0), (*outside, 1.0)])
    m = judge.metrics
    assert m.hot_s == pytest.approx(3.0, abs=0.02)
    assert m.hot_penalty == pytest.approx(3.0 * zone.penalty_per_s, abs=0.002)
    assert m.keep_out_s == 0.0  # a hot zone is not a keep-out zone
    events = [e for e in judge.drain_events() if e.kind == "hot_zone"]
    assert len(events) == 1 and events[0].t_s == pytest.approx(1.0, abs=0.02)
    assert zone.name_en in events[0].en and zone.name_ko in events[0].ko


def test_entering_the_same_hot_zone_twice_is_two_events():
    scenario = load_scenario(HEAT)
    zone = hot_zone(scenario)
    outside = (zone.center_xy[0], zone.center_xy[1] - zone.size_xy[1])
    legs = [(*zone.center_xy, 1.0), (*outside, 1.0), (*zone.center_xy, 1.0)]
    judge = drive(scenario, legs)
    assert [e.kind for e in judge.drain_events()].count("hot_zone") == 2
    assert judge.metrics.hot_s == pytest.approx(2.0, abs=0.02)


def test_safety_score_falls_by_penalty_times_seconds_in_hot_zones():
    scenario = load_scenario(HEAT)
    zone = hot_zone(scenario)
    done = [f"navigate:{t.station_id}" for t in scenario.tasks]
    clean = EpisodeMetrics(tasks_total=3, tasks_done=done, completion_time_s=80.0)
    seconds = 4.0
    hot = replace(clean, hot_s=seconds, hot_penalty=zone.penalty_per_s * seconds)
    assert safety_score(scenario, clean) == pytest.approx(1.0)
    assert safety_score(scenario, hot) == pytest.approx(1.0 - 0.05 * 4.0)
    safety = {c.key: c for c in score_episode(RUBRIC, scenario, hot, [])}["safety"]
    assert "4.0 s in hot zones" in safety.en and "고온 구역 4.0초" in safety.ko


def test_a_driven_hot_zone_costs_exactly_what_the_judge_measured():
    scenario = load_scenario(HEAT)
    zone = hot_zone(scenario, 1)
    stops = [scenario.station(t.station_id).stop_xy for t in scenario.tasks]
    legs = [(*stops[0], 1.2), (*zone.center_xy, 2.5), (*stops[1], 1.2), (*stops[2], 1.2)]
    m = drive(scenario, legs).metrics
    assert m.completed
    assert safety_score(scenario, m) == pytest.approx(1.0 - zone.penalty_per_s * m.hot_s)
    assert m.hot_s == pytest.approx(2.5, abs=0.02)


def test_a_hot_zone_without_its_penalty_is_a_located_bilingual_error(tmp_path):
    bad = tmp_path / "no_penalty.yaml"
    text = HEAT.read_text()
    bad.write_text(text.replace("      penalty_per_s: 0.05\n", "", 1))
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    assert err.value.location.startswith("no_penalty.yaml:")
    assert "world.zones[0]" in err.value.location
    assert "penalty_per_s" in err.value.en and "penalty_per_s" in err.value.ko
    assert "고온 구역" in err.value.ko and "hot zone" in err.value.en


def test_penalty_per_s_on_a_keep_out_zone_is_refused(tmp_path):
    bad = tmp_path / "keep_out_penalty.yaml"
    text = HEAT.read_text()
    bad.write_text(text.replace("      kind: hot\n", "      kind: keep_out\n", 1))
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    assert "world.zones[0].penalty_per_s" in err.value.location
    assert "hot zones only" in err.value.en and "고온 구역에만" in err.value.ko


@pytest.mark.parametrize("penalty", ["0", "-0.05", "1.5"])
def test_a_hot_zone_penalty_must_be_more_than_zero_and_at_most_one(tmp_path, penalty):
    bad = tmp_path / "penalty.yaml"
    bad.write_text(HEAT.read_text().replace("penalty_per_s: 0.05", f"penalty_per_s: {penalty}", 1))
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    assert "world.zones[0].penalty_per_s" in err.value.location


def test_hot_zones_are_passable_where_keep_out_zones_are_walls():
    scenario = load_scenario(HEAT)
    world = scenario.world
    lx = world.floor_size_xy[0]
    # One zone across the whole shop, between the start and every station.
    band = replace(hot_zone(scenario), center_xy=(lx / 2, 2.6), size_xy=(lx, 0.8))
    hot = replace(scenario, world=replace(world, zones=(band,)))
    assert find_problems(hot) == []
    walled = replace(scenario, world=replace(world, zones=(replace(band, kind="keep_out"),)))
    assert any("unreachable" in p.key for p in find_problems(walled))


def test_result_json_and_report_say_how_long_the_robot_was_in_hot_zones(tmp_path):
    plating = Path(__file__).resolve().parents[1] / "assignments/plating_stations"
    data = yaml.safe_load((plating / "assignment.yaml").read_text())
    data["scenarios"] = [{"scenario": "sihwa_heat_treatment_01", "variants": 1, "seed": 3}]
    data.pop("reference"), data.pop("starter")
    (tmp_path / "assignment.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    assignment = load_assignment(tmp_path / "assignment.yaml")
    metrics = EpisodeMetrics(tasks_total=3, sim_time_s=30.0, hot_s=2.5, hot_penalty=0.125)
    criteria = score_episode(assignment.rubric, assignment.runs[0].scenario, metrics, [])
    episode = EpisodeResult("sihwa_heat_treatment_01", 0, 3, criteria=criteria, metrics=metrics)
    out = tmp_path / "out"
    out.mkdir()
    write_reports(GradeResult(assignment, tmp_path / "sub", out, episodes=[episode]))
    saved = json.loads((out / "result.json").read_text())["episodes"][0]["metrics"]
    assert saved["hot_s"] == 2.5 and saved["hot_penalty"] == 0.125
    report = (out / "report.md").read_text()
    assert "고온 구역에 있던 시간 / Time in hot zones: 2.5 s" in report
    assert "2.5 s in hot zones" in report and "고온 구역 2.5초" in report
