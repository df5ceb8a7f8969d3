"""Watches in the session's pass: matched once, one alert per story, actor rules."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace as changed

from monitor.config import AlertSettings, Watch, load
from monitor.core.entries import entry_of
from monitor.io.events import AlertRaised
from monitor.io.ledger import Ledger
from monitor.io.session import Session
from monitor.model import Actor, Quote
from tests.support.dashboard import FakePoll
from tests.support.events import Recorder as BaseRecorder
from tests.support.items import fixed_now, item, settings
from tests.support.memstore import MemoryStore
from tests.support.servers import FeedServer, static

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


class Recorder(BaseRecorder):
    def raised(self) -> list[AlertRaised]:
        return [e for e in self.events if isinstance(e, AlertRaised)]


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{name}</title><link>{base}/</link>
<item><title>Moscou répond aux sanctions européennes par des mesures</title>
<link>{base}/{path}/1</link><pubDate>Mon, 14 Nov 2016 18:05:00 +0100</pubDate>
<description>Les ministres ont discuté des sanctions pendant la réunion.</description></item>
</channel></rss>"""

PAGE = """<html><head><title>Moscou répond</title></head><body><article>
<h1>Moscou répond aux sanctions européennes par des mesures</h1><p>{words}</p>
<p>Le porte-parole du Kremlin a indiqué que les discussions se poursuivront.</p>
</article></body></html>"""


async def test_a_word_of_the_page_text_fires_once_and_copies_join_the_alert(
    tmp_path: Path,
) -> None:
    """A watch on a word found only in the article pages fires once their text arrives;
    the same wire story in two feeds makes one alert with "+1 source"; a second poll and
    a restart record nothing again."""
    from monitor.io.backends import open_store

    words = " ".join(["Les deux dirigeants ont parlé longuement de la situation."] * 12)
    with FeedServer() as srv:
        for name, path in (("Le Quotidien", "a"), ("La Gazette", "b")):
            feed = RSS.format(name=name, base=srv.base, path=path).encode()
            srv.route(f"/{path}.xml", static(feed))
            page = PAGE.format(words=words).encode()
            srv.route(f"/{path}/1", static(page, content_type="text/html; charset=utf-8"))
        out = tmp_path / "delivered.jsonl"
        script = f"import sys; open({str(out)!r}, 'a').write(sys.stdin.read())"
        command = [sys.executable, "-c", script]
        config = tmp_path / "config.toml"
        config.write_text(
            '[storage]\npath = "store"\n\n'
            f'[[sources]]\nname = "Le Quotidien"\nurl = "{srv.url("/a.xml")}"\n\n'
            f'[[sources]]\nname = "La Gazette"\nurl = "{srv.url("/b.xml")}"\n\n'
            '[articles]\nrobots = false\ndelay = "0.01s"\n\n'
            '[[watches]]\nname = "Kremlin"\nquery = "kremlin"\n'
            'notify = ["dashboard", "command", "webhook"]\n\n'
            f"[alerts]\ncommand = {json.dumps(command)}\n",
            encoding="utf-8",
        )
        sets = load(config)
        store = open_store(sets.storage)
        deadline = time.monotonic() + 10
        while store.text_search() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        seen = Recorder()
        try:
            for _ in range(2):  # the second session: a restart and a re-poll
                session = Session(sets, store, listener=seen)
                await session.load()
                await session.poll(force=True)
                await session.settle()
                await session.close()
            ids = {i.url: i.id for i in store.items()}
        finally:
            store.close()
    ledger = Ledger(sets.storage)
    try:
        alerts = ledger.alerts()
        deliveries = ledger.deliveries(alerts[0].id)
    finally:
        ledger.close()
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.watch == "Kremlin" and alert.more == 1
    assert sorted(alert.sources) == ["La Gazette", "Le Quotidien"]
    assert {i.id for i in alert.items} == {ids[srv.url("/a/1")], ids[srv.url("/b/1")]}
    assert alert.matched == ("kremlin",) and "Kremlin a indiqué" in alert.context
    states = [(d.channel, d.state, d.last_error) for d in deliveries]
    assert states == [
        ("command", "sent", None),
        ("webhook", "failed", "no [alerts] webhook is configured"),
    ]
    (sent,) = out.read_text(encoding="utf-8").splitlines()  # once, across the restart
    assert json.loads(sent)["watch"] == "Kremlin" and json.loads(sent)["story"] == alert.story
    raised = [a for e in seen.raised() for a in e.alerts]
    assert len(raised) == 1


def _session(store: MemoryStore, watches: list[Watch], seen: Recorder, **kw: object) -> Session:
    sets = kw.pop("settings", None) or replace(settings(), watches=tuple(watches))
    return Session(
        sets,  # type: ignore[arg-type]
        store,
        listener=seen,
        now=fixed_now,
        poll=FakePoll(),
        annotate=False,
        text=False,
        **kw,  # type: ignore[arg-type]
    )


