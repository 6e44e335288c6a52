"""The guides hold what they say: the engineer guide's annotated scenario is valid, and every
`rootroute ...` command in the engineer and teacher guides is one the CLI takes.

- The annotated example of `scenarios/CONTRIBUTING.md` (the ```yaml blocks that hold a whole
  scenario: one with Korean comments, one with English) is written to a temporary folder and
  loaded with `load_scenario`, the validator `rootroute scenario validate` uses, and a few of its
  hidden variants are drawn and checked to be solvable. Both blocks are the same data, and every
  key they hold has the library file's value (the example is the library's file, annotated).
- Every line of a ```bash block that starts with `rootroute` is parsed by the CLI's own argparse
  parser (`curriculum_pkg.cli.main`, stopped right after parsing): subcommand, positionals and
  options. Every inline `rootroute ...` span names a real subcommand (and a real action, for the
  ones that take one, such as `scenario validate`). Nothing runs.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
import textwrap
from pathlib import Path
from unittest import mock

import jsonschema
import pytest
import yaml

from common_pkg.worldspec import WORLD_SCHEMA
from curriculum_pkg import cli
from curriculum_pkg.scenario import SCENARIO_DIR, load_scenario
from curriculum_pkg.variants import check_variants

REPO = Path(__file__).resolve().parents[3]
ENGINEER_GUIDE = SCENARIO_DIR / "CONTRIBUTING.md"
TEACHER_GUIDE = REPO / "TEACHER_GUIDE.md"
GUIDES = [ENGINEER_GUIDE, TEACHER_GUIDE]
EXAMPLE_ID = "banwol_plating_01"


def fenced_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def annotated_examples() -> list[str]:
    """The engineer guide's whole-scenario YAML blocks (excerpts have no schema_version)."""
    blocks = fenced_blocks(ENGINEER_GUIDE.read_text(encoding="utf-8"), "yaml")
    return [b for b in blocks if re.search(r"^schema_version:", b, re.MULTILINE)]


def test_the_guide_has_the_annotated_example_in_both_languages():
    examples = annotated_examples()
    assert len(examples) == 2, "one annotated example in Korean, one in English"
    korean, english = (yaml.safe_load(e) for e in examples)
    assert korean == english, "the two annotated examples are not the same data"
    for example in examples:  # a comment on every line or block: most lines carry one
        lines = [x for x in example.splitlines() if x.strip()]
        commented = [x for x in lines if "#" in x]
        assert len(commented) >= 0.6 * len(lines), f"{len(commented)}/{len(lines)} lines commented"


@pytest.mark.parametrize("which", [0, 1], ids=["korean", "english"])
def test_the_annotated_example_is_a_valid_scenario(tmp_path, which):
    path = tmp_path / f"{EXAMPLE_ID}.yaml"
    path.write_text(annotated_examples()[which], encoding="utf-8")
    scenario = load_scenario(path)  # raises a located ScenarioError if it is not valid
    assert scenario.id == EXAMPLE_ID
    found = check_variants(scenario, range(5), 2)  # as `validate` does, with fewer seeds
    assert not found.problems, found.problems


def test_the_annotated_example_is_the_library_file():
    library = yaml.safe_load((SCENARIO_DIR / f"{EXAMPLE_ID}.yaml").read_text(encoding="utf-8"))
    example = yaml.safe_load(annotated_examples()[0])
    for key, value in example.items():
        if key in library:  # (a key new in the format may reach the guide before the library)
            assert value == library[key], f"{key}: the guide's example differs from the library"
    assert set(library) <= set(example), f"the example leaves out {set(library) - set(example)}"


def test_the_excerpts_are_valid_items_of_library_scenarios():
    """The guide's partial YAML blocks (items under `world:`) are valid by the world schema, and
    each is an item (same id or name, same kind) of a library scenario; its values may lag."""
    blocks = fenced_blocks(ENGINEER_GUIDE.read_text(encoding="utf-8"), "yaml")
    excerpts = [textwrap.dedent(b) for b in blocks if b not in annotated_examples()]
    assert excerpts, "no excerpts"
    worlds = [
        yaml.safe_load(path.read_text(encoding="utf-8"))["world"]
        for path in sorted(SCENARIO_DIR.glob("*.yaml"))
    ]
    for excerpt in excerpts:
        data = yaml.safe_load(excerpt)
        jsonschema.validate(data, {**WORLD_SCHEMA, "required": []})
        for key, items in data.items():
            for item in items:
                same = [
                    other
                    for world in worlds
                    for other in world.get(key, [])
                    if other.get("id", other.get("name")) == item.get("id", item.get("name"))
                    and other.get("kind") == item.get("kind")
                ]
                assert same, f"{key}: no library scenario has {item}"


