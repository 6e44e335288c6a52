"""Jinja2 templates for the Markdown reports, escaping by default.

In a Markdown template (`templates/*.md.j2`) every `{{ value }}` is shown as text through
`md_inline`, unless a filter has already made it Markdown: `|code` (an inline code span), `|fence`
(a fenced block, for a log bounded beforehand), `|url` (a link target). A value without a filter
is therefore escaped, never live Markdown: the safe way is the default one.

Jinja2's own autoescape is HTML's (`&lt;` inside a code block would show as `&lt;`), so Markdown
uses the `finalize` hook instead; an HTML report would get its own Environment with
`autoescape=True`.
"""

from __future__ import annotations

import functools

from jinja2 import Environment, PackageLoader, StrictUndefined

from curriculum_pkg.reports.safe_text import Markdown, md_code, md_fence, md_inline, md_url


def _as_markdown(value: object) -> Markdown:
    return value if isinstance(value, Markdown) else md_inline(value)


@functools.cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("curriculum_pkg.reports", "templates"),
        autoescape=False,  # see the module docstring: `finalize` escapes for Markdown
        finalize=_as_markdown,
        undefined=StrictUndefined,  # a misspelt name fails the test, not the report
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(code=md_code, fence=md_fence, url=md_url)
    return env


def render_markdown(template: str, **context: object) -> str:
    """`templates/<template>` rendered with `context`; every value escaped unless a filter made
    it Markdown."""
    return _environment().get_template(template).render(**context)
