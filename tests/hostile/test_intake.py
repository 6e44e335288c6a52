"""Hostile intake: what a student's files (launch YAML, package.xml, setup.py) can do to the grader.

The grader reads these files outside the sandbox, in its own memory. Each attack must end in a
located, bilingual SubmissionError, never a grader crash; the memory-heavy ones run in a child
process that reports its own peak memory (ru_maxrss), with an address-space cap so that a
regression fails the test instead of taking the machine down.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from curriculum_pkg.assignment import load_assignment
from curriculum_pkg.errors import AssignmentError, SubmissionError
from curriculum_pkg.grader import grade
from curriculum_pkg.launchfile import lock_platform_nodes, parse_launch_file
from curriculum_pkg.sandbox import Sandbox, SandboxInfo
from curriculum_pkg.submission import install_submission

PEAK_LIMIT_MB = 300  # what the grading process may reach on any input (issue 10)
CHILD_ADDRESS_SPACE = 3 << 30  # a regression hits this (MemoryError), not the machine's RAM
MACHINING = load_assignment("machining_pick_place")
PLATING = Path(__file__).resolve().parents[2] / "src/curriculum_pkg/assignments/plating_stations"

# Runs one intake step on argv[1..] in a fresh interpreter and prints what came of it and its
# own peak memory; "children" is the peak of any process it waited for (the grading worker).
CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({address_space}, {address_space}))
from curriculum_pkg.errors import SubmissionError
out = {}
try:
    {call}
    out["error"] = None
except SubmissionError as exc:
    out["error"] = {"location": exc.location, "en": exc.en, "ko": exc.ko}
except BaseException as exc:  # what must never happen: a crash of the grader itself
    out["crash"] = f"{type(exc).__name__}: {str(exc)[:200]}"
# VmHWM is this interpreter's own peak; ru_maxrss would start at the size of the test process
# that spawned it (Linux carries the pre-exec peak over an exec)
hwm = next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
out["peak_mb"] = int(hwm.split()[1]) / 1024
out["children_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print("CHILD_RESULT " + json.dumps(out))
"""


def run_child(call: str, *args: str, address_space: int = CHILD_ADDRESS_SPACE) -> dict:
    # The limit is set by the child itself (no preexec_fn: no fork of this big test process).
    script = CHILD.replace("{call}", call).replace("{address_space}", str(address_space))
    run = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=150
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("CHILD_RESULT ")), None)
    assert line is not None, f"the child died:\n{run.stderr[-3000:]}"
    result = json.loads(line.removeprefix("CHILD_RESULT "))
    assert "crash" not in result, result["crash"]
    return result


def parse_in_child(path: Path) -> dict:
    return run_child(
        "from curriculum_pkg.launchfile import parse_launch_file; parse_launch_file(sys.argv[1])",
        str(path),
    )


def assert_located(error: dict, file_name: str) -> None:
    assert error is not None, "the file was accepted"
    assert error["location"].startswith(f"{file_name}:"), error["location"]
    line, col = error["location"].split(":")[1:3]
    assert line.isdigit() and col.split()[0].isdigit(), error["location"]
    assert error["en"] and error["ko"] and error["ko"] != error["en"]


