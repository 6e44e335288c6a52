"""Assignments: the required node graph, the scenarios to run, the rubric, starter and reference."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from common_pkg.distro import command_type_for
from common_pkg.errors import LocatedError
from common_pkg.package_data import package_data_dir
from common_pkg.yamlio import IDENTIFIER, check_values, is_dir, is_file, load_yaml, validate
from curriculum_pkg.errors import AssignmentError
from curriculum_pkg.scenario import Scenario, load_scenario
from curriculum_pkg.timing import wall_ceiling_s

# share/curriculum_pkg/assignments when built with colcon, else the checkout's.
ASSIGNMENT_DIR = package_data_dir(
    "curriculum_pkg", "assignments", Path(__file__).resolve().parents[1] / "assignments"
)
RUBRIC_KEYS = ("graph", "task", "safety", "efficiency")

PACING_MODES = ("lockstep", "fixed")
_TEXT = {
    "type": "object",
    "required": ["ko", "en"],
    "properties": {"ko": {"type": "string"}, "en": {"type": "string"}},
}
# Fully qualified ROS names and message types (\Z, not $: Python's $ also matches before a
# final newline, and rclpy refuses such a name only when the grader starts a node with it).
_ROS_NAME = {"type": "string", "pattern": r"^(/[A-Za-z_][A-Za-z0-9_]*)+\Z"}
_MSG_TYPE = {"type": "string", "pattern": r"^[a-z][a-z0-9_]*/msg/[A-Z][A-Za-z0-9]*\Z"}
_TOPIC = {
    "type": "object",
    "required": ["topic", "type"],
    "additionalProperties": False,
    "properties": {
        "topic": _ROS_NAME,
        "type": _MSG_TYPE,
        "min_rate_hz": {"type": "number", "minimum": 0},
    },
}
_PARAM_SCALAR = {"type": ["string", "number", "boolean"]}
_PARAM_VALUE = {"type": ["string", "number", "boolean", "array"], "items": _PARAM_SCALAR}
_PARAM_NAMES = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_.]*\Z"}
# How a platform node runs (only with `provided_by`): its fixed parameters, the ones a student's
# launch file may set (within a range, or one of a few choices) and its remaps.
_PLATFORM_NODE_SETTINGS = {
    "parameters": {
        "type": "object",
        "propertyNames": _PARAM_NAMES,
        "additionalProperties": _PARAM_VALUE,
    },
    "allow_parameters": {
        "type": "object",
        "propertyNames": _PARAM_NAMES,
        "additionalProperties": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": False,
            "properties": {
                "min": {"type": "number"},
                "max": {"type": "number"},
                "choices": {"type": "array", "minItems": 1, "items": _PARAM_SCALAR},
            },
        },
    },
    "remaps": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["from", "to"],
            "additionalProperties": False,
            "properties": {
                "from": {"type": "string", "minLength": 1},
                "to": {"type": "string", "minLength": 1},
            },
        },
    },
}
ASSIGNMENT_SCHEMA = {
    "type": "object",
    "required": ["schema_version", "id", "title", "launch_file", "graph", "scenarios", "rubric"],
    "additionalProperties": False,
    "properties": {
        "schema_version": {"const": 1},
        "id": IDENTIFIER,
        "title": _TEXT,
        "description": _TEXT,
        "launch_file": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]+\.launch\.yaml\Z"},
        "real_time_factor": {"type": "number", "exclusiveMinimum": 0, "maximum": 50},
        # How simulated time is paced (see sim_pkg.lockstep): lockstep with the student's graph
        # (the default: the same score at any load), or a fixed real_time_factor.
        "pacing": {"enum": list(PACING_MODES)},
        "max_real_time_factor": {"type": "number", "minimum": 0, "maximum": 1000},
        "wall_per_sim_s": {"type": "number", "minimum": 0.5, "maximum": 60},
        "pass_mark": {"type": "number", "minimum": 0, "maximum": 100},
        "startup_timeout_s": {"type": "number", "exclusiveMinimum": 0},
        "mission_topic": _ROS_NAME,
        # When the graph puts teleop_pkg's safety_mux between the student and the robot, the
        # mux's running count of interventions (std_msgs/UInt32) costs safety points.
        "safety_mux": {
            "type": "object",
            "required": ["interventions_topic", "penalty_per_intervention"],
            "additionalProperties": False,
            "properties": {
                "interventions_topic": _ROS_NAME,
                "penalty_per_intervention": {"type": "number", "minimum": 0},
            },
        },
        "graph": {
            "type": "object",
            "required": ["nodes"],
            "additionalProperties": False,
            "properties": {
                "nodes": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "additionalProperties": False,
                        "properties": {
                            "name": _ROS_NAME,
                            # a platform node the student launches but may not replace
                            "provided_by": {
                                "type": "string",
                                "pattern": r"^[a-z][a-z0-9_]*/[A-Za-z0-9_]+\Z",
                            },
                            "publishes": {"type": "array", "items": _TOPIC},
                            "subscribes": {"type": "array", "items": _TOPIC},
                            **_PLATFORM_NODE_SETTINGS,
                        },
                    },
                }
            },
        },
        "scenarios": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["scenario"],
                "additionalProperties": False,
                "properties": {
                    "scenario": {"type": "string"},
                    "variants": {"type": "integer", "minimum": 1, "maximum": 50},
                    "seed": {"type": "integer"},
                },
            },
        },
        "rubric": {
            "type": "object",
            "required": list(RUBRIC_KEYS),
            "additionalProperties": False,
            "properties": {k: {"type": "number", "minimum": 0} for k in RUBRIC_KEYS},
        },
        "reference": {"type": "string"},
        "starter": {"type": "string"},
        # Task criteria measured from the student's own answers against ground truth
        # (curriculum_pkg.checks): with checks, the task score is their weighted mean.
        # With checks: how long each episode runs (sim s; default and most: the scenario's limit)
        "episode_s": {"type": "number", "exclusiveMinimum": 0},
        "checks": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["kind"],
                "properties": {
                    "kind": {"type": "string"},
                    "topic": _ROS_NAME,
                    "type": _MSG_TYPE,
                    "weight": {"type": "number", "exclusiveMinimum": 0},
                },
                # the check's own settings (curriculum_pkg.checks): numbers, names, switches
                "additionalProperties": {"type": ["string", "number", "boolean"]},
            },
        },
    },
}


@dataclass(frozen=True)
class TopicRequirement:
    topic: str
    type: str  # e.g. geometry_msgs/msg/TwistStamped
    min_rate_hz: float = 0.0


@dataclass(frozen=True)
class ParameterRule:
    """What a student's launch file may set a platform node's parameter to."""

    min: float | None = None
    max: float | None = None
    choices: tuple | None = None

    def allows(self, value) -> bool:
        if self.choices is not None:
            # bool is an int in Python: True must not pass for a choice of 1
            return any(type(value) is type(c) and value == c for c in self.choices) or any(
                isinstance(c, float) and type(value) is int and value == c for c in self.choices
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return (
            math.isfinite(value)
            and (self.min is None or value >= self.min)
            and (self.max is None or value <= self.max)
        )

    def describe(self) -> tuple[str, str]:
        """(en, ko): 'between 0.2 and 1.0' / '0.2 이상 1.0 이하'."""
        if self.choices is not None:
            shown = ", ".join(repr(c) for c in self.choices)
            return f"one of [{shown}]", f"[{shown}] 중 하나"
        if self.min is not None and self.max is not None:
            return f"between {self.min} and {self.max}", f"{self.min} 이상 {self.max} 이하"
        if self.min is not None:
            return f"at least {self.min}", f"{self.min} 이상"
        return f"at most {self.max}", f"{self.max} 이하"


@dataclass(frozen=True)
class NodeRequirement:
    name: str  # fully qualified, e.g. /navigator
    publishes: tuple[TopicRequirement, ...]
    subscribes: tuple[TopicRequirement, ...]
    provided_by: tuple[str, str] | None = None  # (package, executable) of a platform node
    # A platform node runs as the assignment says, whatever the student's launch file says:
    parameters: dict[str, object] = field(default_factory=dict, hash=False)
    allowed_parameters: dict[str, ParameterRule] = field(default_factory=dict, hash=False)
    remaps: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ScenarioRun:
    scenario: Scenario
    variants: int
    seed: int


@dataclass(frozen=True)
class Assignment:
    id: str
    path: Path
    title: dict[str, str]
    launch_file: str
    nodes: tuple[NodeRequirement, ...]
    runs: tuple[ScenarioRun, ...]
    rubric: dict[str, float]  # normalised to sum 1
    real_time_factor: float  # pacing "fixed": the factor; also the speed a student sees in `sim`
    pass_mark: float
    startup_timeout_s: float
    mission_topic: str
    interventions_topic: str | None
    intervention_penalty: float
    reference_dir: Path | None
    starter_dir: Path | None
    pacing: str = "lockstep"
    max_real_time_factor: float = 0.0  # lockstep: a speed ceiling; 0 = as fast as the graph goes
    wall_per_sim_s: float = 5.0  # lockstep: the most wall time the graph may hold a sim second
    # curriculum_pkg.checks entries ({kind, topic, weight, ...}); empty: the scenario's task
    # steps make the task score
    checks: tuple[dict, ...] = ()
    episode_s: float | None = None  # with checks: each episode's length (None: the time limit)

    def episode_length_s(self, time_limit_s: float) -> float:
        """Sim seconds an episode may run: the scenario's limit, shorter with `episode_s`."""
        return time_limit_s if self.episode_s is None else min(time_limit_s, self.episode_s)

    def wall_ceiling_s(self, sim_s: float) -> float:
        """The most wall time `sim_s` simulated seconds may take (curriculum_pkg.timing)."""
        return wall_ceiling_s(self.pacing, self.real_time_factor, self.wall_per_sim_s, sim_s)


