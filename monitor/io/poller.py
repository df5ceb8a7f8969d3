"""One poll pass: fetch the due sources politely, parse and normalize off the loop, store once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import TypeVar

import httpx

from monitor.config import Settings
from monitor.core import schedule
from monitor.io.clock import utcnow
from monitor.io.http import ClientPool, FetchError, Limits, fetch
from monitor.io.loops import off_loop
from monitor.io.store import Leasing, Store
from monitor.model import (
    ErrorKind,
    Item,
    PollReport,
    Source,
    SourceResult,
    SourceState,
)

Progress = Callable[[int, int, SourceResult], None]
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Done:
    """What fetching one source produced, before the store write."""

    source: Source
    state: SourceState
    items: list[Item]
    result: SourceResult


# a source due by `schedule.is_due` that the leases left out: another poller holds it or
# has just fetched it, or it is due within DUE_GRACE but not yet within `leases.EARLY`
TAKEN = "polled by another poller, or not due yet"


class _Leases:
    """A pass's leases, on a store that many pollers write (`Leasing`): the due sources
    this process may fetch, renewed while it fetches, given back when the pass ends (the
    write gives back those written; a cancelled pass gives back all). A store with one
    writer leases nothing: every due source is this pass's."""

    def __init__(self, store: Store, timeout: float, *, force: bool) -> None:
        self.store = store if isinstance(store, Leasing) else None
        self.timeout = timeout
        self.force = force
        self.taken: list[str] = []
        self._stack = contextlib.AsyncExitStack()

    async def take(
        self, due: list[Source], skipped: list[SourceResult], now: datetime
    ) -> list[Source]:
        """The due sources leased to this pass; the others join `skipped`."""
        store = self.store
        if store is None or not due:
            return due
        from monitor.io.pg.leases import renewing, seconds_for

        seconds = seconds_for(self.timeout)
        names = [s.name for s in due]
        got = await asyncio.to_thread(store.lease, names, now, seconds, force=self.force)
        self.taken = [n for n in names if n in got]
        skipped.extend(
            SourceResult(s.name, "skipped", detail=TAKEN) for s in due if s.name not in got
        )
        if self.taken:
            # renewing asks for the leases it holds: taken again, a source written is not
            renew = partial(store.lease, self.taken, now, seconds)
            await self._stack.enter_async_context(renewing(renew, seconds))
        return [s for s in due if s.name in got]

    async def __aenter__(self) -> _Leases:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()
        if self.store is not None and self.taken:
            try:
                await asyncio.to_thread(self.store.release, self.taken)
            except Exception:  # they expire soon anyway
                log.warning("giving back the sources' leases failed", exc_info=True)


def plan(
    sources: Sequence[Source],
    states: dict[str, SourceState],
    now: datetime,
    *,
    force: bool = False,
    only: set[str] | None = None,
) -> tuple[list[Source], list[SourceResult]]:
    """Split enabled sources into those to fetch now and those skipped, with the reason."""
    due: list[Source] = []
    skipped: list[SourceResult] = []
    for src in sources:
        if not src.enabled or (only is not None and src.name not in only):
            continue
        ok, reason = schedule.is_due(states.get(src.name), now, force=force)
        if ok:
            due.append(src)
        else:
            skipped.append(SourceResult(src.name, "skipped", detail=reason))
    return due, skipped


def _parse_and_normalize(
    body: bytes,
    content_type: str | None,
    source: Source,
    now: datetime,
    final_url: str,
) -> tuple[list[Item], tuple[str, ...], bool]:
    from monitor.core.normalize import normalize_feed  # the parser stack: only when a body came
    from monitor.core.parse import parse_feed

    feed = parse_feed(body, content_type)
    if feed.fatal:
        return [], feed.problems, True
    return normalize_feed(feed, source, now=now, base_url=final_url), feed.problems, False


async def _poll_source(
    source: Source,
    state: SourceState,
    pool: ClientPool,
    limits: Limits,
    now_fn: Callable[[], datetime],
    rand: Callable[[], float],
    executor: Executor | None,
) -> _Done:
    if state.url != source.url:  # the user changed the URL: old validators mean nothing
        state = SourceState(name=source.name, url=source.url, failures=state.failures)
    started = time.monotonic()
    async with pool.global_limit, pool.host_limit(source.url):
        attempt = now_fn()
        state = replace(state, last_attempt=attempt)
        try:
            got = await fetch(
                pool.client(source.url),
                source.url,
                etag=state.etag,
                last_modified=state.last_modified,
                limits=limits,
            )
        except FetchError as err:
            return _failed(
                source,
                state,
                err.kind,
                err.detail,
                err.status,
                err.retry_after,
                now_fn(),
                rand,
                started,
            )
    if got.status == 304:
        state = _succeeded(source, state, attempt, rand, status=304)
        result = SourceResult(
            source.name, "not_modified", http_status=304, seconds=time.monotonic() - started
        )
        return _Done(source, state, [], result)
    items, problems, fatal = await off_loop(
        executor,
        _parse_and_normalize,
        got.body,
        got.headers.get("content-type"),
        source,
        attempt,
        got.url,
    )
    if fatal:
        reason = "; ".join(problems) or "not a feed"
        return _failed(source, state, "parse", reason, got.status, None, attempt, rand, started)
    state = _succeeded(source, state, attempt, rand, status=got.status)
    state = replace(
        state,
        etag=got.headers.get("etag"),
        last_modified=got.headers.get("last-modified"),
        item_count=len(items),
        feed_problems=problems,
        moved_to=got.permanent_redirect,
    )
    detail = "; ".join(problems) if problems else None
    result = SourceResult(
        source.name, "ok", http_status=got.status, detail=detail, seconds=time.monotonic() - started
    )
    return _Done(source, state, items, result)