async def test_quoted_and_new_actor_rules() -> None:
    """`quoted` fires on each new quote by the actor; `new_actor` once, when a name never
    seen before is in two sources."""
    putin = Actor("Vladimir Putin", "person", 1)
    newcomer = Actor("Ada Newname", "person", 1)
    quote = Quote("Vladimir Putin", "we are ready to talk")
    old = changed(item(9, minutes=60 * 24 * 5), actors=(putin,), annotated=True)
    watches = [
        Watch("Putin quoted", quoted="Vladimir Putin"),
        Watch("New names", new_actor=True),
    ]
    seen = Recorder()
    session = _session(MemoryStore([old]), watches, seen)
    poll: FakePoll = session.poll_fn  # type: ignore[assignment]
    first = changed(
        item(1, "Putin speaks", sources=["Wire A"]),
        actors=(putin, newcomer),
        quotes=(quote,),
        annotated=True,
    )
    poll.queue = [first]
    await session.load()
    await session.poll()
    await session.settle()
    got = [(a.watch, a.story) for e in seen.raised() for a in e.alerts]
    assert got == [("Putin quoted", "id000001")]  # the newcomer is in one source so far
    second = changed(
        item(2, "Ada Newname elected", sources=["Wire B"]), actors=(newcomer,), annotated=True
    )
    poll.queue = [second]
    await session.poll()
    await session.settle()
    got = [(a.watch, a.story) for e in seen.raised() for a in e.alerts]
    assert got[1:] == [("New names", "new actor:Ada Newname")]
    alert = seen.raised()[-1].alerts[0]
    assert alert.matched == ("ada newname",) and "Ada Newname" in alert.context
    quoted = seen.raised()[0].alerts[0]
    assert quoted.context.startswith("we are ready to talk")
    assert session.alert_counts == {"Putin quoted": 1, "New names": 1}
    old_quote = changed(old, quotes=(quote,))
    await session.watch([entry_of(old_quote)])  # caught up, first seen days ago: no alert
    assert len(seen.raised()) == 2
    await session.close()


async def test_rising_fires_once_a_day_per_actor() -> None:
    steady = Actor("Steady Name", "person", 1)
    surge = Actor("Surge Name", "person", 1)
    days = [  # Steady: one item a day for a week; Surge: nothing before today
        changed(item(20 + d, f"Steady day {d}", minutes=60 * 24 * d + 5), actors=(steady,))
        for d in range(1, 7)
    ]
    seen = Recorder()
    session = _session(MemoryStore(days), [Watch("Rising", rising=True)], seen)
    poll: FakePoll = session.poll_fn  # type: ignore[assignment]
    poll.queue = [
        changed(item(n, f"Surge story {n}", minutes=n), actors=(surge, steady), annotated=True)
        for n in range(1, 4)
    ]
    await session.load()
    await session.poll()
    await session.settle()
    got = [a.story for e in seen.raised() for a in e.alerts]
    today = fixed_now().date().isoformat()
    assert got == [f"rising:Surge Name:{today}"]
    poll.queue = [changed(item(5, "Surge again", minutes=0), actors=(surge,), annotated=True)]
    await session.poll()
    await session.settle()
    assert len(seen.raised()) == 1  # once a day
    await session.close()


async def test_a_read_only_dashboard_hears_of_the_writers_alerts() -> None:
    """Only the writer matches; a read-only session reports what it recorded since."""
    sets = replace(settings(), watches=(Watch("Headlines", "headline"),))
    store = MemoryStore([])
    heard, said = Recorder(), Recorder()
    reader = _session(store, [], heard, settings=sets, read_only=True)
    writer = _session(store, [], said, settings=sets)
    await reader.refresh_alerts()  # the first read: nothing is news
    writer.poll_fn.queue = [item(1, minutes=1)]  # type: ignore[attr-defined]
    await writer.load()
    await writer.poll()
    await writer.settle()
    await reader.auto_tag_ids(["id000001"])  # read-only: matches nothing itself
    await reader.refresh_alerts()
    assert [a.story for e in heard.raised() for a in e.alerts] == ["id000001"]
    assert reader.alert_counts == {"Headlines": 1}
    await reader.refresh_alerts()
    assert len(heard.raised()) == 1 and len(said.raised()) == 1
    await writer.close()
    await reader.close()


