"""The one gate between untrusted text (feeds, pages, error details) and the screen.

Everything from outside goes through `clean`, then becomes a `rich.text.Text` or a
`textual.content.Content` built from the plain string: never markup, so `[b]`,
`[@click=…]` and friends show literally. Control stripping is `core.normalize.plain_text` over
`strip_controls` (whole escape sequences, then C0/C1 and bidi controls): the function
ingest uses, and the command line's gate (`cli.common.one_line`) too.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.content import Content

from monitor.core.normalize import plain_line, plain_text


def clean(value: object, *, multiline: bool = False) -> str:
    """Untrusted text as plain, inert characters (`core.normalize.plain_text`, which the
    command line's gate uses too).

    One line (the default): newlines and tabs become single spaces. Multi-line: line
    breaks become "\\n" and tabs four spaces.
    """
    return plain_text(value, multiline=multiline)


def terminal_text(value: object, limit: int) -> str:
    """Untrusted text for bytes written to the terminal ourselves (a notification's
    title): `clean`, on one line, white space squeezed, cut to `limit` characters."""
    s = plain_line(value)
    return s if len(s) <= limit else s[: max(limit - 1, 0)].rstrip() + "…"


def text(value: object, style: str | Style = "", *, multiline: bool = False) -> Text:
    """Untrusted text as a rich Text (no markup is parsed)."""
    return Text(clean(value, multiline=multiline), style=style, end="")


def content(value: object, *, multiline: bool = False) -> Content:
    """Untrusted text as a Textual Content (no markup is parsed)."""
    return Content(clean(value, multiline=multiline))
