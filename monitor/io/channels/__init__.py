"""Alert channels: delivering alerts (the JSON objects of the alert contract) to a
program, a webhook or an e-mail box. The watch core decides what and when; this package
only delivers one batch per call and says whether a failure is worth retrying.

"dashboard" and "bell" are the screen's (`monitor.tui`), not delivered here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from monitor.config import AlertSettings

CHANNELS = ("dashboard", "bell", "command", "webhook", "email")
DELIVERED = ("command", "webhook", "email")  # the channels `send` handles

BACKOFF_BASE = 30.0  # seconds before the first retry
BACKOFF_CAP = 3600.0  # never wait longer than this


class ChannelError(Exception):
    """A delivery failed; `retry` says whether trying again later may succeed (a timeout,
    a refused connection, a 5xx, a 429) or not (a 4xx, a bad address, a program not found)."""

    # seconds the other side asked us to wait (a webhook's Retry-After), when it said so:
    # the caller waits at least this long, and at least its own backoff
    retry_after: float | None = None

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retry = retry


async def send(channel: str, alerts: Sequence[dict[str, Any]], settings: AlertSettings) -> None:
    """Deliver these alerts through `channel` ("command", "webhook" or "email").

    One call = one batch: a single alert goes as the alert object, several as one JSON
    array (command), one {"alerts": [...]} body (webhook) or one e-mail. Raises
    ChannelError, with `retry` set for failures that may pass; ValueError for a channel
    that is not delivered here. Never blocks the event loop.
    """
    if channel not in DELIVERED:
        raise ValueError(f"{channel!r} is not a delivered channel (one of {DELIVERED})")
    if not alerts:
        return
    if channel == "command":
        from monitor.io.channels.command import send_command

        await send_command(alerts, settings)
    elif channel == "webhook":
        from monitor.io.channels.webhook import send_webhook

        await send_webhook(alerts, settings)
    else:
        from monitor.io.channels.email import send_email

        await send_email(alerts, settings)


def backoff(
    attempt: int,
    *,
    base: float = BACKOFF_BASE,
    cap: float = BACKOFF_CAP,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `attempt` (1 for the first): doubling from
    `base`, capped at `cap`, with ±20% jitter so that failed deliveries do not all come
    back at once. Always within [base, cap]."""
    exponent = min(max(attempt, 1) - 1, 32)  # 2**32 * 30 s is far past any cap
    delay = min(cap, base * 2.0**exponent)
    return min(cap, max(base, delay * (0.8 + 0.4 * rand())))
