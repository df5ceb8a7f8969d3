"""Sending the ledger's due deliveries through the alert channels (`io/channels`).

The watches leave a pending row per alert and channel (`io/ledger.py`); this takes the
due ones, one batch per watch and channel (an hourly or daily watch's alerts go as one
message), and records how it went: sent, retried later with backoff, or given up. Only
the process that writes a folder store sends; in a database every poller does, and each
due row is taken by one of them (`Ledger.due_deliveries`). A crash before `mark_sent`
sends it again after the restart, or after the lease (at least once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.config import AlertSettings
from monitor.io.ledger import Delivery, Ledger

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # a delivery failing this often is given up (about 2 h of backoff)

SendFn = Callable[[str, Sequence[dict[str, Any]], AlertSettings], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one batch (a watch's due alerts through one channel) went: sent (`error` is
    None), failed and tried again at `retry_at`, or failed and given up (`retry_at` None)."""

    watch: str
    channel: str
    alerts: int
    error: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Delivered:
    """What `deliver_due` did, batch by batch."""

    outcomes: tuple[Outcome, ...] = ()

    @property
    def sent(self) -> int:
        """Alerts that went out."""
        return sum(o.alerts for o in self.outcomes if o.error is None)

    @property
    def failures(self) -> list[str]:
        """The failures in words ("webhook: HTTP 500 …")."""
        return [f"{o.channel}: {o.error}" for o in self.outcomes if o.error is not None]


async def deliver_due(
    ledger: Ledger, settings: AlertSettings, now: datetime, send: SendFn | None = None
) -> Delivered:
    """Send every delivery due at `now`, one batch per watch and channel; says how each
    batch went."""
    from monitor.io.channels import ChannelError, backoff

    if send is None:
        from monitor.io.channels import send as send_channel

        send = send_channel
    due = await asyncio.to_thread(ledger.due_deliveries, now)
    batches: dict[tuple[str, str], list[Delivery]] = {}
    for d in due:
        batches.setdefault((d.watch, d.channel), []).append(d)
    outcomes: list[Outcome] = []
    for (watch, channel), rows in batches.items():
        ids = [d.id for d in rows]
        if not settings.configured(channel):
            why = f"no [alerts] {channel} is configured"
            await asyncio.to_thread(ledger.mark_failed, ids, why, None, now)
            outcomes.append(Outcome(watch, channel, len(rows), why))
            continue
        try:
            await send(channel, [d.alert.to_json() for d in rows], settings)
        except ChannelError as exc:
            attempt = max(d.attempts for d in rows) + 1
            retry_at = None
            if exc.retry and attempt < MAX_ATTEMPTS:
                wait = max(backoff(attempt), exc.retry_after or 0.0)
                retry_at = now + timedelta(seconds=wait)
            await asyncio.to_thread(ledger.mark_failed, ids, exc.message, retry_at, now)
            log.info("alerts of %s through %s failed: %s", watch, channel, exc.message)
            outcomes.append(Outcome(watch, channel, len(rows), exc.message, retry_at))
        else:
            await asyncio.to_thread(ledger.mark_sent, ids, now)
            outcomes.append(Outcome(watch, channel, len(rows)))
    return Delivered(tuple(outcomes))
