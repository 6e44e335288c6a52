"""Student text made safe for what people read: Markdown, CSV, XML and the console.

Everything a submission controls (its log tail, node and package names, file names, the values
it reports, its folder name) reaches a report as text. These functions make sure it stays text:

- `plain_text`: printable only (no terminal escapes, no bidi overrides, no control characters,
  no lone surrogates), so it is valid XML 1.0 and cannot rewrite a terminal or reorder a line.
- `bounded`: at most so many lines of so many characters, with what was cut said in both
  languages.
- `md_inline`, `md_code`, `md_fence`, `md_url`: Markdown that shows the text as it is in any
  CommonMark or GitHub renderer: no heading, list, table cell, link, image, emphasis or raw HTML
  of its own.
- `csv_text`: a cell a spreadsheet cannot run as a formula (OWASP "CSV injection").
"""

from __future__ import annotations

import re
from urllib.parse import quote

REPLACEMENT = "\ufffd"

# Terminal escape sequences: CSI (colours, cursor moves), OSC (window titles, hyperlinks) and the
# two-byte ones. rclpy colours its log lines, so these are common and harmless once dropped.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\v\f\x1c-\x1e\x85\u2028\u2029]")
# What is left that a reader cannot see or that breaks a format: C0 and C1 controls (tab and
# newline excepted), DEL, bidi embeddings/overrides/isolates (they reorder what a line shows),
# lone surrogates (not encodable) and the two non-characters XML 1.0 forbids.
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff\ufffe\uffff]"
)


def plain_text(text: object) -> str:
    """`text` as printable text with "\\n" line breaks: terminal escapes dropped, every other
    control character, bidi control and lone surrogate replaced by U+FFFD. Valid XML 1.0."""
    text = _ANSI.sub("", str(text))
    text = _LINE_BREAKS.sub("\n", text)
    return _UNPRINTABLE.sub(REPLACEMENT, text)


def shorten(line: str, max_chars: int) -> str:
    """One line, cut to `max_chars` (plus a bilingual note of how much was cut)."""
    if len(line) <= max_chars:
        return line
    cut = len(line) - max_chars
    return f"{line[:max_chars]} … ({cut}자 생략 / {cut} characters cut)"


def bounded(text: object, max_lines: int = 30, max_line_chars: int = 240) -> str:
    """Printable text of at most `max_lines` lines of at most `max_line_chars` characters each.
    A longer text keeps its first lines (the grader's own message) and its last ones (where a
    traceback ends); what was cut in between is said in both languages."""
    lines = plain_text(text).split("\n")
    if len(lines) > max_lines:
        head = max(1, max_lines // 4)
        tail = max_lines - head - 1
        cut = len(lines) - head - tail
        lines = [*lines[:head], f"… ({cut}줄 생략 / {cut} lines cut) …", *lines[-tail:]]
    return "\n".join(shorten(line, max_line_chars) for line in lines)


def first_line(text: object, max_chars: int = 300) -> str:
    """The first non-blank line of a text, printable and at most `max_chars` long."""
    lines = [line.strip() for line in plain_text(text or "").split("\n") if line.strip()]
    return shorten(lines[0].rstrip(":"), max_chars) if lines else ""


# --- Markdown -----------------------------------------------------------------------------------


class Markdown(str):
    """Text that is already Markdown (made by the functions here), so not escaped again."""


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# ASCII punctuation that starts something inline in CommonMark or GitHub's flavour: code, emphasis,
# strikethrough, links and images (`[`), table cells (`|`), math (`$`), email autolinks (`@`),
# and the backslash itself. Not `#`, `-`, `+`, `=`, `.`: those only mean something at the start
# of a line, and a value never starts one (its line breaks are gone).
_MD_PUNCT = set("\\`*[]|~$@")
_URL_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])://|\bwww\.")


def _escape_char(text: str, i: int) -> str:
    ch = text[i]
    if ch in _HTML:
        return _HTML[ch]
    if ch in _MD_PUNCT:
        return "\\" + ch
    if ch == "_":  # inside a word (station_runner) it cannot start emphasis: keep it readable
        inside = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
        return ch if inside else "\\_"
    return ch


def md_inline(text: object, max_chars: int = 1000) -> Markdown:
    """Text for a line of Markdown or a table cell: one line, HTML special characters as entities,
    inline Markdown punctuation backslash-escaped, bare URLs not turned into links."""
    flat = " ".join(plain_text(text).replace("\t", " ").split("\n"))
    flat = shorten(flat, max_chars)
    escaped = "".join(_escape_char(flat, i) for i in range(len(flat)))
    # GitHub links a bare http://... or www.... by itself; "\:" and "\." show the same, link nothing.
    return Markdown(_URL_AUTOLINK.sub(_unlink, escaped))


def _unlink(match: re.Match) -> str:
    return match.group(0).replace(":", "\\:").replace(".", "\\.")


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def md_code(text: object, max_chars: int = 300) -> Markdown:
    """An inline code span showing `text` literally (one line). Its backtick fence is longer than
    any backtick run inside, so the text cannot close it. Not for table cells: GitHub splits a
    cell at `|` even inside code."""
    flat = shorten(" ".join(plain_text(text).split("\n")), max_chars)
    if not flat:
        return Markdown("")
    ticks = "`" * (_longest_backtick_run(flat) + 1)
    pad = " " if flat[0] in "` " or flat[-1] in "` " else ""
    return Markdown(f"{ticks}{pad}{flat}{pad}{ticks}")


def md_fence(text: object, info: str = "text") -> Markdown:
    """A fenced code block showing `text` literally, line by line. Its fence is longer than any
    backtick run inside (CommonMark: only a fence at least as long closes it), so no line of the
    text can end the block. Bound the text first (`bounded`); this keeps every line."""
    body = plain_text(text)
    fence = "`" * max(3, _longest_backtick_run(body) + 1)
    return Markdown(f"{fence}{info}\n{body}\n{fence}")


def md_url(path: object) -> Markdown:
    """A relative link target: percent-encoded, so a folder name cannot end the link, add a title
    or become another scheme (it always starts with the path we give)."""
    return Markdown(quote(plain_text(path), safe="/"))


# --- CSV ----------------------------------------------------------------------------------------

# A spreadsheet runs a cell starting with one of these as a formula (OWASP, plus the full-width
# forms an East Asian keyboard types). Leading blanks do not protect: some programs skip them.
_FORMULA_START = tuple("=+-@\t\r\n") + tuple("＝＋－＠")


def csv_text(text: object, max_chars: int = 2000) -> str:
    """A text cell that opens as text: printable, bounded, and prefixed with a single quote when
    a spreadsheet could read it as a formula. For our own numbers, write int or float instead."""
    value = shorten(plain_text(text), max_chars)
    if value.lstrip(" \t\r\n").startswith(_FORMULA_START) or value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_cell(value: object) -> object:
    """A cell for csv.writer: a number (ours: a rank, points, seconds) as it is, so a spreadsheet
    sums it; anything else through `csv_text`."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    return csv_text("" if value is None else value)
