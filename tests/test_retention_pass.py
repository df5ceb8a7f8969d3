"""Retention as the application core runs it (`[storage] keep`): once an hour in the
writer, keeping what any analyst starred, tagged by hand or annotated, forgetting the
triage of what it drops; and how `monitor poll`, `--watch` and the dashboard say so."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.cli.poll import _WatchLines
from monitor.io.backends import open_store
from monitor.io.events import Dropped, PollEnded, Problem, Scheduled
from monitor.io.session import Session
from monitor.io.triage import FILE, Triage
from monitor.model import Item, PollReport
from monitor.tui.widgets.status_bar import status_text
from tests.support.dashboard import FakePoll, make_app, notes, settle
from tests.support.events import Recorder as BaseRecorder
from tests.support.items import items, settings
from tests.support.memstore import MemoryStore

NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)
KEEP = 20 * 86400.0  # 20 days: items published before 2026-05-31 (UTC) go
CUT = date(2026, 5, 31)


def make(name: str, published: datetime) -> Item:
    url = f"https://example.com/{name}"
    return Item(
        id=name,
        title=f"title of {name}",
        url=url,
        sources=("Le Monde",),
        published=published,
        published_raw=None,
        date_flag=None,
        language="fr",
        summary=f"summary of {name}",
        first_seen=published,
        keys=(f"u:{url}",),
    )


STORED = [
    make("last-second", datetime(2026, 5, 30, 23, 59, 59, tzinfo=UTC)),  # the last dropped day
    make("first-second", datetime(2026, 5, 31, 0, 0, 0, tzinfo=UTC)),  # the first kept day
    make("starred", datetime(2026, 5, 1, 9, 0, tzinfo=UTC)),
    make("tagged", datetime(2026, 5, 1, 10, 0, tzinfo=UTC)),
    make("noted", datetime(2026, 4, 1, 10, 0, tzinfo=UTC)),
    make("auto-tagged", datetime(2026, 5, 1, 11, 0, tzinfo=UTC)),  # auto-tags keep nothing
    make("seen", datetime(2026, 5, 2, 11, 0, tzinfo=UTC)),
    make("recent", datetime(2026, 6, 19, 8, 0, tzinfo=UTC)),
]
DROPPED = {"last-second", "auto-tagged", "seen"}


class Recorder(BaseRecorder):
    def dropped(self) -> list[Dropped]:
        return [e for e in self.events if isinstance(e, Dropped)]


def triage_rows(root: Path, table: str) -> set[str]:
    db = sqlite3.connect(root / FILE)
    try:
        return {r[0] for r in db.execute(f"SELECT id FROM {table}")}
    finally:
        db.close()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    store = open_store(path)
    store.write(STORED, [])
    store.close()
    bob = Triage(path, user="bob")  # another analyst's triage protects as well
    bob.star(["starred"])
    bob.tag("Suivi", ["tagged"])
    bob.note("noted", "à garder")
    bob.tag("Auto", ["auto-tagged", "recent"], auto=True)
    bob.mark_seen(["seen", "recent"])
    bob.close()
    return path


@pytest.mark.anyio
async def test_a_pass_drops_the_old_and_keeps_the_triaged(root: Path) -> None:
    clock = [NOW]
    sets = replace(settings(), storage=root, retention=KEEP)
    store = open_store(root)
    seen = Recorder()
    try:
        session = Session(
            sets, store, listener=seen, now=lambda: clock[0], poll=FakePoll(), text=False
        )
        await session.load()
        assert len(session.ids) == len(STORED)
        await session.poll()
        assert seen.dropped() == [Dropped(3, CUT, 3)]
        assert session.ids == {it.id for it in STORED} - DROPPED  # read again after it
        assert session.last_dropped == Dropped(3, CUT, 3)
        assert store.get("first-second") is not None and store.get("last-second") is None
        # the dropped items' triage is forgotten; what protected the others stays
        assert triage_rows(root, "seen") == {"recent"}
        assert triage_rows(root, "tags") == {"tagged", "recent"}
        assert triage_rows(root, "starred") == {"starred"}
        assert triage_rows(root, "notes") == {"noted"}

        clock[0] += timedelta(minutes=59)
        await session.poll()
        assert len(seen.dropped()) == 1  # at most once an hour
        clock[0] += timedelta(minutes=2)
        await session.poll()
        assert seen.dropped()[-1] == Dropped(0, CUT, 3)
        assert session.last_dropped == Dropped(3, CUT, 3)  # the status keeps the last drop
        await session.close()
    finally:
        store.close()


@pytest.mark.anyio
async def test_no_retention_unless_configured_nor_in_a_reader(root: Path) -> None:
    store = open_store(root)
    try:
        for sets, read_only in (
            (replace(settings(), storage=root), False),
            (replace(settings(), storage=root, retention=KEEP), True),
        ):
            seen = Recorder()
            session = Session(
                sets, store, listener=seen, now=lambda: NOW, poll=FakePoll(), read_only=read_only
            )
            await session.load()
            await session.poll()
            await session.close()
            assert seen.dropped() == [] and store.count() == len(STORED)
    finally:
        store.close()


@pytest.mark.anyio
async def test_nothing_is_dropped_when_the_triage_cannot_be_read(root: Path) -> None:
    (root / FILE).write_bytes(b"not a database" * 100)
    sets = replace(settings(), storage=root, retention=KEEP)
    store = open_store(root)
    seen = Recorder()
    try:
        session = Session(sets, store, listener=seen, now=lambda: NOW, poll=FakePoll())
        await session.load()
        await session.poll()
        await session.close()
        assert store.count() == len(STORED) and seen.dropped() == []
        problems = [e for e in seen.events if isinstance(e, Problem)]
        assert any(p.message.startswith("dropping old items failed") for p in problems)
    finally:
        store.close()


def test_monitor_poll_says_what_it_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    store = open_store(tmp_path / "db")
    store.write([make("old", now - timedelta(days=30)), make("new", now - timedelta(days=1))], [])
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text('[storage]\npath = "db"\nkeep = "20d"\n', encoding="utf-8")
    assert main(["poll", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    before = (now - timedelta(days=20)).date().isoformat()
    assert f"retention (keep 20d): 1 item published before {before} dropped" in out
    assert main(["export", "--config", str(cfg)]) == 0
    assert '"id": "new"' in capsys.readouterr().out


def test_watch_lines_say_it(capsys: pytest.CaptureFixture[str]) -> None:
    lines = _WatchLines()
    report = PollReport(started=NOW, finished=NOW, results=())
    for event in (Dropped(12, CUT, 2), PollEnded(report, None, 0), Scheduled(None)):
        lines(event)
    out = capsys.readouterr().out
    assert out.rstrip().endswith(
        "0 new; 12 items published before 2026-05-31 dropped (2 items kept: starred,"
        " tagged or annotated)"
    )
    for event in (Dropped(0, CUT, 2), PollEnded(report, None, 0), Scheduled(None)):
        lines(event)
    assert "dropped" not in capsys.readouterr().out  # nothing dropped: nothing said


@pytest.mark.anyio
async def test_the_dashboard_says_it(tmp_path: Path) -> None:
    old = make("old", datetime(2024, 10, 1, tzinfo=UTC))
    store = MemoryStore([*items(20), old])
    sets = replace(settings(), storage=tmp_path, retention=KEEP)
    app = make_app(store=store, settings=sets)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for _ in range(100):
            if any("retention" in n for n in notes(app)):
                break
            await pilot.pause(0.05)
        assert "retention: 1 item published before 2024-10-25 dropped" in notes(app)
        assert "1 old item dropped" in status_text(app.session, "", UTC).plain
        assert store.get("old") is None
