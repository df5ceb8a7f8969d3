"""The article queue: fetch each new item's page politely and safely, extract its text, store it.

Runs after a feed poll, never inside it. Politeness: at most `per_host` requests in flight
per host, `delay` seconds between the starts of two requests to one host, robots.txt
read once per host (a day) and obeyed unless turned off; the poll's User-Agent, deadline
and size cap. Safety: every hop's resolved address must be public (`netguard.Guard`),
except on the feed's own host or for a source with `allow_private_links`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import urllib.robotparser
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from monitor.config import Settings
from monitor.core.dedupe import with_annotations
from monitor.core.extract import extract_page, failed, fill
from monitor.io.http import ClientPool, FetchError, Limits, fetch
from monitor.io.loops import off_loop
from monitor.io.netguard import Guard, host_of
from monitor.io.store import Store
from monitor.model import Item, PageText, TextJob

log = logging.getLogger(__name__)

ACCEPT_HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
ROBOTS_TTL = 24 * 3600.0
FAST = False  # trafilatura's fast mode: same median F1 on the corpus but more bad pages

TextArrived = Callable[[Item], None]
Progress = Callable[[int, int, Item], None]


def with_text(
    item: Item, page: PageText, settings: Settings, annotated: Item | None = None
) -> Item:
    """The one place an item takes in what its article page gave.

    It runs inside the store's update, on the item as stored now. `annotated` is the same
    item with that text, annotated beforehand in the worker (the model is not loaded in
    this process): its actors, quotes, mentions and dates are kept when it was made from
    the same title, summary and text, so they are stored in the same write."""
    first = item.sources[0] if item.sources else None
    configured = any(s.language for s in settings.sources if s.name == first)
    new = fill(
        item, page, override_date=settings.articles.prefer_page_date, keep_language=configured
    )
    return new if annotated is None else with_annotations(new, annotated)


@dataclass(slots=True)
class TextReport:
    """What one run of the queue did."""

    fetched: int = 0  # items that got a page text
    failed: Counter[str] = field(default_factory=Counter)  # reason -> items

    @property
    def done(self) -> int:
        return self.fetched + sum(self.failed.values())


# One extraction at a time per process: trafilatura (lxml) crashes the process when pages
# are extracted in parallel threads (adbar/trafilatura#840, #925), as `monitor poll` does
# without a worker process.
_EXTRACTING = threading.Lock()


def _extract(body: bytes, url: str, content_type: str | None, now: datetime) -> PageText:
    with _EXTRACTING:
        return extract_page(body, url, now=now, content_type=content_type, fast=FAST)


class ArticleFetcher:
    """Fetches article pages for items and stores what they give. One per process is
    enough: its per-host slots and robots.txt cache are shared by every `run`.

    `on_text` is called on the event loop, once the store holds it, with every item whose
    page was tried (`text_status` "page" when the text arrived, "failed" otherwise).
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        on_text: TextArrived | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        executor: Executor | None = None,
        now_fn: Callable[[], datetime] = lambda: datetime.now(UTC),
        guard: Callable[[TextJob], Guard] | None = None,
        annotate: bool = True,
    ) -> None:
        self.settings = settings
        self.annotate = annotate  # find actors, quotes and dates again in the full text
        self.store = store
        self.on_text = on_text
        self.transport = transport
        self.executor = executor
        self.now_fn = now_fn
        self.limits = Limits(timeout=settings.poll.timeout, max_bytes=settings.poll.max_size)
        self.make_guard = guard or self._guard
        self._slots: dict[str, asyncio.Lock] = {}
        self._next: dict[str, float] = {}
        self._robots: dict[str, tuple[float, urllib.robotparser.RobotFileParser | None]] = {}
        self._robot_locks: dict[str, asyncio.Lock] = {}
        self._pool: ClientPool | None = None
        self._runs = 0

    def _guard(self, job: TextJob) -> Guard:
        trusted = [host_of(job.feed_url)]
        return Guard(trusted, via_proxy=bool(self.settings.poll.proxy))

    def _client_pool(self) -> ClientPool:
        if self._pool is None:
            a = self.settings.articles
            self._pool = ClientPool(
                concurrency=a.concurrency,
                per_host=a.per_host,
                agent=self.settings.poll.user_agent,
                proxy=self.settings.poll.proxy,
                transport=self.transport,
            )
        return self._pool

    async def run(self, jobs: Sequence[TextJob], progress: Progress | None = None) -> TextReport:
        """Fetch, extract and store the text of every job; returns the tally."""
        report = TextReport()
        if not jobs:
            return report
        pool = self._client_pool()
        self._runs += 1
        total = len(jobs)
        try:
            tasks = [asyncio.ensure_future(self._one(job, pool)) for job in jobs]
            try:
                for fut in asyncio.as_completed(tasks):
                    item = await fut
                    if item is None:
                        continue
                    if item.text_status == "page":
                        report.fetched += 1
                    else:
                        report.failed[item.text_error or "other"] += 1
                    if progress:
                        progress(report.done, total, item)
                    if self.on_text:
                        try:
                            self.on_text(item)
                        except Exception:
                            log.exception("on_text failed for %s", item.id)
            finally:
                for t in tasks:
                    t.cancel()
        finally:
            self._runs -= 1
            if self._runs == 0:
                await self.aclose()
        return report

    async def aclose(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.aclose()

    async def _one(self, job: TextJob, pool: ClientPool) -> Item | None:
        page, error = await self._page(job, pool)
        annotated = await self._annotated(job, page) if page is not None else None

        def change(item: Item) -> Item:
            if page is not None:
                return with_text(item, page, self.settings, annotated)
            assert error is not None
            return failed(item, error.kind, error.detail)

        stored = await asyncio.to_thread(self.store.update, [(job.item_id, change)])
        return stored[0] if stored else None

    async def _annotated(self, job: TextJob, page: PageText) -> Item | None:
        """The stored item with the page's text, annotated in the worker; None when there
        is no text or annotating is off or fails (the item keeps what it had)."""
        if not self.annotate or not page.text:
            return None
        current = await asyncio.to_thread(self.store.get, job.item_id)
        if current is None:
            return None
        from monitor.io.annotate import annotate_off_loop  # the NLP stack: only when asked

        try:
            done = await annotate_off_loop(
                [with_text(current, page, self.settings)], self.settings.actors, self.executor
            )
        except Exception:  # the text is still worth storing without its actors
            log.warning("annotating %s failed", job.item_id, exc_info=True)
            return None
        return done[0] if done else None

    async def _page(
        self, job: TextJob, pool: ClientPool
    ) -> tuple[PageText | None, _Failure | None]:
        guard = None if job.allow_private else self.make_guard(job)
        try:
            if self.settings.articles.robots and not await self._allowed(job.url, pool, guard):
                return None, _Failure("robots", "robots.txt disallows fetching this page")
            async with pool.global_limit, pool.host_limit(job.url), self._turn(job.url):
                got = await fetch(
                    pool.client(job.url),
                    job.url,
                    limits=self.limits,
                    accept=ACCEPT_HTML,
                    check_url=guard.check_url if guard else None,
                    check_peer=guard.check_peer if guard else None,
                )
        except FetchError as err:
            if err.status in (404, 410):
                return None, _Failure("not_found", err.detail)
            if err.status in (401, 403, 451):
                return None, _Failure("blocked", err.detail)
            return None, _Failure(err.kind, err.detail)
        try:
            page = await off_loop(
                self.executor,
                _extract,
                got.body,
                got.url,
                got.headers.get("content-type"),
                self.now_fn(),
            )
        except Exception as exc:  # a page the extractor chokes on fails alone
            log.warning("extracting %s failed", job.url, exc_info=True)
            return None, _Failure("empty", f"the page could not be read: {type(exc).__name__}")
        return page, None

    @contextlib.asynccontextmanager
    async def _turn(self, url: str) -> AsyncIterator[None]:
        """A request to the host of `url`: it starts `delay` seconds at least after the
        last one to that host began and after it ended."""
        host = host_of(url)
        delay = self.settings.articles.delay
        async with self._slots.setdefault(host, asyncio.Lock()):
            wait = self._next.get(host, 0.0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next[host] = time.monotonic() + delay
        try:
            yield
        finally:
            self._next[host] = max(self._next[host], time.monotonic() + delay)

    async def _allowed(self, url: str, pool: ClientPool, guard: Guard | None) -> bool:
        parsed = httpx.URL(url)
        origin = f"{parsed.scheme}://{parsed.netloc.decode('ascii')}"
        lock = self._robot_locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._robots.get(origin)
            if cached is None or time.monotonic() - cached[0] > ROBOTS_TTL:
                cached = (time.monotonic(), await self._read_robots(origin, pool, guard))
                self._robots[origin] = cached
        rules = cached[1]
        if rules is None:
            return True
        agent = self.settings.poll.user_agent or pool.agent
        return rules.can_fetch(agent, url)

    async def _read_robots(
        self, origin: str, pool: ClientPool, guard: Guard | None
    ) -> urllib.robotparser.RobotFileParser | None:
        """The host's rules; None (everything allowed) when it has no robots.txt. A server
        error or no answer counts as disallowing everything (RFC 9309)."""
        url = origin + "/robots.txt"
        rules = urllib.robotparser.RobotFileParser(url)
        try:
            async with pool.global_limit, pool.host_limit(url), self._turn(url):
                got = await fetch(
                    pool.client(url),
                    url,
                    limits=Limits(timeout=self.limits.timeout, max_bytes=512 * 1024),
                    accept="text/plain",
                    check_url=guard.check_url if guard else None,
                    check_peer=guard.check_peer if guard else None,
                )
        except FetchError as err:
            if err.kind == "refused":
                raise
            if err.status is not None and 400 <= err.status < 500:
                return None
            rules.parse(["User-agent: *", "Disallow: /"])
            return rules
        rules.parse(got.body.decode("utf-8", "replace").splitlines())
        return rules


@dataclass(frozen=True, slots=True)
class _Failure:
    kind: str
    detail: str
