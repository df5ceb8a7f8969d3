"""The dashboard driven with Textual's Pilot: every key and pane, over an in-memory store."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from msgspec.structs import replace
from textual import events
from textual.widgets import Input

from monitor.config import SavedFilter
from monitor.core.entries import entry_of
from monitor.model import Actor, Entry, Item, PollReport
from monitor.tui.app import MonitorApp
from monitor.tui.screens.help import HelpScreen
from monitor.tui.screens.sources import SourcesScreen
from monitor.tui.widgets.actor_list import ActorList, sparkline
from monitor.tui.widgets.article_pane import MENTION, ArticlePane
from monitor.tui.widgets.timeline import Timeline
from tests.support.dashboard import FakePoll, make_app, notes, screen_text, settle
from tests.support.items import NOW, SOURCES, fixed_now, item, items, settings
from tests.support.memstore import MemoryStore

pytestmark = pytest.mark.anyio


def cursor_id(app: MonitorApp) -> str | None:
    current = app.main.timeline.current
    return current.id if current is not None else None


# --- the timeline -------------------------------------------------------------------------


async def test_start_shows_newest_first_and_polls() -> None:
    poll = FakePoll()
    app = make_app(30, poll=poll)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert "Headline number 0" in shown
        assert shown.index("Headline number 0") < shown.index("Headline number 1 ")
        assert "BBC World+1" in shown  # item 1 is carried by two sources
        assert app.main.timeline.cursor == 0
        assert app.focused is app.main.timeline
        assert poll.calls == [(False, None)]  # the first poll, after the first paint
        assert "30/30 items" in shown


async def test_cursor_keys() -> None:
    app = make_app(200)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        tl = app.main.timeline
        await pilot.press("j", "j", "down")
        assert tl.cursor == 3
        await pilot.press("k", "up")
        assert tl.cursor == 1
        await pilot.press("G")
        assert tl.cursor == 199
        assert tl.scroll_y > 0  # the cursor row is visible
        await pilot.press("g")
        assert tl.cursor == 0 and tl.scroll_y == 0
        await pilot.press("pagedown")
        page = tl.scrollable_content_region.height - 1
        assert tl.cursor == page
        await pilot.press("pagedown", "pageup")
        assert tl.cursor == page
        await pilot.press("end", "home")
        assert tl.cursor == 0
        await pilot.press("k")  # at the top: stays
        assert tl.cursor == 0


async def test_cursor_drives_the_article() -> None:
    app = make_app(30)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j")
        await settle(pilot)
        shown = screen_text(app)
        assert "The full text of story 2." in shown
        assert "summary only" not in shown
        await pilot.press("j")
        await settle(pilot)
        shown = screen_text(app)
        assert "summary only (full text not fetched)" in shown
        assert "Summary of story 3." in shown
        assert "https://news.example/3" in shown


async def test_mouse_click_selects_and_scroll_keeps_cursor() -> None:
    app = make_app(100)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.click("#timeline", offset=(10, 5))  # row 4 (the border is row 0)
        await settle(pilot)
        assert app.main.timeline.cursor == 4
        assert "Headline number 4" in app.main.article.plain
        tl = app.main.timeline
        for _ in range(3):
            tl.post_message(events.MouseScrollDown(tl, 10, 5, 0, 1, 0, False, False, False))
        await settle(pilot)
        assert app.main.timeline.scroll_y > 0
        assert app.main.timeline.cursor == 4


async def test_new_items_keep_the_selection_and_the_view() -> None:
    poll = FakePoll()
    store = MemoryStore(items(100))
    app = make_app(store=store, poll=poll)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press(*["j"] * 30)  # scrolled: the cursor is below the first page
        await settle(pilot)
        tl = app.main.timeline
        before_id, before_cursor, before_scroll = cursor_id(app), tl.cursor, tl.scroll_y
        assert before_scroll > 0
        poll.queue = [item(1000 + n, f"Breaking {n}", minutes=-n - 1) for n in range(3)]
        await pilot.press("r")
        await settle(pilot)
        assert cursor_id(app) == before_id
        assert tl.cursor == before_cursor + 3
        assert tl.scroll_y == before_scroll + 3
        assert tl.entries[0].title == "Breaking 2"
        unread = {e.id for e in tl.entries if app.session.unread(e)}
        # the new ones, and item 0, first seen as the triage began
        assert unread == {e.id for e in tl.entries[:3]} | {"id000000"}
        assert "(4 unread)" in screen_text(app)
        app.session.seen_after = 0.05
        await pilot.press("g")  # the cursor rests on a new row: seen
        await settle(pilot, 0.3)
        assert "• " in screen_text(app)
        assert not app.session.unread(tl.entries[0]) and app.session.unread(tl.entries[1])
        assert "(3 unread)" in screen_text(app)
        await pilot.press("m")  # everything seen
        await settle(pilot)
        assert not any(app.session.unread(e) for e in tl.entries)
        assert "•" not in screen_text(app)
        assert "unread" not in screen_text(app)


async def test_new_items_at_top_while_at_top() -> None:
    poll = FakePoll()
    app = make_app(10, poll=poll)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        poll.queue = [item(500, "Fresh news", minutes=-5)]
        await pilot.press("r")
        await settle(pilot)
        assert cursor_id(app) == "id000000"  # the same item stays selected
        assert app.main.timeline.cursor == 1
        await pilot.press("k")
        await settle(pilot)
        assert cursor_id(app) == "id000500"


async def test_hundred_thousand_entries() -> None:
    entries = [
        Entry(
            id=f"e{n}",
            published=NOW - timedelta(seconds=30 * n),
            title=f"Story {n}",
            sources=(SOURCES[n % 4],),
            language="fr",
            date_flag=None,
            first_seen=NOW,
            search=f"story {n}",
        )
        for n in range(100_000)
    ]

    class Big(MemoryStore):
        def entries(self) -> list[Entry]:
            return entries

    app = make_app(store=Big())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert len(app.main.timeline.entries) == 100_000
        started = time.perf_counter()
        await pilot.press("G")
        await pilot.pause()
        await pilot.press("pageup", "k", "g", "pagedown")
        await pilot.pause()
        assert time.perf_counter() - started < 2.0
        assert app.main.timeline.cursor == app.main.timeline.scrollable_content_region.height - 1
        current = app.main.timeline.current
        assert current is not None and current.title in screen_text(app)
        started = time.perf_counter()
        await pilot.press("slash", *"story 9999")
        await settle(pilot, 0.3)
        assert time.perf_counter() - started < 5.0
        assert {e.title for e in app.main.timeline.entries} >= {"Story 9999", "Story 99999"}
        assert app.main.timeline.cursor < len(app.main.timeline.entries)


# --- panes and focus ----------------------------------------------------------------------


async def test_tab_cycles_panes() -> None:
    app = make_app(10)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.focused, Timeline)
        await pilot.press("tab")
        assert isinstance(app.focused, ActorList)
        await pilot.press("tab")
        assert isinstance(app.focused, ArticlePane)
        await pilot.press("tab")
        assert isinstance(app.focused, Timeline)
        await pilot.press("shift+tab")
        assert isinstance(app.focused, ArticlePane)


async def test_small_screen_shows_one_pane_at_a_time() -> None:
    app = make_app(10)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.main.has_class("-narrow")
        shown = screen_text(app)
        assert "Headline number 0" in shown and "Summary of story 0." not in shown
        await pilot.press("enter")  # the article replaces the timeline
        await settle(pilot)
        shown = screen_text(app)
        assert "Summary of story 0." in shown and "Headline number 1" not in shown
        assert isinstance(app.focused, ArticlePane)
        await pilot.press("escape")  # back
        await settle(pilot)
        assert isinstance(app.focused, Timeline)
        await pilot.press("tab")
        await settle(pilot)
        shown = screen_text(app)
        assert "Donald Trump" in shown and "Headline number 0" not in shown
        await pilot.press("a")  # the sources in the side pane instead
        await settle(pilot)
        shown = screen_text(app)
        assert "Der Spiegel" in shown and "Headline number 0" not in shown


async def test_enter_opens_the_article_and_it_scrolls() -> None:
    long_text = "\n".join(f"Paragraph {n}." for n in range(200))
    store = MemoryStore([item(0, "Long read", text_=long_text), *items(10)[1:]])
    app = make_app(store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        pane = app.main.article
        assert app.focused is pane
        assert "Paragraph 5." in screen_text(app)
        await pilot.press("j", "j", "pagedown")
        assert pane.scroll_y > 2
        await pilot.press("G")
        assert pane.scroll_y == pane.max_scroll_y
        assert "Paragraph 199." in screen_text(app)
        await pilot.press("g")
        assert pane.scroll_y == 0


async def test_sources_pane_filters_to_a_source() -> None:
    app = make_app(30)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a", "tab", "j")  # the sources pane; the second source: BBC World
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.filter.source == "BBC World"
        assert app.main.timeline.entries
        assert all("BBC World" in e.sources for e in app.main.timeline.entries)
        assert 'filter: source:"BBC World"' in screen_text(app)
        await pilot.press("enter")  # again: cleared
        await settle(pilot)
        assert app.session.filter.source is None
        assert len(app.main.timeline.entries) == 30


async def test_actors_pane_ranks_and_filters_to_an_actor() -> None:
    app = make_app(30)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.main.actors_pane
        assert [r.name for r in pane.rows] == [
            "Donald Trump",
            "Vladimir Putin",
            "Emmanuel Macron",
            "Kremlin",
        ]
        assert pane.rows[0].shown == 20 and pane.rows[0].day == 20
        assert "Donald Trump" in screen_text(app)
        await pilot.press("tab", "j")  # Vladimir Putin
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.filter.actor == "Vladimir Putin"
        assert len(app.main.timeline.entries) == 11  # items 0, 3, 6… and item 2
        assert all("Vladimir Putin" in e.actors for e in app.main.timeline.entries)
        assert 'filter: actor:"Vladimir Putin"' in screen_text(app)
        await pilot.press("enter")  # again: cleared
        await settle(pilot)
        assert app.session.filter.actor is None
        assert len(app.main.timeline.entries) == 30


async def test_timeline_rows_show_the_top_two_actors_and_the_article_its_annotations() -> None:
    app = make_app(10)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert "Vladimir Putin, Donald Trump" in screen_text(app)  # the top two, when wide
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        row = next(line for line in screen_text(app).splitlines() if "Headline number 0" in line)
        assert "Vladimir" not in row.split("││")[0]  # narrower: the headline keeps the room
        await pilot.press("j", "j", "enter")  # item 2: full text, mentions, a quote, a date
        await settle(pilot)
        body = app.main.article.content
        shown = body.plain
        assert "actors: Vladimir Putin (1), Donald Trump (1)" in shown
        assert "Vladimir Putin: « we are ready to talk to the new administration »" in shown
        assert "on Monday = 2024-11-11" in shown
        underlined = {body.plain[s.start : s.end] for s in body.spans if str(s.style) == MENTION}
        assert underlined == {"Vladimir Putin", "Donald Trump"}


async def test_the_empty_timeline_says_why() -> None:
    app = make_app(0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "No items yet: none of the 4 sources has been polled." in screen_text(app)
        hostile = "Le [b]Monde[/b]\x1b[31m: cannot connect: " + "refused " * 12
        app.main.timeline.set_empty([f"No items yet. First error: {hostile}", "Try this."])
        await settle(pilot)
        shown = screen_text(app)
        assert "│  No items yet. First error: Le [b]Monde[/b]: cannot connect" in shown  # literal
        assert "\x1b" not in shown and "[31m" not in shown
        lines = [line for line in shown.splitlines() if "refused" in line]
        assert len(lines) >= 2  # wrapped to the pane, not clipped
        assert lines[-1].rstrip(" │").endswith("refused")
        assert "│  Try this." in shown
        app.main.timeline.set_empty([])
        await settle(pilot)
        assert "no items yet" in screen_text(app)
        app.main.timeline.set_empty(["polling 1 source…"])
        app.main.timeline.set_entries(app.session.entries)  # still none
        await settle(pilot)
        assert "polling 1 source…" in screen_text(app)


async def test_the_empty_message_goes_when_rows_come() -> None:
    app = make_app(0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.main.timeline.set_empty(["polling 4 sources…"])
        app.main.timeline.set_entries([entry_of(it) for it in items(3)])
        await settle(pilot)
        shown = screen_text(app)
        assert "polling" not in shown
        assert "Headline number 0" in shown


def test_sparkline() -> None:
    assert sparkline([0] * 24) == "·" * 12
    assert sparkline([0] * 22 + [1, 1]) == " " * 11 + "█"
    assert sparkline([1] * 24) == "█" * 12


async def test_utc_toggle() -> None:
    app = MonitorApp(
        settings(),
        MemoryStore(items(5)),
        poll=FakePoll(),
        now=fixed_now,
        tz=ZoneInfo("Europe/Paris"),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert "13:00" in shown and "CET" in shown  # 12:00 UTC
        await pilot.press("u")
        await settle(pilot)
        shown = screen_text(app)
        assert "12:00" in shown and "UTC" in shown
        await pilot.press("u")
        await settle(pilot)
        assert "13:00" in screen_text(app)


async def test_open_link() -> None:
    app = make_app(5)
    opened: list[str] = []
    app.open_url = lambda url, **kw: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "o")
        await settle(pilot)
        assert opened == ["https://news.example/1"]


async def test_no_link_opened_unless_http() -> None:
    store = MemoryStore([item(0, url="javascript:alert(1)")])
    app = make_app(store=store)
    opened: list[str] = []
    app.open_url = lambda url, **kw: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert opened == []
        assert any("not opening" in n for n in notes(app))


class SlowStore(MemoryStore):
    """A store whose reads wait until `free` is set, as behind a long write."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.free = threading.Event()
        self.free.set()

    def get(self, item_id: str) -> Item | None:
        self.free.wait(10)
        return super().get(item_id)


