"""YAML loading that remembers where every value came from, for located error messages.

Any YAML file may come from someone the platform does not trust (a student's launch file, a
contributed scenario), so it is read with limits: its size, nesting depth and number of values
are checked on PyYAML's event stream, which the parser produces iteratively, before the
recursive composer and constructor see it. Anchors and aliases are refused: a 1 KB "alias bomb"
stands for billions of values, and no file of ours needs them.
"""

from __future__ import annotations

import itertools
import math
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
# No quantity in a scenario or an assignment comes near this; beyond it a number loses its unit
# digits as a float, and an integer past ~1e308 cannot be one at all.
MAX_YAML_NUMBER = 1e15
# An identifier (scenario, station, obstacle, actor, assignment id): it names MJCF bodies, SDF
# models, files and ROS messages. \Z, not $: Python's $ also matches before a final newline.
IDENTIFIER = {"type": "string", "pattern": r"^[a-z][a-z0-9_]*\Z", "maxLength": 64}


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


def is_file(path: Path) -> bool:
    """Path.is_file, False also where the system cannot look: a name someone wrote in a file may
    be too long for the file system (Path.is_file raises OSError then)."""
    try:
        return path.is_file()
    except OSError:
        return False


def is_dir(path: Path) -> bool:
    """Path.is_dir, False also where the system cannot look (see is_file)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _read_text(path: Path, error_type: type[LocatedError]) -> str:
    """The file's text, read no further than the size limit."""
    try:
        special = path.exists() and not path.is_file()
    except OSError:  # a name too long: open() below says so
        special = False
    if special:  # a FIFO would block, a device never end
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


def check_values(data: Any, locate: Locator, error_type: type[LocatedError]) -> None:
    """Refuse what no schema can: .inf and .nan, numbers beyond MAX_YAML_NUMBER, and the NUL
    character in text (no file name or ROS name may hold it). Keys are text too."""
    stack: list[tuple[tuple, Any]] = [((), data)]
    while stack:  # depth is bounded by check_yaml_limits; a stack keeps it iterative anyway
        path, value = stack.pop()
        if isinstance(value, dict):
            if any(isinstance(key, str) and "\0" in key for key in value):
                raise error_type(
                    locate(path),
                    "a key contains the NUL character (\\0)",
                    "키에 NUL 문자(\\0)가 들어 있습니다",
                )
            stack.extend(reversed([((*path, k), item) for k, item in value.items()]))  # in order
        elif isinstance(value, list):
            stack.extend(reversed([((*path, i), item) for i, item in enumerate(value)]))
        elif isinstance(value, str) and "\0" in value:
            raise error_type(
                locate(path),
                "the text contains the NUL character (\\0)",
                "글자에 NUL 문자(\\0)가 들어 있습니다",
            )
        elif isinstance(value, float) and not math.isfinite(value):
            raise error_type(
                locate(path),
                f"{value} is not a finite number (.inf and .nan are not allowed here)",
                f"{value}은(는) 유한한 숫자가 아닙니다 (.inf, .nan은 쓸 수 없습니다)",
            )
        elif _too_large(value):
            shown = shorten(f"{value:g}" if isinstance(value, float) else str(value), 40)
            raise error_type(
                locate(path),
                f"{shown} is too large: numbers here are at most {MAX_YAML_NUMBER:g} in size",
                f"{shown}은(는) 너무 큽니다. 숫자의 크기는 {MAX_YAML_NUMBER:g}까지입니다",
            )


def _too_large(value: Any) -> bool:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return number and abs(value) > MAX_YAML_NUMBER


# What the Korean says for the schema checks that carry a limit: the limit, in both languages.
_KO_LIMITS = {
    "maximum": "{value}은(는) 최댓값 {limit}보다 큽니다",
    "exclusiveMaximum": "{value}은(는) {limit}보다 작아야 합니다",
    "minimum": "{value}은(는) 최솟값 {limit}보다 작습니다",
    "exclusiveMinimum": "{value}은(는) {limit}보다 커야 합니다",
    "maxItems": "항목이 너무 많습니다: 최대 {limit}개까지 쓸 수 있습니다",
    "minItems": "항목이 모자랍니다: 최소 {limit}개가 있어야 합니다",
    "maxLength": "글자가 너무 깁니다: 최대 {limit}자까지 쓸 수 있습니다",
}


def _ko_limit(err) -> str | None:
    template = _KO_LIMITS.get(err.validator)
    if template is None or isinstance(err.instance, bool):
        return None
    value = err.instance if isinstance(err.instance, (int, float)) else ""
    return template.format(value=shorten(str(value), 40), limit=err.validator_value)


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
    if err.validator in ("maxItems", "minItems", "maxLength"):  # jsonschema leaves out the limit
        limit = {
            "maxItems": f"at most {err.validator_value} items",
            "minItems": f"at least {err.validator_value} items",
            "maxLength": f"at most {err.validator_value} characters",
        }[err.validator]
        raise error_type(locate(key_path), f"{message} ({limit})", _ko_limit(err))
    if err.validator == "pattern" and err.validator_value == IDENTIFIER["pattern"]:
        shown = shorten(repr(err.instance), 80)
        raise error_type(
            locate(key_path),
            f"{shown} is not a valid name: lower case letters, digits and _, starting with a letter",
            f"{shown}은(는) 쓸 수 없는 이름입니다. 영문 소문자로 시작하고 소문자, 숫자, _만 쓰세요",
        )
    ko_limit = _ko_limit(err)
    if ko_limit is not None:
        raise error_type(locate(key_path), message, ko_limit)
    raise error_type(locate(key_path), message, f"값이 올바르지 않습니다: {message}")
