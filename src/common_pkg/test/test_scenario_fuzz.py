"""Hostile scenario files: whatever a company engineer writes, our tools answer with a located,
bilingual WorldError / ScenarioError (file:line:col, Korean and English), never a traceback.

Property-based: each example takes one of the library's own scenarios, mutates it (a value
anywhere replaced by a hostile one, a key deleted or added, a type changed, a list item
repeated), writes it and hands it to the public loaders, the simulator's world builder, the
Gazebo exporter, the preview and the `rootroute scenario` verbs. Below them, one regression test
per crash the fuzzing found, named after the attack.
"""

from __future__ import annotations

import copy
import math
import re
import struct
import zlib
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common_pkg.errors import LocatedError, WorldError
from common_pkg.profile import load_profile
from common_pkg.worldspec import MAX_FLOOR_M, MAX_OBSTACLES, load_world
from common_pkg.yamlio import MAX_YAML_NUMBER
from curriculum_pkg.cli import main
from curriculum_pkg.errors import ScenarioError
from curriculum_pkg.scenario import SCENARIO_DIR, load_scenario
from curriculum_pkg.yaml_fuzz import get_at, key_paths, mutate_once

HANGUL = re.compile("[가-힣]")
PROFILE = load_profile()
FUZZ = {"deadline": None, "derandomize": True}

# A value that someone, by mistake or on purpose, writes where another belongs.
HOSTILE = [
    math.inf,
    -math.inf,
    math.nan,
    1e308,
    -1e308,
    10**400,  # no float can hold it
    2**64,
    1e16,
    1e6,
    MAX_FLOOR_M + 0.5,
    100.0,
    1.0,
    0.004,
    1e-9,
    1e-300,
    0,
    0.0,
    -0.0,
    -1,
    True,
    False,
    None,
    "",
    " ",
    "x" * 5000,
    "창고_1",
    "rinse_check\n",
    "\0",
    "../../etc/passwd",
    ".nan",
    "1.0",
    [],
    {},
    [0, 0],
    [0, 0, 0],
    [1e308, 1e308],
    [[0, 0], [0, 0]],
    [[0, 0], [0, 1e-200]],
    {"ko": "가", "en": "a"},
    {"x": [1, -1]},
]
EXTRA_KEYS = ["extra", "size_m", "id", "name", "yaw_deg", "by_id", "display", 7, "", "\0"]


def _library() -> dict[str, dict]:
    """The library's scenarios as data, their image paths made absolute (they are written
    elsewhere)."""
    out = {}
    for path in sorted(SCENARIO_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        for station in doc["world"]["stations"]:
            if "display" in station:
                station["display"]["image"] = str(SCENARIO_DIR / station["display"]["image"])
        for options in doc.get("randomization", {}).get("inspect_items", {}).values():
            for option in options:
                option["image"] = str(SCENARIO_DIR / option["image"])
        out[path.stem] = doc
    return out


LIBRARY = _library()


def _number_paths(doc, under=()) -> list[tuple]:
    return [
        p
        for p in key_paths(doc)
        if p[: len(under)] == under
        and isinstance(get_at(doc, p), (int, float))
        and not isinstance(get_at(doc, p), bool)
    ]


def _mutated(data, under=()) -> dict:
    doc = copy.deepcopy(LIBRARY[data.draw(st.sampled_from(sorted(LIBRARY)), label="scenario")])
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        if not key_paths(doc):
            break
        mutate_once(data, doc, HOSTILE, EXTRA_KEYS)
    return doc


def _write(folder: Path, doc, name: str = "fuzzed_01.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.dump(doc, Dumper=yaml.CSafeDumper, allow_unicode=True))
    return path


def _assert_located_bilingual(err: LocatedError, path: Path) -> None:
    assert err.location.startswith(path.name), err.bilingual()
    assert HANGUL.search(err.ko), err.bilingual()
    assert err.en.strip(), err.bilingual()


def _load_both(path: Path):
    """(world, scenario) of a file, None for each that is refused (checking how)."""
    loaded = []
    for load, error_type in ((load_world, WorldError), (load_scenario, ScenarioError)):
        try:
            loaded.append(load(path))
        except error_type as err:
            _assert_located_bilingual(err, path)
            loaded.append(None)
    return loaded


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], **FUZZ)
@given(data=st.data())
def test_a_mutated_scenario_loads_or_gets_a_located_bilingual_error(data, tmp_path_factory):
    path = _write(tmp_path_factory.mktemp("scenario"), _mutated(data))
    _load_both(path)


