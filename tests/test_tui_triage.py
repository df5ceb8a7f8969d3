"""The analyst's triage in the dashboard, driven with Pilot: f, t (with completion), T, n,
m, the unread and starred marks, and the marks after a restart."""

from __future__ import annotations

import pytest
from textual.widgets import Input, TextArea

from monitor.io.triage import Triage
from monitor.tui.app import MonitorApp
from monitor.tui.screens.help import HelpScreen
from monitor.tui.screens.note_editor import NoteEditor
from monitor.tui.screens.tag_prompt import TagPrompt
from tests.support.dashboard import make_app, notes, screen_text, settle
from tests.support.items import fixed_now, item, items, settings
from tests.support.memstore import MemoryStore

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]


def row(app: MonitorApp, title: str) -> str:
    """The timeline's row that shows `title` (its pane's part of the screen line)."""
    line = next(line for line in screen_text(app).splitlines() if title in line)
    return line.split("│")[1]


def current(app: MonitorApp) -> str:
    entry = app.main.timeline.current
    assert entry is not None
    return entry.id


async def test_f_stars_and_unstars_the_current_item() -> None:
    app = make_app(10)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "f")
        await settle(pilot)
        assert app.session.triage_state.starred == {"id000001"}
        assert row(app, "Headline number 1 ").startswith(" ★ ")
        assert "★ starred" in app.main.article.plain
        assert "starred 1 item" in notes(app)
        assert all(not n.markup for n in app._notifications)
        await pilot.press("f")
        await settle(pilot)
        assert not app.session.triage_state.starred
        assert "★" not in screen_text(app)
        assert "unstarred 1 item" in notes(app)


async def test_t_tags_with_completion_and_a_leading_minus_removes() -> None:
    sets = settings()
    t = Triage(sets.storage, now=fixed_now)
    t.tag("Sanctions", ["id000005", "id000006"])
    t.tag("Sport", ["id000007"])
    t.close()
    app = make_app(10, settings=sets)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TagPrompt)
        assert "Tag Headline number 0" in screen_text(app)
        await pilot.press("s", "a")
        await settle(pilot)
        field = app.screen.query_one(Input)
        assert field._suggestion == "Sanctions"  # the most used tag first
        assert "sanctions" in screen_text(app)  # completes what is typed
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, TagPrompt)
        assert app.session.triage_state.tags_of("id000000") == ["Sanctions"]
        assert "tags: Sanctions" in app.main.article.plain
        assert "tagged 1 item Sanctions" in notes(app)

        await pilot.press("t")
        await settle(pilot)
        assert "tags now: Sanctions" in screen_text(app)
        await pilot.press("-", "s", "p")
        await settle(pilot)
        assert app.screen.query_one(Input)._suggestion == "-Sport"  # after the minus too
        await pilot.press("backspace", "a", "n", "enter")  # Enter takes what is typed
        await settle(pilot)
        assert "no tag san to remove" in notes(app)
        await pilot.press("t", "-", "s", "a")
        await settle(pilot)
        await pilot.press("tab", "enter")  # "-Sanctions"
        await settle(pilot)
        assert app.session.triage_state.tags_of("id000000") == []
        assert "removed the tag Sanctions from 1 item" in notes(app)
        assert "tags:" not in app.main.article.plain

        await pilot.press("t", *"new tag", "escape")  # Esc: nothing
        await settle(pilot)
        assert not isinstance(app.screen, TagPrompt)
        assert "new tag" not in app.session.triage_state.tags


async def test_capital_t_tags_every_item_in_view() -> None:
    app = make_app(30)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"number 2", "enter")
        await settle(pilot, 0.3)
        shown = {e.id for e in app.main.timeline.entries}
        assert len(shown) == 11
        await pilot.press("T")
        await settle(pilot)
        assert isinstance(app.screen, TagPrompt)
        assert "Tag the 11 items in view (filter: number 2)" in screen_text(app)
        await pilot.press(*"Twos", "enter")
        await settle(pilot)
        assert app.session.triage_state.tags["twos"] == shown
        assert "tagged 11 items Twos" in notes(app)
        await pilot.press("escape")  # the filter off: the tag filters as well
        await pilot.press("slash", *"tag:TWOS", "enter")
        await settle(pilot, 0.3)
        assert {e.id for e in app.main.timeline.entries} == shown


