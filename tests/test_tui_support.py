"""Helpers for the dashboard tests (a fixed clock, items, settings, a fake poll), and unit
tests of the dashboard's pure parts: the text gate, row formatting, views, poll timing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from msgspec.structs import replace
from rich.text import Text

from monitor.config import SavedFilter, Settings
from monitor.core.query import entry_of
from monitor.io.store import Store
from monitor.model import (
    Actor,
    ActorKind,
    DateRef,
    Entry,
    Item,
    Mention,
    PollReport,
    Quote,
    Source,
    SourceResult,
    SourceState,
)
from monitor.tui import format, text
from monitor.tui.app import MonitorApp, compute_view, lock_notice, next_delay
from monitor.tui.memory import MemoryStore

NOW = datetime(2024, 11, 14, 12, 0, tzinfo=UTC)  # a Thursday
SOURCES = ("Le Monde", "BBC World", "Der Spiegel", "El País")


def fixed_now() -> datetime:
    return NOW


def item(
    n: int,
    title: str | None = None,
    *,
    sources: Sequence[str] | None = None,
    minutes: float | None = None,
    text_: str | None = None,
    summary: str | None = None,
    language: str = "en",
    url: str | None = None,
) -> Item:
    """Item `n`, published `minutes` (default: 7n) before NOW."""
    published = NOW - timedelta(minutes=7 * n if minutes is None else minutes)
    return Item(
        id=f"id{n:06d}",
        title=title if title is not None else f"Headline number {n}",
        url=url if url is not None else f"https://news.example/{n}",
        sources=tuple(sources) if sources is not None else (SOURCES[n % len(SOURCES)],),
        published=published,
        published_raw=None,
        date_flag=None,
        language=language,
        summary=summary if summary is not None else f"Summary of story {n}.",
        first_seen=published,
        text=text_,
    )


# The actors of item n: ACTORS[n % 3], the first mentioned twice.
ACTORS = (
    ("Vladimir Putin", "Donald Trump"),
    ("Emmanuel Macron",),
    ("Donald Trump", "Kremlin"),
)
STORY_2 = (
    "The full text of story 2. Vladimir Putin spoke to Donald Trump on Monday.\n\nSecond paragraph."
)


def items(count: int) -> list[Item]:
    out = [item(n) for n in range(count)]
    kinds: dict[str, ActorKind] = {"Kremlin": "organisation"}
    for n, it in enumerate(out):
        names = ACTORS[n % 3]
        actors = tuple(
            Actor(name, kinds.get(name, "person"), 2 if i == 0 else 1)
            for i, name in enumerate(names)
        )
        out[n] = replace(it, actors=actors, annotated=True)
    if count > 3:  # one story carried by two sources, one with its full text
        out[1] = replace(out[1], sources=(SOURCES[1], SOURCES[0]))
        start = STORY_2.index("Vladimir")
        out[2] = replace(
            out[2],
            text=STORY_2,
            actors=(Actor("Vladimir Putin", "person", 1), Actor("Donald Trump", "person", 1)),
            mentions=(
                Mention("Vladimir Putin", start, start + 14, "text"),
                Mention("Donald Trump", start + 24, start + 36, "text"),
            ),
            quotes=(Quote("Vladimir Putin", "we are ready to talk to the new administration"),),
            dates=(DateRef("on Monday", "2024-11-11", start + 37, start + 46, "text"),),
        )
    return out


def settings(
    *,
    filters: Sequence[SavedFilter] = (),
    keys: dict[str, str] | None = None,
    sources: Sequence[str] = SOURCES,
) -> Settings:
    return Settings(
        path=None,
        storage=Path("unused"),
        sources=tuple(
            Source(name=s, url=f"https://{n}.example/feed", interval=600.0)
            for n, s in enumerate(sources)
        ),
        filters=tuple(filters),
        keys=dict(keys or {}),
    )


class FakePoll:
    """A poll that writes queued items into the store: no network."""

    def __init__(self) -> None:
        self.calls: list[tuple[bool, set[str] | None]] = []
        self.queue: list[Item] = []
        self.fail: Exception | None = None
        self.states: list[SourceState] = []

    async def __call__(
        self, settings: Settings, store: Store, *, force: bool = False, only: set[str] | None = None
    ) -> PollReport:
        self.calls.append((force, only))
        if self.fail is not None:
            raise self.fail
        batch, self.queue = self.queue, []
        outcomes = store.write(batch, self.states)
        results = tuple(
            SourceResult(s.name, "ok", new=outcomes.count("new"))
            for s in settings.sources
            if only is None or s.name in only
        )
        return PollReport(started=NOW, finished=NOW, results=results)


def make_app(
    count: int = 30,
    *,
    store: MemoryStore | None = None,
    poll: FakePoll | None = None,
    **kwargs: object,
) -> MonitorApp:
    sets = kwargs.pop("settings", None) or settings()
    return MonitorApp(
        sets,  # type: ignore[arg-type]
        store if store is not None else MemoryStore(items(count)),
        poll=poll if poll is not None else FakePoll(),
        now=fixed_now,
        tz=UTC,
        **kwargs,  # type: ignore[arg-type]
    )


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
        (77, format.RowLayout(time=5, source=15, language=3, title=49, actors=0)),
        (71, format.RowLayout(time=5, source=14, language=3, title=44, actors=0)),
        (151, format.RowLayout(time=5, source=18, language=3, title=87, actors=32)),
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
    row = format.entry_row(e, format.row_layout(77), today=NOW.date(), tz=UTC, new=True)
    assert row.plain.startswith("• 11:53 Le Monde+2 ")  # no gap after the time
    assert " en A title" in row.plain
    assert row.cell_len == 77


def test_entry_row_actors_when_wide() -> None:
    e = entry_of(replace(items(1)[0], title="A title"))
    narrow = format.entry_row(e, format.row_layout(77), today=NOW.date(), tz=UTC, new=False)
    wide = format.entry_row(e, format.row_layout(151), today=NOW.date(), tz=UTC, new=False)
    assert "Vladimir Putin" not in narrow.plain
    assert wide.plain.rstrip().endswith("Vladimir Putin, Donald Trump")
    assert wide.cell_len == 151


def test_entry_row_wide_characters_fit() -> None:
    e = entry_of(item(1, "東京" * 40))
    for width in (40, 79, 120):
        row = format.entry_row(e, format.row_layout(width), today=NOW.date(), tz=UTC, new=False)
        assert row.cell_len == width


# --- views and timing ---------------------------------------------------------------------


def test_compute_view_counts_and_pick() -> None:
    from monitor.core.query import parse_query

    entries = MemoryStore(items(20)).entries()
    view = compute_view(entries, None, None, NOW)
    assert len(view.entries) == 20
    by_name = {r.name: r for r in view.sources}
    assert sum(r.shown for r in view.sources) == 21  # item 1 has two sources
    assert by_name["Le Monde"].day == by_name["Le Monde"].shown
    picked = compute_view(entries, None, "BBC World", NOW)
    assert all("BBC World" in e.sources for e in picked.entries)
    assert len(picked.sources) == len(view.sources)  # the pane still lists every source
    q = compute_view(entries, parse_query("number 3"), None, NOW)
    assert [e.title for e in q.entries] == ["Headline number 3"]


def test_next_delay() -> None:
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


# --- running the app ----------------------------------------------------------------------


def screen_text(app: MonitorApp) -> str:
    """What the terminal shows, as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


async def settle(pilot: object, pause: float = 0.0) -> None:
    """Let timers, workers and repaints finish."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    if pause:
        await pilot.pause(pause)
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()
