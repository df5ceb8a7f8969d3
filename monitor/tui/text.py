"""The one gate between untrusted text (feeds, pages, error details) and the screen.

Everything from outside goes through `clean`, then becomes a `rich.text.Text` or a
`textual.content.Content` built from the plain string: never markup, so `[b]`,
`[@click=…]` and friends show literally. Control stripping is `core.normalize.strip_controls`
(whole escape sequences, then C0/C1 and bidi controls), the same function ingest uses.
"""

from __future__ import annotations

import re

from rich.style import Style
from rich.text import Text
from textual.content import Content

from monitor.core.normalize import strip_controls

_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x0b\x0c\x85]")
_BLANKS = re.compile(r"[\t\n]+")


def clean(value: object, *, multiline: bool = False) -> str:
    """Untrusted text as plain, inert characters.

    One line (the default): newlines and tabs become single spaces. Multi-line: line
    breaks become "\\n" and tabs four spaces.
    """
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    s = _LINE_BREAKS.sub("\n", s)
    s = strip_controls(s)
    if multiline:
        return s.replace("\t", "    ")
    return _BLANKS.sub(" ", s)


def terminal_text(value: object, limit: int) -> str:
    """Untrusted text for bytes written to the terminal ourselves (a notification's
    title): `clean`, on one line, white space squeezed, cut to `limit` characters."""
    s = " ".join(clean(value).split())
    return s if len(s) <= limit else s[: max(limit - 1, 0)].rstrip() + "…"


def text(value: object, style: str | Style = "", *, multiline: bool = False) -> Text:
    """Untrusted text as a rich Text (no markup is parsed)."""
    return Text(clean(value, multiline=multiline), style=style, end="")


def content(value: object, *, multiline: bool = False) -> Content:
    """Untrusted text as a Textual Content (no markup is parsed)."""
    return Content(clean(value, multiline=multiline))
