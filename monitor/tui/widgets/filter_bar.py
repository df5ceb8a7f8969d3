"""The filter line."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from monitor.tui import text


class FilterBar(Vertical):
    """The filter line: an input and, when the query is malformed, where and why."""

    def compose(self) -> ComposeResult:
        field = Input(
            placeholder='words, "a phrase", source:Name, OR, NOT, ( ) · Enter keeps · Esc clears',
            id="filter-input",
        )
        field.cursor_blink = False  # a blinking cursor redraws the terminal twice a second
        yield field
        yield Static("", id="filter-error")

    def show_error(self, message: str | None, position: int = 0) -> None:
        field = self.query_one(Input)
        error = self.query_one("#filter-error", Static)
        field.set_class(message is not None, "-error")
        error.display = message is not None
        if message is not None:
            # Under the character at `position`: past the input's border and padding.
            inset = field.content_region.x - field.region.x if field.region else 3
            column = max(0, inset + max(0, position) - round(field.scroll_x))
            line = Text(" " * column + "^ ", style="bold", end="")
            line.append_text(text.text(message))
            error.update(line)
