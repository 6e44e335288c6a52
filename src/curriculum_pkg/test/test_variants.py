"""Hidden variants: drawn within the bounds a scenario declares, a pure function of (scenario,
index, seed), different enough that memorising the visible one does not help, and always
solvable (curriculum_pkg.solvability), checked again by `rootroute scenario validate`."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace

import numpy as np
import pytest

from common_pkg.worldspec import Pose2D
from curriculum_pkg.cli import main
from curriculum_pkg.errors import ScenarioError
from curriculum_pkg.scenario import SCENARIO_DIR, list_scenarios, load_scenario
from curriculum_pkg.solvability import find_problems, robot_shape
from curriculum_pkg.variants import bounds_lines, check_variants, draw_variant

LIBRARY = [p.stem for p in list_scenarios()]
HANGUL = re.compile("[\uac00-\ud7a3]")
SEEDS = range(12)


def with_randomization(tmp_path, scenario_id: str, section: str):
    """A copy of a library scenario whose `randomization` section is `section` (YAML text)."""
    text = (SCENARIO_DIR / f"{scenario_id}.yaml").read_text()
    head = text[: text.index("\nrandomization:")]
    tail = text[text.index("\nreference_solution:") :]
    path = tmp_path / f"{scenario_id}.yaml"
    path.write_text(f"{head}\nrandomization:\n{section}{tail}")
    return path


def inside_bound(offset_xy, bound: dict) -> bool:
    dx, dy = offset_xy
    jitter = bound["jitter_m"]
    if isinstance(jitter, dict):
        (x_lo, x_hi), (y_lo, y_hi) = jitter["x"], jitter["y"]
        return x_lo - 1e-9 <= dx <= x_hi + 1e-9 and y_lo - 1e-9 <= dy <= y_hi + 1e-9
    return math.hypot(dx, dy) <= jitter + 1e-9


# ------------------------------------------------------------------------------- pure and bounded
@pytest.mark.parametrize("scenario_id", LIBRARY)
def test_variant_zero_is_the_scenario_as_written(scenario_id):
    scenario = load_scenario(scenario_id)
    assert scenario.variant(0, 12345) is scenario


@pytest.mark.parametrize("scenario_id", LIBRARY)
def test_a_hidden_variant_is_a_pure_function_of_scenario_index_and_seed(scenario_id):
    scenario = load_scenario(scenario_id)
    hmac_like = (1 << 63) - 12345  # the teacher's secret gives 63-bit seeds
    assert scenario.variant(1, hmac_like) == load_scenario(scenario_id).variant(1, hmac_like)
    assert scenario.variant(1, hmac_like) != scenario.variant(1, hmac_like - 1)
    assert scenario.variant(1, hmac_like) != scenario.variant(2, hmac_like)


@pytest.mark.parametrize("scenario_id", LIBRARY)
def test_hidden_variants_stay_within_the_declared_bounds(scenario_id):
    scenario = load_scenario(scenario_id)
    bounds = scenario.variant_bounds()
    pool = set(bounds["marker_ids"])
    for seed in SEEDS:
        variant = scenario.variant(1, seed)
        for before, after in zip(scenario.world.stations, variant.world.stations, strict=True):
            moved = np.subtract(after.stop_xy, before.stop_xy)
            if before.id in bounds["stations"]:
                assert inside_bound(moved, bounds["stations"][before.id])
            else:
                assert not moved.any()
            assert after.marker_id in pool if pool else after.marker_id == before.marker_id
        markers = [s.marker_id for s in variant.world.stations]
        assert len(set(markers)) == len(markers)  # unique within the scenario
        for before, after in zip(scenario.world.obstacles, variant.world.obstacles, strict=True):
            moved = np.subtract(after.center_xy, before.center_xy)
            if before.name in bounds["obstacles"]:
                assert inside_bound(moved, bounds["obstacles"][before.name])
            else:
                assert not moved.any()
        start, moved = scenario.world.robot_start, variant.world.robot_start
        assert inside_bound((moved.x - start.x, moved.y - start.y), bounds["start"])
        assert abs(moved.yaw - start.yaw) <= math.radians(bounds["start"]["yaw_jitter_deg"])


def test_the_mission_moves_with_the_stations_in_a_hidden_variant():
    scenario = load_scenario("banwol_plating_01")
    visible = [scenario.task_point(t) for t in scenario.tasks]
    for seed in SEEDS:
        variant = scenario.variant(1, seed)
        points = [variant.task_point(t) for t in variant.tasks]
        assert points == [(*variant.station(t.station_id).stop_xy, 0.0) for t in variant.tasks]
        assert max(math.dist(a[:2], b[:2]) for a, b in zip(points, visible, strict=True)) > 0.02


def test_parts_and_place_targets_move_on_their_surface_and_stay_apart():
    scenario = load_scenario("sihwa_machining_01")
    stand = next(o for o in scenario.world.obstacles if o.name == "parts_stand")
    half = np.array(stand.size_xy) / 2
    part_moves, target_moves = [], []
    for seed in range(30):
        variant = scenario.variant(1, seed)
        part = variant.part("bushing")
        target = next(t for t in variant.tasks if t.kind == "place").target_xy
        for xy in (part.center_xy, target):
            assert np.all(np.abs(np.subtract(xy, stand.center_xy)) <= half - 0.015 + 1e-9)
        assert math.dist(part.center_xy, target) >= 2 * variant.place_radius_m
        part_moves.append(math.dist(part.center_xy, scenario.part("bushing").center_xy))
        target_moves.append(math.dist(target, scenario.tasks[1].target_xy))
    # a fixed grasp (1 cm slack) or a fixed place (place_radius_m) misses most hidden variants
    assert np.mean(np.array(part_moves) > 0.01) > 0.6
    assert np.mean(np.array(target_moves) > scenario.place_radius_m) > 0.3


def test_inspection_variants_draw_items_and_marker_ids_from_their_pools():
    scenario = load_scenario("ansan_pcb_inspection_01")
    labels = {scenario.variant(1, seed).tasks[0].expected_label for seed in range(30)}
    assert labels == {"good", "missing_component", "solder_bridge", "scratch"}
    station = scenario.variant(1, 3).world.stations[0]
    assert station.marker_id in range(30, 50) and station.stop_xy == (1.0, 1.2)


def test_a_board_the_platforms_model_misreads_is_a_problem_and_never_drawn(tmp_path):
    """A board labelled scratch that is really a good one: the platform's pcb_inspector says
    good, so no student could be right with it. `scenario validate` says so for the scenario as
    written, and a hidden variant never shows it (the reference reports at 0.9 and would
    otherwise wait for ever)."""
    text = (SCENARIO_DIR / "ansan_pcb_inspection_01.yaml").read_text()
    items = SCENARIO_DIR / "items"
    text = text.replace("image: items/", f"image: {items}/")
    wrong = text.replace(
        "{type: inspect, station: pcb_check, label: solder_bridge}",
        "{type: inspect, station: pcb_check, label: scratch}",
    )
    (tmp_path / "wrong.yaml").write_text(wrong)
    problems = find_problems(load_scenario(tmp_path / "wrong.yaml"))
    assert [p.key for p in problems] == [
        "board pcb_solder_bridge_901.png unreadable at station pcb_check"
    ]
    assert "scratch" in problems[0].en and HANGUL.search(problems[0].ko)

    pool = text.replace(
        f"{{image: {items}/pcb_scratch_901.png, label: scratch}}",
        f"{{image: {items}/pcb_good_901.png, label: scratch}}",  # mislabelled
    )
    assert pool != text
    (tmp_path / "pool.yaml").write_text(pool)
    scenario = load_scenario(tmp_path / "pool.yaml")
    shown = set()
    for seed in range(16):
        drawn = draw_variant(scenario, 1, seed)
        station = drawn.scenario.world.stations[0]
        shown.add((station.display_image.name, drawn.scenario.tasks[0].expected_label))
    assert ("pcb_good_901.png", "scratch") not in shown
    assert len(shown) >= 3  # the other boards are still drawn


def test_actor_timing_bounds_scale_speed_and_pauses(tmp_path):
    path = with_randomization(
        tmp_path,
        "sihwa_logistics_01",
        "  actors:\n    speed_scale: [0.8, 1.2]\n    pause_jitter_s: 3\n"
        "    by_id:\n      picker_1: {start_anywhere: false}\n",
    )
    scenario = load_scenario(path)
    forklift, picker = scenario.world.actors
    speeds = []
    for seed in SEEDS:
        moved_forklift, moved_picker = scenario.variant(1, seed).world.actors
        assert 0.8 * forklift.speed_mps <= moved_forklift.speed_mps <= 1.2 * forklift.speed_mps
        assert abs(moved_forklift.pause_s - forklift.pause_s) <= 3.0
        assert moved_picker.start_offset_m == picker.start_offset_m
        speeds.append(moved_forklift.speed_mps)
    assert len(set(speeds)) == len(speeds)


def test_old_randomization_keys_still_move_only_the_start_and_the_actors(tmp_path):
    path = with_randomization(
        tmp_path, "sihwa_logistics_01", "  start_jitter_m: 0.10\n  start_yaw_jitter_deg: 8\n"
    )
    scenario = load_scenario(path)
    variant = scenario.variant(1, 7)
    assert variant.world.robot_start != scenario.world.robot_start
    assert variant.world.stations == scenario.world.stations
    assert variant.world.obstacles == scenario.world.obstacles
    assert [a.start_offset_m for a in variant.world.actors] != [0.0, 0.0]


# ------------------------------------------------------------------------------------ solvable
@pytest.mark.parametrize("scenario_id", LIBRARY)
def test_every_drawn_library_variant_is_solvable(scenario_id):
    found = check_variants(load_scenario(scenario_id), range(20), 3)
    assert found.problems == ()
    assert found.checked == 40


def test_an_obstacle_on_a_station_post_is_an_overlap():
    scenario = load_scenario("banwol_plating_01")
    post = scenario.station("rinse_check").panel_xy
    world = scenario.world
    drum = replace(world.obstacles[1], center_xy=post)
    broken = replace(
        scenario, world=replace(world, obstacles=(world.obstacles[0], drum, *world.obstacles[2:]))
    )
    keys = [p.key for p in find_problems(broken)]
    assert "station rinse_check's post overlaps obstacle chemical_drum" in keys


def test_a_station_walled_off_from_the_start_is_unreachable():
    scenario = load_scenario("banwol_plating_01")
    world = scenario.world
    # the cart stretched into a wall across the plant, between the baths and the outgoing rack
    wall = replace(world.obstacles[2], center_xy=(4.0, 3.7), size_xy=(8.0, 0.2))
    broken = replace(scenario, world=replace(world, obstacles=(*world.obstacles[:2], wall)))
    problems = find_problems(broken)
    assert [p.key for p in problems] == ["station outgoing_rack's stop point unreachable"]
    assert "출입 금지 구역" in problems[0].ko and "keep-out" in problems[0].en


def test_a_start_in_a_keep_out_zone_or_on_a_forklift_route_is_refused():
    plating = load_scenario("banwol_plating_01")
    inside = replace(plating.world, robot_start=Pose2D(4.0, 1.95, 0.0))
    keys = [p.key for p in find_problems(replace(plating, world=inside))]
    assert "start in a keep-out zone" in keys
    logistics = load_scenario("sihwa_logistics_01")
    on_route = replace(logistics.world, robot_start=Pose2D(5.9, 3.0, 0.0))
    keys = [p.key for p in find_problems(replace(logistics, world=on_route))]
    assert "the robot's start on the route of forklift_1" in keys


def test_a_rack_in_the_forklift_aisle_is_refused():
    scenario = load_scenario("sihwa_logistics_01")
    world = scenario.world
    rack = replace(world.obstacles[0], center_xy=(4.0, 1.5))  # its east end in the aisle
    keys = [
        p.key
        for p in find_problems(
            replace(scenario, world=replace(world, obstacles=(rack, *world.obstacles[1:])))
        )
    ]
    assert "obstacle rack_a1 on the route of forklift_1" in keys


def test_a_part_off_its_stand_or_out_of_reach_is_refused():
    scenario = load_scenario("sihwa_machining_01")
    part = scenario.part("bushing")
    off = replace(scenario.world, parts=(replace(part, center_xy=(1.40, 1.46)),))
    keys = [p.key for p in find_problems(replace(scenario, world=off))]
    assert "part bushing not on a surface" in keys
    # the robot parked 25 cm further back: the stand is beyond the arm
    back = replace(scenario.world, robot_start=Pose2D(0.75, 1.5, 0.0))
    problems = find_problems(replace(scenario, world=back))
    assert [p.key for p in problems] == ["part bushing out of the arm's reach"]
    assert HANGUL.search(problems[0].ko) and "reach" in problems[0].en


def test_the_robot_footprint_comes_from_the_profile():
    robot = robot_shape()
    assert robot.footprint_size_xy == pytest.approx((0.266, 0.306))
    assert 0.24 < robot.radius_m < 0.26  # the chassis's back corners (ROBOT_CLEARANCE_M's 0.25)


def test_variant_redraws_until_a_draw_is_solvable(tmp_path):
    # The cart may land anywhere around the east aisle, often on a post or blocking the way.
    path = with_randomization(
        tmp_path,
        "banwol_plating_01",
        "  obstacles:\n    by_id:\n      transport_cart: {jitter_m: 1.2}\n",
    )
    scenario = load_scenario(path)
    redrawn = 0
    for seed in range(15):
        found = draw_variant(scenario, 1, seed)
        assert find_problems(found.scenario) == []
        assert found.draws == len(found.rejected) + 1
        redrawn += len(found.rejected)
    assert redrawn > 0


def test_bounds_no_draw_can_satisfy_are_a_located_bilingual_error(tmp_path):
    path = with_randomization(
        tmp_path,
        "banwol_plating_01",
        "  stations:\n    by_id:\n      outgoing_rack: {jitter_m: {y: [0.6, 0.9]}}\n  max_draws: 5\n",
    )
    scenario = load_scenario(path)
    with pytest.raises(ScenarioError) as err:
        scenario.variant(1, 4)
    assert re.match(r"banwol_plating_01\.yaml:\d+:\d+: randomization$", err.value.location)
    assert "5 draws" in err.value.en and "8.0 x 5.0 m floor" in err.value.en
    assert "숨은 변형" in err.value.ko and "바닥 밖" in err.value.ko


@pytest.mark.parametrize(
    ("section", "where", "said"),
    [
        (
            "  obstacles:\n    by_id:\n      boiler: {jitter_m: 0.1}\n",
            "randomization.obstacles.by_id.boiler",
            "boiler",
        ),
        ("  marker_ids: [11, 12, 11]\n", "randomization.marker_ids", "[11]"),
        ("  marker_ids: {from: 40, to: 40}\n", "randomization.marker_ids", "2 stations"),
        (
            "  stations:\n    jitter_m: {x: [0.2, -0.2]}\n",
            "randomization.stations.jitter_m.x",
            "[0.2, -0.2]",
        ),
        ("  stations:\n    jitter_m: -0.1\n", "randomization.stations.jitter_m", ""),
    ],
)
def test_malformed_bounds_get_a_located_error(tmp_path, section, where, said):
    path = with_randomization(tmp_path, "banwol_plating_01", section)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert where in err.value.location and said in err.value.en


def test_actor_speed_beyond_the_limit_is_refused(tmp_path):
    path = with_randomization(
        tmp_path, "sihwa_logistics_01", "  actors:\n    speed_scale: [1.0, 3.0]\n"
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "randomization.actors.speed_scale" in err.value.location
    assert "2.5 m/s" in err.value.en and "m/s" in err.value.ko


# ---------------------------------------------------------------------------- what was declared
@pytest.mark.parametrize("scenario_id", LIBRARY)
def test_the_declared_bounds_are_plain_data_and_bilingual_sentences(scenario_id):
    bounds = load_scenario(scenario_id).variant_bounds()
    assert json.loads(json.dumps(bounds)) == bounds
    lines = bounds_lines(bounds)
    assert lines and all(HANGUL.search(ko) and not HANGUL.search(en) for ko, en in lines)


def test_plating_bounds_name_what_moves_and_how_far():
    bounds = load_scenario("banwol_plating_01").variant_bounds()
    assert set(bounds["stations"]) == {"rinse_check", "outgoing_rack"}
    assert set(bounds["obstacles"]) == {"chemical_drum", "transport_cart"}  # not the bath line
    assert bounds["obstacles"]["transport_cart"]["jitter_m"] == 0.3
    assert bounds["start"]["yaw_jitter_deg"] == 8


def test_scenario_validate_checks_seeds_times_variants_and_shows_the_bounds(capsys):
    assert main(["scenario", "validate", "sihwa_logistics_01", "--seeds", "5"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ok   sihwa_logistics_01: sihwa_logistics_01, 3 stations")
    assert "10 hidden variants checked (5 seeds x 2 variants" in out  # its assignment grades 3
    assert "station rack_b_pick: moves within x ±0.30 m" in out and "입고 도크" not in out
    assert "스테이션 incoming_dock: 최대 0.15 m 이동" in out


def test_scenario_validate_fails_bounds_that_cannot_be_solved(tmp_path, capsys):
    path = with_randomization(
        tmp_path,
        "banwol_plating_01",
        "  stations:\n    by_id:\n      outgoing_rack: {jitter_m: {y: [0.6, 0.9]}}\n  max_draws: 3\n",
    )
    assert main(["scenario", "validate", str(path), "--seeds", "2", "--variants", "2"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"FAIL {path}")
    assert "seed 0: no solvable hidden variant" in out and "시드 0:" in out
    assert "Traceback" not in out
