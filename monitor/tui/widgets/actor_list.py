"""The actors pane: the actors of the current view, most mentioned first, with their
24-hour count and a sparkline of the last 24 hours."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from monitor.core.trends import ActorStat
from monitor.tui import format, text
from monitor.tui.widgets.row_list import RowList, cursor_bindings

BARS = " ▁▂▃▄▅▆▇█"


def sparkline(series: Sequence[int], width: int = 12) -> str:
    """`series` in `width` cells (neighbouring values summed), scaled to its own maximum."""
    if not series:
        return " " * width
    step = max(1, len(series) // width)
    sums = [sum(series[i : i + step]) for i in range(0, len(series), step)][-width:]
    top = max(sums)
    if top == 0:
        return "·" * len(sums)
    return "".join(BARS[0 if v == 0 else max(1, round(v / top * 8))] for v in sums)


class ActorList(RowList):
    """The actors of the current view. Enter filters the timeline to one (again: clear)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *cursor_bindings("actors"),
        Binding("enter", "choose", "Filter to this actor (again: clear)", id="actors.select"),
    ]

    empty_text = "no actors in view"

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: Sequence[ActorStat] = ()
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
        numbers = Text(f"{row.shown:>5} {row.day:>4} ", end="")
        numbers.append(sparkline(row.series), style="green" if row.rising > 2 else "")
        name_width = max(1, width - line.cell_len - numbers.cell_len - 1)
        line.append_text(format.cell(text.text(row.name, "bold" if picked else ""), name_width))
        line.append(" ")
        line.append_text(numbers)
        return line

    def set_rows(self, new_rows: Sequence[ActorStat], picked: str | None) -> None:
        current = self.current
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
