"""`monitor poll --watch`: poll due sources on their intervals, headless, until stopped.

One pass at a time: the next is armed only when the last one has been written, so
passes never overlap. With `[digest] at`, the scheduled digest is written after the
first pass (catching up a missed one) and after the first pass past each `at`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

from monitor.config import Settings
from monitor.core import schedule
from monitor.core.digest import next_run
from monitor.io.articles import ArticleFetcher, TextReport
from monitor.io.backfill import find_backlog
from monitor.io.digest import ScheduleRun, run_schedule, zone
from monitor.io.poller import annotate_stored, poll_once, utcnow
from monitor.io.store import Store
from monitor.model import PollReport

log = logging.getLogger(__name__)
IDLE = 3600.0  # seconds between checks when no source is enabled


@dataclass(frozen=True, slots=True)
class Pass:
    report: PollReport
    texts: TextReport | None  # the pass's article texts, new and pending (None: not asked)
    digest: ScheduleRun | None
    delay: float  # seconds until the next pass
    annotated: int = 0  # items stored without actors that this pass annotated


async def watch(
    settings: Settings,
    store: Store,
    *,
    on_pass: Callable[[Pass], None] | None = None,
    now_fn: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    transport: httpx.AsyncBaseTransport | None = None,
    passes: int | None = None,
    text: bool = True,
    annotate: bool = True,
) -> None:
    """Poll, fetch the new items' article texts (unless not `text`), catch up stored items
    (`monitor.io.backfill`: recent pending texts, actors unless not `annotate`), write the
    scheduled digest when due, sleep until the next source is due; `passes` passes, or until
    cancelled (a pass in flight is then dropped unwritten)."""
    done = 0
    next_digest: datetime | None = None  # None: check on this pass
    at = settings.digest.at
    tz = zone(settings.digest.timezone)[0] if at else None
    fetcher = ArticleFetcher(settings, store, transport=transport, annotate=annotate)
    while passes is None or done < passes:
        report = await poll_once(
            settings, store, now_fn=now_fn, transport=transport, annotate=annotate
        )
        backlog = await find_backlog(
            settings,
            store,
            now_fn(),
            annotate=annotate,
            text=text,
            skip={j.item_id for j in report.text_jobs},
        )
        jobs = [*report.text_jobs, *backlog.texts] if text else []
        texts = await fetcher.run(jobs) if jobs else None
        annotated = await annotate_stored(store, backlog.annotate, settings.actors)
        now = now_fn()
        ran: ScheduleRun | None = None
        if at and tz is not None and (next_digest is None or now >= next_digest):
            try:
                ran = await asyncio.to_thread(run_schedule, settings, store, now)
            except OSError as exc:  # a full disk or a bad folder: say so, keep polling
                log.error("cannot write the digest: %s", exc)
            next_digest = next_run(now, tz, at)
        states = await asyncio.to_thread(store.states)
        delay = schedule.next_poll_delay(settings.sources, states, now) or IDLE
        if next_digest is not None:
            delay = min(delay, max((next_digest - now).total_seconds(), 1.0))
        done += 1
        if on_pass is not None:
            on_pass(Pass(report, texts, ran, delay, annotated))
        if passes is None or done < passes:
            await sleep(delay)
