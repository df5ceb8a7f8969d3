"""The alerts ledger: a (watch, item) is recorded once, across restarts and processes;
one alert per story when processes match its copies at once; deliveries wait as pending
rows for their senders, and in the database each is taken by one sender. In the folder
store's file and in the database alike (`where`)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

import pytest

from monitor.core.alerts import due_at, keyword_context
from monitor.io.ledger import LEASE, Ledger, Match, Recorded
from tests.support.alerts import NOW, match
from tests.support.sides import Where, in_folder, where

__all__ = ["where"]  # the fixture
T = TypeVar("T")


def test_one_alert_per_story_and_no_match_twice(where: Where) -> None:
    ledger = Ledger(where)
    channels = {"K": {"webhook": NOW, "bell": NOW, "email": NOW + timedelta(hours=1)}}
    done = ledger.record([match("K", 1, "A"), match("K", 2, "B")], channels, NOW)
    assert len(done.raised) == 1 and done.raised[0].more == 1 and not done.joined
    other = match("K", 3, "C", "a different story about fishing quotas in the north sea")
    done = ledger.record([match("K", 1, "A"), other, match("K", 4, "D")], channels, NOW)
    assert [a.story for a in done.raised] == ["id000003"]
    assert [a.more for a in done.joined] == [2]
    ledger.close()

    again = Ledger(where)  # a restart
    done = again.record([match("K", 1, "A"), match("K", 2, "B")], channels, NOW)
    assert not done.raised and not done.joined
    alerts = again.alerts()
    assert [a.story for a in alerts] == ["id000003", "id000001"]  # newest first
    assert again.unseen() == {"K": 2}
    due = again.due_deliveries(NOW)
    assert sorted(d.channel for d in due) == ["webhook", "webhook"]  # the bell is the screen's
    if in_folder(where):  # the one sender: asking again gives them again
        assert len(again.due_deliveries(NOW + timedelta(hours=1))) == 4
    else:  # taken until marked, or for LEASE
        assert again.due_deliveries(NOW) == []
    first = due[0]
    again.mark_failed([first.id], "refused", NOW + timedelta(minutes=5), NOW)
    again.mark_sent([due[1].id], NOW)
    assert again.due_deliveries(NOW, "webhook") == []
    retried = again.due_deliveries(NOW + timedelta(minutes=5), "webhook")
    assert [(d.id, d.attempts, d.last_error) for d in retried] == [(first.id, 1, "refused")]
    assert again.mark_seen([a.id for a in alerts]) == 2 and again.unseen() == {}
    again.close()


CHILD = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from tests.test_ledger import NOW, match
from monitor.config import DatabaseSettings
from monitor.io.ledger import Ledger

where = sys.argv[1]
ledger = Ledger(DatabaseSettings(url=where) if where.startswith("postgresql:") else Path(where))
raised = 0
for n in range(40):
    done = ledger.record([match("K", n, "S" + sys.argv[2], f"story {n} " * 8)], {}, NOW)
    raised += len(done.raised)
print(raised)
"""


def test_two_processes_never_record_a_match_twice(where: Where) -> None:
    Ledger(where).close()
    root = Path(__file__).resolve().parent.parent
    arg = str(where) if isinstance(where, Path) else where.url
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, arg, str(k)],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    counts = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(counts) == 40
    ledger = Ledger(where)
    assert len(ledger.alerts()) == 40
    ledger.close()


def test_keyword_in_context() -> None:
    text = "word " * 60 + "Le porte-parole du Kremlin a indiqué " + "more " * 60
    context, matched = keyword_context(["A title", None, text], ["kremlin"])
    assert matched == ("kremlin",) and "du Kremlin a indiqué" in context
    assert context.startswith("… ") and context.endswith(" …") and len(context) <= 170
    assert keyword_context(["Kremlin talks"], ["kreml"]) == ("Kremlin talks", ("kremlin",))
    assert keyword_context(["Nothing here"], ["kremlin"]) == ("Nothing here", ())


def test_due_at_batches_and_quiet_hours() -> None:
    night = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)
    assert due_at(night, "instant", None, UTC) == night
    assert due_at(night, "instant", ("22:00", "07:00"), UTC) == datetime(2026, 12, 5, 7, tzinfo=UTC)
    assert due_at(NOW, "instant", ("22:00", "07:00"), UTC) == NOW
    assert due_at(NOW, "hourly", None, UTC) == datetime(2026, 12, 4, 11, tzinfo=UTC)
    assert due_at(NOW, "daily", None, UTC) == datetime(2026, 12, 5, tzinfo=UTC)
    assert due_at(NOW, "daily", ("00:00", "07:00"), UTC) == datetime(2026, 12, 5, 7, tzinfo=UTC)
    assert due_at(NOW, "hourly", ("09:00", "12:00"), UTC) == datetime(2026, 12, 4, 12, tzinfo=UTC)