async def test_a_slow_read_shows_the_header_and_loading_then_the_text() -> None:
    store = SlowStore([item(n, text_=f"Body of story {n}.") for n in range(3)])
    app = make_app(store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "Body of story 0." in app.main.article.plain
        store.free.clear()
        await pilot.press("j")
        for _ in range(100):  # "loading" comes once the read has taken 50 ms
            if "loading…" in app.main.article.plain:
                break
            await pilot.pause(0.05)
        shown = app.main.article.plain
        assert "Headline number 1" in shown and "loading…" in shown
        store.free.set()
        await settle(pilot)
        assert "Body of story 1." in app.main.article.plain
        assert "loading…" not in app.main.article.plain


async def test_the_article_text_can_be_selected_with_the_mouse() -> None:
    app = make_app(30)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        pane = app.main.article
        region = pane.content_region
        await pilot.mouse_down("#article", offset=(1, 0))
        drag = events.MouseMove(
            pane, 10, 0, 0, 0, 1, False, False, False, screen_x=region.x + 10, screen_y=region.y
        )
        app.screen._forward_event(drag)
        await pilot.pause()
        await pilot.mouse_up("#article", offset=(10, 0))
        await settle(pilot)
        assert app.screen.get_selected_text() == "Headline "


async def test_the_article_rewraps_to_its_width() -> None:
    paragraph = " ".join(f"word{n}" for n in range(400))
    app = make_app(store=MemoryStore([item(0, text_=paragraph)]))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        pane = app.main.article
        wide, width = pane.virtual_size.height, pane.scrollable_content_region.width
        assert wide > pane.scrollable_content_region.height  # it scrolls
        await pilot.resize_terminal(110, 40)
        await settle(pilot)
        assert pane.scrollable_content_region.width < width
        assert pane.virtual_size.height > wide
        await pilot.press("tab", "tab", "G")  # to the article, then its end
        await settle(pilot)
        assert pane.scroll_y == pane.max_scroll_y > 0
        assert "word399" in screen_text(app)


# --- filters ------------------------------------------------------------------------------


async def test_filter_follows_typing_after_debounce_and_escape_clears(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a long debounce, so a slow machine cannot fire it between two keystrokes
    monkeypatch.setattr("monitor.tui.app.DEBOUNCE", 2.0)
    app = make_app(30)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*"number 2")
        await pilot.pause()
        assert len(app.main.timeline.entries) == 30  # not yet: debounced
        await settle(pilot, 2.2)
        titles = [e.title for e in app.main.timeline.entries]
        assert titles and all(t.startswith("Headline number 2") for t in titles)
        assert "filter: number 2" in screen_text(app)
        # highlighted in the article
        assert "Headline number 2" in app.main.article.plain
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.main.timeline.entries) == 30
        assert not app.main.filter_bar.display
        assert isinstance(app.focused, Timeline)
        assert "filter:" not in screen_text(app)