async def test_n_edits_the_note() -> None:
    app = make_app(10)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "n")
        await settle(pilot)
        assert isinstance(app.screen, NoteEditor)
        assert "Note on Headline number 2" in screen_text(app)
        await pilot.press(*"[b]call[/b] the desk", "enter", *"tomorrow", "ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, NoteEditor)
        assert app.session.triage_state.notes == {"id000002": "[b]call[/b] the desk\ntomorrow"}
        shown = app.main.article.plain
        assert "note: [b]call[/b] the desk\n      tomorrow" in shown  # literal, lines kept
        assert "note saved" in notes(app)

        await pilot.press("n")
        await settle(pilot)
        area = app.screen.query_one(TextArea)
        assert area.text == "[b]call[/b] the desk\ntomorrow"
        await pilot.press(*" more", "escape")  # Esc: unchanged
        await settle(pilot)
        assert app.session.triage_state.notes["id000002"].endswith("tomorrow")

        await pilot.press("n")
        await settle(pilot)
        app.screen.query_one(TextArea).clear()
        await pilot.click("#note-save")
        await settle(pilot)
        assert app.session.triage_state.notes == {}
        assert "note removed" in notes(app)
        assert "note:" not in app.main.article.plain


async def test_hostile_tags_and_notes_show_literally() -> None:
    sets = settings()
    t = Triage(sets.storage, now=fixed_now)
    t.tag("[red]x[/red]", ["id000000"])
    t.note("id000000", "[@click=app.quit]quit[/] \x1b[31mred")
    t.close()
    app = make_app(5, settings=sets)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert "tags: [red]x[/red]" in shown
        assert "note: [@click=app.quit]quit[/] red" in shown
        assert "\x1b" not in shown
        await pilot.click("#article", offset=(20, 6))
        await settle(pilot)
        assert app.is_running


async def test_unread_marks_m_and_a_resting_cursor_survive_a_restart() -> None:
    sets = settings()
    data = [*(item(100 + n, f"Fresh story {n}", minutes=-n - 1) for n in range(3)), *items(5)]

    app = make_app(store=MemoryStore(data), settings=sets)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        unread = [e.id for e in app.main.timeline.entries if app.session.unread(e)]
        assert unread == ["id000102", "id000101", "id000100", "id000000"]
        assert row(app, "Fresh story 2").startswith("•  ")
        assert "(4 unread)" in screen_text(app)
        app.session.seen_after = 0.05
        await pilot.press("j")  # rests on Fresh story 1
        await settle(pilot, 0.2)
        assert row(app, "Fresh story 1").startswith("   ")
        assert row(app, "Fresh story 2").startswith("•  ")  # left at once: not seen
        assert "(3 unread)" in screen_text(app)
        await pilot.press("q")

    again = make_app(store=MemoryStore(data), settings=sets)
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        unread = [e.id for e in again.main.timeline.entries if again.session.unread(e)]
        assert unread == ["id000102", "id000100", "id000000"]
        assert row(again, "Fresh story 1").startswith("   ")
        await pilot.press("slash", *"fresh", "enter")
        await settle(pilot, 0.3)
        await pilot.press("m")  # the view: the three fresh stories
        await settle(pilot)
        assert "marked 2 items seen" in notes(again)
        await pilot.press("escape")
        await settle(pilot)
        assert [e.id for e in again.main.timeline.entries if again.session.unread(e)] == [
            "id000000"
        ]
        await pilot.press("q")

    third = make_app(store=MemoryStore(data), settings=sets)
    async with third.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert [e.id for e in third.main.timeline.entries if third.session.unread(e)] == [
            "id000000"
        ]
        assert "(1 unread)" in screen_text(third)


async def test_read_only_dashboards_triage_too() -> None:
    app = make_app(5, read_only=True, lock_message="store x is in use by pid 1")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert app.session.triage_state.starred == {"id000000"}


async def test_the_help_lists_the_triage_keys() -> None:
    app = make_app(5)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.help_text.plain
        for line in (
            "Star / unstar the item",
            "triage.star",
            "Tag the item (-tag removes it)",
            "triage.tag_view",
            "triage.note",
            "Mark the items in view seen",
            "note.save",
            "tag.complete",
            "★ starred (f)",
        ):
            assert line in text, line


async def test_narrow_screen_marks_and_prompts_fit() -> None:
    app = make_app(10)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f", "t")
        await settle(pilot)
        shown = screen_text(app)
        assert "Tag Headline number 0" in shown and "Esc: cancel" in shown
        await pilot.press("escape", "n")
        await settle(pilot)
        shown = screen_text(app)
        assert "Save (ctrl+s)" in shown and "Cancel (Esc)" in shown
        await pilot.press("escape")
        await settle(pilot)
        assert row(app, "Headline number 0").startswith("•★ ")