async def test_a_failing_channel_is_said_once_when_it_fails_and_once_when_it_recovers() -> None:
    """Retries of a failing delivery are quiet: the dashboard hears when the channel
    starts failing (and when it retries), then when it delivers again or gives up."""
    from monitor.io.channels import ChannelError
    from monitor.io.deliver import MAX_ATTEMPTS
    from monitor.io.events import ChannelNotice, Problem

    clock = [fixed_now()]
    fails = [3]  # the first three attempts fail, then the hook answers

    async def send(channel: str, alerts: object, settings: object) -> None:
        if fails[0]:
            fails[0] -= 1
            raise ChannelError("HTTP 503", retry=True)

    sets = replace(
        settings(),
        watches=(Watch("Headlines", "headline", notify=("dashboard", "webhook")),),
        alerts=AlertSettings(webhook="https://hooks.example/x"),
    )
    seen = Recorder()
    session = _session(MemoryStore([]), [], seen, settings=sets, send=send)
    session.now = lambda: clock[0]
    poll: FakePoll = session.poll_fn  # type: ignore[assignment]

    def said() -> list[tuple[str, bool]]:
        return [(e.message, e.ok) for e in seen.events if isinstance(e, ChannelNotice)]

    async def retry() -> None:  # the clock at the next due delivery, as the timer would
        ledger = session.ledger
        assert ledger is not None
        due = ledger.next_due()
        assert due is not None
        clock[0] = due
        session.deliver_soon()
        await session.settle()

    await session.load()
    poll.queue = [item(1, "Headline one", minutes=1)]
    await session.poll()
    await session.settle()
    ((first, ok),) = said()  # the backoff's first wait, 30 s and its jitter
    assert not ok and re.fullmatch(
        r"webhook: alert delivery failed: HTTP 503; retrying in 3\ds", first
    )
    for _ in range(3):
        await retry()
    assert said()[1:] == [("webhook: alerts delivered again after 3 failures", True)]
    assert session.ledger is not None and session.ledger.next_due() is None

    fails[0] = MAX_ATTEMPTS  # a second alert that never goes out: given up, said once
    poll.queue = [item(2, "Headline two, another story entirely", minutes=1)]
    await session.poll()
    await session.settle()
    for _ in range(MAX_ATTEMPTS - 1):
        await retry()
    assert session.ledger.next_due() is None
    assert [ok for _, ok in said()] == [False, True, False, False]
    assert (
        said()[3][0] == f"webhook: alert delivery given up after {MAX_ATTEMPTS} failures: HTTP 503"
    )
    assert not [e for e in seen.events if isinstance(e, Problem)]
    (last,) = session.ledger.alerts(limit=1)
    assert [(d.state, d.attempts) for d in session.ledger.deliveries(last.id)] == [
        ("failed", MAX_ATTEMPTS)
    ]
    await session.close()


async def test_a_match_recorded_while_delivering_goes_out_in_the_same_pass() -> None:
    """A match recorded while the sender is between its last send and its last look at
    the ledger is sent before the sender ends (`monitor poll` exits when it does), not at
    a timer or the next poll."""
    sent: list[str] = []

    async def send(channel: str, alerts: Any, settings: object) -> None:
        sent.extend(a["story"] for a in alerts)

    sets = replace(
        settings(),
        watches=(Watch("Headlines", "headline", notify=("command",)),),
        alerts=AlertSettings(command=("true",)),
    )
    it = item(1, "Headline one", minutes=1)
    session = _session(MemoryStore([it]), [], Recorder(), settings=sets, send=send)
    await session.load()
    inside, go = asyncio.Event(), asyncio.Event()
    real = session.refresh_alerts

    async def refresh() -> dict[str, int]:  # the sender's pause, held open
        inside.set()
        await go.wait()
        return await real()

    session.refresh_alerts = refresh  # type: ignore[method-assign]
    session.deliver_soon()  # nothing due yet
    await inside.wait()
    await session.watch([entry_of(it)])  # recorded meanwhile: the sender is asked again
    go.set()
    await session.settle()
    assert sent == ["id000001"]
    await session.close()


async def test_items_stored_but_never_matched_are_matched_at_the_next_start() -> None:
    """A writer killed between storing items and matching them loses no alert: the next
    start matches the last 48 hours again, and what was matched before adds nothing."""
    stored = changed(item(1, "Kremlin talks resume", minutes=30), annotated=True)
    stale = changed(item(2, "Kremlin archive", minutes=60 * 24 * 3), annotated=True)
    pending = item(3, "Kremlin, no actors yet", minutes=20)  # the catch-up will take it
    store = MemoryStore([stored, stale, pending])
    sets = replace(settings(), watches=(Watch("Kremlin", "kremlin"),))  # one ledger
    for run in range(2):
        seen = Recorder()
        session = _session(store, [], seen, settings=sets)
        await session.load()
        await session.settle()
        got = [a.story for e in seen.raised() for a in e.alerts]
        assert got == (["id000001"] if run == 0 else []), run
        await session.close()