async def test_filter_enter_keeps_it() -> None:
    app = make_app(30)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"source:spiegel", "enter")
        await settle(pilot)
        assert not app.main.filter_bar.display
        assert isinstance(app.focused, Timeline)
        assert {e.sources[0] for e in app.main.timeline.entries} == {"Der Spiegel"}
        await pilot.press("j")  # keys move the cursor again
        assert app.main.timeline.cursor == 1
        await pilot.press("slash")  # reopens with the query
        assert app.main.filter_bar.query_one(Input).value == "source:spiegel"
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.main.timeline.entries) == 30


def burst(app: MonitorApp, keys: Sequence[str]) -> None:
    """Keys that arrive in one read, as over a slow SSH link: all queued before any is handled."""
    for key in keys:
        app.post_message(events.Key(key, key if len(key) == 1 else None))


@pytest.mark.parametrize(
    ("keys", "query", "focused", "cursor", "polls"),
    [
        (["slash", *"number 2", "enter", "j", "j"], "number 2", "timeline", 2, 0),
        (["slash", *"number 2", "enter", "r"], "number 2", "timeline", 0, 1),
        (["slash", *"number 2", "escape", "j"], "", "timeline", 1, 0),
        (["slash", *"(number", "enter", *"x)"], "(numberx)", "filter-input", 0, 0),
        (["enter", "j"], "", "article", 0, 0),
    ],
    ids=["enter-then-keys", "enter-then-poll", "escape-then-keys", "malformed", "open-then-scroll"],
)
async def test_keys_typed_ahead_follow_the_focus(
    keys: list[str], query: str, focused: str, cursor: int, polls: int
) -> None:
    poll = FakePoll()
    app = make_app(30, poll=poll)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = len(poll.calls)
        burst(app, keys)
        await settle(pilot, 0.6)  # past the debounce and the hold limit
        assert app.session.filter.text == query
        assert app.focused is not None and app.focused.id == focused
        assert app.main.timeline.cursor == cursor
        assert len(poll.calls) - before == polls


