"""Read a student's graph from a ROS 2 YAML launch file (the subset the grader runs itself).

Supported: `launch: [arg{name, default}, node{pkg, exec, name, namespace, param, remap, ros_args}]`
with `param: [{name, value}]`, `remap: [{from, to}]` and `$(var NAME)` substitutions. The same
file works unchanged with `ros2 launch` on a full ROS install.

The file is the student's: it is read with limits (common_pkg.yamlio), and the platform's own nodes
it names run as the assignment configures them, never as the file does (`lock_platform_nodes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from common_pkg.yamlio import check_yaml_limits, load_yaml, shorten, validate
from curriculum_pkg.errors import SubmissionError

if TYPE_CHECKING:
    from curriculum_pkg.assignment import NodeRequirement

MAX_NODES = 32  # each node is a process of ~100 MB; a graph of ours has 2 to 4

_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
_SCALAR = {"type": ["string", "number", "boolean"]}
LAUNCH_SCHEMA = {
    "type": "object",
    "required": ["launch"],
    "properties": {
        "launch": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "properties": {
                    "arg": {
                        "type": "object",
                        "required": ["name"],
                        "additionalProperties": False,
                        "properties": {
                            "name": _NAME,
                            "default": _SCALAR,
                            "description": {"type": "string"},
                        },
                    },
                    "node": {
                        "type": "object",
                        "required": ["pkg", "exec"],
                        "additionalProperties": False,
                        "properties": {
                            "pkg": _NAME,
                            "exec": {"type": "string", "minLength": 1},
                            "name": _NAME,
                            "namespace": {"type": "string"},
                            "output": {"type": "string"},
                            "param": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["name", "value"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "name": {"type": "string"},
                                        "value": {"type": ["string", "number", "boolean", "array"]},
                                    },
                                },
                            },
                            "remap": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["from", "to"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "from": {"type": "string"},
                                        "to": {"type": "string"},
                                    },
                                },
                            },
                            "ros_args": {"type": "string"},
                        },
                    },
                },
                "additionalProperties": False,
            },
        }
    },
    "additionalProperties": False,
}


@dataclass(frozen=True)
class NodeSpec:
    """One node to start. `platform` marks a platform node locked to the assignment's settings
    (`lock_platform_nodes`): it is started without the student's packages on its import path."""

    pkg: str
    executable: str
    name: str
    namespace: str = ""
    params: dict = field(default_factory=dict)
    remaps: tuple[tuple[str, str], ...] = ()
    ros_args: tuple[str, ...] = ()
    location: str = ""
    platform: bool = False
    in_launch_file: bool = True  # False: a platform node the launch file left out, added by us
    # where each part came from in the launch file: "name", "namespace", "remap", "ros_args",
    # "param:<name>" -> 'file:line:col: key.path', for errors about that part
    locations: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def fqn(self) -> str:
        ns = "/" + self.namespace.strip("/") if self.namespace.strip("/") else ""
        return f"{ns}/{self.name}"

    def located(self, part: str) -> str:
        return self.locations.get(part, self.location)


def _typed(value, where: str):
    """Like ros2 launch: a string parameter value is read as YAML ("0.22" -> 0.22, "true" -> True)."""
    if not isinstance(value, str):
        return value
    try:
        check_yaml_limits(value, SubmissionError, lambda _mark: where)
        parsed = yaml.safe_load(value)
    except (yaml.YAMLError, ValueError):
        return value
    return parsed if isinstance(parsed, (bool, int, float, list)) else value


def _substitutions(text: str):
    """(start, end, kind, argument) of each `$(kind argument)` in text, left to right.

    A plain scan, not a regular expression: a backtracking pattern takes quadratic time on a
    long value with an unclosed `$(`."""
    i = 0
    while (start := text.find("$(", i)) != -1:
        end = text.find(")", start)
        if end == -1:
            return  # no later `$(` is closed either
        kind, _, arg = text[start + 2 : end].strip().partition(" ")
        yield start, end + 1, kind, arg.strip()
        i = end + 1


