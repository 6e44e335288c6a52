"""Mutations of a YAML document, for the property-based tests of our file loaders (scenarios in
common_pkg/test, assignments in curriculum_pkg/test): what someone writes by mistake or on
purpose where another value belongs. Only tests import this module (it needs hypothesis)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

ACTIONS = ["replace", "replace", "generated", "delete", "add", "repeat", "retype"]


def key_paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a document (mappings and lists), each parent before its children."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        out.append((*prefix, key))
        if isinstance(value, (dict, list)):
            out += key_paths(value, (*prefix, key))
    return out


def get_at(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


def mutate_once(data, doc: Any, hostile: list, extra_keys: list) -> None:
    """One mutation of `doc`, in place, drawn with hypothesis' `data`: a value replaced by one of
    `hostile` or a generated one, a key deleted, a key of `extra_keys` added, a list item
    repeated, or a value's type changed."""
    path = data.draw(st.sampled_from(key_paths(doc)))
    parent, key = get_at(doc, path[:-1]), path[-1]
    value = parent[key]
    action = data.draw(st.sampled_from(ACTIONS))
    if action == "replace":
        parent[key] = copy.deepcopy(data.draw(st.sampled_from(hostile)))
    elif action == "generated":
        parent[key] = data.draw(
            st.one_of(
                st.floats(),
                st.integers(),
                st.text(max_size=12),
                st.lists(st.floats(-10, 10), max_size=3),
            )
        )
    elif action == "delete":
        del parent[key]
    elif action == "add" and isinstance(value, dict):
        value[data.draw(st.sampled_from(extra_keys))] = data.draw(st.sampled_from(hostile))
    elif action == "repeat" and isinstance(value, list) and value:
        value.append(copy.deepcopy(value[data.draw(st.integers(0, len(value) - 1))]))
    elif action == "retype":
        parent[key] = data.draw(st.sampled_from([str(value), [value], {"value": value}]))