async def test_escape_on_the_timeline_clears_the_filter() -> None:
    app = make_app(30)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"number 1", "enter")
        await settle(pilot)
        assert len(app.main.timeline.entries) < 30
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.main.timeline.entries) == 30


async def test_malformed_query_shows_the_error_and_the_app_goes_on() -> None:
    app = make_app(30)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"number (2")
        await settle(pilot, 0.3)
        bar = app.main.filter_bar
        field = bar.query_one(Input)
        assert field.has_class("-error")
        shown = screen_text(app)
        assert "^ this parenthesis is never closed" in shown
        error = bar.query_one("#filter-error").render().plain  # type: ignore[attr-defined]
        assert error.index("^") == 3 + 7  # under the "(": border, padding, 7 characters
        assert len(app.main.timeline.entries) == 30  # the last good filter stays
        await pilot.press("enter")  # a malformed query is not kept
        await settle(pilot)
        assert bar.display and field.has_class("-error")
        await pilot.press("backspace", "backspace", "2")
        await settle(pilot, 0.3)
        assert not field.has_class("-error")
        await pilot.press("enter")
        await settle(pilot)
        assert [e.title for e in app.main.timeline.entries][:1] == ["Headline number 2"]
        for bad in ('"open', "a OR", "foo:bar", ")", "NOT", "((((("):
            await pilot.press("slash", "ctrl+u", *bad)
            await settle(pilot, 0.3)
            assert field.has_class("-error"), bad
            await pilot.press("escape")
            await settle(pilot)
        assert app.is_running
        before = app.main.timeline.cursor
        await pilot.press("j")
        assert app.main.timeline.cursor == before + 1