def test_deliver_due_batches_retries_and_gives_up(where: Where) -> None:
    import asyncio
    from typing import Any

    from monitor.config import AlertSettings
    from monitor.io.channels import ChannelError
    from monitor.io.deliver import MAX_ATTEMPTS, deliver_due

    ledger = Ledger(where)
    later = NOW + timedelta(hours=1)
    other = match("K", 3, "C", "a different story about fishing quotas in the north sea")
    ledger.record([match("K", 1, "A"), other], {"K": {"webhook": later}}, NOW)
    calls: list[tuple[str, int]] = []
    failing: list[ChannelError] = [ChannelError("HTTP 503", retry=True)]

    async def send(channel: str, alerts: Any, settings: Any) -> None:
        calls.append((channel, len(alerts)))
        if failing:
            raise failing.pop()

    hook = AlertSettings(webhook="https://hooks.example/x")
    assert not asyncio.run(deliver_due(ledger, hook, NOW, send)).outcomes  # not due yet
    done = asyncio.run(deliver_due(ledger, hook, later, send))
    assert (done.sent, done.failures, calls) == (0, ["webhook: HTTP 503"], [("webhook", 2)])
    (outcome,) = done.outcomes  # one batch
    assert outcome.retry_at == ledger.next_due() and outcome.alerts == 2
    retry = ledger.next_due()
    assert retry is not None and later + timedelta(seconds=30) <= retry
    done = asyncio.run(deliver_due(ledger, hook, retry, send))
    assert (done.sent, done.failures) == (2, [])
    assert ledger.next_due() is None and calls[-1] == ("webhook", 2)

    ledger.record([match("K", 5, "E", "yet another story " * 3)], {"K": {"email": NOW}}, NOW)
    done = asyncio.run(deliver_due(ledger, hook, NOW, send))
    assert done.failures == ["email: no [alerts] email is configured"]  # given up at once
    assert done.outcomes[0].retry_at is None
    failing[:] = [ChannelError("refused", retry=True)] * MAX_ATTEMPTS
    ledger.record([match("K", 6, "F", "the last story here " * 3)], {"K": {"webhook": NOW}}, NOW)
    for _ in range(MAX_ATTEMPTS):
        due = ledger.next_due()
        if due is None:
            break
        asyncio.run(deliver_due(ledger, hook, due, send))
    assert ledger.next_due() is None  # given up after MAX_ATTEMPTS
    (alert,) = ledger.alerts(limit=1)
    assert [(d.state, d.attempts) for d in ledger.deliveries(alert.id)] == [
        ("failed", MAX_ATTEMPTS)
    ]
    ledger.close()


def at_once(count: int, work: Callable[[int], T]) -> list[T]:
    """`work(k)` for k < count in threads of their own, started together."""
    start = threading.Barrier(count)
    out: list[T | None] = [None] * count
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            start.wait()
            out[k] = work(k)
        except BaseException as exc:  # raised in the test's thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    return [x for x in out if x is not None]


def _record(
    ledgers: list[Ledger], found: list[Match], channels: dict[str, dict[str, datetime]], k: int
) -> Recorded:
    return ledgers[k].record([found[k]], channels, NOW)


def test_pollers_matching_copies_of_one_story_at_once_raise_one_alert(where: Where) -> None:
    """Two pollers (ledgers of their own) match two copies of one story at the same
    moment, round after round: each round gives one alert, the other copy joins it."""
    ledgers = [Ledger(where), Ledger(where)]
    rounds = 15
    for r in range(rounds):
        watch = f"W{r}"
        copies = [match(watch, 2 * r + k, f"Wire {k}", story="S") for k in range(2)]
        channels = {watch: {"webhook": NOW}}
        done = at_once(2, partial(_record, ledgers, copies, channels))
        assert sum(len(d.raised) for d in done) == 1
        assert sum(len(d.joined) for d in done) == 1
    alerts = ledgers[0].alerts()
    assert len(alerts) == rounds and all(a.more == 1 for a in alerts)
    assert len(ledgers[1].due_deliveries(NOW)) == rounds  # one delivery per alert
    for ledger in ledgers:
        ledger.close()


@pytest.mark.parametrize("where", ["postgresql"], indirect=True)
def test_each_due_delivery_is_taken_by_one_sender(where: Where) -> None:
    """Senders in several processes take the due deliveries at once, round after round:
    each gets its own, together all; one that took some and died leaves them to the
    others after LEASE."""
    writer = Ledger(where)
    senders = [Ledger(where) for _ in range(4)]
    for r in range(10):
        found = [match("K", 100 * r + n, f"W{n}", f"story {r} {n} " * 6) for n in range(20)]
        writer.record(found, {"K": {"webhook": NOW, "email": NOW}}, NOW)
        taken = at_once(4, lambda k: [d.id for d in senders[k].due_deliveries(NOW)])
        everything = [i for ids in taken for i in ids]
        assert len(everything) == len(set(everything)) == 40
        assert all(senders[k].due_deliveries(NOW) == [] for k in range(4))
        for ids, sender in zip(taken, senders, strict=True):
            sender.mark_sent(ids, NOW)
    # a sender takes some and dies before saying how it went: another sends them later
    writer.record([match("K", 5000, "W", "the last story " * 6)], {"K": {"webhook": NOW}}, NOW)
    (lost,) = senders[0].due_deliveries(NOW)
    assert senders[1].due_deliveries(NOW + LEASE - timedelta(seconds=1)) == []
    assert [d.id for d in senders[1].due_deliveries(NOW + LEASE)] == [lost.id]
    for ledger in [writer, *senders]:
        ledger.close()
