"""`monitor work`: annotate stored items and fetch their article pages on any host,
taking jobs from the queue (`io/pg/queue.py`) and writing through the store, as the
poller would have. Pollers then run with `--no-actors --no-text`.

Each kind of work runs in a loop of its own: take a batch of jobs (leased, renewed while
they are worked on), do them, mark them done. With nothing to take it waits for the next
commit (a poll's new items) or `IDLE` seconds, and now and then gives a job to the
stored items that need one and have none (`queue.find_backlog`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TypeVar

import httpx
import psycopg
from psycopg_pool import PoolTimeout

from monitor.config import Settings
from monitor.core.backlog import text_job
from monitor.io.annotate import annotate_stored
from monitor.io.articles import ArticleFetcher
from monitor.io.clock import utcnow
from monitor.io.pg import queue
from monitor.io.pg.leases import renewing
from monitor.io.pg.queue import Kind
from monitor.io.pg.store import PgStore
from monitor.io.store import StoreError
from monitor.model import TextJob

log = logging.getLogger(__name__)
T = TypeVar("T")

LEASE = 60.0  # seconds a job is leased for; renewed every third of it while worked on
ACTORS_BATCH = 200  # items annotated per turn
IDLE = 30.0  # seconds to wait for a commit before looking again (expired leases, backlog)
BACKLOG_EVERY = 300.0  # seconds between looks for stored items without a job


@dataclass
class Turn:
    """What one turn of a loop did."""

    kind: Kind
    taken: int = 0
    done: int = 0  # annotated, or pages fetched
    failed: dict[str, int] = field(default_factory=dict)  # pages: reason -> items


Report = Callable[[Turn], None]


class Worker:
    """Takes jobs of the kinds asked for from `store`'s queue and does them."""

    def __init__(
        self,
        settings: Settings,
        store: PgStore,
        *,
        actors: bool,
        texts: bool,
        report: Report | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        now_fn: Callable[[], datetime] = utcnow,
        lease: float = LEASE,
    ) -> None:
        self.settings = settings
        self.store = store
        wanted = {"actors": actors, "text": texts}
        self.kinds = [kind for kind in queue.KINDS if wanted[kind]]
        self.report = report
        self.now_fn = now_fn
        self.lease = lease
        # the text's actors are found with it, as a poller does (`--no-actors` elsewhere
        # means only that the poller leaves them to a worker)
        self.fetcher = ArticleFetcher(settings, store, transport=transport, now_fn=now_fn)
        self._wake: asyncio.Event | None = None
        self._backlog_at = 0.0

    def _db(self, fn: Callable[[psycopg.Connection], T]) -> T:
        try:
            with self.store.db.connection() as conn:
                return fn(conn)
        except (psycopg.Error, PoolTimeout) as exc:
            raise StoreError(f"database {self.store.name}: {exc}") from exc

    async def _off(self, fn: Callable[[psycopg.Connection], T]) -> T:
        return await asyncio.to_thread(self._db, fn)

    async def turn(self, kind: Kind) -> Turn:
        """Take a batch of `kind` jobs, do them, mark them done."""
        owner = self.store.owner
        limit = ACTORS_BATCH if kind == "actors" else 4 * self.settings.articles.concurrency
        ids = await self._off(lambda c: queue.take(c, owner, kind, limit, self.lease))
        done = Turn(kind, taken=len(ids))
        if not ids:
            return done
        renew = partial(self._db, lambda c: queue.renew(c, owner, kind, ids, self.lease))
        try:
            async with renewing(renew, self.lease):
                if kind == "actors":
                    done.done = await annotate_stored(self.store, ids, self.settings.actors)
                else:
                    await self._texts(ids, done)
        except asyncio.CancelledError:  # stopped: the jobs are free at once for another
            await asyncio.shield(self._off(lambda c: queue.release(c, owner, kind, ids)))
            raise
        await self._off(lambda c: queue.finish(c, kind, ids))
        if self.report is not None:
            self.report(done)
        return done

    async def _texts(self, ids: list[str], done: Turn) -> None:
        """Fetch the pages `backlog.text_job` wants of these items (the others are done
        as they are: no page, a source without full text, already fetched)."""
        now = self.now_fn()

        def jobs() -> list[TextJob]:
            items = (self.store.get(i) for i in ids)
            return [j for it in items if it and (j := text_job(it, self.settings.source, now))]

        report = await self.fetcher.run(await asyncio.to_thread(jobs))
        done.done = report.fetched
        done.failed = dict(report.failed)

    async def backlog(self) -> dict[Kind, int]:
        """Give a job to the stored items that need one and have none."""
        self._backlog_at = time.monotonic()
        return await self._off(queue.find_backlog)

    async def drain(self) -> None:
        """Do every job there is now, then return (`monitor work --once`)."""
        await self.backlog()
        for kind in self.kinds:
            while (await self.turn(kind)).taken:
                pass

    async def run(self) -> None:
        """Work until cancelled."""
        loop = asyncio.get_running_loop()
        wake = self._wake = asyncio.Event()

        def woken(_commit: int) -> None:  # the listener's thread
            loop.call_soon_threadsafe(wake.set)

        self.store.follow(woken)
        await self.backlog()
        await asyncio.gather(*(self._loop(kind) for kind in self.kinds))

    async def _loop(self, kind: Kind) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                taken = (await self.turn(kind)).taken
                if time.monotonic() - self._backlog_at > BACKLOG_EVERY:
                    await self.backlog()
            except Exception:  # the jobs go back to the queue when their lease ends
                log.exception("%s jobs failed", kind)
                taken = 0
            if taken:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE)