async def test_saved_filters_on_digits() -> None:
    filters = [
        SavedFilter("1", "Spiegel", "source:spiegel"),
        SavedFilter("2", "Twos", "number 2"),
        SavedFilter("3", "Broken", "a OR"),
    ]
    app = make_app(30, settings=settings(filters=filters))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert {e.sources[0] for e in app.main.timeline.entries} == {"Der Spiegel"}
        assert "filter: 1: Spiegel" in screen_text(app)
        await pilot.press("2")  # another one replaces it
        await settle(pilot)
        assert all("number 2" in e.title for e in app.main.timeline.entries)
        assert "filter: 2: Twos" in screen_text(app)
        await pilot.press("2")  # again: cleared
        await settle(pilot)
        assert len(app.main.timeline.entries) == 30
        assert "filter:" not in screen_text(app)
        await pilot.press("3")
        await settle(pilot)
        assert len(app.main.timeline.entries) == 30
        await pilot.press("escape", "9")  # nothing saved on 9
        await settle(pilot)
        assert any("no saved filter on 9" in n for n in notes(app))
        assert app.is_running


# --- screens ------------------------------------------------------------------------------


async def test_sources_screen_and_polling_one_source() -> None:
    from monitor.model import SourceState

    states = {
        "Le Monde": SourceState("Le Monde", "u", last_success=NOW - timedelta(minutes=3)),
        "BBC World": SourceState(
            "BBC World",
            "u",
            last_error="http",
            last_status=503,
            last_error_detail="Service Unavailable",
            failures=3,
            item_count=12,
        ),
    }
    poll = FakePoll()
    app = make_app(store=MemoryStore(items(10), states), poll=poll)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "sources 1 ok, 1 failing" in screen_text(app)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SourcesScreen)
        shown = screen_text(app)
        assert "3m ago" in shown
        assert "HTTP error 503: Service Unavailable" in shown
        assert "never" in shown
        await pilot.press("j", "r")
        await settle(pilot)
        assert poll.calls[-1] == (True, {"BBC World"})
        await pilot.press("j")  # digits, slash and the like do nothing here
        await pilot.press("slash", "1")
        assert isinstance(app.screen, SourcesScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SourcesScreen)
        assert isinstance(app.focused, Timeline)


