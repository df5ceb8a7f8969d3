"""Unit tests of the dashboard's pure parts: the text gate, row formatting, views, poll timing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from msgspec.structs import replace
from rich.text import Text

from monitor.config import Settings
from monitor.core.entries import entry_of
from monitor.core.index import EntryIndex
from monitor.core.schedule import next_poll_delay
from monitor.core.view import Filter, compute_view
from monitor.model import Entry, SourceState
from monitor.tui import format, text
from monitor.tui.app import lock_notice
from tests.support.items import NOW, SOURCES, item, items, settings
from tests.support.memstore import MemoryStore

# --- the text gate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a\x1b]52;c;SGVsbG8=\x07b", "ab"),
        ("a\x1b]8;;http://x\x1b\\b", "ab"),
        ("a\x1b[2Jb", "ab"),
        ("a\x9b31mb", "ab"),
        ("a\u202eb\u2066c\u200fd", "abcd"),
        ("a\x00b\x07c\x7fd\x85e", "abcd e"),
        ("[@click=app.quit]x[/]", "[@click=app.quit]x[/]"),
        ("line\nbreak\ttab", "line break tab"),
        ("a\x1b", "a"),
        ("a\x1b]0;unterminated", "a0;unterminated"),
    ],
)
def test_clean(raw: str, shown: str) -> None:
    assert text.clean(raw) == shown


def test_clean_multiline_keeps_lines() -> None:
    assert text.clean("a\r\nb\tc\x1b[31m", multiline=True) == "a\nb    c"


def test_text_is_never_markup() -> None:
    t = text.text("[b]x[/b] [@click=app.quit]q[/]")
    assert isinstance(t, Text)
    assert t.plain == "[b]x[/b] [@click=app.quit]q[/]"
    assert not t.spans
    assert text.content("[red]r[/red]").plain == "[red]r[/red]"


# --- rows ---------------------------------------------------------------------------------


def test_short_time() -> None:
    today = NOW.date()
    assert format.short_time(NOW - timedelta(hours=1), today, UTC) == "11:00"
    assert format.short_time(datetime(2024, 11, 11, 9, tzinfo=UTC), today, UTC) == "11 Nov"
    assert format.short_time(datetime(2016, 11, 14, 9, tzinfo=UTC), today, UTC) == "Nov 2016"


def test_time_width_is_the_widest_time_in_view() -> None:
    today = NOW.date()

    def at(*moments: datetime) -> list[Entry]:
        return [entry_of(replace(item(n), published=m)) for n, m in enumerate(moments)]

    assert format.time_width([], today, UTC) == 5
    assert format.time_width(at(NOW, NOW - timedelta(hours=3)), today, UTC) == 5
    assert format.time_width(at(NOW, NOW - timedelta(days=2)), today, UTC) == 6
    assert format.time_width(at(NOW, datetime(2016, 1, 1, tzinfo=UTC)), today, UTC) == 8
    assert format.time_width(at(NOW + timedelta(days=400), NOW), today, UTC) == 8  # a bad date


def row_cells(layout: format.RowLayout) -> int:
    """The cells a layout fills: mark, columns, and one space between columns."""
    shown = [n for n in (layout.time, layout.source, layout.language, layout.title) if n]
    if layout.actors:
        shown.append(layout.actors)
    return format.MARK_WIDTH + sum(shown) + len(shown) - 1


# The timeline's row at each terminal width: 80 (the pane alone), 120 and 200 (beside the
# 46-cell actors pane); borders and the scrollbar take 3 cells.
@pytest.mark.parametrize(
    ("width", "layout"),
    [
        (77, format.RowLayout(time=5, source=15, language=3, title=48, actors=0)),
        (71, format.RowLayout(time=5, source=14, language=3, title=43, actors=0)),
        (151, format.RowLayout(time=5, source=18, language=3, title=86, actors=32)),
    ],
)
def test_row_layout_at_the_terminal_widths(width: int, layout: format.RowLayout) -> None:
    assert format.row_layout(width, 5) == layout


@pytest.mark.parametrize("width", [60, 80, 120, 200])
@pytest.mark.parametrize("time_width", [5, 6, 8])
def test_row_layout_gives_the_headline_the_room(width: int, time_width: int) -> None:
    layout = format.row_layout(width, time_width)
    assert row_cells(layout) == width  # no cell left over
    assert layout.time == time_width
    assert layout.title >= 0.55 * width
    assert layout.title >= layout.actors


def test_row_layout_shrinks_the_actors_first_then_drops_them() -> None:
    widths = range(30, 241)
    layouts = {w: format.row_layout(w, 6) for w in widths}
    for w, layout in layouts.items():
        assert row_cells(layout) == w
        assert layout.title >= layout.actors
        assert layout.actors == 0 or layout.actors >= format.ACTORS_MIN
        if w >= 60:
            assert layout.title >= 0.55 * w
    assert layouts[77].actors == 0  # an 80-column terminal: no actors column
    assert layouts[120].actors > 0
    assert layouts[240].actors == format.ACTORS_MAX
    # narrowing the row takes from the actors before the source, and the source before
    # the headline goes under its share
    for w in widths[1:]:
        wider, narrower = layouts[w], layouts[w - 1]
        if narrower.source < wider.source:
            assert narrower.actors == 0


def test_entry_row_columns() -> None:
    e = entry_of(item(1, "A title", sources=("Le Monde", "BBC World", "RFI")))
    row = format.entry_row(e, format.row_layout(77), today=NOW.date(), tz=UTC, unread=True)
    assert row.plain.startswith("•  11:53 Le Monde+2 ")  # no gap after the time
    assert " en A title" in row.plain
    assert row.cell_len == 77
    starred = format.entry_row(
        e, format.row_layout(77), today=NOW.date(), tz=UTC, unread=False, starred=True
    )
    assert starred.plain.startswith(" ★ 11:53 Le Monde+2 ")
    assert starred.cell_len == 77
    both = format.entry_row(
        e, format.row_layout(77), today=NOW.date(), tz=UTC, unread=True, starred=True
    )
    assert both.plain.startswith("•★ 11:53 ")


def test_entry_row_actors_when_wide() -> None:
    e = entry_of(replace(items(1)[0], title="A title"))
    narrow = format.entry_row(e, format.row_layout(77), today=NOW.date(), tz=UTC, unread=False)
    wide = format.entry_row(e, format.row_layout(151), today=NOW.date(), tz=UTC, unread=False)
    assert "Vladimir Putin" not in narrow.plain
    assert wide.plain.rstrip().endswith("Vladimir Putin, Donald Trump")
    assert wide.cell_len == 151


def test_entry_row_wide_characters_fit() -> None:
    e = entry_of(item(1, "東京" * 40))
    for width in (40, 79, 120):
        row = format.entry_row(e, format.row_layout(width), today=NOW.date(), tz=UTC, unread=False)
        assert row.cell_len == width


# --- views and timing ---------------------------------------------------------------------


def test_compute_view_counts_and_pick() -> None:
    from monitor.core.query import parse_query

    index = EntryIndex.build(MemoryStore(items(20)).entries())
    view = compute_view(index, Filter(), NOW)
    assert len(view.entries) == 20
    by_name = {r.name: r for r in view.sources}
    assert sum(r.shown for r in view.sources) == 21  # item 1 has two sources
    assert by_name["Le Monde"].day == by_name["Le Monde"].shown
    picked = compute_view(index, Filter(source="BBC World"), NOW)
    assert all("BBC World" in e.sources for e in picked.entries)
    assert len(picked.sources) == len(view.sources)  # the pane still lists every source
    q = compute_view(index, Filter(query=parse_query("number 3")), NOW)
    assert [e.title for e in q.entries] == ["Headline number 3"]


def test_next_delay() -> None:
    def next_delay(s: Settings, states: dict[str, SourceState], now: datetime) -> float | None:
        return next_poll_delay(s.sources, states, now)

    s = settings()
    assert next_delay(s, {}, NOW) == 30.0  # never polled: due now, but at least 30 s
    later = {name: SourceState(name, "u", next_due=NOW + timedelta(minutes=5)) for name in SOURCES}
    assert next_delay(s, later, NOW) == 300.0
    far = {name: SourceState(name, "u", next_due=NOW + timedelta(hours=5)) for name in SOURCES}
    assert next_delay(s, far, NOW) == 600.0  # at most the smallest interval
    assert next_delay(settings(sources=()), {}, NOW) is None


def test_lock_notice() -> None:
    msg = "store /x is in use by pid 4242 (monitor poll, since 2024-11-14 10:00 UTC)"
    assert lock_notice(msg) == "read-only: another monitor (pid 4242) is writing; polling disabled"
    assert "another monitor is writing" in lock_notice("in use by another process")
