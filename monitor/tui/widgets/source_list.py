"""The sources pane: the sources of the current view with their counts."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from monitor.tui import format, text
from monitor.tui.widgets.row_list import RowList, cursor_bindings


@dataclass(frozen=True, slots=True)
class SourceRow:
    name: str
    shown: int  # items in the current view
    day: int  # items in the last 24 hours


class SourceList(RowList):
    """The sources of the current view with their counts. Enter filters to one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *cursor_bindings("sources"),
        Binding("enter", "choose", "Filter to this source (again: clear)", id="sources.select"),
    ]

    empty_text = "no sources in view"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: Sequence[SourceRow] = ()
        self.picked: str | None = None

    def row_count(self) -> int:
        return len(self.rows)

    def row_key(self, index: int) -> Hashable:
        row = self.rows[index]
        return (row, row.name == self.picked)

    def render_row(self, index: int, width: int) -> Text:
        row = self.rows[index]
        picked = row.name == self.picked
        line = Text(no_wrap=True, end="")
        line.append("▸ " if picked else "  ", style="bold")
        numbers = Text(f"{row.shown:>6} {row.day:>5}", end="")
        name_width = max(1, width - line.cell_len - numbers.cell_len - 1)
        line.append_text(format.cell(text.text(row.name, "bold" if picked else ""), name_width))
        line.append(" ")
        line.append_text(numbers)
        return line

    def set_rows(self, new_rows: Sequence[SourceRow], picked: str | None) -> None:
        current = self.rows[self.cursor].name if 0 <= self.cursor < len(self.rows) else None
        self.rows = new_rows
        self.picked = picked
        names = [r.name for r in new_rows]
        if current in names:
            self.cursor = names.index(current)
        self.rows_changed()
        self.scroll_cursor_visible()

    @property
    def current(self) -> str | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor].name
        return None
