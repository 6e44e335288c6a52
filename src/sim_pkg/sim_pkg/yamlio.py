"""YAML loading that remembers where every value came from, for located error messages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from sim_pkg.errors import LocatedError

Locator = Callable[[tuple], str]


def _index_marks(node: yaml.Node, path: tuple, marks: dict[tuple, tuple[int, int]]) -> None:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            _index_marks(value_node, (*path, key_node.value), marks)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_marks(item, (*path, i), marks)


def format_path(path: tuple) -> str:
    """('stations', 2, 'marker_id') -> 'stations[2].marker_id'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_yaml(path: Path, error_type: type[LocatedError] = LocatedError) -> tuple[Any, Locator]:
    """Load one YAML document and a locator mapping a key path to 'file:line:col: key.path'."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error_type(
            str(path),
            f"cannot read file ({exc.strerror})",
            f"파일을 읽을 수 없습니다 ({exc.strerror})",
        ) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path.name}:{mark.line + 1}:{mark.column + 1}" if mark else path.name
        raise error_type(
            where, f"invalid YAML: {exc.problem}", f"YAML 문법 오류: {exc.problem}"
        ) from None
    marks: dict[tuple, tuple[int, int]] = {}
    if node is not None:
        _index_marks(node, (), marks)

    def locate(key_path: tuple) -> str:
        probe = tuple(key_path)
        while probe not in marks and probe:
            probe = probe[:-1]  # a missing key is reported at its parent
        line, col = marks.get(probe, (1, 1))
        shown = format_path(tuple(key_path))
        return f"{path.name}:{line}:{col}" + (f": {shown}" if shown else "")

    return data, locate


def validate(data: Any, schema: dict, locate: Locator, error_type: type[LocatedError]) -> None:
    """Check `data` against a JSON Schema; raise the first (deepest) problem, located."""
    import jsonschema  # imported here: only loaders need it

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (-len(e.absolute_path), e.message))
    if not errors:
        return
    err = errors[0]
    key_path = tuple(err.absolute_path)
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        raise error_type(
            locate(key_path),
            f"missing required key '{missing}'",
            f"필수 항목 '{missing}'이(가) 없습니다",
        )
    if err.validator == "additionalProperties":
        raise error_type(locate(key_path), err.message, f"알 수 없는 항목입니다: {err.message}")
    raise error_type(locate(key_path), err.message, f"값이 올바르지 않습니다: {err.message}")
