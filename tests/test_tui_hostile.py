"""Hostile feed text shows literally, triggers nothing and crashes nothing."""

from __future__ import annotations

import re

import pytest
from msgspec.structs import replace

from monitor.model import Actor, Quote, SourceState
from monitor.tui import text
from monitor.tui.screens.sources import SourcesScreen
from tests.support.dashboard import make_app, screen_text, settle
from tests.support.items import item, items
from tests.support.memstore import MemoryStore

pytestmark = pytest.mark.anyio

# Markup look-alikes: shown exactly as written.
MARKUP = [
    "[@click=app.quit]x[/]",
    "[ @click=app.quit]x[/]",
    "[/]",
    "Price [/b] drop",
    "[link=https://x]y",
    "[red]red?[/red]",
]
# Terminal controls: removed whole, the text around them kept.
CONTROLS = [
    "\x1b]52;c;SGVsbG8=\x07",
    "\x1b]8;;http://x\x1b\\",
    "\x1b[2J",
    "\x9b31m",
    "\u202e",
]
FORBIDDEN = re.compile("[\x1b\x9b\x07\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def cases() -> list[tuple[str, str]]:
    """(raw, what must be visible)."""
    out = [(s, s) for s in MARKUP]
    out += [(f"Left{s}Right", "LeftRight") for s in CONTROLS]
    return out


CASES = cases()
IDS = [repr(raw)[1:-1][:30] for raw, _ in CASES]


def check(shown: str, visible: str) -> None:
    assert visible in shown
    assert not FORBIDDEN.search(shown), repr(FORBIDDEN.search(shown))
    assert "]52;" not in shown and "SGVsbG8" not in shown
    assert "31m" not in shown and "http://x" not in shown


@pytest.mark.parametrize(("raw", "visible"), CASES, ids=IDS)
async def test_hostile_text_everywhere(raw: str, visible: str) -> None:
    """The string as a title, a source name, article text, a summary, a URL and an error
    detail: every pane shows it inert, and clicking on it does nothing."""
    body = f"First paragraph.\n\n{raw}\n\nLast paragraph."
    states = {
        "Le Monde": SourceState(
            "Le Monde", "u", last_error="parse", last_error_detail=raw, failures=2
        )
    }
    store = MemoryStore(
        [
            replace(
                item(0, raw, text_=body, url=f"https://x.example/{raw}"),
                actors=(Actor(raw, "person", 3),),
                quotes=(Quote(raw, raw),),
            ),
            item(1, "Plain title", sources=(raw, "Other"), summary=body),
            *items(5)[2:],
        ],
        states,
    )
    app = make_app(store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert shown.count(visible) >= 3  # the title's row, the article title, its text
        assert "Last paragraph." in shown
        check(shown, visible)
        # Clicking on the title in the article and in the timeline triggers nothing.
        await pilot.click("#article", offset=(2, 0))
        await pilot.click("#timeline", offset=(40, 1))
        await settle(pilot)
        assert app.is_running
        assert not FORBIDDEN.search(app.export_screenshot())

        await pilot.press("j")  # the summary-only item carried by the hostile source
        await settle(pilot)
        shown = screen_text(app)
        check(shown, visible)
        assert "summary only" in shown

        assert raw in [r.name for r in app.main.actors_pane.rows]  # an actor named so, shown inert
        await pilot.press("a", "tab")  # the sources pane: pick the hostile source
        for _ in range(6):
            if app.main.sources_pane.current == raw:
                break
            await pilot.press("j")
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.filter.source == raw
        assert [e.title for e in app.main.timeline.entries] == ["Plain title"]
        check(screen_text(app), visible)

        await pilot.press("s")  # the error detail on the sources screen
        await settle(pilot)
        assert isinstance(app.screen, SourcesScreen)
        check(screen_text(app), visible)
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running


async def test_hostile_poll_error_notification() -> None:
    from tests.support.dashboard import FakePoll

    poll = FakePoll()
    poll.fail = RuntimeError("[@click=app.quit]boom[/] \x1b]52;c;SGVsbG8=\x07")
    app = make_app(5, poll=poll)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        messages = [n.message for n in app._notifications]
        assert any("[@click=app.quit]boom[/]" in m for m in messages)
        assert not any(FORBIDDEN.search(m) for m in messages)
        assert all(not n.markup for n in app._notifications)
        assert app.is_running


async def test_filter_highlights_hostile_text_safely() -> None:
    store = MemoryStore([item(0, "Kremlin [b]says[/b] \x1b[2J", text_="kremlin \u202e text")])
    app = make_app(store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"kremlin", "enter")
        await settle(pilot)
        shown = screen_text(app)
        assert "Kremlin [b]says[/b]" in shown
        assert not FORBIDDEN.search(shown)


def test_clean_drops_every_listed_control() -> None:
    for raw in CONTROLS:
        assert text.clean(f"a{raw}b") == "ab"
        assert text.clean(f"a{raw}b", multiline=True) == "ab"
