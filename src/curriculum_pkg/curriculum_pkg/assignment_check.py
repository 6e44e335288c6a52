"""`rootroute assignment validate`: what an assignment folder needs before a class gets it.

`load_assignment` checks what grading needs to start (the schema, scenarios that load, folders
that exist) and stops at the first problem. This goes further and reports every problem it
finds, each located in assignment.yaml and in Korean and English: message types that are not
installed, rubric weights that do not add up to 100 (or 1), scenarios that are missing or whose
hidden variants cannot be solved, reference and starter folders that are not ament_python
packages with the assignment's launch file, and platform nodes that name no platform executable.
ROS-free but for the message-type check, which imports the generated message classes.
"""

from __future__ import annotations

import difflib
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from common_pkg.yamlio import Locator, check_values, is_dir, is_file, load_yaml, validate
from curriculum_pkg.assignment import (
    ASSIGNMENT_SCHEMA,
    RUBRIC_KEYS,
    load_assignment,
    resolve_assignment_path,
)
from curriculum_pkg.errors import AssignmentError, LocatedError
from curriculum_pkg.launchfile import parse_launch_file
from curriculum_pkg.scenario import list_scenarios, load_scenario, resolve_scenario_path
from curriculum_pkg.submission import PLATFORM_PACKAGES, find_launch_file, read_package_name
from curriculum_pkg.variants import check_variants

# Hidden variants drawn per scenario: a sample (`rootroute scenario validate` draws 20 seeds).
VARIANT_SEEDS = 3
# The totals a rubric is written to; load_assignment accepts any positive total and divides
# each weight by it, so 20/50/20/5 would quietly make graph count 21 %, not 20 %.
RUBRIC_TOTALS = (100.0, 1.0)


def check_assignment(name_or_path: str | Path) -> list[LocatedError]:
    """Every problem found in an assignment (its assignment.yaml, its folder or its id in the
    library); [] when none."""
    if Path(name_or_path).suffix in (".yaml", ".yml") and not is_file(Path(name_or_path)):
        return [AssignmentError(str(name_or_path), "no such file", "파일이 없습니다")]
    path = resolve_assignment_path(name_or_path)
    try:
        data, locate = load_yaml(path, AssignmentError)
        check_values(data, locate, AssignmentError)
        validate(data, ASSIGNMENT_SCHEMA, locate, AssignmentError)
    except AssignmentError as err:  # nothing below can be trusted to find its keys
        return [err]
    errors = [
        *_message_types(data, locate),
        *_rubric(data, locate),
        *_scenarios(data, locate, path.parent),
        *_platform_nodes(data, locate),
        *_package_folder(data, "reference", locate, path.parent),
        *_package_folder(data, "starter", locate, path.parent),
    ]
    if not errors:
        try:  # what only the loader checks, such as a platform node's parameter ranges
            assignment = load_assignment(path)
        except LocatedError as err:
            errors.append(err)
        else:
            errors += _check_settings(assignment, locate) or _fair_visible_variants(
                assignment, locate
            )
    return sorted(errors, key=_line_col)


def _check_settings(assignment, locate: Locator) -> list[AssignmentError]:
    """Each check accepts its own settings (curriculum_pkg.checks): a check refuses a bad one
    when it is made, which the grader does at the start of every episode, too late to say where."""
    from common_pkg.profile import load_profile
    from curriculum_pkg.checks import REGISTRY

    if not assignment.checks:
        return []
    profile, scenario = load_profile(), assignment.runs[0].scenario
    errors = []
    for i, spec in enumerate(assignment.checks):
        try:
            REGISTRY[spec["kind"]](spec, scenario, profile)
        except (TypeError, ValueError) as exc:  # the checks say "english / 한국어", or English
            en, _, ko = str(exc).partition(" / ")
            kind = spec["kind"]
            errors.append(
                AssignmentError(
                    locate(("checks", i)),
                    en if en.startswith(kind) else f"{kind} check: {en}",
                    ko or f"{kind} 점검의 설정이 올바르지 않습니다: {en}",
                )
            )
    return errors


def _fair_visible_variants(assignment, locate: Locator) -> list[AssignmentError]:
    """A check that judges what the platform shows (the station_markers tour) can judge each
    scenario as written; hidden variants it could not judge are drawn again when grading."""
    from common_pkg.profile import load_profile
    from curriculum_pkg.checks import variant_problem, vets_variants

    if not vets_variants(assignment):
        return []
    profile = load_profile()
    errors = []
    for i, run in enumerate(assignment.runs):
        try:
            problem = variant_problem(assignment, run.scenario, profile)
        except (LocatedError, ValueError) as exc:  # a bad script or node parameter
            en, ko = getattr(exc, "en", str(exc)), getattr(exc, "ko", str(exc))
            return [
                AssignmentError(
                    locate(("graph", "nodes")),
                    f"the platform's tour cannot be forecast: {en}",
                    f"플랫폼이 모는 경로를 미리 계산할 수 없습니다: {ko}",
                )
            ]
        if problem is not None:
            errors.append(
                AssignmentError(
                    locate(("scenarios", i, "scenario")),
                    f"{run.scenario.id} as written: {problem[0]}",
                    f"{run.scenario.id} (공개 변형): {problem[1]}",
                )
            )
    return errors


