"""A list of prepared rows (the sources screen's table)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType

from monitor.tui.widgets.row_list import RowList, cursor_bindings


class TableList(RowList):
    """Rows of prepared cells (the sources screen)."""

    BINDINGS: ClassVar[list[BindingType]] = cursor_bindings("health")

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.lines: Sequence[tuple[Hashable, Text]] = ()

    def row_count(self) -> int:
        return len(self.lines)

    def row_key(self, index: int) -> Hashable:
        return self.lines[index][0]

    def render_row(self, index: int, width: int) -> Text:
        return self.lines[index][1]

    def set_lines(self, lines: Sequence[tuple[Hashable, Text]]) -> None:
        self.lines = lines
        self._cache.clear()
        self.rows_changed()