def _numbers_changed(data) -> dict:
    """A library scenario with 1 to 4 of its numbers changed: it often still loads, so the
    simulator, the exporter and the preview meet odd but valid worlds."""
    doc = copy.deepcopy(LIBRARY[data.draw(st.sampled_from(sorted(LIBRARY)), label="scenario")])
    numbers = _number_paths(doc, ("world",)) + _number_paths(doc, ("robot_start",))
    numbers += _number_paths(doc, ("tasks",)) + _number_paths(doc, ("randomization",))
    for _ in range(data.draw(st.integers(1, 4), label="changes")):
        path = data.draw(st.sampled_from(numbers))
        value = data.draw(
            st.one_of(
                st.sampled_from([0, 1e-9, 0.005, 0.05, 1.0, 99.99, 100.0, 1e12, -1e12, 0.0]),
                st.floats(-120, 120),
            )
        )
        get_at(doc, path[:-1])[path[-1]] = value
    return doc


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], **FUZZ)
@given(data=st.data())
def test_a_world_that_loads_builds_in_mujoco_gazebo_and_the_preview(data, tmp_path_factory):
    from curriculum_pkg.preview import draw_preview
    from curriculum_pkg.solvability import find_problems
    from sim_pkg.sdf import write_sdf_files
    from sim_pkg.world import SimWorld

    folder = tmp_path_factory.mktemp("world")
    path = _write(folder, _numbers_changed(data))
    world, scenario = _load_both(path)
    if world is not None:
        sim = SimWorld(world, PROFILE)
        try:
            sim.step()
        finally:
            sim.close()
        write_sdf_files(world, PROFILE, folder / "gazebo", "fuzzed_01")
    if scenario is not None:
        draw_preview(scenario, profile=PROFILE)
        find_problems(scenario)
        try:
            scenario.variant(1, 0)
        except ScenarioError as err:  # no solvable draw within the bounds: said where
            assert HANGUL.search(err.ko) and err.location.startswith(path.name)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture], **FUZZ)
@given(data=st.data())
def test_the_scenario_verbs_exit_nonzero_with_the_located_error_never_a_traceback(
    data, tmp_path_factory, capsys
):
    folder = tmp_path_factory.mktemp("cli")
    path = _write(folder, _mutated(data))
    verb = data.draw(st.sampled_from(["validate", "sdf"]), label="verb")
    args = ["--seeds", "1", "--variants", "2"] if verb == "validate" else ["-o", str(folder / "o")]
    status = main(["scenario", verb, str(path), *args])
    out = capsys.readouterr().out
    assert status in (0, 1)
    if status == 1:
        assert out.startswith("FAIL ") or "\nFAIL" in out or " FAIL " in out, out
        assert path.name in out and HANGUL.search(out), out


# ---------------------------------------------------------------------- regressions, by attack
PLATING = SCENARIO_DIR / "banwol_plating_01.yaml"
LOGISTICS = SCENARIO_DIR / "sihwa_logistics_01.yaml"
MACHINING = SCENARIO_DIR / "sihwa_machining_01.yaml"
PCB = SCENARIO_DIR / "ansan_pcb_inspection_01.yaml"


def _edited(tmp_path: Path, source: Path, old: str, new: str, name: str = "hostile.yaml"):
    text = source.read_text()
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    if source == PCB:  # its images are found next to the scenario
        (tmp_path / "items").symlink_to(SCENARIO_DIR / "items")
    return path


