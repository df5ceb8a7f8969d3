"""The alerts ledger: a (watch, item) is recorded once, across restarts and processes;
deliveries wait as pending rows for their senders."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.core.alerts import due_at, keyword_context
from monitor.io.ledger import Ledger
from tests.support.alerts import NOW, match


def test_one_alert_per_story_and_no_match_twice(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path)
    channels = {"K": {"webhook": NOW, "bell": NOW, "email": NOW + timedelta(hours=1)}}
    done = ledger.record([match("K", 1, "A"), match("K", 2, "B")], channels, NOW)
    assert len(done.raised) == 1 and done.raised[0].more == 1 and not done.joined
    other = match("K", 3, "C", "a different story about fishing quotas in the north sea")
    done = ledger.record([match("K", 1, "A"), other, match("K", 4, "D")], channels, NOW)
    assert [a.story for a in done.raised] == ["id000003"]
    assert [a.more for a in done.joined] == [2]
    ledger.close()

    again = Ledger(tmp_path)  # a restart
    done = again.record([match("K", 1, "A"), match("K", 2, "B")], channels, NOW)
    assert not done.raised and not done.joined
    alerts = again.alerts()
    assert [a.story for a in alerts] == ["id000003", "id000001"]  # newest first
    assert again.unseen() == {"K": 2}
    due = again.due_deliveries(NOW)
    assert sorted(d.channel for d in due) == ["webhook", "webhook"]  # the bell is the screen's
    assert len(again.due_deliveries(NOW + timedelta(hours=1))) == 4
    first = due[0]
    again.mark_failed([first.id], "refused", NOW + timedelta(minutes=5), NOW)
    assert [d.id for d in again.due_deliveries(NOW, "webhook")] == [due[1].id]
    again.mark_sent([due[1].id], NOW)
    retried = again.due_deliveries(NOW + timedelta(minutes=5), "webhook")
    assert [(d.id, d.attempts, d.last_error) for d in retried] == [(first.id, 1, "refused")]
    assert again.mark_seen([a.id for a in alerts]) == 2 and again.unseen() == {}
    again.close()


CHILD = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from tests.test_ledger import NOW, match
from monitor.io.ledger import Ledger

ledger = Ledger(Path(sys.argv[1]))
raised = 0
for n in range(40):
    done = ledger.record([match("K", n, "S" + sys.argv[2], f"story {n} " * 8)], {}, NOW)
    raised += len(done.raised)
print(raised)
"""


def test_two_processes_never_record_a_match_twice(tmp_path: Path) -> None:
    Ledger(tmp_path).close()
    root = Path(__file__).resolve().parent.parent
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path), str(k)],
            cwd=root,
            stdout=subprocess.PIPE,
            text=True,
        )
        for k in range(2)
    ]
    counts = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(counts) == 40
    ledger = Ledger(tmp_path)
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


def test_deliver_due_batches_retries_and_gives_up(tmp_path: Path) -> None:
    import asyncio
    from typing import Any

    from monitor.config import AlertSettings
    from monitor.io.channels import ChannelError
    from monitor.io.deliver import MAX_ATTEMPTS, deliver_due

    ledger = Ledger(tmp_path)
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
