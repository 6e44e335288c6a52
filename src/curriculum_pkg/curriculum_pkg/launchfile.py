"""Read a student's graph from a ROS 2 YAML launch file (the subset the grader runs itself).

Supported: `launch: [arg{name, default}, node{pkg, exec, name, namespace, param, remap, ros_args}]`
with `param: [{name, value}]`, `remap: [{from, to}]` and `$(var NAME)` substitutions. The same
file works unchanged with `ros2 launch` on a full ROS install.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from curriculum_pkg.errors import SubmissionError
from sim_pkg.yamlio import load_yaml, validate

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
_SUBST = re.compile(r"\$\((\S+)\s*([^)]*)\)")


@dataclass(frozen=True)
class NodeSpec:
    pkg: str
    executable: str
    name: str
    namespace: str = ""
    params: dict = field(default_factory=dict)
    remaps: tuple[tuple[str, str], ...] = ()
    ros_args: tuple[str, ...] = ()
    location: str = ""

    @property
    def fqn(self) -> str:
        ns = "/" + self.namespace.strip("/") if self.namespace.strip("/") else ""
        return f"{ns}/{self.name}"


def _typed(value):
    """Like ros2 launch: a string parameter value is read as YAML ("0.22" -> 0.22, "true" -> True)."""
    if not isinstance(value, str):
        return value
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return parsed if isinstance(parsed, (bool, int, float, list)) else value


def parse_launch_file(path: Path) -> list[NodeSpec]:
    data, locate = load_yaml(path, SubmissionError)
    validate(data, LAUNCH_SCHEMA, locate, SubmissionError)
    args: dict[str, str] = {}

    def substitute(value, where: tuple):
        if not isinstance(value, str):
            return value

        def repl(match: re.Match) -> str:
            kind, arg = match.group(1), match.group(2).strip()
            if kind == "var" and arg in args:
                return args[arg]
            if kind == "var":
                raise SubmissionError(
                    locate(where),
                    f"$(var {arg}) names no arg declared above it",
                    f"$(var {arg})에 해당하는 arg가 앞에 선언되어 있지 않습니다",
                )
            raise SubmissionError(
                locate(where),
                f"substitution $({kind} ...) is not supported by the grader; "
                "use $(var NAME) or a plain value",
                f"채점기는 $({kind} ...) 치환을 지원하지 않습니다. $(var 이름)이나 값을 직접 쓰세요",
            )

        return _SUBST.sub(repl, value)

    nodes: list[NodeSpec] = []
    for i, entry in enumerate(data["launch"]):
        if "arg" in entry:
            arg = entry["arg"]
            args[arg["name"]] = str(arg.get("default", ""))
            continue
        node, where = entry["node"], ("launch", i, "node")
        name = node.get("name") or node["exec"]
        params = {
            p["name"]: _typed(substitute(p["value"], (*where, "param", j, "value")))
            for j, p in enumerate(node.get("param", []))
        }
        remaps = tuple(
            (substitute(r["from"], (*where, "remap", j)), substitute(r["to"], (*where, "remap", j)))
            for j, r in enumerate(node.get("remap", []))
        )
        spec = NodeSpec(
            node["pkg"],
            node["exec"],
            name,
            substitute(node.get("namespace", ""), where),
            params,
            remaps,
            tuple(substitute(node.get("ros_args", ""), where).split()),
            locate(where),
        )
        if any(n.fqn == spec.fqn for n in nodes):
            raise SubmissionError(
                locate((*where, "name")),
                f"two nodes are named {spec.fqn}",
                f"노드 이름 {spec.fqn}이(가) 두 번 쓰였습니다",
            )
        nodes.append(spec)
    if not nodes:
        raise SubmissionError(
            locate(("launch",)),
            "the launch file starts no node",
            "launch 파일에 실행할 노드가 하나도 없습니다",
        )
    return nodes