def _line_col(err: LocatedError) -> tuple[int, int]:
    """Where in assignment.yaml an error is ('assignment.yaml:12:5: ...'), to list in file order."""
    fields = err.location.split(":")
    try:
        return int(fields[1]), int(fields[2])
    except (IndexError, ValueError):
        return 0, 0


def _topics(data: dict) -> Iterator[tuple[tuple, str, str]]:
    """(key path of its type, topic, type) of every topic in the graph, in file order."""
    for i, node in enumerate(data["graph"]["nodes"]):
        for direction in ("publishes", "subscribes"):
            for j, topic in enumerate(node.get(direction, [])):
                yield ("graph", "nodes", i, direction, j, "type"), topic["topic"], topic["type"]


def _message_types(data: dict, locate: Locator) -> Iterator[AssignmentError]:
    """Each type is installed, and a topic has one type wherever the graph names it."""
    from sim_pkg.ros.msgdef import MessageTypeError, message_class

    first: dict[str, tuple[str, tuple]] = {}
    for where, topic, type_name in _topics(data):
        try:
            message_class(type_name)
        except MessageTypeError:
            hint_en, hint_ko = _close_type(type_name)
            yield AssignmentError(
                locate(where),
                f"message type {type_name} is not installed{hint_en}",
                f"메시지 타입 {type_name}이(가) 설치되어 있지 않습니다{hint_ko}",
            )
            continue
        known, at = first.setdefault(topic, (type_name, where))
        if known != type_name:
            yield AssignmentError(
                locate(where),
                f"{topic} is {type_name} here but {known} at {locate(at).split(': ')[0]}",
                f"{topic}의 타입이 여기서는 {type_name}, {locate(at).split(': ')[0]}에서는 "
                f"{known}입니다",
            )


def _close_type(type_name: str) -> tuple[str, str]:
    """(en, ko) of ' (did you mean pkg/msg/Name?)' when the package has a close name."""
    import importlib

    package, _, name = type_name.partition("/msg/")
    try:
        names = [n for n in dir(importlib.import_module(f"{package}.msg")) if n[:1].isupper()]
    except ImportError:
        return f" (no message package {package})", f" (메시지 패키지 {package}이(가) 없습니다)"
    close = difflib.get_close_matches(name, names, n=1)
    if not close:
        return "", ""
    guess = f"{package}/msg/{close[0]}"
    return f" (did you mean {guess}?)", f" ({guess}을(를) 쓰려던 것인가요?)"


def _rubric(data: dict, locate: Locator) -> Iterator[AssignmentError]:
    total = sum(data["rubric"][key] for key in RUBRIC_KEYS)
    if not any(math.isclose(total, want, rel_tol=1e-6) for want in RUBRIC_TOTALS):
        weights = " + ".join(f"{data['rubric'][key]:g}" for key in RUBRIC_KEYS)
        yield AssignmentError(
            locate(("rubric",)),
            f"rubric weights add up to {weights} = {total:g}: make them add up to 100 "
            "(or 1), so that each weight is the share it says",
            f"채점 기준 가중치의 합이 {weights} = {total:g}입니다. 각 가중치가 적힌 비율대로 "
            "반영되도록 합을 100(또는 1)으로 맞추세요",
        )


def _scenarios(data: dict, locate: Locator, folder: Path) -> Iterator[AssignmentError]:
    """Each scenario exists (as load_assignment finds it), loads, and the hidden variants the
    assignment grades can be drawn and solved."""
    for i, run in enumerate(data["scenarios"]):
        where = locate(("scenarios", i, "scenario"))
        ref = run["scenario"]
        path = resolve_scenario_path((folder / ref) if ref.endswith(".yaml") else ref)
        if not is_file(path):
            library = ", ".join(p.stem for p in list_scenarios())
            yield AssignmentError(
                where,
                f"scenario {ref} not found: it is neither in the scenario library ({library}) "
                "nor a .yaml file next to assignment.yaml",
                f"시나리오 {ref}을(를) 찾을 수 없습니다. 시나리오 라이브러리({library})에도, "
                "assignment.yaml 옆의 .yaml 파일로도 없습니다",
            )
            continue
        try:
            scenario = load_scenario(path)
        except LocatedError as exc:
            yield AssignmentError(f"{where} -> {exc.location}", exc.en, exc.ko)
            continue
        found = check_variants(scenario, range(VARIANT_SEEDS), int(run.get("variants", 1)))
        for ko, en in found.problems[:3]:
            yield AssignmentError(where, f"{scenario.id}: {en}", f"{scenario.id}: {ko}")


