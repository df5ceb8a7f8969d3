"""The alerts screen (`!`) and the status bar's badges, driven with Pilot."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.config import Watch
from monitor.tui import notify
from monitor.tui.screens.alerts import AlertsScreen
from monitor.tui.screens.main import MainScreen
from tests.support.dashboard import FakePoll, make_app, notes, screen_text, settle
from tests.support.items import item, settings

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

HOSTILE = "Breaking [b]bold[/b] [@click=app.quit]x[/] \x1b]52;c;QUJD\x07 \x1b[31mred \u202eevil"


async def test_alerts_screen_enter_and_mark_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    watches = (
        Watch("Hostile", "hostile", notify=("dashboard", "bell")),
        Watch("Quiet one", "nothing-matches-this"),
    )
    sets = replace(settings(), watches=watches)
    poll = FakePoll()
    poll.queue = [item(40, HOSTILE, minutes=1, summary="A hostile summary, on purpose.")]
    app = make_app(10, settings=sets, poll=poll)
    rings: list[tuple[str, str]] = []
    monkeypatch.setattr(notify, "ring", lambda app, title, body: rings.append((title, body)))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert app.session.alert_counts == {"Hostile": 1}
        assert rings == [("Hostile", HOSTILE)]  # notify.ring cleans what it writes
        said = [n for n in notes(app) if n.startswith("Hostile:")]
        assert len(said) == 1 and "\x1b" not in said[0] and "\u202e" not in said[0]
        assert all(not n.markup for n in app._notifications)
        assert "! Hostile 1" in screen_text(app)  # the badge
        assert "Quiet one" not in screen_text(app)

        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, AlertsScreen)
        shown = screen_text(app)
        assert "Alerts: 1, 1 unseen" in shown
        assert "[b]bold[/b] [@click=app.quit]x[/]" in shown  # literally, never markup
        assert "\x1b" not in shown and "\u202e" not in shown and "QUJD" not in shown
        assert "A hostile summary, on purpose." in shown  # the words in context
        assert "Le Monde" in shown

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert app.main.article.entry is not None and app.main.article.entry.id == "id000040"

        await pilot.press("exclamation_mark")
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert "Alerts: 1, 0 unseen" in screen_text(app)
        assert app.session.alert_counts == {}
        await pilot.press("escape")
        await settle(pilot)
        assert "! Hostile" not in screen_text(app)


async def test_the_help_lists_the_alerts_screen() -> None:
    app = make_app(3)
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        help_text = app.help_text().plain
        assert "Alerts screen (watches)" in help_text and "Mark every alert seen" in help_text
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert isinstance(app.screen, AlertsScreen)
        assert "no [[watches]] in config.toml" in screen_text(app)