# --- commands ---------------------------------------------------------------------------------


class _Parsed(Exception):
    pass


def parse(argv: list[str]) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """Parse `rootroute ARGV` with the CLI's own parser, and stop there: nothing runs."""
    seen = {}
    real = argparse.ArgumentParser.parse_args

    def parse_only(self, args=None, namespace=None):
        seen["parser"], seen["args"] = self, real(self, args, namespace)
        raise _Parsed

    with (
        mock.patch.object(argparse.ArgumentParser, "parse_args", parse_only),
        contextlib.suppress(_Parsed),
    ):
        cli.main(argv)
    return seen["parser"], seen["args"]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def commands(guide: Path) -> tuple[list[str], list[str]]:
    """(lines of ```bash blocks starting with `rootroute`, inline `rootroute ...` spans)."""
    text = guide.read_text(encoding="utf-8")
    lines = []
    for block in fenced_blocks(text, "bash"):
        for line in block.splitlines():
            line = re.sub(r"(^|\s)#.*$", "", line).strip()
            if line.startswith("rootroute "):
                lines.append(line)
    outside = re.sub(r"^```.*?^```$", "", text, flags=re.MULTILINE | re.DOTALL)
    spans = re.findall(r"`(rootroute(?: [^`]*)?)`", outside)
    return lines, spans


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_command_line_of_the_guide_parses(guide, capsys):
    lines, _ = commands(guide)
    assert lines, f"{guide.name} shows no rootroute command"
    for line in lines:
        try:
            parse(shlex.split(line)[1:])
        except SystemExit:
            pytest.fail(f"{guide.name}: `{line}`: {capsys.readouterr().err.strip()}")


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_inline_command_of_the_guide_is_a_real_subcommand(guide):
    parser, _ = parse(["doctor"])
    verbs = subcommands(parser)
    _, spans = commands(guide)
    assert spans, f"{guide.name} names no rootroute command"
    for span in spans:
        words = span.split()[1:]
        if not words or words[0].startswith("-"):
            continue  # `rootroute` alone, or `rootroute --help`
        assert words[0] in verbs, f"{guide.name}: `{span}`: no subcommand {words[0]!r}"
        sub = verbs[words[0]]
        if len(words) < 2 or not re.fullmatch(r"[a-z][a-z-]*", words[1]):
            continue  # no action named (or a placeholder, a path, an option)
        nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        first = [a for a in sub._actions if a.option_strings == [] and a.choices]
        if nested:
            assert words[1] in nested[0].choices, f"{guide.name}: `{span}`: no action {words[1]!r}"
        elif first:
            assert words[1] in first[0].choices, f"{guide.name}: `{span}`: no action {words[1]!r}"


# --- links ------------------------------------------------------------------------------------


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces -."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: Path) -> set[str]:
    text = re.sub(r"^```.*?^```$", "", markdown.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {github_anchor(h) for h in re.findall(r"^#+ (.*)$", text, re.MULTILINE)}


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_the_guides_links_lead_somewhere(guide):
    """Relative links name files that exist, and their #anchors headings that exist; the README
    files link to the guides."""
    text = re.sub(r"^```.*?^```$", "", guide.read_text(encoding="utf-8"), flags=re.M | re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"https?://", target):
            continue
        path, _, anchor = target.partition("#")
        file = (guide.parent / path).resolve() if path else guide
        assert file.exists(), f"{guide.name}: link to {target}: no such file"
        if anchor and file.suffix == ".md":
            assert anchor in anchors(file), f"{guide.name}: link to {target}: no such heading"
    readme = {ENGINEER_GUIDE: SCENARIO_DIR / "README.md", TEACHER_GUIDE: REPO / "README.md"}[guide]
    assert f"]({guide.name})" in readme.read_text(encoding="utf-8"), f"{readme} does not link it"