def _refused(path: Path, where: str, *says: str) -> LocatedError:
    """Both loaders refuse the file at `where`, saying `says` (in either language)."""
    for load, error_type in ((load_world, WorldError), (load_scenario, ScenarioError)):
        with pytest.raises(error_type) as caught:
            load(path)
        err = caught.value
        _assert_located_bilingual(err, path)
        assert re.match(rf"{re.escape(path.name)}:\d+:\d+: ", err.location), err.location
        assert where in err.location, err.bilingual()
        for text in says:
            assert text in err.bilingual(), err.bilingual()
    return err


@pytest.mark.parametrize("size", ["1.0e308", ".inf", "10" * 201, "1000000.0"])
def test_huge_floor_is_refused_with_its_limit_before_the_planner_grid_is_allocated(tmp_path, size):
    # was: OverflowError (grid.py), a 22 GB MemoryError, or `float(int)` overflow in parse_world
    path = _edited(tmp_path, PLATING, "size_m: [8.0, 5.0]", f"size_m: [{size}, 5.0]")
    _refused(path, "world.floor.size_m[0]")


@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_infinite_or_nan_angle_is_refused_where_it_is_written(tmp_path, value):
    # was: ValueError: math domain error (solvability.rectangle, Pose2D) or NaN in the MJCF
    path = _edited(tmp_path, PLATING, "yaw_deg: 0}", f"yaw_deg: {value}}}")
    _refused(path, "robot_start.yaw_deg", "유한한 숫자가 아닙니다", ".inf")


def test_nan_station_radius_is_refused_though_the_schema_lets_nan_through(tmp_path):
    path = _edited(tmp_path, PLATING, "station_radius_m: 0.30", "station_radius_m: .nan")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "criteria.station_radius_m" in err.value.location


def test_number_too_large_for_a_float_is_refused(tmp_path):
    # was: OverflowError: int too large to convert to float (math.radians in parse_world)
    path = _edited(tmp_path, PLATING, "facing_deg: 90", f"facing_deg: {'9' * 400}")
    _refused(path, "world.stations[1].facing_deg", f"{MAX_YAML_NUMBER:g}")


@pytest.mark.parametrize("second", ["[5.9, 1.1000000000001]", "[5.9, 1.105]"])
def test_actor_path_step_shorter_than_a_centimetre_is_refused(tmp_path, second):
    # was: ZeroDivisionError in actors._segment_distance (a step of 1e-200 m squares to 0)
    path = _edited(tmp_path, LOGISTICS, "[[5.9, 1.1], [5.9, 6.9]]", f"[[5.9, 1.1], {second}]")
    _refused(path, "world.actors[0].path[1]", "0.01 m", "이동 경로")


def test_actor_path_near_the_origin_with_a_tiny_step_is_refused(tmp_path):
    path = _edited(tmp_path, LOGISTICS, "[[5.9, 1.1], [5.9, 6.9]]", "[[0.0, 0.0], [0.0, 1.0e-200]]")
    _refused(path, "world.actors[0].path[1]", "0.01 m")


def test_actor_crawling_at_a_trillionth_of_a_metre_a_second_is_refused(tmp_path):
    # was: the Gazebo keyframes bisected a 1e300 s period forever (`scenario sdf` hung)
    path = _edited(tmp_path, LOGISTICS, "speed_mps: 1.0", "speed_mps: 1.0e-12")
    _refused(path, "world.actors[0].speed_mps", "0.05", "최솟값")


def test_actor_pausing_for_1e300_seconds_is_refused(tmp_path):
    # was: MemoryError in sim_pkg.keyframes (a keyframe every 5 cm of a 1e300 s period)
    path = _edited(tmp_path, LOGISTICS, "pause_s: 12", "pause_s: 1.0e+300")
    _refused(path, "world.actors[0].pause_s")


