"""A virtualized list: one `ScrollView` that renders only the visible rows, from a cache.

`RowList` owns the cursor, the keys and the row cache; subclasses say what a row
looks like. No widget per row, so 100,000 rows cost what the visible 30 cost.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import ClassVar, Generic, Protocol, TypeVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from monitor.tui import format, text

R = TypeVar("R", bound="Named")


def cursor_bindings(prefix: str) -> list[BindingType]:
    """The movement keys every list shares, with ids under `prefix`."""
    return [
        Binding("j,down", "cursor_down", "Next row", id=f"{prefix}.down"),
        Binding("k,up", "cursor_up", "Previous row", id=f"{prefix}.up"),
        Binding("g,home", "cursor_top", "First row", id=f"{prefix}.top"),
        Binding("G,end", "cursor_bottom", "Last row", id=f"{prefix}.bottom"),
        Binding("pagedown", "cursor_page_down", "Page down", id=f"{prefix}.page_down"),
        Binding("pageup", "cursor_page_up", "Page up", id=f"{prefix}.page_up"),
    ]


class RowList(ScrollView, can_focus=True):
    """A list with a cursor row. Subclasses implement `row_count`, `row_key`, `render_row`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"rowlist--cursor", "rowlist--empty"}
    DEFAULT_CSS = """
    RowList {
        overflow-x: hidden;
        overflow-y: auto;
        & > .rowlist--cursor { background: $surface-lighten-2; }
        &:focus > .rowlist--cursor { background: $accent 60%; text-style: bold; }
        & > .rowlist--empty { color: $text-muted; }
    }
    """

    empty_text = "nothing to show"

    @dataclass
    class Moved(Message):
        """The cursor moved to another row."""

        widget: RowList
        index: int

        @property
        def control(self) -> RowList:
            return self.widget

    @dataclass
    class Chosen(Message):
        """Enter (or a double click) on a row."""

        widget: RowList
        index: int

        @property
        def control(self) -> RowList:
            return self.widget

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.cursor = 0
        self._cache: LRUCache[Hashable, Strip] = LRUCache(1024)

    # -- for subclasses ------------------------------------------------------------------

    def row_count(self) -> int:
        return 0

    def row_key(self, index: int) -> Hashable:
        return index

    def render_row(self, index: int, width: int) -> Text:
        return Text("")

    def empty_lines(self, width: int) -> list[Text]:
        """What shows in place of the rows when there are none: one Text a screen line."""
        return [Text(self.empty_text, end="")]

    # -- data ----------------------------------------------------------------------------

    def rows_changed(self) -> None:
        """Call after the rows changed: resizes the virtual area, clamps the cursor."""
        count = self.row_count()
        self.virtual_size = Size(0, count)
        self.cursor = max(0, min(self.cursor, count - 1))
        self.refresh()

    def clear_cache(self) -> None:
        self._cache.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def on_focus(self, event: events.Focus) -> None:
        self.refresh()

    def on_blur(self, event: events.Blur) -> None:
        self.refresh()

    # -- rendering -----------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        count = self.row_count()
        if index >= count:
            if count == 0:
                lines = self.empty_lines(width)
                if y < len(lines):
                    style = self.get_component_rich_style("rowlist--empty")
                    empty = format.cell(lines[y], width)
                    empty.stylize_before(style)
                    return Strip(list(empty.render(self.app.console)), width).apply_style(base)
            return Strip.blank(width, base)
        is_cursor = index == self.cursor
        key = (self.row_key(index), width, is_cursor, is_cursor and self.has_focus)
        strip = self._cache.get(key)
        if strip is None:
            row = format.cell(self.render_row(index, width), width)
            if is_cursor:
                row.stylize_before(self.get_component_rich_style("rowlist--cursor"))
            row.stylize_before(base)
            strip = Strip(list(row.render(self.app.console)), width)
            self._cache[key] = strip
        return strip

    def refresh_row(self, index: int) -> None:
        if 0 <= index < self.row_count():
            self.refresh_line(index)

    # -- the cursor ----------------------------------------------------------------------

    def move_cursor(self, index: int, *, scroll: bool = True) -> None:
        count = self.row_count()
        if count == 0:
            return
        index = max(0, min(index, count - 1))
        old = self.cursor
        self.cursor = index
        if scroll:
            self.scroll_cursor_visible()
        self.refresh_row(old)
        self.refresh_row(index)
        if index != old:
            self.post_message(self.Moved(self, index))

    def scroll_cursor_visible(self) -> None:
        height = self.scrollable_content_region.height
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif height and self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor - 1)

    def action_cursor_top(self) -> None:
        self.move_cursor(0)

    def action_cursor_bottom(self) -> None:
        self.move_cursor(self.row_count() - 1)

    def action_cursor_page_down(self) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        self.scroll_to(y=self.scroll_y + page, animate=False)
        self.move_cursor(self.cursor + page)

    def action_cursor_page_up(self) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        self.scroll_to(y=self.scroll_y - page, animate=False)
        self.move_cursor(self.cursor - page)

    def action_choose(self) -> None:
        if self.row_count():
            self.post_message(self.Chosen(self, self.cursor))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index = round(self.scroll_y) + offset.y
        if index < self.row_count():
            self.move_cursor(index, scroll=False)
            if event.chain >= 2:
                self.action_choose()


class ClockedList(RowList):
    """A list whose rows show times, as the dashboard's clock reads: in the zone given
    (None: the system's), or in UTC (`u`)."""

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        tz: tzinfo | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.now = now
        self.tz = tz
        self.utc = False

    @property
    def zone(self) -> tzinfo | None:
        return UTC if self.utc else self.tz

    def today(self) -> date:
        """Today where the times are shown: rows of today show only the time."""
        return format.local(self.now(), self.zone).date()

    def set_utc(self, utc: bool) -> None:
        self.utc = utc
        self.refresh()


class Named(Protocol):
    @property
    def name(self) -> str: ...


class PickList(RowList, Generic[R]):
    """A list of named rows, one of which may be picked (the side pane's actors or sources).
    The cursor follows its row's name when the rows change."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.rows: Sequence[R] = ()
        self.picked: str | None = None

    def row_count(self) -> int:
        return len(self.rows)

    def row_key(self, index: int) -> Hashable:
        row = self.rows[index]
        return (row, row.name == self.picked)

    def set_rows(self, new_rows: Sequence[R], picked: str | None) -> None:
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

    def named_line(self, name: str, numbers: Text, width: int) -> Text:
        """A row: the picked mark, the (untrusted) name clipped to fit, then `numbers`."""
        picked = name == self.picked
        line = Text(no_wrap=True, end="")
        line.append("▸ " if picked else "  ", style="bold")
        name_width = max(1, width - line.cell_len - numbers.cell_len - 1)
        line.append_text(format.cell(text.text(name, "bold" if picked else ""), name_width))
        line.append(" ")
        line.append_text(numbers)
        return line
