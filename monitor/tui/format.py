"""Row text for the lists: times, fixed-width columns, highlights. Feed text goes through `text`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo

from rich.text import Text

from monitor.core.query import highlight_spans
from monitor.model import Entry, Source, SourceState
from monitor.tui import text

HIGHLIGHT = "bold reverse"  # the filter's words in titles and articles
TIME_WIDTH = 11  # "Mon 14 Nov", "14 Nov 2016"


def local(moment: datetime, tz: tzinfo | None) -> datetime:
    """`moment` in `tz`, or in the system's local zone when `tz` is None."""
    return moment.astimezone(tz) if tz is not None else moment.astimezone()


def short_time(moment: datetime, today: date, tz: tzinfo | None) -> str:
    """HH:MM today, "Mon 14 Nov" this year, "14 Nov 2016" before."""
    at = local(moment, tz)
    if at.date() == today:
        return at.strftime("%H:%M")
    if at.year == today.year:
        return at.strftime("%a %d %b")
    return at.strftime("%d %b %Y")


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


def entry_row(
    entry: Entry,
    width: int,
    *,
    today: date,
    tz: tzinfo | None,
    new: bool,
    words: tuple[str, ...] = (),
) -> Text:
    """One timeline row: mark, time, source(s), language, title (the filter's words marked),
    and the top 2 actors when the row is wide enough."""
    row = Text(no_wrap=True, end="")
    row.append("• " if new else "  ", style="bold" if new else "")
    flagged = entry.date_flag is not None
    when = short_time(entry.published, today, tz)
    row.append_text(cell(Text(when, style="dim" if flagged else ""), TIME_WIDTH))
    row.append(" ")
    source_width = 20 if width >= 100 else 14
    first, more = source_label(entry)
    label = clip(first, max(1, source_width - len(more)))
    label.append(more, style="bold")
    row.append_text(cell(label, source_width))
    row.append(" ")
    if width >= 60:
        row.append_text(cell(text.clean(entry.language or ""), 3))
        row.append(" ")
    actors_width = (28 if width >= 110 else 18 if width >= 64 else 0) if entry.actors else 0
    rest = max(0, width - row.cell_len - (actors_width + 1 if actors_width else 0))
    title = highlight(text.text(entry.title, "bold" if new else ""), words)
    row.append_text(cell(title, rest))
    if actors_width:
        row.append(" ")
        row.append_text(cell(text.text(", ".join(entry.actors[:2]), "dim"), actors_width))
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