async def test_help_lists_bindings_with_keymap_overrides() -> None:
    poll = FakePoll()
    filters = [SavedFilter("1", "Russie", "russie")]
    sets = settings(keys={"app.poll": "ctrl+r"}, filters=filters)
    app = make_app(10, poll=poll, settings=sets)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = screen_text(app)
        assert "^r" in shown and "Poll now" in shown and "app.poll" in shown
        assert "timeline.down" in shown and "Open the article" in shown
        assert "Russie (saved filter; again: clear)" in shown and "app.filter_1" in shown
        assert "Saved filter" not in shown and "app.filter_2" not in shown  # only those defined
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)
        calls = len(poll.calls)
        await pilot.press("r")  # no longer bound
        await settle(pilot)
        assert len(poll.calls) == calls
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert len(poll.calls) == calls + 1


async def test_unknown_key_id_is_reported() -> None:
    app = make_app(5, settings=settings(keys={"app.pol": "ctrl+r", "timeline.down": "n"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any("no binding named app.pol" in n for n in notes(app))
        await pilot.press("n")
        assert app.main.timeline.cursor == 1


async def test_command_palette_commands() -> None:
    from monitor.tui.commands import MonitorCommands

    filters = [SavedFilter("1", "Spiegel", "source:spiegel")]
    app = make_app(10, settings=settings(filters=filters))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        provider = MonitorCommands(app.screen)
        names = [name for name, _, _ in provider.commands()]
        for expected in ("Poll now", "Sources", "Help", "Filter 1: Spiegel", "Clear filter"):
            assert expected in names
        assert "Toggle UTC" in names and "Quit" in names
        hits = [h async for h in provider.search("spiegel")]
        assert hits and hits[0].text == "Filter 1: Spiegel"
        hits[0].command()
        await settle(pilot)
        assert {e.sources[0] for e in app.main.timeline.entries} == {"Der Spiegel"}


async def test_command_palette_from_the_keyboard() -> None:
    app = make_app(10)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot, 0.2)
        await pilot.press(*"toggle utc")
        await settle(pilot, 0.5)
        await pilot.press("enter")
        await settle(pilot, 0.2)
        assert app.main.utc


async def test_q_quits_with_zero() -> None:
    app = make_app(10)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 0
    assert not app.is_running


async def test_typing_q_in_the_filter_does_not_quit() -> None:
    app = make_app(10)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "q", "r", "s", "1")
        await settle(pilot, 0.3)
        assert app.is_running
        assert app.main.filter_bar.query_one(Input).value == "qrs1"


# --- polling ------------------------------------------------------------------------------


async def test_r_while_polling_says_so_and_quitting_cancels() -> None:
    release = asyncio.Event()
    calls: list[object] = []

    async def slow_poll(settings: object, store: object, **kw: object) -> PollReport:
        calls.append(kw)
        await release.wait()
        return PollReport(started=NOW, finished=NOW)

    app = make_app(10, poll=slow_poll)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.1)
        assert app.session.polling
        assert "polling…" in screen_text(app)
        await pilot.press("r")
        await pilot.pause()
        assert any("a poll is already running" in n for n in notes(app))
        assert len(calls) == 1
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 0


