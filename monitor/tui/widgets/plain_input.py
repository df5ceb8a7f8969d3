"""An input line that holds plain text only: what is pasted or set passes the text gate."""

from __future__ import annotations

from textual.widgets import Input

from monitor.tui import text


class PlainInput(Input):
    """An `Input` whose value never holds a control, an escape sequence or a bidi mark.

    Textual's input draws its value as it is: a paste holding ESC would reach the terminal.
    Inserted text is cleaned before it goes in (so the cursor lands after what was kept),
    and any value set in code is cleaned too."""

    def replace(self, text_: str, start: int, end: int) -> None:
        super().replace(text.clean(text_), start, end)

    def validate_value(self, value: str) -> str:
        return text.clean(value)