def console_scripts(package: str) -> list[str]:
    """The executables an installed platform package provides (its setup.py console_scripts,
    as the grader finds them: in the package's installed metadata)."""
    dist = metadata.distribution(package)
    return sorted(ep.name for ep in dist.entry_points if ep.group == "console_scripts")


def _platform_nodes(data: dict, locate: Locator) -> Iterator[AssignmentError]:
    for i, node in enumerate(data["graph"]["nodes"]):
        if "provided_by" not in node:
            continue
        where = locate(("graph", "nodes", i, "provided_by"))
        package, executable = node["provided_by"].split("/")
        if package not in PLATFORM_PACKAGES:
            yield AssignmentError(
                where,
                f"{package} is not a platform package ({', '.join(PLATFORM_PACKAGES)})",
                f"{package}은(는) 플랫폼 패키지({', '.join(PLATFORM_PACKAGES)})가 아닙니다",
            )
            continue
        try:
            known = console_scripts(package)
        except metadata.PackageNotFoundError:
            yield AssignmentError(
                where,
                f"platform package {package} is not installed (pip install -e src/{package})",
                f"플랫폼 패키지 {package}이(가) 설치되어 있지 않습니다 (pip install -e src/{package})",
            )
            continue
        if executable not in known:
            yield AssignmentError(
                where,
                f"{package} has no executable '{executable}' (its console_scripts: "
                f"{', '.join(known)})",
                f"{package}에 실행 파일 '{executable}'이(가) 없습니다 (console_scripts: "
                f"{', '.join(known)})",
            )


def _package_folder(data: dict, key: str, locate: Locator, base: Path) -> list[AssignmentError]:
    """The reference or starter folder holds ament_python packages, one of them with the
    launch file the assignment names, which parses as the grader reads it."""
    if key not in data:
        return [
            AssignmentError(
                locate((key,)),
                f"no {key} folder: add `{key}: {key}` and put an ament_python package there",
                f"{key} 폴더가 지정되어 있지 않습니다. `{key}: {key}`를 쓰고 그 폴더에 "
                "ament_python 패키지를 넣으세요",
            )
        ]
    folder = base / data[key]
    where = locate((key,))
    if not is_dir(folder):
        return [
            AssignmentError(
                where, f"folder {data[key]} does not exist", f"폴더 {data[key]}이(가) 없습니다"
            )
        ]
    manifests = sorted(folder.rglob("package.xml"))
    if not manifests:
        return [
            AssignmentError(
                where,
                f"folder {data[key]} holds no ROS 2 package: put an ament_python package in it "
                "(package.xml, setup.py, resource/<name>)",
                f"폴더 {data[key]}에 ROS 2 패키지가 없습니다. ament_python 패키지(package.xml, "
                "setup.py, resource/<이름>)를 넣으세요",
            )
        ]
    errors = []
    for xml in manifests:
        shown = f"{data[key]}/{xml.parent.relative_to(folder)}".removesuffix("/.")
        problem = _package_problem(xml, f"{shown}/package.xml")
        if problem is not None:
            en, ko = problem
            errors.append(AssignmentError(f"{where} -> {shown}", en, ko))
    try:
        launch = find_launch_file(folder, data["launch_file"])
    except LocatedError as exc:
        return [*errors, AssignmentError(f"{where} -> {data[key]}", exc.en, exc.ko)]
    try:
        parse_launch_file(launch)
    except LocatedError as exc:  # located in the launch file: named from the assignment's folder
        at = str(launch.relative_to(base)) + exc.location.removeprefix(launch.name)
        errors.append(AssignmentError(f"{where} -> {at}", exc.en, exc.ko))
    return errors


def _package_problem(xml: Path, shown: str) -> tuple[str, str] | None:
    """(en, ko) of what keeps the folder of `xml` from being an ament_python package."""
    try:
        name = read_package_name(xml, shown)  # a size cap, and no DOCTYPE: then ET is safe
    except LocatedError as exc:
        return f"{exc.location}: {exc.en}", f"{exc.location}: {exc.ko}"
    root = ET.parse(xml).getroot()
    if root.tag != "package" or root.get("format") != "3":
        return (
            'package.xml is not <package format="3"> (REP 149)',
            'package.xml이 <package format="3">이 아닙니다 (REP 149)',
        )
    if not name:
        return "package.xml has no <name>", "package.xml에 <name>이 없습니다"
    if (root.findtext("export/build_type") or "").strip() != "ament_python":
        return (
            f"package {name} is not ament_python (<export><build_type>ament_python</build_type>)",
            f"패키지 {name}이(가) ament_python이 아닙니다 "
            "(<export><build_type>ament_python</build_type>)",
        )
    folder = xml.parent
    if not (folder / "setup.py").is_file():
        return f"package {name} has no setup.py", f"패키지 {name}에 setup.py가 없습니다"
    if not (folder / "resource" / name).is_file():
        return (
            f"package {name} has no resource/{name} (the ament index marker)",
            f"패키지 {name}에 resource/{name} 파일(ament 인덱스 표시)이 없습니다",
        )
    return None