def alias_bomb(levels: int) -> str:
    """A few hundred bytes that stand for 10**levels strings, hung on a node parameter."""
    lines = ["bomb:", '  - &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"  - &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]")
    lines += [
        "launch:",
        "  - node:",
        "      pkg: station_runner",
        "      exec: navigator",
        f"      param: [{{name: payload, value: *l{levels}}}]",
    ]
    return "\n".join(lines) + "\n"


# --- launch YAML ---------------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [6, 8, 10])
def test_a_yaml_alias_bomb_in_the_launch_file_is_refused_before_it_expands(tmp_path, levels):
    path = tmp_path / "bomb.launch.yaml"
    path.write_text(alias_bomb(levels))
    assert path.stat().st_size < 1200
    result = parse_in_child(path)
    assert_located(result["error"], "bomb.launch.yaml")
    assert result["error"]["location"].startswith("bomb.launch.yaml:2:")  # the first anchor
    assert "anchors and aliases" in result["error"]["en"] and "앵커" in result["error"]["ko"]
    assert result["peak_mb"] < PEAK_LIMIT_MB, result


def test_a_3000_deep_launch_file_is_refused_without_recursion(tmp_path):
    path = tmp_path / "deep.launch.yaml"
    path.write_text("launch: " + "[" * 3000 + "]" * 3000 + "\n")
    result = parse_in_child(path)
    assert_located(result["error"], "deep.launch.yaml")
    assert "nested more than 64 levels" in result["error"]["en"]
    assert "중첩" in result["error"]["ko"]
    assert result["peak_mb"] < PEAK_LIMIT_MB, result


def test_a_huge_launch_file_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "huge.launch.yaml"
    node = "  - node: {pkg: station_runner, exec: navigator, name: n%d}\n"
    with path.open("w") as out:
        out.write("launch:\n")
        out.write("".join(node % i for i in range(200_000)))  # ~12 MB
    result = parse_in_child(path)
    assert result["error"]["location"] == "huge.launch.yaml"
    assert "larger than 1 MiB" in result["error"]["en"] and "MiB" in result["error"]["ko"]
    assert result["peak_mb"] < PEAK_LIMIT_MB, result


def test_an_unclosed_substitution_in_a_long_value_is_read_in_linear_time(tmp_path):
    # "$(a " repeated, never closed: a backtracking pattern takes hours on this.
    path = tmp_path / "slow.launch.yaml"
    value = "$(a " * 200_000
    path.write_text(
        "launch:\n  - node:\n      pkg: station_runner\n      exec: navigator\n"
        f"      param: [{{name: x, value: '{value}'}}]\n"
    )
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from curriculum_pkg.launchfile import "
            "parse_launch_file; print(parse_launch_file(sys.argv[1])[0].params['x'][:8])",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "$(a $(a"  # no `)`: nothing to substitute, kept as written


@pytest.mark.parametrize(
    ("text", "where", "en"),
    [
        # too many nodes: each would be a process of the run
        (
            "launch:\n"
            + "".join(
                f"  - node: {{pkg: station_runner, exec: navigator, name: n{i}}}\n"
                for i in range(40)
            ),
            "x.launch.yaml:34:11: launch[32].node",
            "at most 32 nodes",
        ),
        # an integer Python refuses to read (more than 4300 digits): not a ValueError crash
        ("launch:\n  - node: {pkg: p, exec: e, name: " + "9" * 5000 + "}\n", "x.launch.yaml", ""),
        # a parameter value that is itself a nested YAML document in a string
        (
            "launch:\n  - node:\n      pkg: p\n      exec: e\n"
            f"      param: [{{name: x, value: '{'[' * 100}{']' * 100}'}}]\n",
            "x.launch.yaml:5:",
            "nested more than 64 levels",
        ),
        # anchors inside a string value, read as YAML like ros2 launch does
        (
            "launch:\n  - node: {pkg: p, exec: e, param: [{name: x, value: '&a [1, *a]'}]}\n",
            "param[0].value",
            "anchors and aliases",
        ),
    ],
    ids=["too_many_nodes", "huge_integer", "nested_string_value", "anchor_in_string_value"],
)
def test_a_hostile_launch_file_is_a_located_bilingual_error(tmp_path, text, where, en):
    path = tmp_path / "x.launch.yaml"
    path.write_text(text)
    with pytest.raises(SubmissionError) as err:
        parse_launch_file(path)
    assert where in err.value.location and en in err.value.en
    assert err.value.ko and len(err.value.bilingual()) < 1000


def test_a_launch_file_that_is_not_utf8_is_located_at_the_bad_byte(tmp_path):
    path = tmp_path / "latin.launch.yaml"
    path.write_bytes(b"launch:\n  - node: {pkg: p, exec: caf\xe9}\n")
    with pytest.raises(SubmissionError) as err:
        parse_launch_file(path)
    assert err.value.location == "latin.launch.yaml:2:29" and "UTF-8" in err.value.en


# --- package.xml and setup.py ----------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE package [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<package format="3"><name>station_runner</name><description>&lol3;</description></package>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE package [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<package format="3"><name>station_runner</name><description>&secret;</description></package>
"""


def install(submission_path: Path, tmp_path: Path, launch_name: str, required=()):
    return install_submission(
        submission_path,
        launch_name,
        tmp_path / "prefix",
        tmp_path / "logs",
        Sandbox(SandboxInfo()),  # setup.py here is the test's own: no namespaces needed
        required=required,
    )


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "external"])
def test_a_package_xml_with_entities_is_refused_before_they_expand(submission, tmp_path, xml):
    (submission.path / "station_runner/package.xml").write_text(xml)
    with pytest.raises(SubmissionError) as err:
        install(submission.path, tmp_path, "plating_stations.launch.yaml")
    assert err.value.location.startswith("station_runner/package.xml:2:")  # the DOCTYPE
    assert "DOCTYPE" in err.value.en and "DOCTYPE" in err.value.ko
    assert not (tmp_path / "prefix").exists()  # refused before anything was installed


@pytest.mark.parametrize(
    ("name", "en"),
    [("../../../escape", "not a ROS package name"), ("teleop_pkg", "belongs to the platform")],
)
def test_a_package_name_that_is_a_path_or_the_platforms_is_refused(submission, tmp_path, name, en):
    package_xml = submission.path / "station_runner/package.xml"
    package_xml.write_text(package_xml.read_text().replace(">station_runner<", f">{name}<"))
    with pytest.raises(SubmissionError) as err:
        install(submission.path, tmp_path, "plating_stations.launch.yaml")
    assert err.value.location == "station_runner/package.xml" and en in err.value.en


def test_a_huge_package_xml_is_refused(submission, tmp_path):
    package_xml = submission.path / "station_runner/package.xml"
    package_xml.write_text(
        package_xml.read_text().replace("</package>", f"<!-- {'x' * (2 << 20)} --></package>")
    )
    with pytest.raises(SubmissionError) as err:
        install(submission.path, tmp_path, "plating_stations.launch.yaml")
    assert "larger than 1 MiB" in err.value.en


def test_a_setup_py_printing_100_mb_fails_with_a_short_message_and_a_small_grader(
    submission, tmp_path
):
    setup_py = submission.path / "station_runner/setup.py"
    setup_py.write_text(
        "import sys\n"
        "for _ in range(1000):\n"
        "    sys.stdout.write(('x' * 1023 + '\\n') * 100)\n"
        "raise SystemExit('setup.py gave up after 100 MB')\n"
    )
    result = run_child(
        "from pathlib import Path\n"
        "    from curriculum_pkg.sandbox import Sandbox, SandboxInfo\n"
        "    from curriculum_pkg.submission import install_submission\n"
        "    work = Path(sys.argv[2])\n"
        "    install_submission(Path(sys.argv[1]), 'plating_stations.launch.yaml', "
        "work / 'prefix', work / 'logs', Sandbox(SandboxInfo()))",
        str(submission.path),
        str(tmp_path),
        address_space=8 << 30,  # pip itself holds the 100 MB too (it shows it on failure)
    )
    error = result["error"]
    assert error["location"] == "station_runner/setup.py"
    assert "failed to install" in error["en"] and "설치에 실패" in error["ko"]
    assert "setup.py gave up after 100 MB" in error["en"]
    assert len(error["en"]) < 3000  # the log's last lines, each cut short
    assert (tmp_path / "logs/install_station_runner.log").stat().st_size > 100_000_000
    # what capture_output would have held (bytes, then text): at least 200 MB
    assert result["peak_mb"] < 150, result


# --- platform nodes: named by the launch file, configured by the assignment ----------------------

MUX = "      pkg: teleop_pkg\n      exec: safety_mux\n      name: safety_mux\n"


@pytest.mark.parametrize(
    ("extra", "part", "en"),
    [
        ("      param:\n        - {name: require_scan, value: false}\n", "param[0].value", "param"),
        (
            "      param:\n        - {name: stop_distance_m, value: 0.0}\n",
            "param[0].value",
            "param",
        ),
        (
            "      remap:\n        - {from: /safety/interventions, to: /dev/null_interventions}\n",
            "node.remap",
            "remap",
        ),
        ("      ros_args: '-p require_scan:=false'\n", "node.ros_args", "ros_args"),
        ("      namespace: spare\n", "node.namespace", "without a namespace"),
    ],
    ids=["require_scan", "stop_distance", "remap_interventions", "ros_args", "namespace"],
)
def test_the_launch_file_cannot_configure_the_platforms_safety_mux(
    submission, quick_assignment, tmp_path, extra, part, en
):
    launch = submission.launch_file.read_text()
    assert launch.endswith(MUX)
    submission.launch_file.write_text(launch + extra)
    with pytest.raises(SubmissionError) as err:
        install(submission.path, tmp_path, quick_assignment.launch_file, quick_assignment.nodes)
    assert err.value.location.startswith("plating_stations.launch.yaml:")
    assert part in err.value.location
    assert en in err.value.en and ("플랫폼 노드" in err.value.ko)
    assert not (tmp_path / "prefix").exists()  # refused before anything was installed


def test_the_platforms_node_cannot_run_twice_under_another_name(
    submission, quick_assignment, tmp_path
):
    launch = submission.launch_file.read_text()
    second = MUX.replace("name: safety_mux", "name: spare_mux")
    submission.launch_file.write_text(
        launch
        + "  - node:\n"
        + second
        + "      param:\n        - {name: require_scan, value: false}\n"
    )
    with pytest.raises(SubmissionError) as err:
        install(submission.path, tmp_path, quick_assignment.launch_file, quick_assignment.nodes)
    assert "launch[2].node.name" in err.value.location
    assert "is the platform's node /safety_mux" in err.value.en


@pytest.fixture
def machining_starter(tmp_path):
    dest = tmp_path / "submission"
    shutil.copytree(MACHINING.starter_dir, dest)
    return dest / "cell_tasks/launch" / MACHINING.launch_file


def with_speed_scale(launch_file: Path, value) -> None:
    text = launch_file.read_text()
    assert text.endswith("name: arm_commander\n")
    launch_file.write_text(
        text + f"      param:\n        - {{name: speed_scale, value: {value}}}\n"
    )


def test_a_platform_node_runs_with_the_assignments_parameters(machining_starter, tmp_path):
    installed = install(
        machining_starter.parents[2], tmp_path, MACHINING.launch_file, MACHINING.nodes
    )
    (arm,) = [n for n in installed.nodes if n.fqn == "/arm_commander"]
    assert arm.platform and arm.params == {"speed_scale": 0.5}  # from assignment.yaml
    assert (arm.remaps, arm.ros_args) == ((), ())
    (controller,) = [n for n in installed.nodes if n.fqn == "/cell_controller"]
    assert not controller.platform


def test_an_allowed_platform_parameter_is_taken_within_its_range(machining_starter, tmp_path):
    with_speed_scale(machining_starter, 0.8)
    installed = install(
        machining_starter.parents[2], tmp_path, MACHINING.launch_file, MACHINING.nodes
    )
    (arm,) = [n for n in installed.nodes if n.fqn == "/arm_commander"]
    assert arm.platform and arm.params == {"speed_scale": 0.8}


@pytest.mark.parametrize("value", [1.5, 0.0, '"fast"', "true", ".nan"])
def test_an_allowed_platform_parameter_out_of_its_range_is_refused(
    machining_starter, tmp_path, value
):
    with_speed_scale(machining_starter, value)
    with pytest.raises(SubmissionError) as err:
        install(machining_starter.parents[2], tmp_path, MACHINING.launch_file, MACHINING.nodes)
    assert "launch[1].node.param[0].value" in err.value.location
    assert "between 0.2 and 1.0" in err.value.en and "0.2 이상 1.0 이하" in err.value.ko


def mux_assignment(tmp_path: Path, **settings) -> Path:
    """The plating assignment, its safety mux configured by `settings`."""
    data = yaml.safe_load((PLATING / "assignment.yaml").read_text())
    (mux,) = [n for n in data["graph"]["nodes"] if n.get("provided_by")]
    mux.update(settings)
    data.pop("reference"), data.pop("starter")
    path = tmp_path / "assignment.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_a_choice_parameter_takes_only_its_choices_bools_not_ints(submission, tmp_path):
    assignment = load_assignment(
        mux_assignment(
            tmp_path,
            parameters={"publish_on_input": False},
            allow_parameters={"publish_on_input": {"choices": [True, False]}},
        )
    )
    text = submission.launch_file.read_text()
    for value, accepted in (("true", True), ("1", False), ('"maybe"', False)):
        submission.launch_file.write_text(
            text + f"      param:\n        - {{name: publish_on_input, value: {value}}}\n"
        )
        nodes = parse_launch_file(submission.launch_file)
        if accepted:
            (mux,) = [n for n in lock_platform_nodes(nodes, assignment.nodes) if n.platform]
            assert mux.params == {"publish_on_input": True}
        else:
            with pytest.raises(SubmissionError, match=r"one of \[True, False\]"):
                lock_platform_nodes(nodes, assignment.nodes)


@pytest.mark.parametrize(
    ("settings", "where", "en"),
    [
        ({"allow_parameters": {"x": {"min": 2, "max": 1}}}, "allow_parameters.x", "min is above"),
        ({"allow_parameters": {"x": {"min": 0, "choices": [1]}}}, "allow_parameters.x", "either"),
        (
            {"parameters": {"x": 5}, "allow_parameters": {"x": {"max": 1}}},
            "parameters.x",
            "outside its allow_parameters range",
        ),
    ],
)
def test_a_platform_node_setting_that_contradicts_itself_is_an_assignment_error(
    tmp_path, settings, where, en
):
    with pytest.raises(AssignmentError) as err:
        load_assignment(mux_assignment(tmp_path, **settings))
    assert where in err.value.location and en in err.value.en and err.value.ko


def test_platform_settings_on_a_students_node_are_an_assignment_error(tmp_path):
    data = yaml.safe_load((PLATING / "assignment.yaml").read_text())
    data["graph"]["nodes"][0]["parameters"] = {"max_linear_mps": 0.1}
    data.pop("reference"), data.pop("starter")
    path = tmp_path / "assignment.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(AssignmentError) as err:
        load_assignment(path)
    assert "graph.nodes[0].parameters" in err.value.location and "provided_by" in err.value.en


# --- module shadowing ------------------------------------------------------------------------------


PACKAGES = "packages=[package_name],"


@pytest.mark.parametrize(
    ("payload", "setup_py_change", "en"),
    [
        (
            "teleop_pkg/__init__.py",
            (PACKAGES, "packages=[package_name, 'teleop_pkg'],"),
            "teleop_pkg",
        ),
        ("rclpy/__init__.py", (PACKAGES, "packages=[package_name, 'rclpy'],"), "library rclpy"),
        ("sitecustomize.py", (PACKAGES, PACKAGES + " py_modules=['sitecustomize'],"), "hook"),
        ("zz_hook.pth", ("data_files=[", "data_files=[('', ['zz_hook.pth']), "), "zz_hook.pth"),
        # not a module but the distribution: its console scripts would stand in for the mux's
        ("unused.txt", ("name=package_name,", "name='teleop_pkg',"), "distribution teleop"),
    ],
    ids=["teleop_pkg", "rclpy", "sitecustomize", "pth", "distribution_name"],
)
def test_a_package_shadowing_the_platform_is_refused_at_install(
    submission, quick_assignment, tmp_path, payload, setup_py_change, en
):
    package = submission.path / "station_runner"
    (package / payload).parent.mkdir(parents=True, exist_ok=True)
    (package / payload).write_text("import os\n")
    setup_py = package / "setup.py"
    old, new = setup_py_change
    assert old in setup_py.read_text()
    setup_py.write_text(setup_py.read_text().replace(old, new))
    with pytest.raises(SubmissionError) as err:
        install(submission.path, tmp_path, quick_assignment.launch_file, quick_assignment.nodes)
    assert err.value.location == "station_runner/setup.py"
    assert en in err.value.en and "package station_runner" in err.value.en
    assert "station_runner" in err.value.ko


# --- through the grader (slow: two of them) -----------------------------------------------------


def test_grading_an_alias_bomb_scores_zero_and_the_grader_stays_small(
    submission, quick_assignment, tmp_path
):
    submission.launch_file.write_text(alias_bomb(10))
    result = run_child(
        "from pathlib import Path\n"
        "    from curriculum_pkg.assignment import load_assignment\n"
        "    from curriculum_pkg.grader import grade\n"
        "    r = grade(Path(sys.argv[1]), load_assignment(sys.argv[2]), Path(sys.argv[3]),"
        " progress=lambda _m: None)\n"
        "    out['points'] = r.points\n"
        "    raise r.error",
        str(submission.path),
        str(quick_assignment.path),
        str(tmp_path / "out"),
        address_space=16 << 30,  # the grading worker maps more than it uses (EGL, DDS)
    )
    assert result["points"] == 0.0
    assert_located(result["error"], "plating_stations.launch.yaml")
    assert "anchors and aliases" in result["error"]["en"]
    assert result["peak_mb"] < PEAK_LIMIT_MB and result["children_peak_mb"] < PEAK_LIMIT_MB, result
    report = json.loads((tmp_path / "out/result.json").read_text())
    assert report["error"]["kind"] == "submission"  # not a grader fault: no retry loop


def test_grading_a_launch_file_that_switches_the_safety_mux_off_scores_zero(
    submission, quick_assignment, tmp_path
):
    submission.launch_file.write_text(
        submission.launch_file.read_text()
        + "      param:\n        - {name: require_scan, value: false}\n"
    )
    result = grade(submission.path, quick_assignment, tmp_path / "out", progress=lambda _m: None)
    assert result.points == 0.0 and not result.episodes
    assert result.error.location.startswith("plating_stations.launch.yaml:")
    assert "param[0].value" in result.error.location
    assert "require_scan" in result.error.en and "set by the assignment" in result.error.en
    assert "파라미터 require_scan" in result.error.ko


def test_the_yaml_files_of_the_repository_need_no_anchors():
    repo = Path(__file__).resolve().parents[2]
    files = [
        p
        for folder in ("src", "config", "launch", "docker")
        for p in (repo / folder).rglob("*.yaml")
    ]
    assert files
    for path in files:
        events = yaml.parse(path.read_text(), Loader=yaml.SafeLoader)
        assert not any(getattr(e, "anchor", None) for e in events), path
