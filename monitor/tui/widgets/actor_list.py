"""The actors pane: the actors of the current view, most mentioned first, with their
24-hour count and a sparkline of the last 24 hours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from monitor.core.trends import ActorStat
from monitor.tui.widgets.row_list import PickList, cursor_bindings

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


class ActorList(PickList[ActorStat]):
    """The actors of the current view. Enter filters the timeline to one (again: clear)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *cursor_bindings("actors"),
        Binding("enter", "choose", "Filter to this actor (again: clear)", id="actors.select"),
    ]

    empty_text = "no actors in view"

    def render_row(self, index: int, width: int) -> Text:
        row = self.rows[index]
        numbers = Text(f"{row.shown:>5} {row.day:>4} ", end="")
        numbers.append(sparkline(row.series), style="green" if row.rising > 2 else "")
        return self.named_line(row.name, numbers, width)
