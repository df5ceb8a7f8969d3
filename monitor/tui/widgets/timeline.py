"""The timeline: the items of the current view, newest first (one story's: oldest first,
the first one marked)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Sequence
from datetime import date, datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from monitor.model import Entry
from monitor.tui import format, text
from monitor.tui.widgets.row_list import ClockedList, cursor_bindings

Marks = Callable[[Entry], tuple[bool, bool, bool]]  # an entry -> (unread, starred, new angle)


class Timeline(ClockedList):
    """The items of the current view, newest first. Unread rows carry a "•", starred ones
    a "★", new angles on seen stories "new angle": `marks` says which (the session's
    triage, which the screen keeps current)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *cursor_bindings("timeline"),
        # The screen moves the focus at once, so keys typed right after scroll the article.
        Binding("enter", "screen.open_article", "Open the article", id="timeline.open"),
    ]

    empty_text = "no items yet"

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        marks: Marks = lambda entry: (False, False, False),
        tz: tzinfo | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(now=now, tz=tz, id=id, classes=classes)
        self.entries: Sequence[Entry] = ()
        self.marks = marks
        self.words: tuple[str, ...] = ()  # the filter's words, highlighted in titles
        # (entries, today, utc) -> the time column's width, kept while they are the same
        self._time_width: tuple[Sequence[Entry], date, bool, int] | None = None
        self.empty: tuple[str, ...] = ()  # why there are no rows; () says `empty_text`
        self.first: str | None = None  # the id of the item marked "first" (a story's)

    @property
    def current(self) -> Entry | None:
        if 0 <= self.cursor < len(self.entries):
            return self.entries[self.cursor]
        return None

    def time_width(self) -> int:
        """The time column's width: the widest time in view, so no row has a gap after it."""
        today, known = self.today(), self._time_width
        if known is not None and known[0] is self.entries and known[1:3] == (today, self.utc):
            return known[3]
        width = format.time_width(self.entries, today, self.zone)
        self._time_width = (self.entries, today, self.utc, width)
        return width

    def row_count(self) -> int:
        return len(self.entries)

    def row_key(self, index: int) -> Hashable:
        entry = self.entries[index]
        # what the row shows is in the key: an article's page may fill some of it in later
        return (
            entry.id,
            entry.published,
            entry.title,
            entry.language,
            entry.sources,
            entry.actors,  # found a moment after the item is first shown
            self.marks(entry),
            self.today(),
            self.utc,
            self.words,
            self.time_width(),  # an older item in view widens every row's time
            entry.id == self.first,
        )

    def render_row(self, index: int, width: int) -> Text:
        entry = self.entries[index]
        unread, starred, angle = self.marks(entry)
        layout = format.row_layout(width, self.time_width())
        return format.entry_row(
            entry,
            layout,
            today=self.today(),
            tz=self.zone,
            unread=unread,
            starred=starred,
            words=self.words,
            angle=angle,
            ran_first=entry.id == self.first,
        )

    def set_empty(self, lines: Sequence[str]) -> None:
        """Say why there are no rows (`core.humanize.empty_reason`), shown while there are
        none; () goes back to `empty_text`. The lines may hold source names and error
        details: they are drawn through the text gate, wrapped to the pane."""
        lines = tuple(lines)
        if lines != self.empty:
            self.empty = lines
            if not self.entries:
                self.refresh()

    def empty_lines(self, width: int) -> list[Text]:
        out: list[Text] = []
        for line in self.empty or (self.empty_text,):
            # two cells in, where the rows' times start
            for part in text.text(line).wrap(self.app.console, max(1, width - 2)):
                out.append(Text("  ", end="") + part)
        return out

    def set_words(self, words: tuple[str, ...]) -> None:
        self.words = words
        self.refresh()

    def set_entries(self, entries: Sequence[Entry]) -> None:
        """Show `entries`, keeping the selected item selected and the view where it was.

        Rows inserted above the cursor shift the cursor and the scroll offset by as many
        rows, so what the user looks at does not move.
        """
        old = self.current
        old_cursor, old_scroll = self.cursor, round(self.scroll_y)
        self.entries = entries
        found = self._find(old.id, old_cursor) if old is not None else None
        if found is None:
            self.cursor = max(0, min(old_cursor, len(entries) - 1))
            shift = 0
        else:
            self.cursor = found
            shift = found - old_cursor
        self.rows_changed()
        self.scroll_to(y=max(0, old_scroll + shift), animate=False)
        self.scroll_cursor_visible()
        if self.current is not old:
            self.post_message(self.Moved(self, self.cursor))

    def _find(self, item_id: str, near: int) -> int | None:
        entries = self.entries
        # New rows arrive at the top, so the item is usually at or a little below `near`.
        for i in range(max(0, near), min(len(entries), near + 200)):
            if entries[i].id == item_id:
                return i
        for i, e in enumerate(entries):
            if e.id == item_id:
                return i
        return None

    def refresh_marks(self, ids: Collection[str] | None = None) -> None:
        """The marks of these rows (None: of any row) changed: draw the visible ones again
        (the row cache is keyed on the marks, so only those rows are made again)."""
        if ids is None or len(ids) > 1:
            self.refresh()
            return
        top = round(self.scroll_y)
        height = self.scrollable_content_region.height
        for i in range(top, min(len(self.entries), top + height)):
            if self.entries[i].id in ids:
                self.refresh_row(i)
