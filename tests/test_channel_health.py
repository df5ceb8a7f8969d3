"""The alert channels' health: summed up from the ledger's deliveries, shown by
`monitor sources` and on the sources screen."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import AlertSettings
from monitor.core.cluster import shingles
from monitor.core.humanize import channel_status, shown_channels
from monitor.io.backends import open_store
from monitor.io.ledger import Ledger, Match
from monitor.model import AlertItem, ChannelHealth
from monitor.tui.screens.sources import SourcesScreen
from monitor.tui.widgets.table_list import TableList
from tests.support.dashboard import make_app, screen_text, settle
from tests.support.items import NOW as APP_NOW
from tests.support.items import item, settings

HOSTILE = "HTTP 500: [b]down[/b] [@click=app.quit]x[/] \x1b]52;c;QUJD\x07 \x1b[31mred \u202eevil"


STORIES = (
    "the president said on monday that talks with the kremlin would go on next week",
    "a different story about fishing quotas in the north sea and the harbours",
)


def match(n: int, text: str) -> Match:
    it = item(n, text, sources=["S"])
    alert_item = AlertItem(it.id, it.title, it.url, it.sources, it.published)
    return Match("K", it.id, alert_item, ("kremlin",), text, shingles(it))


def crafted(path: Path, now: datetime) -> Ledger:
    """A webhook that worked then failed twice (retried later), an email given up, a
    command that delivered."""
    ledger = Ledger(path)
    channels = {"K": {"webhook": now, "email": now, "command": now}}
    ledger.record([match(k, t) for k, t in enumerate(STORIES)], channels, now)
    first = {(d.channel, d.alert.story) for d in ledger.due_deliveries(now)}
    assert len(first) == 6
    earlier = now - timedelta(hours=2)
    due = ledger.due_deliveries(now)
    webhook = [d.id for d in due if d.channel == "webhook"]
    ledger.mark_sent(webhook[:1], earlier)
    ledger.mark_failed(webhook[1:], "HTTP 503", now - timedelta(hours=1), now - timedelta(hours=1))
    ledger.mark_failed(webhook[1:], HOSTILE, now + timedelta(minutes=5), now)
    ledger.mark_failed([d.id for d in due if d.channel == "email"], "refused", None, earlier)
    ledger.mark_sent([d.id for d in due if d.channel == "command"], now)
    return ledger


def test_channel_health_from_crafted_rows(tmp_path: Path) -> None:
    now = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    ledger = crafted(tmp_path, now)
    health = {h.channel: h for h in ledger.channel_health()}
    assert list(health) == ["command", "email", "webhook"]
    assert health["webhook"] == ChannelHealth(
        "webhook",
        last_success=now - timedelta(hours=2),
        last_failure=now,
        last_error=HOSTILE,
        failures=2,
        pending=1,
        next_try=now + timedelta(minutes=5),
    )
    assert health["email"] == ChannelHealth(
        "email",
        last_failure=now - timedelta(hours=2),
        last_error="refused",
        failures=1,
        given_up=2,
    )
    assert health["command"] == ChannelHealth("command", last_success=now)
    ledger.mark_sent([d.id for d in ledger.due_deliveries(now + timedelta(minutes=5))], now)
    webhook = next(h for h in ledger.channel_health() if h.channel == "webhook")
    assert (webhook.failures, webhook.pending, webhook.last_success) == (0, 0, now)
    assert webhook.last_error is None  # a delivery that went out keeps no error
    ledger.close()
    read_only = Ledger(tmp_path, read_only=True)
    assert [h.channel for h in read_only.channel_health()] == ["command", "email", "webhook"]
    read_only.close()


def test_channel_status_and_rows() -> None:
    failing = ChannelHealth("webhook", failures=2, pending=1)
    assert channel_status(failing, True) == "failing"
    assert channel_status(ChannelHealth("email", last_success=APP_NOW), True) == "ok"
    assert channel_status(ChannelHealth("email", given_up=1), True) == "given up"
    assert channel_status(ChannelHealth("email", pending=1), True) == "waiting"
    assert channel_status(ChannelHealth("command"), True) == "unused"
    assert channel_status(failing, False) == "not configured"
    rows = shown_channels([failing], ["email"])
    assert rows == [failing, ChannelHealth("email")]  # fixed order, the empty one too
    assert shown_channels([], []) == []


def test_monitor_sources_lists_the_channels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    open_store(tmp_path / "db").close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[storage]\npath = "db"\n\n[[sources]]\nname = "Le Quotidien"\n'
        'url = "https://quotidien.example/feed"\n\n'
        '[alerts]\nwebhook = "https://hooks.example/desk"\ncommand = ["notify-wrapper"]\n',
        encoding="utf-8",
    )
    assert main(["sources", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "Le Quotidien" in out
    lines = out.splitlines()[out.splitlines().index("") + 1 :]
    assert lines[0].split() == [
        "alert", "channel", "status", "last", "success", "last", "error", "fails", "pending", "next"
    ]  # fmt: skip
    assert lines[2].split()[:3] == ["command", "unused", "never"]  # configured, no ledger yet
    assert lines[3].split()[:3] == ["webhook", "unused", "never"]

    crafted(tmp_path / "db", now).close()
    assert main(["sources", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    rows = {line.split()[0]: line for line in out.splitlines() if line}
    assert rows["webhook"].split()[1:5] == ["failing", "2h", "ago", "HTTP"]
    assert "HTTP 500: [b]down[/b] [@click=app.quit]x[/] red e…" in rows["webhook"]  # clipped
    assert "QUJD" not in out and re.search(r"  2 +1 +in [45]m$", rows["webhook"])
    assert rows["email"].split()[1:3] == ["not", "configured"]  # deliveries, no [alerts] email
    assert rows["command"].split()[1:2] == ["ok"]


@pytest.mark.anyio
@pytest.mark.timeout(120)
async def test_sources_screen_shows_a_failing_webhook(tmp_path: Path) -> None:
    crafted(tmp_path, APP_NOW).close()
    sets = replace(
        settings(storage=tmp_path), alerts=AlertSettings(webhook="https://hooks.example/x")
    )
    app = make_app(5, settings=sets)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SourcesScreen)
        shown = screen_text(app)
        assert "Alert channels: 2 failing, 1 configured" in shown and "alert channel" in shown
        assert "webhook (failing)" in shown
        assert "email (not configured)" in shown
        assert "HTTP 500: [b]down[/b] [@click=app.quit]x[/]" in shown  # literally
        assert "\x1b" not in shown and "\u202e" not in shown and "QUJD" not in shown
        keys = [key for key, _ in screen.query_one("#health-list", TableList).lines]
        for _ in range(keys.index(("channel", "webhook"))):
            await pilot.press("j")
        await settle(pilot)
        assert screen.selected_channel is not None
        detail = screen_text(app)
        assert "webhook: HTTP 500: [b]down[/b] [@click=app.quit]x[/]  red evil" in detail
        await pilot.press("r")  # no source to poll on a channel row
        await settle(pilot)
        assert app.screen is screen


def test_a_ledger_from_before_tried_at(tmp_path: Path) -> None:
    import sqlite3

    now = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    crafted(tmp_path, now).close()
    with sqlite3.connect(tmp_path / "alerts.sqlite") as db:
        db.execute("ALTER TABLE deliveries DROP COLUMN tried_at")
    old = Ledger(tmp_path, read_only=True)  # read-only: the end of a delivery stands in
    health = {h.channel: h for h in old.channel_health()}
    assert health["command"].last_success == now and health["email"].given_up == 2
    assert health["webhook"].failures == 2 and health["webhook"].last_error == HOSTILE
    old.close()
    Ledger(tmp_path).close()  # the writer adds the column
    again = Ledger(tmp_path, read_only=True)
    assert [h.channel for h in again.channel_health()] == ["command", "email", "webhook"]
    again.close()
