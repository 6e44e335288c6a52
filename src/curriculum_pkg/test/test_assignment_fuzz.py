"""Hostile assignment files: whatever a teacher writes, `load_assignment` (what `rootroute grade`
and `batch` start with) and `rootroute assignment validate` answer with located, bilingual
AssignmentErrors (assignment.yaml:line:col, Korean and English), never a traceback.

Property-based: each example takes one of the library's assignments, mutates it (a value
anywhere replaced by a hostile one, a key deleted or added, a type changed, a list item
repeated) and writes it next to links to its reference and starter folders. Below, one
regression test per crash the fuzzing found, named after the attack.
"""

from __future__ import annotations

import copy
import functools
import math
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common_pkg.errors import LocatedError
from curriculum_pkg import assignment as assignment_module
from curriculum_pkg import assignment_check
from curriculum_pkg.assignment import ASSIGNMENT_DIR, load_assignment
from curriculum_pkg.assignment_check import check_assignment
from curriculum_pkg.cli import main
from curriculum_pkg.errors import AssignmentError
from curriculum_pkg.variants import VariantCheck
from curriculum_pkg.yaml_fuzz import key_paths, mutate_once

HANGUL = re.compile("[가-힣]")
FUZZ = {"deadline": None, "derandomize": True}
HOSTILE = [
    math.inf,
    -math.inf,
    math.nan,
    1e308,
    10**400,
    2**64,
    1e16,
    0,
    -1,
    0.5,
    True,
    None,
    "",
    "x" * 5000,
    "과제",
    "/cmd_vel\n",
    "geometry_msgs/msg/Twist\n",
    "\0",
    "a\0b.yaml",
    "../../..",
    "/etc/passwd",
    "no_such_scenario",
    "teleop_pkg/no_such_node",
    [],
    {},
    [1],
    {"a": [1]},
    {"ko": 1, "en": []},
    {1: 2},
]
EXTRA_KEYS = ["extra", "kind", "topic", "weight", "parameters", "min", "choices", 5, "\0"]
LIBRARY = {
    folder.name: yaml.safe_load((folder / "assignment.yaml").read_text())
    for folder in sorted(ASSIGNMENT_DIR.iterdir())
    if (folder / "assignment.yaml").is_file()
}


@pytest.fixture(scope="module")
def quick_scenarios():
    """The library's scenarios loaded once, and no hidden variants drawn: the assignment file is
    what is mutated here, and those are the slow part (they have tests of their own)."""
    cached = functools.lru_cache(maxsize=None)(assignment_module.load_scenario)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(assignment_module, "load_scenario", lambda p: cached(str(p)))
        patch.setattr(assignment_check, "load_scenario", lambda p: cached(str(p)))
        patch.setattr(assignment_check, "check_variants", lambda *_: VariantCheck(0, 0, (), {}))
        # the platform's marker tour is simulated: its settings are still read, its frames not
        patch.setattr("curriculum_pkg.tour.drive_tour", lambda *_: iter(()))
        yield


def _mutated(data) -> tuple[str, dict]:
    name = data.draw(st.sampled_from(sorted(LIBRARY)), label="assignment")
    doc = copy.deepcopy(LIBRARY[name])
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        if not key_paths(doc):
            break
        mutate_once(data, doc, HOSTILE, EXTRA_KEYS)
    return name, doc


def _write(folder: Path, name: str, doc) -> Path:
    """assignment.yaml in `folder`, with the library assignment's reference and starter."""
    for sub in ("reference", "starter"):
        if not (folder / sub).exists():
            (folder / sub).symlink_to(ASSIGNMENT_DIR / name / sub)
    path = folder / "assignment.yaml"
    path.write_text(yaml.dump(doc, Dumper=yaml.CSafeDumper, allow_unicode=True))
    return path