async def test_actors_of_a_big_poll_come_in_chunks_after_the_poll() -> None:
    """The poll ends (status, next poll) before the new items' actors are found; they are
    stored and shown chunk by chunk, the status bar counting the items left, and a poll
    can run meanwhile."""
    gate = asyncio.Event()
    seen: list[list[str]] = []
    poll = FakePoll()
    poll.queue = [item(100 + n, title=f"fresh {n}") for n in range(4)]
    app = make_app(5, poll=poll)

    async def annotate(
        ids: Sequence[str], *, stored: Callable[[int], Awaitable[None]] | None
    ) -> int:
        seen.append(list(ids))
        for start in range(0, len(ids), 2):
            await gate.wait()
            gate.clear()
            done = [
                replace(it, annotated=True, actors=(Actor("Vladimir Putin", "person", 1),))
                for it in map(app.session.store.get, ids[start : start + 2])
                if it is not None
            ]
            app.session.store.write(done, [])
            if stored is not None:
                await stored(len(done))
        return len(ids)

    app.session.annotate_fn = annotate
    app.session.annotate = True

    async def until(pilot: object, cond: Callable[[], bool]) -> None:
        for _ in range(200):
            await pilot.pause(0.02)  # type: ignore[attr-defined]
            if cond():
                return
        raise AssertionError("never happened")

    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session.finding == 4 and len(app.session.entries) == 9)
        assert not app.session.polling and app.session.next_poll is not None
        assert seen == [[f"id{100 + n:06d}" for n in range(4)]]
        await until(pilot, lambda: "finding actors of 4" in screen_text(app))
        assert "polling" not in screen_text(app)
        await pilot.press("r")  # polls while the actors are found
        await until(pilot, lambda: len(poll.calls) == 2 and not app.session.polling)
        gate.set()
        await until(pilot, lambda: sum(e.annotated for e in app.session.entries) == 7)  # read again
        assert app.session.finding == 2
        await until(pilot, lambda: "finding actors of 2" in screen_text(app))
        gate.set()
        await until(
            pilot,
            lambda: app.session.finding == 0 and sum(e.annotated for e in app.session.entries) == 9,
        )
        await settle(pilot)
        assert "finding actors" not in screen_text(app)
        assert "Vladimir Putin" in [r.name for r in app.main.actors_pane.rows]
        assert len(seen) == 1  # the catch-up after the second poll found nothing left


