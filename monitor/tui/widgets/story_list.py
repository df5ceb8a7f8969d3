"""The Stories view's list: one row per story of the last seven days, the highest score
first (`core.story_view`), under a header line that names the columns.

Rows are made for the lines on screen only (`RowList`), and so is the part of a story's
row that is not needed to rank it (`summarize`): tens of thousands of stories cost what
the visible 30 cost.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Static

from monitor.core.story_view import RankedStory, StorySummary, summarize
from monitor.model import Entry
from monitor.tui import format, text
from monitor.tui.widgets.actor_list import sparkline
from monitor.tui.widgets.row_list import ClockedList, cursor_bindings

Unread = Callable[[Entry], bool]

# Columns, separated by one space. 0: not shown at this width.
MARK = 2  # "• ": the story has unread items
SCORE, SOURCES, ITEMS, GROWTH = 5, 3, 5, 3
WHEN = 6  # "14:05", "04 Dec"
LANGS_WIDE, LANGS_NARROW = 8, 5
SPARK_WIDE, SPARK, SPARK_NARROW = 24, 12, 8  # 1, 2 or 3 hours a cell
ACTORS_MIN, ACTORS_MAX = 16, 40
HEADLINE_SHARE = 0.45  # of the row, at least, before a column makes way


@dataclass(frozen=True, slots=True)
class StoryLayout:
    """Cells per column of a story row; 0: the column is not shown."""

    langs: int
    spark: int
    first: int
    last: int
    headline: int
    actors: int


def story_layout(width: int) -> StoryLayout:
    """The columns a row `width` cells wide can show. The headline is what the row is for:
    the other columns make way for it, the least needed first (a finer sparkline, first
    seen, the languages' room, last update), until it has HEADLINE_SHARE of the row; the
    top actors get what is left beyond that, when it is enough to read them."""
    floor = int(width * HEADLINE_SHARE)
    fixed = MARK + SCORE + 1 + SOURCES + 1 + ITEMS + 1 + GROWTH + 1
    cols = {"langs": LANGS_WIDE, "spark": SPARK_WIDE, "first": WHEN, "last": WHEN}

    def rest() -> int:
        return width - fixed - sum(w + 1 for w in cols.values() if w)

    for name, narrower in (
        ("spark", SPARK),
        ("first", 0),
        ("spark", SPARK_NARROW),
        ("langs", LANGS_NARROW),
        ("last", 0),
        ("spark", 0),  # under 60 columns or so
        ("langs", 0),
    ):
        if rest() >= floor:
            break
        cols[name] = narrower
    headline = max(1, rest())
    actors = min(ACTORS_MAX, headline - floor - 1, (headline - 1) // 2)
    if actors < ACTORS_MIN:
        actors = 0
    else:
        headline -= actors + 1
    return StoryLayout(cols["langs"], cols["spark"], cols["first"], cols["last"], headline, actors)


def columns(layout: StoryLayout) -> list[tuple[str, int, bool]]:
    """The columns shown in `layout`, in order: (name in the header, width, right-aligned)."""
    every = (
        ("score", SCORE, True),
        ("src", SOURCES, True),
        ("items", ITEMS, True),
        ("lang", layout.langs, False),
        ("24h", layout.spark, False),
        ("+1h", GROWTH, True),
        ("first", layout.first, False),
        ("last", layout.last, False),
        ("headline", layout.headline, False),
        ("top actors", layout.actors, False),
    )
    return [column for column in every if column[1]]


def line_of(mark: Text, layout: StoryLayout, values: Mapping[str, Text | str]) -> Text:
    """A line: the mark (MARK cells), then each column's value in its cells."""
    line = Text(no_wrap=True, end="")
    line.append_text(format.cell(mark, MARK))
    for n, (name, width, right) in enumerate(columns(layout)):
        if n:
            line.append(" ")
        line.append_text(format.cell(values[name], width, right=right))
    return line


def header_line(layout: StoryLayout) -> Text:
    """The column names, aligned with the rows."""
    line = line_of(Text(""), layout, {name: name for name, _, _ in columns(layout)})
    line.stylize("bold")
    return line


def score_text(score: float) -> str:
    """Short: "12", "6", "3.5", "0.4": a whole score without decimals, so that a list
    of fresh stories reads as the counts it adds up."""
    if score >= 10 or abs(score - round(score)) < 0.05:
        return f"{score:.0f}"
    return f"{score:.1f}"


def langs_text(languages: Sequence[str], width: int) -> str:
    """ "en fr de", or "en fr+2" when they do not all fit."""
    names = [text.clean(lang) for lang in languages]
    for shown in range(len(names), 0, -1):
        more = len(names) - shown
        label = " ".join(names[:shown]) + (f"+{more}" if more else "")
        if len(label) <= width:
            return label
    return f"{len(names)}" if names else ""


def story_row(
    summary: StorySummary,
    layout: StoryLayout,
    *,
    today: date,
    tz: tzinfo | None,
    unread: bool,
) -> Text:
    """One story in `layout`: unread mark, score, sources, items, languages, the 24-hour
    sparkline, items of the last hour, first seen and last update, headline (bold while
    unread) and top actors. Feed text through the gate."""
    story = summary.story
    hot = story.growth_1h > 0
    values: dict[str, Text | str] = {
        "score": score_text(story.score),
        "src": str(story.sources),
        "items": str(len(story.entries)),
        "lang": langs_text(summary.languages, layout.langs),
        "24h": sparkline(summary.hourly, layout.spark) if layout.spark else "",
        "+1h": Text(f"+{story.growth_1h}" if hot else "", style="bold", end=""),
        "first": format.short_time(summary.first_seen, today, tz),
        "last": format.short_time(story.last_seen, today, tz),
        "headline": text.text(summary.lead.title, "bold" if unread else ""),
        "top actors": text.text(", ".join(summary.actors), "dim"),
    }
    return line_of(Text(format.UNREAD if unread else "", style="bold", end=""), layout, values)


class StoryList(ClockedList):
    """The stories, ranked. Enter shows the story's items in the timeline; `m` marks them
    all seen; Escape goes back to the timeline. `header`, when set, shows the column
    names for the list's width."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *cursor_bindings("stories"),
        Binding("enter", "open", "Show the story's items in the timeline", id="stories.open"),
        Binding("m", "seen", "Mark every item of the story seen", id="stories.seen"),
        Binding("escape", "close", "Back to the timeline", id="stories.close"),
    ]

    empty_text = "no stories yet: they come with the items of the last seven days"

    @dataclass
    class Opened(Message):
        """Enter on a story."""

        story: RankedStory

    @dataclass
    class MarkSeen(Message):
        """`m` on a story: every item of it seen."""

        story: RankedStory

    class Closed(Message):
        """Escape: back to the timeline."""

    def __init__(
        self,
        *,
        now: Callable[[], datetime],
        unread: Unread = lambda entry: False,
        tz: tzinfo | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(now=now, tz=tz, id=id, classes=classes)
        self.rows: Sequence[RankedStory] = ()
        self.ranked_at: datetime = now()  # the clock reading the rows were ranked at
        self.unread = unread
        self.header: Static | None = None
        self._summaries: dict[str, StorySummary] = {}
        self._header_width = -1

    @property
    def current(self) -> RankedStory | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor]
        return None

    def summary(self, index: int) -> StorySummary:
        """The row's story, summarized once per ranking."""
        story = self.rows[index]
        found = self._summaries.get(story.id)
        if found is None or found.story is not story:
            found = self._summaries[story.id] = summarize(story, self.ranked_at)
        return found

    def set_rows(self, rows: Sequence[RankedStory], ranked_at: datetime) -> None:
        """Show `rows`, ranked at `ranked_at`; the cursor stays on its story."""
        current = self.current
        self.rows, self.ranked_at = rows, ranked_at
        self._summaries = {}
        self._cache.clear()
        if current is not None:
            found = next((i for i, r in enumerate(rows) if r.id == current.id), None)
            if found is not None:
                self.cursor = found
        self.rows_changed()
        self.scroll_cursor_visible()
        self.border_title = f"Stories · {len(rows):,}"

    # -- RowList --------------------------------------------------------------------------

    def row_count(self) -> int:
        return len(self.rows)

    def has_unread(self, story: RankedStory) -> bool:
        return any(self.unread(e) for e in story.entries)

    def row_key(self, index: int) -> Hashable:
        story = self.rows[index]
        # the cache is cleared with each ranking: what else changes a row is here
        return (story.id, self.has_unread(story), self.today(), self.utc)

    def render_row(self, index: int, width: int) -> Text:
        story = self.rows[index]
        return story_row(
            self.summary(index),
            story_layout(width),
            today=self.today(),
            tz=self.zone,
            unread=self.has_unread(story),
        )

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if width != self._header_width and self.header is not None:
            self._header_width = width
            self.header.update(header_line(story_layout(width)))
        return super().render_line(y)

    # -- keys -----------------------------------------------------------------------------

    def action_open(self) -> None:
        if self.current is not None:
            self.post_message(self.Opened(self.current))

    def action_seen(self) -> None:
        if self.current is not None:
            self.post_message(self.MarkSeen(self.current))

    def action_close(self) -> None:
        self.post_message(self.Closed())