def _assert_located_bilingual(err: LocatedError) -> None:
    assert isinstance(err, AssignmentError), repr(err)
    assert re.match(r"assignment\.yaml(:\d+:\d+)?(: |$| ->)", err.location), err.bilingual()
    assert HANGUL.search(err.ko), err.bilingual()
    assert err.en.strip(), err.bilingual()


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], **FUZZ)
@given(data=st.data())
def test_a_mutated_assignment_loads_or_gets_a_located_bilingual_error(
    data, tmp_path_factory, quick_scenarios
):
    path = _write(tmp_path_factory.mktemp("assignment"), *_mutated(data))
    try:
        load_assignment(path)
    except AssignmentError as err:
        _assert_located_bilingual(err)


@settings(
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    **FUZZ,
)
@given(data=st.data())
def test_assignment_validate_lists_located_errors_and_exits_nonzero_never_a_traceback(
    data, tmp_path_factory, quick_scenarios, capsys
):
    path = _write(tmp_path_factory.mktemp("validate"), *_mutated(data))
    for err in check_assignment(path):
        _assert_located_bilingual(err)
    status = main(["assignment", "validate", str(path)])
    out = capsys.readouterr().out
    assert status in (0, 1)
    assert out.startswith(("OK ", "FAIL ")), out
    if status == 1:
        assert "assignment.yaml:" in out and HANGUL.search(out), out


# ---------------------------------------------------------------------- regressions, by attack
PLATING = ASSIGNMENT_DIR / "plating_stations"
MARKERS = ASSIGNMENT_DIR / "station_markers"
TELEOP = ASSIGNMENT_DIR / "teleop_safety"


