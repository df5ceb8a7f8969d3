"""The Stories view, driven with Pilot: `S` toggles it with the timeline, the rows are
ranked, `Enter` filters the timeline to the story, `m` marks the whole story seen, and
new items reach it after a poll."""

from __future__ import annotations

from datetime import timedelta

import pytest
from msgspec.structs import replace

from monitor.core.story_view import SCORE_WORDS
from monitor.io.triage import Triage
from monitor.model import Item
from monitor.tui.app import MonitorApp
from monitor.tui.screens.help import HelpScreen
from monitor.tui.widgets.story_list import StoryList
from tests.support.dashboard import FakePoll, make_app, notes, screen_text, settle
from tests.support.items import NOW, SOURCES, item, settings
from tests.support.memstore import MemoryStore

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

TALKS = "Kremlin says talks with Kyiv are possible under strict conditions"
TALKS_SUMMARY = "Moscow said on Thursday that talks with Kyiv were possible, the Kremlin added."
OTHERS = [
    ("Bundestag debates the federal budget for next year", "Deputies argued over spending."),
    ("Markets rally as inflation cools in the euro area", "Shares rose across Europe."),
    ("Earthquake of magnitude 6.1 strikes northern Japan", "No tsunami warning was issued."),
    ("UN Security Council meets on Sudan", "Diplomats called for a ceasefire."),
    ("Spain approves a new housing plan", "Rents will be capped in big cities."),
]


def copy(n: int, source: str, minutes: float) -> Item:
    """A copy of the talks story, as `source` ran it."""
    it = item(n, TALKS, sources=(source,), minutes=minutes, summary=TALKS_SUMMARY)
    return replace(it, summary=TALKS_SUMMARY)


def data() -> list[Item]:
    """The talks story in three sources (the earliest 50 min ago), five unrelated items."""
    story = [copy(1, SOURCES[0], 50), copy(2, SOURCES[1], 40), copy(3, SOURCES[2], 20)]
    others = [
        item(10 + n, title, minutes=15 + 30 * n, summary=summary, sources=(SOURCES[n % 4],))
        for n, (title, summary) in enumerate(OTHERS)
    ]
    return story + others


def stories_app(poll: FakePoll | None = None, **kwargs: object) -> MonitorApp:
    """The data, with a triage begun a day ago: every item unread."""
    sets = kwargs.pop("settings", None) or settings()
    Triage(sets.storage, now=lambda: NOW - timedelta(days=1)).close()
    return make_app(store=MemoryStore(data()), settings=sets, poll=poll, **kwargs)


def story_list(app: MonitorApp) -> StoryList:
    return app.main.query_one("#stories", StoryList)


async def open_stories(pilot: object, app: MonitorApp) -> StoryList:
    await settle(pilot)
    await pilot.press("S")  # type: ignore[attr-defined]
    await settle(pilot)
    return story_list(app)


async def test_S_toggles_the_ranked_stories_with_the_timeline() -> None:
    app = stories_app()
    async with app.run_test(size=(120, 40)) as pilot:
        stories = await open_stories(pilot, app)
        assert app.main.stories_shown and app.focused is stories
        assert app.main.timeline.region.area == 0  # in place of the timeline
        ids = [r.id for r in stories.rows]
        assert ids[0] == "id000001"  # three sources: the top story
        top = stories.rows[0]
        assert (top.sources, len(top.entries)) == (3, 3)
        assert len(ids) == 6  # the five others, apart
        scores = [r.score for r in stories.rows]
        assert scores == sorted(scores, reverse=True)
        shown = screen_text(app)
        assert "score" in shown and "src" in shown and "items" in shown and "24h" in shown
        assert "Stories · 6" in shown
        assert TALKS[:40] in shown
        # the article pane shows the selected story's headline item, and who ran it first
        assert "first: Le Monde" in app.main.article.plain
        await pilot.press("S")
        await settle(pilot)
        assert not app.main.stories_shown and app.focused is app.main.timeline
        assert "Stories · 6" not in screen_text(app)
        await pilot.press("S", "escape")  # Escape goes back too
        await settle(pilot)
        assert not app.main.stories_shown and app.focused is app.main.timeline