def test_actor_pausing_longer_than_any_episode_is_refused_with_the_limit(tmp_path):
    path = _edited(tmp_path, LOGISTICS, "pause_s: 12", "pause_s: 5000")
    _refused(path, "world.actors[0].pause_s", "1800", "최댓값")


@pytest.mark.parametrize(
    "old, new, where",
    [
        ("mass_kg: 0.05", "mass_kg: 1.0e-300", "world.objects[0].mass_kg"),
        (
            "size_m: [0.03, 0.03, 0.05]",
            "size_m: [1.0e-9, 0.03, 0.05]",
            "world.objects[0].size_m[0]",
        ),
    ],
)
def test_part_mujoco_cannot_simulate_is_refused_before_the_simulator(tmp_path, old, new, where):
    # was: ValueError: mass and inertia of moving bodies must be larger than mjMINVAL (SimWorld)
    _refused(_edited(tmp_path, MACHINING, old, new), where, "최솟값")


def _png(width: int, height: int, complete: bool = True) -> bytes:
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    head = b"\x89PNG\r\n\x1a\n" + chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    )
    if not complete:
        return head  # cut off after its header
    rows = b"".join(b"\0" + b"\x80" * width for _ in range(height))
    return head + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "content, says",
    [
        (b"schema_version: 1\n", "PNG"),
        (_png(8, 8, complete=False), "PNG"),
        (_png(100_000, 100_000, complete=False), "4096"),
    ],
    ids=["not_a_png", "png_cut_off", "png_decompression_bomb"],
)
def test_display_image_the_simulator_cannot_use_is_refused_at_the_key(tmp_path, content, says):
    # was: AttributeError: 'NoneType' object has no attribute 'shape' (mjcf, cv2.imread)
    (tmp_path / "bad.png").write_bytes(content)
    path = _edited(tmp_path, PCB, "image: items/pcb_solder_bridge_901.png", "image: bad.png")
    _refused(path, "world.stations[0].display.image", says, "표시 이미지")


def test_a_good_small_png_is_accepted_as_a_display(tmp_path):
    (tmp_path / "small.png").write_bytes(_png(8, 8))
    path = _edited(tmp_path, PCB, "image: items/pcb_solder_bridge_901.png", "image: small.png")
    assert load_world(path).stations[0].display_image == tmp_path / "small.png"


def test_hidden_variant_item_that_is_not_a_png_is_refused_at_the_key(tmp_path):
    # was: accepted, then the same AttributeError in the simulator for the variants showing it
    (tmp_path / "notes.png").write_text("not an image")
    path = _edited(tmp_path, PCB, "{image: items/pcb_good_901.png", "{image: notes.png")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "randomization.inspect_items.pcb_check[0].image" in err.value.location
    assert "PNG" in err.value.en and "표시 이미지" in err.value.ko


