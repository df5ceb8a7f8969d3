"""The sources pane: the sources of the current view with their counts."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from monitor.core.view import SourceRow
from monitor.tui.widgets.row_list import PickList, cursor_bindings


class SourceList(PickList[SourceRow]):
    """The sources of the current view with their counts. Enter filters to one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *cursor_bindings("sources"),
        Binding("enter", "choose", "Filter to this source (again: clear)", id="sources.select"),
    ]

    empty_text = "no sources in view"

    def render_row(self, index: int, width: int) -> Text:
        row = self.rows[index]
        return self.named_line(row.name, Text(f"{row.shown:>6} {row.day:>5}", end=""), width)