def parse_launch_file(path: Path) -> list[NodeSpec]:
    data, locate = load_yaml(path, SubmissionError)
    validate(data, LAUNCH_SCHEMA, locate, SubmissionError)
    args: dict[str, str] = {}

    def substitute(value, where: tuple):
        if not isinstance(value, str):
            return value
        out, last = [], 0
        for start, end, kind, arg in _substitutions(value):
            shown = shorten(arg, 60)
            if kind == "var" and arg in args:
                out += [value[last:start], args[arg]]
                last = end
                continue
            if kind == "var":
                raise SubmissionError(
                    locate(where),
                    f"$(var {shown}) names no arg declared above it",
                    f"$(var {shown})에 해당하는 arg가 앞에 선언되어 있지 않습니다",
                )
            kind = shorten(kind, 40)
            raise SubmissionError(
                locate(where),
                f"substitution $({kind} ...) is not supported by the grader; "
                "use $(var NAME) or a plain value",
                f"채점기는 $({kind} ...) 치환을 지원하지 않습니다. $(var 이름)이나 값을 직접 쓰세요",
            )
        return "".join([*out, value[last:]])

    nodes: list[NodeSpec] = []
    names: set[str] = set()
    for i, entry in enumerate(data["launch"]):
        if "arg" in entry:
            arg = entry["arg"]
            args[arg["name"]] = str(arg.get("default", ""))
            continue
        node, where = entry["node"], ("launch", i, "node")
        if len(nodes) == MAX_NODES:
            raise SubmissionError(
                locate(where),
                f"a launch file may start at most {MAX_NODES} nodes",
                f"런치 파일 하나로 실행할 수 있는 노드는 {MAX_NODES}개까지입니다",
            )
        name = node.get("name") or node["exec"]
        params, locations = {}, {}
        for j, p in enumerate(node.get("param", [])):
            at = (*where, "param", j, "value")
            params[p["name"]] = _typed(substitute(p["value"], at), locate(at))
            locations[f"param:{p['name']}"] = locate(at)
        remaps = tuple(
            (substitute(r["from"], (*where, "remap", j)), substitute(r["to"], (*where, "remap", j)))
            for j, r in enumerate(node.get("remap", []))
        )
        for part in ("name", "namespace", "remap", "ros_args"):
            locations[part] = locate((*where, part))
        spec = NodeSpec(
            node["pkg"],
            node["exec"],
            name,
            substitute(node.get("namespace", ""), where),
            params,
            remaps,
            tuple(substitute(node.get("ros_args", ""), where).split()),
            locate(where),
            locations=locations,
        )
        if spec.fqn in names:
            raise SubmissionError(
                locate((*where, "name")),
                f"two nodes are named {spec.fqn}",
                f"노드 이름 {spec.fqn}이(가) 두 번 쓰였습니다",
            )
        names.add(spec.fqn)
        nodes.append(spec)
    if not nodes:
        raise SubmissionError(
            locate(("launch",)),
            "the launch file starts no node",
            "launch 파일에 실행할 노드가 하나도 없습니다",
        )
    return nodes


def lock_platform_nodes(
    nodes: Sequence[NodeSpec], required: Sequence[NodeRequirement]
) -> tuple[NodeSpec, ...]:
    """The nodes to start, each platform node (the assignment's `provided_by`: the safety mux,
    the inspector, ...) replaced by the one the assignment configures.

    The launch file may name a platform node, so that it works with `ros2 launch` on the lab
    robot, but it may not configure it: a `param` the assignment does not allow (or outside the
    allowed range), any `remap` or `ros_args`, another name or a namespace is refused. The
    locked node runs with the assignment's parameters and remaps, marked `platform=True`.
    Already locked nodes pass through unchanged.

    A platform node the launch file leaves out is added all the same (`in_launch_file=False`),
    so that it always stands where the assignment puts it: leaving out the safety mux does not
    let a node drive the robot past it (its /cmd_vel is the mux's, anyone else's is spoofing).
    """
    provided = {r.name: r for r in required if r.provided_by is not None}
    named = {spec.fqn for spec in nodes}
    source = nodes[0].location.split(":", 1)[0] if nodes else "launch"
    nodes = [
        *nodes,
        *(
            NodeSpec(
                *req.provided_by,
                req.name.rpartition("/")[2],
                req.name.rpartition("/")[0],
                location=source,
                in_launch_file=False,
            )
            for name, req in provided.items()
            if name not in named
        ),
    ]
    locked = []
    for spec in nodes:
        req = provided.get(spec.fqn)
        if spec.platform:
            locked.append(spec)
        elif req is not None:
            locked.append(_locked(spec, req))
        else:
            for other in provided.values():
                if (spec.pkg, spec.executable) == other.provided_by:
                    raise _moved_platform_node(spec, other)
            locked.append(spec)
    return tuple(locked)


