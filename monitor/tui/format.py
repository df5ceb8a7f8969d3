"""Row text for the lists: times, fixed-width columns, highlights. Feed text goes through `text`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from rich.cells import cell_len
from rich.text import Text

from monitor.core.query import highlight_spans
from monitor.model import Entry, Source, SourceState
from monitor.tui import text

HIGHLIGHT = "bold reverse"  # the filter's words in titles and articles
TIME_WIDTH = 5  # "14:05": every row of today

# The timeline row: columns separated by one space, filling the row exactly.
MARK_WIDTH = 3  # "•★ ": unread, starred, then a space
FIRST = "first"  # before the title of the item that ran its story first
UNREAD, STARRED = "•", "★"  # one cell each (★ is ambiguous-width: one cell in tmux, xterm)
NEW_ANGLE = "new angle"  # before the headline of a later copy of a seen story that is not
NEW_ANGLE_STYLE = "bold magenta"
LANGUAGE_WIDTH = 3  # the codes normalize keeps: "en", "fil"
SOURCE_MIN, SOURCE_MAX = 8, 18  # and a fifth of the row at most
ACTORS_MIN, ACTORS_MAX = 12, 32  # narrower than 12, names are unreadable: no column
TITLE_SHARE = 0.55  # of the row, for the headline, when the row allows it


def local(moment: datetime, tz: tzinfo | None) -> datetime:
    """`moment` in `tz`, or in the system's local zone when `tz` is None."""
    return moment.astimezone(tz) if tz is not None else moment.astimezone()


def short_time(moment: datetime, today: date, tz: tzinfo | None) -> str:
    """HH:MM today, "11 Nov" this year, "Nov 2016" before: short, so the headline keeps
    the width. The article shows the full date."""
    at = local(moment, tz)
    if at.date() == today:
        return at.strftime("%H:%M")
    if at.year == today.year:
        return at.strftime("%d %b")
    return at.strftime("%b %Y")


def time_width(entries: Sequence[Entry], today: date, tz: tzinfo | None) -> int:
    """Cells the times of `entries` (newest first) need. The formats widen with the
    distance from today, so the newest and the oldest entry decide."""
    if not entries:
        return TIME_WIDTH
    ends = (entries[0], entries[-1])
    return max(cell_len(short_time(e.published, today, tz)) for e in ends)


def long_time(moment: datetime, tz: tzinfo | None) -> str:
    """ "Mon 14 Nov 2016 19:05 CET"."""
    at = local(moment, tz)
    zone = at.tzname() or at.strftime("%z")
    return f"{at:%a %d %b %Y %H:%M} {zone}"


def clip(value: Text | str, width: int) -> Text:
    """At most `width` cells, clipped with "…"."""
    t = value.copy() if isinstance(value, Text) else Text(value, end="")
    t.no_wrap = True
    t.truncate(width, overflow="ellipsis")
    return t


def cell(value: Text | str, width: int, *, right: bool = False) -> Text:
    """A column of exactly `width` cells: clipped with "…" or padded."""
    t = clip(value, width)
    pad = width - t.cell_len
    if pad > 0:
        if right:
            t = Text(" " * pad, end="") + t
        else:
            t.append(" " * pad)
    return t


def highlight(t: Text, words: Sequence[str]) -> Text:
    """Highlight the filter's words in `t` (in place) and return it."""
    if words:
        for start, end in highlight_spans(t.plain, tuple(words)):
            t.stylize(HIGHLIGHT, start, end)
    return t


def source_label(entry: Entry) -> tuple[str, str]:
    """First source and "+N" when several sources carry the item."""
    first = text.clean(entry.sources[0]) if entry.sources else "?"
    more = f"+{len(entry.sources) - 1}" if len(entry.sources) > 1 else ""
    return first, more


@dataclass(frozen=True, slots=True)
class RowLayout:
    """Cells per column of a timeline row, after the new-item mark. 0: not shown."""

    time: int
    source: int
    language: int
    title: int
    actors: int


def row_layout(width: int, time_width: int = TIME_WIDTH) -> RowLayout:
    """The columns of a timeline row `width` cells wide whose times take `time_width`.

    The headline is what the row is for: it takes the rest, at least TITLE_SHARE of the
    row. The actors get only what the headline can spare, never more than the headline,
    and no column when that is under ACTORS_MIN; the source shrinks next. Mark, columns
    and the spaces between them add up to `width`: no cell is left over.
    """
    language = LANGUAGE_WIDTH if width >= 50 else 0
    fixed = MARK_WIDTH + time_width + 1 + (language + 1 if language else 0)
    floor = math.ceil(width * TITLE_SHARE)
    source = max(SOURCE_MIN, min(SOURCE_MAX, width // 5, width - fixed - 1 - floor))
    rest = max(0, width - fixed - source - 1)  # the headline, and the actors with a space
    actors = min(ACTORS_MAX, rest - 1 - floor, (rest - 1) // 2)
    if actors < ACTORS_MIN:
        actors = 0
    title = rest - (actors + 1 if actors else 0)
    return RowLayout(time_width, source, language, title, actors)


def entry_row(
    entry: Entry,
    layout: RowLayout,
    *,
    today: date,
    tz: tzinfo | None,
    unread: bool,
    starred: bool = False,
    words: tuple[str, ...] = (),
    angle: bool = False,
    ran_first: bool = False,
) -> Text:
    """One timeline row in `layout`: marks (unread, starred), time, source(s), language,
    title (the filter's words marked; bold while unread; after "new angle" for a later
    copy of a seen story that brought one, after FIRST when it is the item that ran its
    story first), and the top 2 actors when there is a column for them."""
    row = Text(no_wrap=True, end="")
    row.append(UNREAD if unread else " ", style="bold")
    row.append(STARRED if starred else " ", style="bold yellow")
    row.append(" ")
    flagged = entry.date_flag is not None
    when = short_time(entry.published, today, tz)
    row.append_text(cell(Text(when, style="dim" if flagged else ""), layout.time))
    row.append(" ")
    first, more = source_label(entry)
    label = clip(first, max(1, layout.source - len(more)))
    label.append(more, style="bold")
    row.append_text(cell(label, layout.source))
    row.append(" ")
    if layout.language:
        # right-aligned: the code sits next to the headline it describes
        row.append_text(cell(text.clean(entry.language or ""), layout.language, right=True))
        row.append(" ")
    title = highlight(text.text(entry.title, "bold" if unread else ""), words)
    if angle:
        title = Text.assemble((NEW_ANGLE, NEW_ANGLE_STYLE), " ", title, end="")
    if ran_first:
        title = Text.assemble((FIRST, "bold reverse"), " ", title, end="")
    row.append_text(cell(title, layout.title))
    if layout.actors:
        row.append(" ")
        actors = text.text(", ".join(entry.actors[:2]), "dim")
        row.append_text(cell(actors, layout.actors))
    return row


def tally(sources: Iterable[Source], states: Mapping[str, SourceState]) -> tuple[int, int]:
    """(ok, failing) among `sources`: failing while its last polls fail, ok once one worked."""
    ok = failing = 0
    for source in sources:
        st = states.get(source.name)
        if st is not None and st.failures:
            failing += 1
        elif st is not None and st.last_success:
            ok += 1
    return ok, failing