async def test_enter_shows_the_story_oldest_first_with_the_first_marked() -> None:
    """`Enter` sets the filter `story:ID`: the story's items, oldest first, the first one
    marked "first" (the timeline is newest first otherwise)."""
    app = stories_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.main.timeline.entries[0].id == "id000010"  # newest first, as ever
        await open_stories(pilot, app)
        await pilot.press("enter")
        await settle(pilot)
        assert not app.main.stories_shown and app.focused is not story_list(app)
        assert app.session.filter.text == "story:id000001"
        assert [e.id for e in app.main.timeline.entries] == ["id000001", "id000002", "id000003"]
        lines = [line for line in screen_text(app).splitlines() if TALKS[:12] in line]
        assert "first " + TALKS[:12] in lines[0] and SOURCES[0] in lines[0]
        assert all("first" not in line for line in lines[1:])


async def test_m_marks_every_item_of_the_story_seen_and_moves_on() -> None:
    app = stories_app()
    async with app.run_test(size=(120, 40)) as pilot:
        stories = await open_stories(pilot, app)
        entries = stories.rows[0].entries
        assert all(app.session.unread(e) for e in entries)
        row = next(line for line in screen_text(app).splitlines() if TALKS[:30] in line)
        assert row.startswith("│•")  # the story has unread items
        await pilot.press("m")
        await settle(pilot)
        assert not any(app.session.unread(e) for e in entries)
        assert app.session.triage_state.seen >= {"id000001", "id000002", "id000003"}
        assert "marked the story seen (3 items)" in notes(app)
        assert stories.cursor == 1  # the next story, for the next key
        row = next(line for line in screen_text(app).splitlines() if TALKS[:30] in line)
        assert "•" not in row
        assert app.session.unread(stories.rows[1].entries[0])  # the others stay unread


async def test_a_new_copy_joins_its_story_after_a_poll() -> None:
    poll = FakePoll()
    app = stories_app(poll)
    async with app.run_test(size=(120, 40)) as pilot:
        stories = await open_stories(pilot, app)
        assert len(stories.rows[0].entries) == 3
        poll.queue = [copy(4, SOURCES[3], 5)]
        await pilot.press("r")
        await settle(pilot, 0.2)
        top = stories.rows[0]
        assert top.id == "id000001" and len(top.entries) == 4 and top.sources == 4
        assert app.focused is stories


async def test_the_stories_keys_are_in_the_help_and_can_be_remapped() -> None:
    app = stories_app(settings=settings(keys={"stories.toggle": "V"}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("V")
        await settle(pilot)
        assert app.main.stories_shown
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        words = app.screen.help_text.plain
        for ident in ("stories.toggle", "stories.open", "stories.seen", "stories.close"):
            assert ident in words
        assert "V " in next(line for line in words.splitlines() if "stories.toggle" in line)
        assert SCORE_WORDS in words


async def test_the_stories_view_on_a_small_screen_is_one_pane() -> None:
    app = stories_app()
    async with app.run_test(size=(80, 24)) as pilot:
        stories = await open_stories(pilot, app)
        shown = screen_text(app)
        assert "Stories" in shown.splitlines()[0]  # the pane tabs
        assert stories.region.width >= 76
        assert TALKS[:30] in shown
        assert not app.main.article.region.height  # one pane at a time
        await pilot.press("tab")
        await settle(pilot)
        assert app.main.article.region.height and app.focused is app.main.article
        await pilot.press("tab")
        await settle(pilot)
        assert app.focused is stories


async def test_in_the_stories_view_m_marks_the_story_even_from_the_article() -> None:
    app = stories_app()
    async with app.run_test(size=(120, 40)) as pilot:
        stories = await open_stories(pilot, app)
        await pilot.press("tab")  # the article: the story's headline item
        await settle(pilot)
        assert app.focused is app.main.article
        await pilot.press("m")
        await settle(pilot)
        assert not any(app.session.unread(e) for e in stories.rows[0].entries)
        assert all(app.session.unread(r.entries[0]) for r in stories.rows[1:])  # not the view


async def test_a_filter_typed_in_the_stories_view_shows_its_items_in_the_timeline() -> None:
    app = stories_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_stories(pilot, app)
        await pilot.press("slash", *"japan", "enter")
        await settle(pilot, 0.3)
        assert not app.main.stories_shown and app.focused is app.main.timeline
        assert [e.id for e in app.main.timeline.entries] == ["id000012"]