async def test_polls_that_end_while_actors_are_found_queue_one_turn() -> None:
    """However many polls end while the actors of an earlier one are being found, one
    turn waits, with the new items of all of them (no worker piles up per poll)."""
    gate = asyncio.Event()
    seen: list[list[str]] = []
    poll = FakePoll()
    poll.queue = [item(100, title="first")]
    app = make_app(5, poll=poll)

    async def annotate(
        ids: Sequence[str], *, stored: Callable[[int], Awaitable[None]] | None
    ) -> int:
        seen.append(list(ids))
        await gate.wait()
        done = [
            replace(it, annotated=True) for it in map(app.session.store.get, ids) if it is not None
        ]
        app.session.store.write(done, [])
        if stored is not None:
            await stored(len(done))
        return len(ids)

    app.session.annotate_fn = annotate
    app.session.annotate = True

    def waiting() -> int:
        return sum(
            t.get_coro().__name__ == "_after_poll" and not t.done()  # type: ignore[union-attr]
            for t in app.session._tasks
        )

    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(200):
            await pilot.pause(0.02)
            if seen:
                break
        for n in range(3):  # three more polls, each with a new item
            poll.queue = [item(200 + n, title=f"more {n}")]
            assert app.start_poll(force=True)
            for _ in range(200):
                await pilot.pause(0.02)
                if len(poll.calls) == n + 2 and not app.session.polling:
                    break
        assert waiting() == 2  # the one finding actors, and one turn behind it
        gate.set()
        for _ in range(200):
            await pilot.pause(0.02)
            if len(seen) >= 2 and waiting() == 0:
                break
        assert seen[0] == ["id000100"]
        assert {i for ids in seen[1:] for i in ids} <= {f"id{k:06d}" for k in (100, 200, 201, 202)}
        assert waiting() == 0
        assert all(e.annotated for e in app.session.entries if e.id >= "id000100")
        await pilot.press("q")


async def test_a_failing_poll_is_reported_and_the_app_goes_on() -> None:
    poll = FakePoll()
    poll.fail = RuntimeError("disk on fire [red]x[/red]")
    app = make_app(10, poll=poll)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.is_running
        assert any("disk on fire [red]x[/red]" in n for n in notes(app))
        assert all(not n.markup for n in app._notifications)
        assert "last poll failed" in screen_text(app)
        poll.fail = None
        await pilot.press("r")
        await settle(pilot)
        assert "last poll failed" not in screen_text(app)
        assert not app.session.polling


async def test_read_only_store_shows_the_notice_and_never_polls() -> None:
    poll = FakePoll()
    app = make_app(
        10,
        poll=poll,
        read_only=True,
        lock_message="store /x is in use by pid 4242 (monitor poll, since …)",
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any(
            n == "read-only: another monitor (pid 4242) is writing; polling disabled"
            for n in notes(app)
        )
        assert "read-only" in screen_text(app)
        assert "Headline number 0" in screen_text(app)
        await pilot.press("r")
        await settle(pilot)
        assert poll.calls == []


def test_poll_timer_rearms_between_bounds() -> None:
    async def run() -> None:
        app = make_app(5)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert app.session.next_poll is not None
            wait = (app.session.next_poll - NOW).total_seconds()
            assert 30 <= wait <= 600
            assert "next 12:00" in screen_text(app)  # 12:00:30

    asyncio.run(run())


async def test_an_unreadable_store_and_a_failed_step_are_said_not_raised() -> None:
    class Broken(MemoryStore):
        def entries(self) -> list[Entry]:
            raise OSError("disk gone")

    app = make_app(store=Broken(items(3)))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert any(m.startswith("reading the store failed: OSError: disk gone") for m in notes(app))

        with app.session.reported("finding actors"):
            raise RuntimeError("model missing")
        await settle(pilot)
        assert "finding actors failed: RuntimeError: model missing" in notes(app)
        assert app.is_running