def _moved_platform_node(spec: NodeSpec, req: NodeRequirement) -> SubmissionError:
    leaf = req.name.rsplit("/", 1)[1]
    return SubmissionError(
        spec.located("namespace" if spec.namespace.strip("/") else "name"),
        f"{spec.pkg} {spec.executable} is the platform's node {req.name}: launch it once, "
        f"as `name: {leaf}` without a namespace (the assignment configures it)",
        f"{spec.pkg} {spec.executable}은(는) 플랫폼 노드 {req.name}입니다. "
        f"`name: {leaf}`로, namespace 없이 한 번만 실행하세요 (설정은 과제가 정합니다)",
    )


def _locked(spec: NodeSpec, req: NodeRequirement) -> NodeSpec:
    pkg, exe = req.provided_by
    if (spec.pkg, spec.executable) != (pkg, exe):
        raise SubmissionError(
            spec.location,
            f"node {req.name} must be the platform's own ({pkg} {exe}), "
            f"not {spec.pkg} {spec.executable}",
            f"노드 {req.name}은(는) 플랫폼이 제공하는 노드({pkg} {exe})로 실행해야 합니다 "
            f"({spec.pkg} {spec.executable}(으)로 바꿀 수 없습니다)",
        )
    params = dict(req.parameters)
    for name, value in spec.params.items():
        rule = req.allowed_parameters.get(name)
        shown = shorten(name, 60)
        if rule is None:
            allowed = ", ".join(sorted(req.allowed_parameters)) or "none"
            raise SubmissionError(
                spec.located(f"param:{name}"),
                f"parameter {shown} of the platform node {req.name} is set by the assignment, "
                f"not by the launch file: remove it (parameters you may set: {allowed})",
                f"플랫폼 노드 {req.name}의 파라미터 {shown}은(는) 과제가 정합니다. 런치 파일에서 "
                f"지우세요 (바꿀 수 있는 파라미터: {allowed if req.allowed_parameters else '없음'})",
            )
        if not rule.allows(value):
            en, ko = rule.describe()
            value_shown = shorten(repr(value), 60)
            raise SubmissionError(
                spec.located(f"param:{name}"),
                f"parameter {shown} of {req.name} may be {en}, not {value_shown}",
                f"플랫폼 노드 {req.name}의 파라미터 {shown}은(는) {ko}만 쓸 수 있습니다 "
                f"({value_shown}은(는) 안 됩니다)",
            )
        params[name] = value
    for part, given in (("remap", spec.remaps), ("ros_args", spec.ros_args)):
        if given:
            raise SubmissionError(
                spec.located(part),
                f"the platform node {req.name} takes no {part} from the launch file: its topics "
                "and arguments are the assignment's (remove the entry)",
                f"플랫폼 노드 {req.name}에는 런치 파일에서 {part} 항목을 줄 수 없습니다. 토픽과 "
                "인자는 과제가 정합니다 (이 항목을 지우세요)",
            )
    namespace, _, leaf = req.name.rpartition("/")
    return NodeSpec(
        pkg,
        exe,
        leaf,
        namespace,
        params,
        req.remaps,
        (),
        spec.location,
        platform=True,
        in_launch_file=spec.in_launch_file,
        locations=spec.locations,
    )
