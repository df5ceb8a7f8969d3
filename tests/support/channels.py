"""Alert channels in tests: a sample alert, and a channel's failure with proof that the
event loop stayed free while it came."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import pytest

from monitor.config import AlertSettings
from monitor.io.channels import ChannelError, send

TICK = 0.05  # seconds between the ticker's beats

# An alert as the channels get it (`Alert.to_json`), with markup in its context line.
ALERT: dict[str, Any] = {
    "watch": "Kremlin",
    "story": "s1",
    "title": "Le Kremlin répond à Kyiv",
    "url": "https://example.org/a?x=1&y=2",
    "sources": ["Le Monde", "BBC", "DW"],
    "items": [],
    "matched": ["kremlin"],
    "context": "… le Kremlin a indiqué <b>rien</b> …",
    "at": "2026-12-04T10:00:00+00:00",
}


def failing_send(
    channel: str, alerts: Sequence[dict[str, Any]], settings: AlertSettings
) -> tuple[ChannelError, int, float]:
    """Run `send`, which must raise ChannelError, beside a ticker on the same event loop.
    Returns the error, how many times the ticker beat meanwhile (a blocked loop beats
    none) and the wall seconds the send took."""

    async def main() -> tuple[ChannelError, int, float]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(TICK)
                ticks += 1

        t = asyncio.create_task(ticker())
        start = time.monotonic()
        with pytest.raises(ChannelError) as exc:
            await send(channel, list(alerts), settings)
        seconds = time.monotonic() - start
        t.cancel()
        return exc.value, ticks, seconds

    return asyncio.run(main())