def _succeeded(
    source: Source, state: SourceState, now: datetime, rand: Callable[[], float], *, status: int
) -> SourceState:
    return replace(
        state,
        last_success=now,
        last_status=status,
        last_error=None,
        last_error_detail=None,
        failures=0,
        retry_after=None,
        next_due=schedule.next_due(source.interval, now, failures=0, rand=rand()),
    )


def _failed(
    source: Source,
    state: SourceState,
    kind: ErrorKind,
    detail: str,
    status: int | None,
    retry_after: str | None,
    now: datetime,
    rand: Callable[[], float],
    started: float,
) -> _Done:
    failures = state.failures + 1
    until = schedule.parse_retry_after(retry_after, now) if retry_after else None
    state = replace(
        state,
        last_status=status,
        last_error=kind,
        last_error_detail=detail,
        failures=failures,
        retry_after=until,
        next_due=schedule.next_due(
            source.interval, now, failures=failures, retry_after=until, rand=rand()
        ),
    )
    result = SourceResult(
        source.name,
        "error",
        error=kind,
        detail=detail,
        http_status=status,
        seconds=time.monotonic() - started,
    )
    return _Done(source, state, [], result)


async def poll_once(
    settings: Settings,
    store: Store,
    *,
    force: bool = False,
    only: set[str] | None = None,
    now_fn: Callable[[], datetime] = utcnow,
    progress: Progress | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    rand: Callable[[], float] = random.random,
    shards: int = 16,
    executor: Executor | None = None,
    annotate: bool = True,
) -> PollReport:
    """Fetch every due source once, then write everything in one store write.

    A failing source never stops the others: its error is recorded in its state and
    its result. Cancelling the task cancels the fetches and writes nothing. Feeds are
    parsed in `executor` (see `parse_pool`) or, without one, in threads. With `annotate`,
    items get their actors, quotes and dates before the write; the application core
    (`monitor.io.session`) stores them first, so they show at once, and annotates after.
    """
    started = now_fn()
    states = await asyncio.to_thread(store.states)
    due, skipped = plan(settings.sources, states, started, force=force, only=only)
    async with _Leases(store, settings.poll.timeout, force=force) as leases:
        due = await leases.take(due, skipped, started)
        if leases.taken:  # another poller may have written them since they were read
            states = await asyncio.to_thread(store.states)
        limits = Limits(timeout=settings.poll.timeout, max_bytes=settings.poll.max_size)
        pool = ClientPool(
            shards=shards,
            concurrency=settings.poll.concurrency,
            per_host=settings.poll.per_host,
            agent=settings.poll.user_agent,
            proxy=settings.poll.proxy,
            transport=transport,
        )
        done: list[_Done] = []
        total = len(due)
        tasks: list[asyncio.Future[_Done]] = []
        try:
            tasks = [
                asyncio.ensure_future(
                    _poll_source(
                        src,
                        states.get(src.name) or SourceState(src.name, src.url),
                        pool,
                        limits,
                        now_fn,
                        rand,
                        executor,
                    )
                )
                for src in due
            ]
            for fut in asyncio.as_completed(tasks):
                d = await fut
                done.append(d)
                if progress:
                    progress(len(done), total, d.result)
        finally:
            for t in tasks:
                t.cancel()
            await pool.aclose()

        rank = {src.name: n for n, src in enumerate(due)}
        done.sort(key=lambda d: rank[d.source.name])  # config order: the first source is stable
        items: list[Item] = []
        owners: list[int] = []
        for i, d in enumerate(done):
            items.extend(d.items)
            owners.extend([i] * len(d.items))
        if annotate and items:
            from monitor.io.annotate import annotate_off_loop  # the NLP stack: only when asked

            items = await annotate_off_loop(items, settings.actors, executor)
        outcomes = await asyncio.to_thread(store.write, items, [d.state for d in done])
    tally = [{"new": 0, "updated": 0, "unchanged": 0} for _ in done]
    for owner, outcome in zip(owners, outcomes, strict=True):
        tally[owner][outcome] += 1
    results = {
        d.source.name: replace(
            d.result, new=t["new"], updated=t["updated"], unchanged=t["unchanged"]
        )
        for d, t in zip(done, tally, strict=True)
    }
    order = [s.name for s in settings.sources]
    all_results = [*results.values(), *skipped]
    all_results.sort(key=lambda r: order.index(r.name) if r.name in order else len(order))
    return PollReport(started=started, finished=now_fn(), results=tuple(all_results))
