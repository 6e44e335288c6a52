"""YAML loading that remembers where every value came from, for located error messages.

Any YAML file may come from someone the platform does not trust (a student's launch file, a
contributed scenario), so it is read with limits: its size, nesting depth and number of values
are checked on PyYAML's event stream, which the parser produces iteratively, before the
recursive composer and constructor see it. Anchors and aliases are refused: a 1 KB "alias bomb"
stands for billions of values, and no file of ours needs them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from common_pkg.errors import LocatedError

Locator = Callable[[tuple], str]
MarkLocator = Callable[[yaml.Mark], str]

MAX_YAML_BYTES = 1 << 20  # our largest file (a scenario) is 8 KB; a launch file is smaller
MAX_YAML_DEPTH = 64  # ours nest 7 deep; the composer recurses a few frames per level
MAX_YAML_NODES = 50_000  # ours hold 400 at most
MAX_SCHEMA_ERRORS = 1000  # the deepest of these is reported


def _index_marks(node: yaml.Node, path: tuple, marks: dict[tuple, tuple[int, int]]) -> None:
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            _index_marks(value_node, (*path, key), marks)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_marks(item, (*path, i), marks)


def shorten(text: str, limit: int = 200) -> str:
    """A value quoted in an error message, cut to a readable length (it may be a whole file)."""
    return text if len(text) <= limit else f"{text[: limit - 20]}... ({len(text)} characters)"


def format_path(path: tuple) -> str:
    """('stations', 2, 'marker_id') -> 'stations[2].marker_id'."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_yaml_limits(text: str, error_type: type[LocatedError], where: MarkLocator) -> None:
    """Refuse anchors, aliases, deep nesting and too many values, before anything is built.

    Reads the event stream only: no recursion, constant memory. A syntax error is left to the
    caller, as the parser's yaml.YAMLError.
    """
    depth = values = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        if event.anchor is not None:  # an &anchor on a value, or an *alias (its anchor's name)
            raise error_type(
                where(event.start_mark),
                "YAML anchors and aliases (&name, *name) are not allowed: write the value out",
                "YAML 앵커와 별칭(&이름, *이름)은 쓸 수 없습니다. 값을 직접 적으세요",
            )
        values += 1
        if values > MAX_YAML_NODES:
            raise error_type(
                where(event.start_mark),
                f"more than {MAX_YAML_NODES} YAML values in one file",
                f"한 파일에 YAML 값이 {MAX_YAML_NODES}개를 넘게 들어 있습니다",
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise error_type(
                    where(event.start_mark),
                    f"YAML nested more than {MAX_YAML_DEPTH} levels deep",
                    f"YAML이 {MAX_YAML_DEPTH}단계보다 깊게 중첩되어 있습니다",
                )


def _read_text(path: Path, error_type: type[LocatedError]) -> str:
    """The file's text, read no further than the size limit."""
    if path.exists() and not path.is_file():  # a FIFO would block, a device never end
        raise error_type(str(path), "not a regular file", "일반 파일이 아닙니다")
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_YAML_BYTES + 1)
    except OSError as exc:
        raise error_type(
            str(path),
            f"cannot read file ({exc.strerror})",
            f"파일을 읽을 수 없습니다 ({exc.strerror})",
        ) from None
    if len(raw) > MAX_YAML_BYTES:
        raise error_type(
            path.name,
            f"the file is larger than {MAX_YAML_BYTES >> 20} MiB",
            f"파일이 {MAX_YAML_BYTES >> 20} MiB보다 큽니다",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error_type(
            f"{path.name}:{line}:{col}",
            "the file is not UTF-8 text",
            "파일이 UTF-8 텍스트가 아닙니다",
        ) from None


def load_yaml(path: Path, error_type: type[LocatedError] = LocatedError) -> tuple[Any, Locator]:
    """Load one YAML document and a locator mapping a key path to 'file:line:col: key.path'."""
    path = Path(path)
    text = _read_text(path, error_type)

    def at_mark(mark: yaml.Mark) -> str:
        return f"{path.name}:{mark.line + 1}:{mark.column + 1}"

    loader = None
    try:
        check_yaml_limits(text, error_type, at_mark)
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise error_type(
            at_mark(mark) if mark else path.name,
            f"invalid YAML: {problem}",
            f"YAML 문법 오류: {problem}",
        ) from None
    except ValueError as exc:  # a value YAML reads but Python refuses, e.g. a 5000-digit integer
        raise error_type(
            path.name, f"invalid YAML value: {exc}", f"YAML 값이 올바르지 않습니다: {exc}"
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    marks: dict[tuple, tuple[int, int]] = {}
    if node is not None:
        _index_marks(node, (), marks)

    def locate(key_path: tuple) -> str:
        probe = tuple(key_path)
        while probe not in marks and probe:
            probe = probe[:-1]  # a missing key is reported at its parent
        line, col = marks.get(probe, (1, 1))
        shown = shorten(format_path(tuple(key_path)))
        return f"{path.name}:{line}:{col}" + (f": {shown}" if shown else "")

    return data, locate


def validate(data: Any, schema: dict, locate: Locator, error_type: type[LocatedError]) -> None:
    """Check `data` against a JSON Schema; raise the first (deepest) problem, located."""
    import jsonschema  # imported here: only loaders need it

    validator = jsonschema.Draft202012Validator(schema)
    found = itertools.islice(validator.iter_errors(data), MAX_SCHEMA_ERRORS)
    errors = sorted(found, key=lambda e: (-len(e.absolute_path), e.message))
    if not errors:
        return
    err = errors[0]
    key_path = tuple(err.absolute_path)
    message = shorten(err.message)
    if err.validator == "required":
        missing = shorten(err.message.split("'")[1] if "'" in err.message else err.message)
        raise error_type(
            locate(key_path),
            f"missing required key '{missing}'",
            f"필수 항목 '{missing}'이(가) 없습니다",
        )
    if err.validator == "additionalProperties":
        raise error_type(locate(key_path), message, f"알 수 없는 항목입니다: {message}")
    raise error_type(locate(key_path), message, f"값이 올바르지 않습니다: {message}")
