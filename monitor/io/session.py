"""The application core: one object that `monitor poll`, `monitor poll --watch` and the
dashboard all drive. They differ only in how they show its events (`monitor.io.events`).

A pass is defined here once:
1. `poll`: fetch the due sources and store their items (`poller.poll_once`), read the
   store again;
2. after it, in the background and one turn at a time (polls that end meanwhile join
   the waiting turn): the new items' actors (`annotate_stored`), the later copies of
   the stories the analyst marked seen (`story_copies`), one bounded step of
   catching up older items (`core.backlog`), then the article pages of the new items
   and of the recent ones left pending, queued (`fetch_texts`);
3. `run`: the schedule. Poll due sources on their intervals, write the scheduled digest
   when due, wait for the next due source or a request (`poll_now`).

After each read of the store the new items join their stories (`io/live_stories.py`,
saved beside the store) before the pass's auto-tags and watches look at them.

Retention (`[storage] keep`) runs in the writer after a poll, at most once an hour:
items published before the UTC day `keep` ago are dropped, except those any analyst
starred, tagged by hand or annotated (`io/retention.py`).

Which items get their page fetched is one rule: `core.backlog.text_job`. The dashboard's
state (the filter, the view) lives here too, so that it is tested without a terminal, and
so does the analyst's triage (stars, tags, notes, seen; the auto-tags of a pass), in
`io/triage_actions.py`, and the watches of a pass, in `io/watch_actions.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from concurrent.futures import Executor
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Protocol

import httpx

from monitor.config import Settings
from monitor.core import backlog, schedule
from monitor.core.index import EntryIndex
from monitor.core.query import Context
from monitor.core.view import Filter, View, compute_view, parse_filter
from monitor.io import triage_actions
from monitor.io.articles import ArticleFetcher
from monitor.io.backends import live_stories
from monitor.io.clock import utcnow
from monitor.io.context import query_context
from monitor.io.deliver import SendFn
from monitor.io.digest_actions import DigestMixin
from monitor.io.events import (
    ActorsFound,
    Dropped,
    Event,
    Listener,
    Loaded,
    PollEnded,
    PollStarted,
    Problem,
    Scheduled,
    SourcePolled,
    StoriesUpdated,
    ViewChanged,
)
from monitor.io.retention import RetentionMixin
from monitor.io.store import Follows, Store
from monitor.io.text_actions import TextMixin
from monitor.io.triage import Triage
from monitor.io.triage_actions import TriageMixin
from monitor.io.watch_actions import WatchMixin
from monitor.model import Entry, PollReport, SourceResult, SourceState, TextJob

log = logging.getLogger(__name__)

IDLE = 3600.0  # seconds between checks when no source is enabled
READ_ONLY_EVERY = 2.0  # a read-only session looks this often for a batch committed


class PollFn(Protocol):
    """`poller.poll_once` as the session calls it, or a stand-in for tests and demos."""

    def __call__(
        self, settings: Settings, store: Store, *, force: bool = ..., only: set[str] | None = ...
    ) -> Awaitable[PollReport]: ...


class AnnotateFn(Protocol):
    """`annotate.annotate_stored` bound to the store, the actors and the executor."""

    def __call__(
        self, ids: Sequence[str], *, stored: Callable[[int], Awaitable[None]] | None = ...
    ) -> Awaitable[int]: ...


class Session(TriageMixin, WatchMixin, RetentionMixin, TextMixin, DigestMixin):
    """The store, the schedule, the queues after each poll, the dashboard's filter, and
    the analyst's triage (`io.triage_actions`: star, tag, note, mark_seen, rest).

    `listener` gets every event, on this session's event loop. `poll` replaces the real
    poller (tests); `executor` parses and annotates (a worker process: `loops.parse_pool`;
    None: threads); `own_loop` runs a poll's requests on an event loop of their own, so
    that a caller with a UI keeps answering keys. `views` keeps `view` computed after
    every read of the store (the dashboard). `text` and `annotate` turn off article pages
    and actors (`--no-text`, `--no-actors`). `triage` replaces the triage file that the
    first `load` opens in the store's folder; `send` the alert channels (tests)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        read_only: bool = False,
        listener: Listener | None = None,
        now: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll: PollFn | None = None,
        articles: ArticleFetcher | None = None,
        executor: Executor | None = None,
        own_loop: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        text: bool = True,
        annotate: bool = True,
        progress: bool = False,
        views: bool = False,
        triage: Triage | None = None,
        send: SendFn | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.read_only = read_only
        self.listener = listener
        self.now = now
        self.sleep = sleep
        self.executor = executor
        self.annotate = annotate and not read_only
        from monitor.io.annotate import annotate_stored

        self.annotate_fn: AnnotateFn = partial(
            annotate_stored, store, actors=settings.actors, executor=executor
        )
        self.views = views
        self.poll_fn: PollFn = poll or self._real_poll(own_loop, transport, progress)
        if articles is None and text and not read_only:
            articles = ArticleFetcher(
                settings, store, transport=transport, executor=executor, annotate=annotate
            )
        self.articles = articles if not read_only else None
        self._sources = {s.name: s for s in settings.sources}

        self.index = EntryIndex([], [])  # every stored item's entry, and their index
        self.text_ready = True  # the full texts are indexed (else words match titles only)
        self.ids: set[str] = set()
        self.stories = live_stories(settings, writer=not read_only)  # `io.live_stories`
        self._stories_turn: asyncio.Task[Any] | None = None  # the latest update of them
        self.set_aside = 0  # stored records that cannot be read (`Store.quarantined`)
        self.damage: list[str] = []  # damaged day files and what was saved (`Store.damage`)
        self.states: dict[str, SourceState] = {}
        self.loaded = False
        self.filter = Filter()
        self.view = View([], [])
        self.polling = False
        self.polling_only: frozenset[str] = frozenset()
        self.last_report: PollReport | None = None
        self.last_failure: str | None = None
        self.next_poll: datetime | None = None
        self.fetching: set[str] = set()  # ids whose article page is being fetched
        self.finding = 0  # new items still waiting for their actors
        self.last_dropped: Dropped | None = None  # the last retention pass that dropped some
        self._retained: datetime | None = None  # when retention last ran

        self._request: tuple[bool, set[str] | None] = (False, None)
        self._wake = asyncio.Event()
        self.waiting = asyncio.Event()  # set while `run` waits for the next poll
        self.next_digest: datetime | None = None  # None: check after the next poll
        self._after = asyncio.Lock()  # what follows a poll: one turn at a time
        self._after_waiting = False  # a turn is queued behind the lock
        self._after_fresh: list[str] = []  # for that turn: new items
        self._after_texts = False  # a poll that succeeded is among them
        self._after_task: asyncio.Task[Any] | None = None  # the latest turn
        self._view_token = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reload_handle: asyncio.TimerHandle | None = None
        self._read_version: object = None  # the store's version at the last read
        self._following = False  # reading another process's commit (`_follow`)
        self._heard_again = False  # another came meanwhile
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.get_ident()
        self._init_triage(triage)
        self._init_watches(None, send)

    # -- events --------------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """Hand `event` to the listener, on this session's loop (a poll on a loop of its
        own reports from its thread)."""
        if self.listener is None:
            return
        if self._loop is not None and threading.get_ident() != self._thread:
            self._loop.call_soon_threadsafe(self.emit, event)
            return
        try:
            self.listener(event)
        except Exception:
            log.exception("the listener failed on %r", type(event).__name__)

    @contextlib.contextmanager
    def reported(self, what: str) -> Iterator[None]:
        """A step whose failure is logged and reported, never raised (cancelling still
        passes: CancelledError is no Exception)."""
        try:
            yield
        except Exception as exc:
            log.exception("%s failed", what)
            self.emit(Problem(what, f"{what} failed: {type(exc).__name__}: {exc}"))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """A task of this session's, awaited by `settle` and cancelled by `close`."""
        self._bind()
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _bind(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._thread = threading.get_ident()

    async def settle(self) -> None:
        """Wait until everything queued after the polls is done: actors, catching up and
        article texts (`monitor poll` waits for this before it exits)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel what is under way and wait for its clean-up."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._reload_handle is not None:
            self._reload_handle.cancel()
        if self.articles is not None:
            await self.articles.aclose()
        await self.close_triage()
        await self.close_watches()
        await asyncio.to_thread(self.stories.close)  # after an update under way

    # -- reading the store ---------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """Every stored item's entry, newest first, as last read."""
        return self.index.entries

    async def load(self) -> None:
        """Read entries, index, source states and the triage again (in a thread), then
        the view."""
        self._bind()
        store, old = self.store, self.ids

        def read() -> tuple[EntryIndex, dict[str, SourceState], set[str], triage_actions.Read]:
            self._read_version = store.version()
            index = store.entry_index()
            self.set_aside = store.quarantined()
            self.damage = store.damage()
            return index, store.states(), {e.id for e in index.entries}, self.read_triage()

        said = len(self.damage)
        index, states, ids, triage = await asyncio.to_thread(read)
        for words in self.damage[said:]:
            self.emit(Problem("store", words))
        first = not self.loaded
        self.index, self.states, self.ids, self.loaded = index, states, ids, True
        self.took_triage(*triage)
        self.emit(Loaded(frozenset() if first else frozenset(ids - old), first))
        # the stories first: the pass's auto-tags and watches wait for them (`evaluate`)
        self._stories_turn = self._spawn(self._update_stories(index.entries))
        if first and not self.read_only:
            self._spawn(self.recheck(index))
        if self.views:
            await self.refresh_view()
            await asyncio.to_thread(index.key_order)  # now, not on the first filter key

    async def _update_stories(self, entries: Sequence[Entry]) -> None:
        """Bring the stories up to date with a read of the store, in a thread (one update
        at a time: `LiveStories.update`), and say so; a view that asks for them again."""
        with self.reported("finding the stories"):
            added = await asyncio.to_thread(self.stories.update, entries, self.now())
            self.emit(StoriesUpdated(added))
            query = self.filter.query
            if added and self.views and query is not None and query.uses_stories():
                await self.refresh_view()

    async def stories_ready(self) -> None:
        """Wait until the stories hold every item of the latest read of the store (the
        pass's auto-tags and watches may ask for them)."""
        if self._stories_turn is not None and not self._stories_turn.done():
            await asyncio.wait({self._stories_turn})

    def context(self) -> Context:
        """What queries are evaluated with now: the text index, the triage, categories,
        the stories."""
        ctx = query_context(self.settings, self.store, self.triage_now(), self.stories)
        self.text_ready = ctx.text is not None or not self.store.text_backlog()
        return ctx

    async def refresh_states(self) -> None:
        self.states = await asyncio.to_thread(self.store.states)

    async def _reread(self) -> None:
        with self.reported("reading the store"):
            await self.load()

    # -- the filter and the view -------------------------------------------------------------

    async def refresh_view(self) -> None:
        """Filter and count in a thread; only the latest request's result is kept."""
        self._view_token += 1
        token = self._view_token
        index, flt, now, ctx = self.index, self.filter, self.now(), self.context()
        unread = self.unread_test()

        def compute() -> tuple[View, int]:
            view = compute_view(index, flt, now, ctx)
            return view, sum(1 for e in view.entries if unread(e))

        view, count = await asyncio.to_thread(compute)
        if token == self._view_token:
            self.view, self.unread_count = view, count
            self.emit(ViewChanged(view))

    def set_filter(self, text: str, saved: str | None = None) -> None:
        """Filter by the query `text` (from the saved filter `saved`); raises `QueryError`
        for a malformed query, and then nothing changes."""
        query = parse_filter(text)
        self._refilter(Filter(text.strip(), query, saved, self.filter.source, self.filter.actor))

    def pick_source(self, name: str | None) -> None:
        """Narrow to one source; picking it again clears it."""
        flt = self.filter
        same = name is None or name == flt.source
        self._refilter(Filter(flt.text, flt.query, flt.saved, None if same else name, flt.actor))

    def pick_actor(self, name: str | None) -> None:
        """Narrow to one actor; picking it again clears it."""
        flt = self.filter
        same = name is None or name == flt.actor
        self._refilter(Filter(flt.text, flt.query, flt.saved, flt.source, None if same else name))

    def clear_filter(self) -> None:
        self._refilter(Filter())

    def _refilter(self, flt: Filter) -> None:
        self.filter = flt
        self._spawn(self.refresh_view())

    # -- polling -------------------------------------------------------------------------------

    def _real_poll(
        self, own_loop: bool, transport: httpx.AsyncBaseTransport | None, progress: bool
    ) -> PollFn:
        from monitor.io.loops import on_own_loop
        from monitor.io.poller import poll_once

        def report(done: int, total: int, result: SourceResult) -> None:
            self.emit(SourcePolled(done, total, result))

        # Items are stored first, so that they show at once; their actors come after.
        fn = partial(
            poll_once,
            now_fn=self.now,
            transport=transport,
            executor=self.executor,
            annotate=False,
            progress=report if progress else None,
        )
        return partial(on_own_loop, fn) if own_loop else fn

    def poll_now(self, *, force: bool = True, only: set[str] | None = None) -> bool:
        """Ask `run` for a poll at once; False when read-only or a poll is running."""
        if self.read_only or self.polling:
            return False
        self._begin(force, only)
        self._wake.set()
        return True

    def _begin(self, force: bool, only: set[str] | None) -> None:
        self.polling = True
        self.polling_only = frozenset(only or ())
        self.next_poll = None
        self._request = (force, only)
        self.emit(PollStarted(self.polling_only))

    async def poll(self, *, force: bool = False, only: set[str] | None = None) -> PollReport | None:
        """One poll: fetch the due sources (all with `force`, those in `only`), store,
        read the store again, then queue what follows (see the module). None when it
        failed or could not start (read-only, a poll already running)."""
        self._bind()
        if self.read_only:
            return None
        if not self.polling:
            self._begin(force, only)
        force, only = self._request
        self._wake.clear()
        before = set(self.ids)
        report: PollReport | None = None
        try:
            try:
                report = await self.poll_fn(self.settings, self.store, force=force, only=only)
                self.last_report, self.last_failure = report, None
                for result in report.failed:
                    log.info("poll: %s failed: %s %s", result.name, result.error, result.detail)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.exception("poll failed")
                self.last_failure = f"poll failed: {type(exc).__name__}: {exc}"
            await self._retain()
            await self._reread()
        finally:
            self.polling = False
            self.polling_only = frozenset()
        fresh = sorted(self.ids - before)
        self.emit(PollEnded(report, self.last_failure, len(fresh)))
        self._queue_after(fresh, report is not None)
        self.deliver_soon()  # the alerts due, and those a crash left unsent
        return report

    def next_delay(self) -> float | None:
        """Seconds until the next source is due (None: no enabled source)."""
        return schedule.next_poll_delay(self.settings.sources, self.states, self.now())

    async def run(self, *, autopoll: bool = True, passes: int | None = None) -> None:
        """The schedule: read the store; then poll due sources on their intervals (the
        first at once unless not `autopoll`), write the scheduled digest when due, and
        wait for the next due source or a `poll_now`; until cancelled, or `passes` polls.
        Read-only, it re-reads the store instead of polling."""
        await self._reread()
        if passes is None and isinstance(self.store, Follows):
            loop = asyncio.get_running_loop()

            def heard(_commit: int) -> None:
                loop.call_soon_threadsafe(self._heard)

            self.store.follow(heard)
        if not self.read_only:
            from monitor.io.http import warm

            with self.reported("loading the HTTP client"):
                await asyncio.to_thread(warm)
        done = 0
        due = autopoll and not self.read_only
        seen = self.store.version()
        while passes is None or done < passes:
            if self.read_only and due:
                now_seen = await asyncio.to_thread(self.store.version)
                if now_seen != seen:  # a writer committed a batch: read it
                    seen = now_seen
                    await self._reread()
            elif due:
                await self._spawn(self.poll())  # a task: `settle` waits for it too
                done += 1
            await self._digest_if_due()
            if passes is not None and done >= passes:
                break
            await self._wait(self._arm())
            due = True
        await self.settle()

    def _heard(self) -> None:
        """Another process committed (`Follows`): read the store again, one read at a
        time however many commits come meanwhile."""
        if self._following:
            self._heard_again = True
            return
        self._following = True
        self._spawn(self._follow())

    async def _follow(self) -> None:
        try:
            self._heard_again = True
            while self._heard_again:
                self._heard_again = False
                if self.store.version() != self._read_version:
                    await self._reread()
        finally:
            self._following = False

    def _arm(self) -> float:
        """The wait until the next poll (or re-read, or digest); reported as `Scheduled`."""
        now = self.now()
        delay = self.next_delay()
        if self.read_only:
            self.next_poll = schedule.writer_polls(self.states)[1]
            self.emit(Scheduled(self.next_poll))
            return READ_ONLY_EVERY
        self.next_poll = None if delay is None else now + timedelta(seconds=delay)
        self.emit(Scheduled(self.next_poll))
        wait = IDLE if delay is None else delay
        if self.next_digest is not None:
            wait = min(wait, max((self.next_digest - now).total_seconds(), 1.0))
        return wait

    async def _wait(self, seconds: float) -> None:
        """Sleep `seconds`, or less if `poll_now` asks."""
        if self._wake.is_set():
            return
        self.waiting.set()
        sleeper = asyncio.ensure_future(self.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.waiting.clear()
            sleeper.cancel()
            waker.cancel()

    # -- after a poll ----------------------------------------------------------------------

    def _queue_after(self, fresh: list[str], texts: bool) -> None:
        """Queue what follows a poll. Polls that end while it is still being done add to
        one waiting turn: never more than one runs and one waits, however often polls
        end."""
        self._after_fresh.extend(fresh)
        self._after_texts |= texts
        if not self._after_waiting:
            self._after_waiting = True
            self._after_task = self._spawn(self._after_poll())

    async def _after_poll(self) -> None:
        """The new items' actors, a step of catching up, then the article texts (after
        the actors of title and summary are stored: the text's replace them)."""
        async with self._after:
            self._after_waiting = False
            fresh, self._after_fresh = sorted(set(self._after_fresh)), []
            texts, self._after_texts = self._after_texts, False
            await self._annotate_new(fresh)
            await self.story_copies(fresh)  # after the actors: copies of seen stories
            await self.auto_tag_ids(fresh)  # after the actors: a query may name one
            with self.reported("catching up stored items"):
                jobs, pending = await self._catch_up(fresh if texts else [])
                if texts:
                    self.fetch_texts([*jobs, *pending], backlog=len(pending))

    async def _annotate_new(self, fresh: list[str]) -> None:
        """Actors, quotes and dates for the items a poll added, off the loop; the store
        is read again after each stored chunk."""
        if not self.annotate or not fresh:
            return
        self.finding = len(fresh)
        self.emit(ActorsFound(0, self.finding, backlog=False))

        async def stored(n: int) -> None:
            self.finding = max(0, self.finding - n)
            await self._reread()
            self.emit(ActorsFound(n, self.finding, backlog=False))

        try:
            with self.reported("finding actors"):
                await self.annotate_fn(fresh, stored=stored)
        finally:
            self.finding = 0

    async def _catch_up(self, fresh: Sequence[str]) -> tuple[list[TextJob], list[TextJob]]:
        """One bounded step of catching up (`core.backlog`): the newest items stored
        without actors get them, and the store is read again. Returns the text jobs of
        the `fresh` items and of the recent ones left pending."""
        entries, now, source = self.entries, self.now(), self._sources.get
        skip = set(self.fetching) | set(fresh)

        def find() -> tuple[list[str], list[TextJob], list[TextJob]]:
            wanted = set(fresh)
            new = [e for e in entries if e.id in wanted] if wanted else []
            jobs = [j for j in (backlog.text_job(e, source, now) for e in new) if j]
            pending = backlog.pending_texts(entries, source, now, skip=skip)
            # an item whose page is on its way is annotated with its text when it comes
            later = {j.item_id for j in pending} if self.articles is not None else set()
            ids = backlog.unannotated(entries, skip=later)
            return ids if self.annotate else [], jobs, pending

        ids, jobs, pending = await asyncio.to_thread(find)
        if ids:
            done = await self.annotate_fn(ids, stored=None)
            if done:
                await self._reread()
                self.emit(ActorsFound(done, 0, backlog=True))
                await self.auto_tag_ids(ids)
        return jobs, pending