def resolve_assignment_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if is_file(path):
        return path
    if is_dir(path):
        return path / "assignment.yaml"
    return ASSIGNMENT_DIR / str(name_or_path) / "assignment.yaml"


def load_assignment(name_or_path: str | Path) -> Assignment:
    path = resolve_assignment_path(name_or_path)
    data, locate = load_yaml(path, AssignmentError)
    check_values(data, locate, AssignmentError)
    validate(data, ASSIGNMENT_SCHEMA, locate, AssignmentError)
    total = sum(data["rubric"].values())
    if total <= 0:
        raise AssignmentError(
            locate(("rubric",)), "rubric weights add up to zero", "채점 기준 가중치의 합이 0입니다"
        )
    runs = []
    for i, run in enumerate(data["scenarios"]):
        ref = run["scenario"]
        candidate = (path.parent / ref) if ref.endswith(".yaml") else ref
        try:
            scenario = load_scenario(candidate)
        except LocatedError as exc:
            raise AssignmentError(
                f"{locate(('scenarios', i, 'scenario'))} -> {exc.location}", exc.en, exc.ko
            ) from None
        runs.append(ScenarioRun(scenario, int(run.get("variants", 1)), int(run.get("seed", 0))))

    def topics(items) -> tuple[TopicRequirement, ...]:
        return tuple(
            TopicRequirement(t["topic"], t["type"], float(t.get("min_rate_hz", 0.0))) for t in items
        )

    def folder(key: str) -> Path | None:
        if key not in data:
            return None
        target = (path.parent / data[key]).resolve()
        if not is_dir(target):
            raise AssignmentError(
                locate((key,)),
                f"folder {data[key]} does not exist",
                f"폴더 {data[key]}이(가) 없습니다",
            )
        return target

    nodes = tuple(
        _node_requirement(n, ("graph", "nodes", i), topics, locate)
        for i, n in enumerate(data["graph"]["nodes"])
    )
    return Assignment(
        id=data["id"],
        path=path,
        title=data["title"],
        launch_file=data["launch_file"],
        nodes=nodes,
        runs=tuple(runs),
        rubric={k: data["rubric"][k] / total for k in RUBRIC_KEYS},
        real_time_factor=float(data.get("real_time_factor", 1.0)),
        pass_mark=float(data.get("pass_mark", 60.0)),
        startup_timeout_s=float(data.get("startup_timeout_s", 30.0)),
        mission_topic=data.get("mission_topic", "/mission/waypoints"),
        interventions_topic=data.get("safety_mux", {}).get("interventions_topic"),
        intervention_penalty=float(data.get("safety_mux", {}).get("penalty_per_intervention", 0.0)),
        reference_dir=folder("reference"),
        starter_dir=folder("starter"),
        pacing=data.get("pacing", "lockstep"),
        max_real_time_factor=float(data.get("max_real_time_factor", 0.0)),
        wall_per_sim_s=float(data.get("wall_per_sim_s", 5.0)),
        checks=_checks(data.get("checks", ()), nodes, locate),
        episode_s=float(data["episode_s"]) if "episode_s" in data else None,
    )


