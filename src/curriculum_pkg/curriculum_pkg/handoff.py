"""The grading worker's result, handed to the parent as JSON (ROS-free).

The worker (curriculum_pkg.grade_worker) runs next to student code, so what it sends back must
be data, never something that runs when read: not a pickle. It writes one JSON document to a
pipe only it and the parent hold (student processes never inherit it), and the parent rebuilds
the result's dataclasses from the type hints, reading at most MAX_RESULT_BYTES.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path

from curriculum_pkg.errors import GraderFault, SubmissionError

MAX_RESULT_BYTES = 64 << 20  # trajectories of every episode fit many times over


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    if isinstance(value, SubmissionError):
        kind = "grader" if isinstance(value, GraderFault) else "submission"
        return {"kind": kind, "location": value.location, "en": value.en, "ko": value.ko}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def encode(value) -> str:
    """JSON for a dataclass tree (lists, tuples, dicts, paths and located errors inside)."""
    return json.dumps(_plain(value), ensure_ascii=False, allow_nan=False)


def decode(cls, text: str | bytes):
    """Rebuild `cls` (a dataclass) from `encode`'s JSON; ValueError if it does not fit."""
    try:
        return _build(cls, json.loads(text))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a {cls.__name__}: {exc}") from None


def _build(tp, value):
    if value is None:
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        return _build(options[0], value)
    if tp is Path:
        return Path(value)
    if isinstance(tp, type) and issubclass(tp, SubmissionError):
        error_type = GraderFault if value["kind"] == "grader" else SubmissionError
        return error_type(str(value["location"]), str(value["en"]), str(value["ko"]))
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return tp(
            **{
                f.name: _build(hints[f.name], value[f.name])
                for f in dataclasses.fields(tp)
                if f.init and f.name in value
            }
        )
    if origin is list:
        return [_build(args[0], v) for v in value]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v) for v in value)
        return tuple(_build(a, v) for a, v in zip(args, value, strict=True))
    if origin is dict:
        return {k: _build(args[1], v) for k, v in value.items()}
    if tp in (int, float, str, bool) and not isinstance(value, tp):
        if tp is float and isinstance(value, int):
            return float(value)
        raise TypeError(f"{value!r} is not {tp.__name__}")
    return value
