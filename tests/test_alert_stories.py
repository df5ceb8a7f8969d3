"""Alerts on the live stories: a watch raises one alert per story (`Match.story`), the
shingle comparison standing in for matches in no story and for rows recorded before
matches had one; a ledger of that earlier schema opens and is brought up to date."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from msgspec.structs import replace as changed

from monitor.config import Watch
from monitor.io.events import AlertRaised
from monitor.io.ledger import FILE, SCHEMA, Ledger, Match
from monitor.io.session import Session
from monitor.io.story_file import StoryFile
from monitor.model import Item
from tests.support.alerts import WIRE
from tests.support.alerts import match as ledger_match
from tests.support.dashboard import FakePoll, quiet_session
from tests.support.events import Recorder
from tests.support.items import NOW, item, settings
from tests.support.memstore import MemoryStore

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

AT = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
FRENCH = "le président a déclaré lundi que les pourparlers avec le kremlin continueraient"
FISH = "a different story about the kremlin and fishing quotas in the north sea this year"


def match(n: int, text: str, story: str | None) -> Match:
    return ledger_match("K", n, "Wire", text, story)


def test_matches_join_the_alert_of_their_story_and_no_other(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    done = ledger.record([match(1, WIRE, "S1"), match(2, FRENCH, "S1")], {}, AT)
    assert [len(a.items) for a in done.raised] == [2]  # one story, whatever the words
    done = ledger.record([match(3, WIRE, "S2")], {}, AT)  # the same words, another story
    assert len(done.raised) == 1 and not done.joined
    done = ledger.record([match(4, WIRE, None)], {}, AT)  # in no story: the words decide
    assert not done.raised and [a.story for a in done.joined] == ["id000001"]
    # a story that merged into S1 since: its items' stories now say so
    done = ledger.record([match(5, FISH, "S1")], {}, AT, {"id000003": "S1"}.get)
    assert not done.raised and [len(a.items) for a in done.joined] == [4]
    assert len(ledger.alerts()) == 2
    ledger.close()


def test_a_ledger_of_the_schema_before_stories_opens(tmp_path: Path) -> None:
    """A ledger written before matches had a story: it opens, gets the column, and its
    rows join new matches by their shingles."""
    ledger = Ledger(tmp_path)
    ledger.record([match(1, WIRE, None)], {}, AT)
    ledger.close()
    db = sqlite3.connect(tmp_path / FILE)  # as the earlier version left it
    db.execute("ALTER TABLE matches DROP COLUMN story")
    db.execute("PRAGMA user_version = 0")
    db.commit()
    db.close()
    reader = Ledger(tmp_path, read_only=True)  # a reader of the old file reads it
    assert [a.story for a in reader.alerts()] == ["id000001"]
    reader.close()

    ledger = Ledger(tmp_path)
    done = ledger.record([match(2, WIRE, "S1"), match(3, FISH, "S1")], {}, AT)
    assert not done.raised and [len(a.items) for a in done.joined] == [3]
    ledger.close()
    db = sqlite3.connect(tmp_path / FILE)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA
    rows = db.execute("SELECT item, story FROM matches ORDER BY item").fetchall()
    db.close()
    assert rows == [("id000001", None), ("id000002", "S1"), ("id000003", "S1")]
    Ledger(tmp_path).close()  # opened again: nothing to do


def watched(store: MemoryStore, folder: Path, seen: Recorder) -> Session:
    sets = replace(settings(), storage=folder, watches=(Watch("Kremlin", "kremlin"),))
    return quiet_session(sets, store, listener=seen)


def copy(n: int, text: str, source: str, minutes: float) -> Item:
    it = item(n, text, summary=text, sources=[source], minutes=minutes)
    return changed(it, annotated=True)


async def test_a_watch_alerts_once_for_three_copies_and_again_for_another_story(
    tmp_path: Path,
) -> None:
    """Three copies of one story in three polls make one alert with three items; an
    unrelated item makes its own; each match is recorded with its story."""
    seen = Recorder()
    session = watched(MemoryStore([]), tmp_path, seen)
    poll: FakePoll = session.poll_fn  # type: ignore[assignment]
    await session.load()
    for batch in (
        [copy(1, WIRE, "Wire A", 30)],
        [copy(2, WIRE, "Wire B", 20), copy(4, FISH, "Wire D", 18)],
        [copy(3, WIRE + " more", "Wire C", 10)],
    ):
        poll.queue = batch
        await session.poll()
        await session.settle()
    await session.close()
    raised = [a for e in seen.of(AlertRaised) for a in e.alerts]
    assert sorted(a.story for a in raised) == ["id000001", "id000004"]
    ledger = Ledger(tmp_path)
    alerts = {a.story: a for a in ledger.alerts()}
    ledger.close()
    assert [i.id for i in alerts["id000001"].items] == ["id000001", "id000002", "id000003"]
    db = sqlite3.connect(tmp_path / FILE)
    rows = db.execute("SELECT item, story FROM matches ORDER BY item").fetchall()
    db.close()
    assert rows == [
        ("id000001", "id000001"),
        ("id000002", "id000001"),
        ("id000003", "id000001"),
        ("id000004", "id000004"),
    ]


async def test_copies_the_stories_join_make_one_alert_whatever_their_words(
    tmp_path: Path,
) -> None:
    """Copies that share no words (a translation) but are in one saved story: one alert,
    as the dashboard and the digest see them; the item in no shared story, another."""
    english, french = copy(1, WIRE, "Wire A", 40), copy(2, FRENCH, "Le Fil", 30)
    other = copy(3, FISH, "Wire C", 20)
    file = StoryFile(tmp_path, writer=True)
    rows = [(it.id, english.id, it.first_seen) for it in (english, french)]
    assert file.save([*rows, (other.id, other.id, other.first_seen)], NOW - timedelta(days=7))
    file.close()
    seen = Recorder()
    session = watched(MemoryStore([english, french, other]), tmp_path, seen)
    await session.load()  # the start matches the recent items again (`recheck`)
    await session.settle()
    await session.close()
    alerts = sorted((a.story, len(a.items)) for e in seen.of(AlertRaised) for a in e.alerts)
    assert alerts == [("id000001", 2), ("id000003", 1)]
