"""One poll pass: fetch the due sources politely, parse and normalize off the loop, store once."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import random
import ssl
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from monitor.config import Settings
from monitor.core import schedule
from monitor.io.http import FetchError, Limits, fetch, make_client, user_agent
from monitor.io.store import Store
from monitor.model import (
    ActorSpec,
    ErrorKind,
    Item,
    PollReport,
    Source,
    SourceResult,
    SourceState,
    TextJob,
)

Progress = Callable[[int, int, SourceResult], None]
T = TypeVar("T")
log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _Done:
    """What fetching one source produced, before the store write."""

    source: Source
    state: SourceState
    items: list[Item]
    result: SourceResult


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


class ClientPool:
    """httpx clients sharded by host, with a global and a per-host concurrency limit."""

    def __init__(
        self,
        *,
        shards: int = 16,
        concurrency: int = 100,
        per_host: int = 2,
        agent: str | None = None,
        proxy: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._proxy = proxy
        self._shards = max(1, shards)
        self._agent = agent or user_agent()
        self._transport = transport
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._tls: ssl.SSLContext | None = None  # one for all shards: each costs ~15 ms
        self._global = asyncio.Semaphore(concurrency)
        self._per_host_n = per_host
        self._per_host: dict[str, asyncio.Semaphore] = {}

    def client(self, url: str) -> httpx.AsyncClient:
        shard = hash(urlsplit(url).netloc) % self._shards
        c = self._clients.get(shard)
        if c is None:
            if self._tls is None:
                self._tls = httpx.create_ssl_context()
            c = make_client(
                user_agent=self._agent,
                proxy=self._proxy,
                transport=self._transport,
                verify=self._tls,
            )
            self._clients[shard] = c
        return c

    @property
    def agent(self) -> str:
        return self._agent

    def host_limit(self, url: str) -> asyncio.Semaphore:
        host = urlsplit(url).netloc.lower()
        sem = self._per_host.get(host)
        if sem is None:
            sem = self._per_host[host] = asyncio.Semaphore(self._per_host_n)
        return sem

    @property
    def global_limit(self) -> asyncio.Semaphore:
        return self._global

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self._clients.values()))
        self._clients.clear()


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: leave when the parent is gone, even after a SIGKILL."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def parse_pool() -> ProcessPoolExecutor:
    """A one-process pool for parsing, for a long-running process such as the dashboard.

    Parsing in threads holds the GIL in pure-Python parts and starves the event loop
    (keys waited up to 700 ms during a 500-feed poll); a process keeps the loop free.
    The caller shuts it down; its worker also exits if the caller dies.
    """
    return ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    )


async def off_loop(executor: Executor | None, fn: Callable[..., T], *args: Any) -> T:
    """Run CPU work in `executor` (a process pool, see `parse_pool`), else in a thread;
    a broken pool falls back to a thread."""
    if executor is not None:
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        except (BrokenExecutor, OSError, RuntimeError):
            log.warning("worker process unavailable; working in a thread", exc_info=True)
    return await asyncio.to_thread(fn, *args)


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


ANNOTATE_CHUNK = 500  # items per call to the worker: results come back in pieces


_ANNOTATING = threading.Lock()  # one spaCy model per process, used by one thread at a time


def _annotate(items: Sequence[Item], actors: tuple[ActorSpec, ...]) -> list[Item]:
    from monitor.io.annotate import annotate_items

    with _ANNOTATING:
        return annotate_items(items, actors)


async def annotate_off_loop(
    items: Sequence[Item], actors: tuple[ActorSpec, ...], executor: Executor | None = None
) -> list[Item]:
    """`annotate_items` in `executor` (the parse pool: the model loads there, once), else
    in a thread; in chunks, so a long batch never holds a worker for minutes."""
    out: list[Item] = []
    for start in range(0, len(items), ANNOTATE_CHUNK):
        chunk = list(items[start : start + ANNOTATE_CHUNK])
        out.extend(await off_loop(executor, _annotate, chunk, actors))
    return out


async def annotate_stored(
    store: Store,
    ids: Sequence[str],
    actors: tuple[ActorSpec, ...],
    executor: Executor | None = None,
    stored: Callable[[int], Awaitable[None]] | None = None,
) -> int:
    """Annotate the stored items `ids` that are not yet, and store them chunk by chunk
    (`ANNOTATE_CHUNK`), awaiting `stored(n)` after each chunk of n is stored. Returns how
    many were annotated. The dashboard runs this after a poll, so new items show at once
    and gain their actors a moment later; after a first poll of thousands of items, the
    actors arrive in pieces instead of all at the end."""

    def pending(some: Sequence[str]) -> list[Item]:
        got = (store.get(i) for i in some)
        return [it for it in got if it is not None and not it.annotated]

    done = 0
    for start in range(0, len(ids), ANNOTATE_CHUNK):  # read a chunk at a time, too: reading
        # 25,000 items at once held the GIL for a second, beside the dashboard's repaint
        items = await asyncio.to_thread(pending, ids[start : start + ANNOTATE_CHUNK])
        if not items:
            continue
        chunk = await annotate_off_loop(items, actors, executor)
        await asyncio.to_thread(store.write, chunk, [])
        done += len(chunk)
        if stored is not None:
            await stored(len(chunk))
    return done


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
    items get their actors, quotes and dates before the write (`monitor poll`); the
    dashboard stores them first and runs `annotate_stored` after.
    """
    started = now_fn()
    states = await asyncio.to_thread(store.states)
    due, skipped = plan(settings.sources, states, started, force=force, only=only)
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
        items = await annotate_off_loop(items, settings.actors, executor)
    outcomes = await asyncio.to_thread(store.write, items, [d.state for d in done])
    tally = [{"new": 0, "updated": 0, "unchanged": 0} for _ in done]
    jobs: list[TextJob] = []
    for item, owner, outcome in zip(items, owners, outcomes, strict=True):
        tally[owner][outcome] += 1
        src = done[owner].source
        if outcome == "new" and item.text_status is None and item.url and src.full_text:
            jobs.append(TextJob(item.id, item.url, src.name, src.url, src.allow_private_links))
    results = {
        d.source.name: replace(
            d.result, new=t["new"], updated=t["updated"], unchanged=t["unchanged"]
        )
        for d, t in zip(done, tally, strict=True)
    }
    order = [s.name for s in settings.sources]
    all_results = [*results.values(), *skipped]
    all_results.sort(key=lambda r: order.index(r.name) if r.name in order else len(order))
    return PollReport(
        started=started, finished=now_fn(), results=tuple(all_results), text_jobs=tuple(jobs)
    )