def test_nul_character_in_a_file_name_is_refused(tmp_path):
    # was: ValueError: embedded null byte (Path.resolve of reference_solution)
    path = _edited(
        tmp_path,
        PLATING,
        "reference_solution: ../assignments/plating_stations/reference",
        'reference_solution: "ref\\0erence"',
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "reference_solution" in err.value.location and "NUL" in err.value.ko


def test_identifier_with_a_trailing_newline_is_refused(tmp_path):
    # Python's `$` matched before a final newline: "rinse_check\n" passed as an id
    path = _edited(tmp_path, PLATING, "- id: rinse_check", '- id: "rinse_check\\n"')
    _refused(path, "world.stations[0].id", "영문 소문자")


def test_very_long_identifier_is_refused_with_its_limit(tmp_path):
    path = _edited(tmp_path, PLATING, "- id: rinse_check", f"- id: {'a' * 5000}")
    err = _refused(path, "world.stations[0].id", "64")
    assert len(err.bilingual()) < 600  # the value is not repeated in full


def test_more_obstacles_than_the_limit_are_refused_by_count_with_the_limit(tmp_path):
    obstacles = "".join(
        f"    - {{name: box_{i}, center_m: [4.0, 1.0], size_m: [0.1, 0.1], height_m: 0.5}}\n"
        for i in range(MAX_OBSTACLES + 1)
    )
    path = _edited(tmp_path, PLATING, "  obstacles:\n", f"  obstacles:\n{obstacles}")
    _refused(path, "world.obstacles", f"at most {MAX_OBSTACLES} items", f"최대 {MAX_OBSTACLES}개")


def test_hundreds_of_thousands_of_obstacles_are_refused_by_file_size(tmp_path):
    obstacles = "".join(
        f"    - {{name: box_{i}, center_m: [4.0, 1.0], size_m: [0.1, 0.1], height_m: 0.5}}\n"
        for i in range(200_000)
    )
    path = _edited(tmp_path, PLATING, "  obstacles:\n", f"  obstacles:\n{obstacles}")
    for load, error_type in ((load_world, WorldError), (load_scenario, ScenarioError)):
        with pytest.raises(error_type) as err:
            load(path)
        assert err.value.location == path.name and "MiB" in err.value.ko


def test_marker_id_range_written_with_decimal_points_is_read_as_whole_numbers(tmp_path):
    # was: TypeError: 'float' object cannot be interpreted as an integer (variants._marker_pool)
    path = _edited(
        tmp_path, PLATING, "marker_ids: {from: 10, to: 29}", "marker_ids: {from: 10.0, to: 29.0}"
    )
    assert load_scenario(path).randomization.marker_ids == tuple(range(10, 30))


def test_zone_centre_off_the_floor_is_refused(tmp_path):
    path = _edited(
        tmp_path,
        PLATING,
        "center_m: [4.0, 2.6]\n      size_m: [3.2",
        "center_m: [40.0, 2.6]\n      size_m: [3.2",
    )
    _refused(path, "world.zones[0].center_m", "바닥 밖")


def test_start_inside_a_wall_and_everything_on_one_spot_loads_builds_and_is_reported(
    tmp_path, capsys
):
    """Not an input error but a scenario that cannot be solved: it loads, the simulator builds
    it, and `scenario validate` says what overlaps, in both languages."""
    from sim_pkg.world import SimWorld

    text = PLATING.read_text()
    for old in ("[4.0, 0.8]", "[7.0, 2.6]", "[7.0, 0.9]", "[7.0, 4.2]"):
        text = text.replace(old, "[4.0, 2.6]")
    path = tmp_path / "crowded.yaml"
    path.write_text(text.replace("position_m: [0.7, 0.9]", "position_m: [0.0, 0.0]"))
    sim = SimWorld(load_world(path), PROFILE)
    sim.step()
    sim.close()
    assert main(["scenario", "validate", str(path), "--seeds", "1", "--variants", "2"]) == 1
    out = capsys.readouterr().out
    assert "crowded.yaml" in out and "겹칩니다" in out and "overlaps" in out


@pytest.mark.parametrize("verb", ["validate", "preview", "sdf"])
def test_scenario_verbs_print_the_located_error_of_an_infinite_yaw_and_exit_1(
    tmp_path, capsys, verb
):
    path = _edited(tmp_path, PLATING, "yaw_deg: 0}", "yaw_deg: .inf}")
    out_dir = tmp_path / "out"
    assert main(["scenario", verb, str(path), "-o", str(out_dir)]) == 1
    printed = capsys.readouterr().out
    assert printed.startswith("FAIL hostile.yaml:")
    assert "robot_start.yaw_deg" in printed and "유한한 숫자가 아닙니다" in printed
    assert not out_dir.exists()


def test_image_name_too_long_for_the_file_system_is_refused_at_the_key(tmp_path):
    # was: OSError: [Errno 36] File name too long (Path.is_file in the image check)
    path = _edited(tmp_path, PCB, "{image: items/pcb_good_901.png", "{image: " + "x" * 5000)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert "randomization.inspect_items.pcb_check[0].image" in err.value.location
    assert HANGUL.search(err.value.ko)
