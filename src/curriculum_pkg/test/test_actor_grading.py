"""Judging and scoring around moving workers and forklifts: collisions by id, near misses,
hidden variants that start the actors elsewhere."""

from dataclasses import replace

import pytest

from common_pkg.actors import Actor
from common_pkg.worldspec import Pose2D
from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.episode import EpisodeJudge, EpisodeMetrics
from curriculum_pkg.scenario import SCENARIO_DIR, load_scenario
from curriculum_pkg.scoring import safety_score, score_episode

LOGISTICS = SCENARIO_DIR / "sihwa_logistics_01.yaml"


def with_worker(path=((5.0, 2.0), (5.0, 1.99)), speed_mps=0.01):
    """The logistics scenario with one worker `w1` walking `path` (by default standing at
    (5, 2), shifting on their feet) and no other actor."""
    scenario = load_scenario(LOGISTICS)
    worker = Actor("w1", "worker", (0.5, 0.5, 1.7), tuple(path), speed_mps)
    return replace(scenario, world=replace(scenario.world, actors=(worker,)))


def judge_moves(scenario, moves, contacts=frozenset()):
    """Feed the judge 100 poses a second: `moves` is [(from xy, to xy, seconds)], straight lines."""
    judge = EpisodeJudge(scenario, scenario.world)
    t = 0.0
    for (x0, y0), (x1, y1), seconds in moves:
        steps = round(seconds / 0.01)
        for i in range(1, steps + 1):
            t += 0.01
            f = i / steps
            judge.update(t, Pose2D(x0 + f * (x1 - x0), y0 + f * (y1 - y0), 0.0), set(contacts))
    return judge.metrics


def test_logistics_scenario_has_a_forklift_and_a_worker():
    scenario = load_scenario(LOGISTICS)
    assert [(a.id, a.kind, a.mode) for a in scenario.world.actors] == [
        ("forklift_1", "forklift", "back_and_forth"),
        ("picker_1", "worker", "loop"),
    ]
    assert scenario.near_miss_penalty == pytest.approx(0.1)
    assert [t.station_id for t in scenario.tasks] == ["incoming_dock", "rack_b_pick", "packing"]


def test_hidden_variants_start_the_actors_elsewhere_deterministically():
    scenario = load_scenario(LOGISTICS)
    written = [a.start_offset_m for a in scenario.world.actors]
    one, again = scenario.variant(1, 7).world.actors, scenario.variant(1, 7).world.actors
    two = scenario.variant(2, 7).world.actors
    assert one == again
    offsets = [a.start_offset_m for a in one]
    assert offsets != written and offsets != [a.start_offset_m for a in two]
    for actor, moved in zip(scenario.world.actors, one, strict=True):
        assert 0.0 <= moved.start_offset_m < actor.route_length_m
        assert moved.pose_at(0.0) != actor.pose_at(0.0)  # elsewhere at the same time
        assert replace(moved, start_offset_m=actor.start_offset_m) == actor  # only that changed


def test_touching_an_actor_is_a_collision_reported_with_its_id():
    scenario = load_scenario(LOGISTICS)
    judge = EpisodeJudge(scenario, scenario.world)
    for i in range(300):  # touching the forklift for 1 s, apart for 1 s, touching again
        touching = {"actor:forklift_1"} if not 100 <= i < 200 else set()
        judge.update(round((i + 1) * 0.01, 2), Pose2D(1.0, 3.0, 0.0), touching)
    metrics = judge.metrics
    assert metrics.collisions == [(0.01, "actor:forklift_1"), (2.01, "actor:forklift_1")]
    metrics.tasks_done = ["navigate:incoming_dock"]
    assignment = load_assignment("plating_stations")
    safety = next(
        c for c in score_episode(assignment.rubric, scenario, metrics, []) if c.key == "safety"
    )
    assert "collided with forklift forklift_1 at 0.0, 2.0 s" in safety.en
    assert "지게차 forklift_1와(과) 충돌 (0.0, 2.0초)" in safety.ko
    assert safety.score == pytest.approx((1 - 2 * 0.25) / 3)


def test_driving_close_past_a_worker_is_one_near_miss():
    scenario = with_worker()
    metrics = judge_moves(scenario, [((3.0, 2.6), (7.0, 2.6), 20.0)])  # 0.2 m/s, 0.6 m abeam
    assert metrics.min_worker_clearance_m == pytest.approx(0.6 - 0.25, abs=0.01)
    assert [who for _, who in metrics.near_misses] == ["w1"]
    # It starts 0.75 m from the worker's centre: 0.45 m before abeam, at (5 - 0.45 - 3) / 0.2 s.
    assert metrics.near_misses[0][0] == pytest.approx(7.75, abs=0.05)


def test_passing_at_a_safe_distance_is_no_near_miss():
    scenario = with_worker()
    metrics = judge_moves(scenario, [((3.0, 3.0), (7.0, 3.0), 20.0)])  # 1.0 m abeam
    assert metrics.min_worker_clearance_m == pytest.approx(1.0 - 0.25, abs=0.01)
    assert metrics.near_misses == []


def test_standing_still_while_a_worker_walks_past_is_no_near_miss():
    scenario = with_worker([(3.0, 2.6), (7.0, 2.6)], speed_mps=1.0)
    metrics = judge_moves(scenario, [((5.0, 3.0), (5.0, 3.0), 4.0)])
    assert metrics.min_worker_clearance_m == pytest.approx(0.4 - 0.25, abs=0.01)
    assert metrics.near_misses == []


def test_a_near_miss_counts_again_only_after_the_robot_left_the_safety_distance():
    scenario = with_worker()
    near, edge, away = (5.0, 2.5), (5.0, 2.73), (5.0, 3.5)  # clearance 0.25, 0.48, 1.25
    metrics = judge_moves(
        scenario,
        [(away, near, 5.0), (near, edge, 2.0), (edge, near, 2.0), (near, away, 5.0)]
        + [(away, near, 5.0)],
    )
    assert len(metrics.near_misses) == 2  # in and out near the edge is still the first one


def test_each_near_miss_costs_the_scenarios_near_miss_penalty():
    scenario = load_scenario(LOGISTICS)
    base = EpisodeMetrics(tasks_total=3, tasks_done=["a", "b", "c"], completion_time_s=100.0)
    careless = replace(
        base, min_worker_clearance_m=0.2, near_misses=[(5.0, "picker_1"), (40.0, "picker_1")]
    )
    assert safety_score(scenario, base, 0) == pytest.approx(1.0)
    assert safety_score(scenario, careless, 0) == pytest.approx(1.0 - 2 * 0.1)
    rubric = load_assignment("plating_stations").rubric
    safety = next(c for c in score_episode(rubric, scenario, careless, []) if c.key == "safety")
    assert "closest to a worker: 0.20 m" in safety.en and "2 near miss(es)" in safety.en
    assert "작업자와의 최소 거리 0.20 m" in safety.ko and "아차사고 2회" in safety.ko
