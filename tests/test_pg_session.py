"""Sessions on a PostgreSQL store keep triage, the alert ledger and the stories in the
database: each analyst's triage their own, two pollers raising and sending an alert
once, the stories saved for the next start."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from monitor.config import AlertSettings, DatabaseSettings, Settings, Watch
from monitor.io.events import AlertRaised
from monitor.io.pg.connect import database
from monitor.io.pg.store import PgStore
from monitor.io.session import Session
from monitor.io.story_file import StoryFile
from monitor.io.triage import Triage
from monitor.model import Item
from tests.support.dashboard import FakePoll
from tests.support.events import Recorder
from tests.support.items import fixed_now, item, settings

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

STORY = " ".join(f"w{i}x{i * 7 % 13}" for i in range(40))  # words of one story


def copy(n: int, source: str, minutes: float) -> Item:
    return item(n, f"Headline {STORY[:40]}", summary=STORY, sources=[source], minutes=minutes)


def session(sets: Settings, sent: list[str], seen: Recorder, user: str, **kw: Any) -> Session:
    async def send(channel: str, alerts: Any, settings: object) -> None:
        sent.extend(f"{channel}:{a['story']}" for a in alerts)

    db = sets.database
    assert db is not None
    return Session(
        sets,
        PgStore(database(db)),
        listener=seen,
        now=fixed_now,
        poll=FakePoll(),
        annotate=False,
        text=False,
        send=send,
        triage=Triage(db, user=user, now=fixed_now),
        **kw,
    )


async def test_two_pollers_and_two_analysts_on_one_database(pg_url: str) -> None:
    db = DatabaseSettings(url=pg_url)
    sets = replace(
        settings(),
        database=db,
        watches=(Watch("Headlines", "headline", notify=("dashboard", "webhook")),),
        alerts=AlertSettings(webhook="https://hooks.example/x"),
    )
    sent: list[str] = []
    heard = [Recorder(), Recorder()]
    first = session(sets, sent, heard[0], "alice")
    second = session(sets, sent, heard[1], "bob")
    a, b = copy(1, "Wire A", 30), copy(2, "Wire B", 20)
    for s in (first, second):
        await s.load()
    # each poller stores one copy of the story; both read both and match the watch
    first.poll_fn.queue = [a]  # type: ignore[attr-defined]
    second.poll_fn.queue = [b]  # type: ignore[attr-defined]
    await first.poll()
    await second.poll()
    for s in (first, second):
        await s.load()
        await s.settle()
        await s.stories_ready()
    await first.watch(first.entries)  # both see everything: matched again, recorded once
    await second.watch(second.entries)
    for s in (first, second):
        await s.settle()
    raised = [x for r in heard for e in r.of(AlertRaised) for x in e.alerts]
    assert len({x.id for x in raised}) == 1  # one alert for the story, not one per poller
    assert sent == [f"webhook:{a.id}"]  # delivered once, by one of them
    ledger = first.ledger
    assert ledger is not None
    (alert,) = ledger.alerts()
    assert alert.more == 1 and {i.id for i in alert.items} == {a.id, b.id}
    assert await first.mark_alerts_seen([alert.id]) == 1
    assert await second.refresh_alerts() == {}

    # each analyst's triage is their own
    assert await first.star([a.id]) == "starred 1 item"
    await first.tag("Kremlin", [a.id, b.id])
    await second.note(b.id, "call the desk")
    await first.load()
    await second.load()
    assert first.triage_state.starred == {a.id} and second.triage_state.starred == frozenset()
    assert first.triage_state.tags == {"kremlin": {a.id, b.id}} and not second.triage_state.tags
    assert second.triage_state.notes == {b.id: "call the desk"} and not first.triage_state.notes

    # the stories are saved in the database for the next start, and joined the copies
    assert first.stories.story_of(b.id) == a.id
    saved = StoryFile(db, writer=False)
    assert saved.stories_of([a.id, b.id]) == {a.id: a.id, b.id: a.id}
    saved.close()
    for s in (first, second):
        await s.close()
        s.store.close()

    again = session(sets, sent, Recorder(), "alice")  # a restart
    await again.load()
    await again.stories_ready()
    assert again.triage_state.starred == {a.id}
    assert again.stories.story_of(b.id) == a.id
    await again.watch(again.entries)
    await again.settle()
    assert sent == [f"webhook:{a.id}"] and len(again.ledger.alerts()) == 1  # type: ignore[union-attr]
    await again.close()
    again.store.close()