def _checks(entries, nodes: tuple[NodeRequirement, ...], locate) -> tuple[dict, ...]:
    """The `checks` entries: each of a kind the grader knows (curriculum_pkg.checks), reading a
    topic a node of the graph publishes."""
    from curriculum_pkg.checks import REGISTRY  # the check modules import this one's users

    published = {t.topic for n in nodes for t in n.publishes}
    for i, entry in enumerate(entries):
        if entry["kind"] not in REGISTRY:
            known = ", ".join(sorted(REGISTRY))
            raise AssignmentError(
                locate(("checks", i, "kind")),
                f"unknown check kind {entry['kind']!r} (known: {known})",
                f"알 수 없는 점검 종류 {entry['kind']!r} (쓸 수 있는 것: {known})",
            )
        if "topic" in entry and entry["topic"] not in published:
            raise AssignmentError(
                locate(("checks", i, "topic")),
                f"no node of graph.nodes publishes {entry['topic']}, the topic this check reads",
                f"이 점검이 읽는 {entry['topic']} 토픽을 발행하는 노드가 graph.nodes에 없습니다",
            )
    return tuple(dict(e) for e in entries)


def _node_requirement(node: dict, where: tuple, topics, locate) -> NodeRequirement:
    settings = [key for key in _PLATFORM_NODE_SETTINGS if key in node]
    if settings and "provided_by" not in node:
        raise AssignmentError(
            locate((*where, settings[0])),
            f"{settings[0]} configures a platform node: it needs provided_by",
            f"{settings[0]}은(는) 플랫폼 노드 설정입니다. provided_by와 함께 써야 합니다",
        )
    rules = {}
    for name, rule in node.get("allow_parameters", {}).items():
        at = locate((*where, "allow_parameters", name))
        if "choices" in rule and ("min" in rule or "max" in rule):
            raise AssignmentError(
                at,
                "give either min/max or choices, not both",
                "min/max와 choices 중 하나만 쓰세요",
            )
        if rule.get("min", -math.inf) > rule.get("max", math.inf):
            raise AssignmentError(at, "min is above max", "min이 max보다 큽니다")
        choices = rule.get("choices")
        rules[name] = ParameterRule(
            rule.get("min"), rule.get("max"), None if choices is None else tuple(choices)
        )
    parameters = dict(node.get("parameters", {}))
    for name, value in parameters.items():
        if name in rules and not rules[name].allows(value):
            en, ko = rules[name].describe()
            raise AssignmentError(
                locate((*where, "parameters", name)),
                f"{name} = {value!r} is outside its allow_parameters range ({en})",
                f"{name} = {value!r}이(가) allow_parameters 범위({ko})를 벗어납니다",
            )
    return NodeRequirement(
        node["name"],
        topics(node.get("publishes", [])),
        topics(node.get("subscribes", [])),
        tuple(node["provided_by"].split("/")) if "provided_by" in node else None,
        parameters=parameters,
        allowed_parameters=rules,
        remaps=tuple((r["from"], r["to"]) for r in node.get("remaps", [])),
    )


def for_distro(assignment: Assignment, distro: str) -> Assignment:
    """The assignment as graded under `distro`: its velocity-command topics (written for Jazzy,
    TwistStamped) take the distribution's type (Twist on Humble); nothing else changes. The one
    place the graph check, the grader's monitor and its recording learn the distribution."""

    def adapt(topics: tuple[TopicRequirement, ...]) -> tuple[TopicRequirement, ...]:
        return tuple(replace(t, type=command_type_for(distro, t.topic, t.type)) for t in topics)

    nodes = tuple(
        replace(n, publishes=adapt(n.publishes), subscribes=adapt(n.subscribes))
        for n in assignment.nodes
    )
    checks = tuple(
        {**c, "type": command_type_for(distro, c["topic"], c["type"])}
        if "topic" in c and "type" in c
        else c
        for c in assignment.checks
    )
    return replace(assignment, nodes=nodes, checks=checks)
