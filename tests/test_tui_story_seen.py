"""A story marked seen in the dashboard, driven with Pilot: `M` marks the selected item's
whole story seen; a later copy with a new quote arrives unread, its row marked "new
angle" and the article saying why; one that repeats what the story said arrives seen."""

from __future__ import annotations

import pytest

from monitor.tui.app import MonitorApp
from tests.support.dashboard import FakePoll, make_app, notes, screen_text, settle
from tests.support.items import settings
from tests.support.memstore import MemoryStore
from tests.support.story_items import PUTIN, QUOTE, TITLE, TRUMP, begun_yesterday, copy, other

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def row(app: MonitorApp, title: str) -> str:
    """The timeline's row that shows `title` (its pane's part of the screen line)."""
    line = next(line for line in screen_text(app).splitlines() if title in line)
    return line.split("│")[1]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_m_marks_the_story_seen_and_a_new_angle_shows(size: tuple[int, int]) -> None:
    sets = settings()
    begun_yesterday(sets.storage)
    store = MemoryStore(
        [
            other(3, -70),
            copy(1, -60, "Le Monde", [PUTIN, TRUMP], [QUOTE], title=f"First: {TITLE}"),
            copy(2, -50, "BBC World", [PUTIN], [], title=f"Second: {TITLE}"),
        ]
    )
    poll = FakePoll()
    app = make_app(store=store, poll=poll, settings=sets)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app.main.timeline.current is not None
        assert app.main.timeline.current.id == "id000002"
        assert row(app, "Second:").startswith("•")
        await pilot.press("M")
        await settle(pilot)
        assert "marked the story seen (2 items)" in notes(app)
        assert not row(app, "Second:").startswith("•")
        assert not row(app, "First:").startswith("•")
        assert row(app, "Earthquake").startswith("•")  # another story

        poll.queue = [
            copy(10, 5, "El País", [PUTIN], [QUOTE.upper()], title=f"Again: {TITLE}"),
            copy(11, 6, "Der Spiegel", [PUTIN], ["Sanctions will stay"], title=f"New: {TITLE}"),
        ]
        await pilot.press("r")
        await settle(pilot)
        assert app.session.triage_state.angles == {"id000011": "new quote"}
        assert "new angle on a story marked seen: new quote" in notes(app)
        angle = row(app, "New:")
        assert angle.startswith("•") and "new angle New: Putin and Trump" in angle
        again = row(app, "Again:")
        assert not again.startswith("•") and "new angle" not in again

        await pilot.press("g")  # the newest item: the new angle
        await settle(pilot)
        if size[0] < 100:  # one pane at a time: the article
            await pilot.press("enter")
            await settle(pilot)
        assert "new angle: new quote" in app.main.article.plain
        assert "new angle: new quote" in screen_text(app)


async def test_the_palettes_mark_story_unread_undoes_m() -> None:
    sets = settings()
    begun_yesterday(sets.storage)
    store = MemoryStore(
        [
            copy(1, -60, "Le Monde", [PUTIN, TRUMP], [QUOTE], title=f"First: {TITLE}"),
            copy(2, -50, "BBC World", [PUTIN], [], title=f"Second: {TITLE}"),
        ]
    )
    app = make_app(store=store, settings=sets)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert app.session.triage_state.stories == {"id000001"}
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"mark story unread", "enter")
        await settle(pilot)
        assert "marked the story unread (2 items)" in notes(app)
        assert not app.session.triage_state.stories
        assert row(app, "First:").startswith("•") and row(app, "Second:").startswith("•")