def _edited(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = (source / "assignment.yaml").read_text()
    assert old in text
    for sub in ("reference", "starter"):
        (tmp_path / sub).symlink_to(source / sub)
    path = tmp_path / "assignment.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


def _refused_by_both(path: Path, where: str, *says: str) -> None:
    """load_assignment and `assignment validate` refuse it at `where`, saying `says`."""
    with pytest.raises(AssignmentError) as err:
        load_assignment(path)
    _assert_located_bilingual(err.value)
    assert where in err.value.location, err.value.bilingual()
    for text in says:
        assert text in err.value.bilingual()
    errors = check_assignment(path)
    assert [e for e in errors if where in e.location], [e.bilingual() for e in errors]


def test_rubric_weight_too_large_for_a_float_is_refused(tmp_path):
    # was: OverflowError: int too large to convert to float (assignment_check._rubric)
    path = _edited(tmp_path, PLATING, "graph: 20", f"graph: {'9' * 400}")
    _refused_by_both(path, "rubric.graph", "1e+15")


@pytest.mark.parametrize("value", [".inf", ".nan"])
def test_infinite_or_nan_rubric_weight_is_refused(tmp_path, value):
    # was: loaded, every weight then divided by inf (or nan): a score of nan
    path = _edited(tmp_path, PLATING, "graph: 20", f"graph: {value}")
    _refused_by_both(path, "rubric.graph", "유한한 숫자가 아닙니다")


@pytest.mark.parametrize("key", ["reference", "starter"])
def test_nul_character_in_a_folder_name_is_refused(tmp_path, key):
    # was: ValueError: embedded null byte (Path.resolve in load_assignment, i.e. `rootroute grade`)
    path = _edited(tmp_path, PLATING, f"{key}: {key}", f'{key}: "{key}\\0x"')
    _refused_by_both(path, key, "NUL")


def test_nul_character_in_a_scenario_name_is_refused(tmp_path):
    # was: ValueError: embedded null byte (opening the scenario in load_assignment)
    path = _edited(
        tmp_path, PLATING, "{scenario: banwol_plating_01,", '{scenario: "banwol\\0plating.yaml",'
    )
    _refused_by_both(path, "scenarios[0].scenario", "NUL")


@pytest.mark.parametrize(
    "old, new, where",
    [
        ("max_range_m: 2.0", "max_range_m: [2.0]", "checks[0].max_range_m"),
        ("min_clear_frames: 5", "min_clear_frames: .inf", "checks[0].min_clear_frames"),
        ("min_clear_frames: 5", "min_clear_frames: {frames: 5}", "checks[0].min_clear_frames"),
    ],
)
def test_check_setting_of_the_wrong_kind_is_refused_at_the_key(tmp_path, old, new, where):
    # was: TypeError / OverflowError in checks.markers when `assignment validate` forecast the
    # platform's tour
    path = _edited(tmp_path, MARKERS, old, new)
    with pytest.raises(AssignmentError) as err:
        load_assignment(path)
    _assert_located_bilingual(err.value)
    assert where in err.value.location


@pytest.mark.parametrize(
    "old, new, says",
    [
        ("type: geometry_msgs/msg/TwistStamped  #", "type: std_msgs/msg/String  #", "type"),
        ("max_linear_mps: 0.26", "max_linear_mps: fast", "max_linear_mps"),
    ],
)
def test_check_setting_the_check_refuses_is_reported_by_validate_at_the_check(
    tmp_path, quick_scenarios, old, new, says
):
    # was: accepted; the grader then failed at every episode's start ("ask your teacher")
    path = _edited(tmp_path, TELEOP, old, new)
    errors = check_assignment(path)
    assert len(errors) == 1, [e.bilingual() for e in errors]
    _assert_located_bilingual(errors[0])
    assert ": checks[0]" in errors[0].location and says in errors[0].en
    assert "teleop 점검" in errors[0].ko


MACHINING = ASSIGNMENT_DIR / "machining_pick_place"


@pytest.mark.parametrize(
    "source, old, new, where",
    [
        (PLATING, 'title:\n  ko: "', 'title:\n  ko: 3\n  note: "', "title.ko"),
        (
            MACHINING,
            "parameters: {speed_scale: 0.5}",
            "parameters: {1: 0.5}",
            "graph.nodes[1].parameters",
        ),
        (
            MACHINING,
            "speed_scale: {min: 0.2, max: 1.0}",
            "speed_scale: {min: .nan, max: 1.0}",
            "allow_parameters.speed_scale.min",
        ),
    ],
    ids=["text_not_a_string", "parameter_name_not_text", "nan_bound"],
)
def test_value_the_schema_let_through_is_refused(tmp_path, source, old, new, where):
    # was: loaded, to fail later (a report's title, a node's parameters, a bound that never holds)
    _refused_by_both(_edited(tmp_path, source, old, new), where)


@pytest.mark.parametrize(
    "old, new, where",
    [
        ("topic: /scan,", 'topic: "/scan\\n",', "subscribes[0].topic"),
        (
            "type: geometry_msgs/msg/TwistStamped, min_rate_hz: 5}",
            'type: "geometry_msgs/msg/TwistStamped\\n", min_rate_hz: 5}',
            "publishes[0].type",
        ),
        (
            "launch_file: plating_stations.launch.yaml",
            'launch_file: "plating_stations.launch.yaml\\n"',
            "launch_file",
        ),
    ],
)
def test_name_with_a_trailing_newline_is_refused(tmp_path, old, new, where):
    # Python's `$` matched before a final newline: such names passed the schema
    _refused_by_both(_edited(tmp_path, PLATING, old, new), where)


def test_scenario_name_too_long_for_the_file_system_is_refused(tmp_path):
    # was: OSError: [Errno 36] File name too long (Path.exists in resolve_scenario_path)
    long_name = "x" * 5000
    path = _edited(tmp_path, PLATING, "{scenario: banwol_plating_01,", f"{{scenario: {long_name},")
    with pytest.raises(LocatedError) as err:
        load_assignment(path)
    _assert_located_bilingual(err.value)
    errors = check_assignment(path)
    assert [e for e in errors if "scenarios[0].scenario" in e.location], [
        e.bilingual() for e in errors
    ]
