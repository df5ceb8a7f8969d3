"""The dashboard: timeline, actors (or sources), article, status; polls in the background,
never blocks."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial
from typing import ClassVar, Protocol

from rich.text import Text
from textual import on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from monitor.config import SavedFilter, Settings
from monitor.core import schedule
from monitor.core.index import EntryIndex
from monitor.core.query import Query, QueryError, parse_query
from monitor.core.trends import ActorStat, actor_stats
from monitor.core.urls import check_url
from monitor.io.articles import ArticleFetcher
from monitor.io.store import Store
from monitor.model import Entry, Item, PollReport, SourceState, TextJob
from monitor.tui import format, text
from monitor.tui.commands import MonitorCommands
from monitor.tui.screens.help import HelpScreen, render_help
from monitor.tui.screens.main import MainScreen
from monitor.tui.screens.sources import SourcesScreen
from monitor.tui.widgets.actor_list import ActorList
from monitor.tui.widgets.article_pane import ArticlePane
from monitor.tui.widgets.filter_bar import FilterBar, FilterInput
from monitor.tui.widgets.row_list import RowList
from monitor.tui.widgets.source_list import SourceList, SourceRow
from monitor.tui.widgets.status_bar import StatusBar
from monitor.tui.widgets.table_list import TableList
from monitor.tui.widgets.timeline import Timeline

log = logging.getLogger(__name__)

DEBOUNCE = 0.15  # seconds between the last keystroke in the filter and filtering
LOADING_AFTER = 0.05  # seconds: an article not read by then shows its header and "loading"
SAVED_FILTER = "app.filter_"  # + the digit: the id of a saved filter's binding


class PollFn(Protocol):
    """`monitor.io.poller.poll_once`, or a stand-in for tests and demos."""

    def __call__(
        self, settings: Settings, store: Store, *, force: bool = ..., only: set[str] | None = ...
    ) -> Awaitable[PollReport]: ...


class AnnotateFn(Protocol):
    """`monitor.io.poller.annotate_stored` bound to the store, the actors and the pool."""

    def __call__(
        self, ids: Sequence[str], *, stored: Callable[[int], Awaitable[None]] | None
    ) -> Awaitable[int]: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class View:
    entries: list[Entry]  # the timeline
    sources: list[SourceRow]  # the sources pane
    actors: list[ActorStat] = field(default_factory=list)  # the actors pane


def actor_query(name: str) -> str:
    """The filter that selecting an actor applies."""
    return 'actor:"' + name.replace('"', " ") + '"'


def compute_view(
    entries: Sequence[Entry] | EntryIndex,
    query: Query | None,
    picked: str | None,
    now: datetime,
    actor: str | None = None,
) -> View:
    """Filter, count per source (in the view, and in the last 24 h of the whole store) and
    per actor (in the view); then narrow to the picked source and actor. From the index:
    nothing here scans the entries."""
    index = entries if isinstance(entries, EntryIndex) else EntryIndex.build(entries)
    base = query.select(index, now) if query is not None else index.every()
    shown = index.count_sources(base)
    day = index.count_sources(index.since(now - timedelta(hours=24)))
    names = sorted(shown, key=lambda n: (-shown[n], n.casefold()))
    if picked is not None and picked not in shown:
        names.append(picked)
    view = base & index.source_rows(picked) if picked is not None else base
    actors = actor_stats(index, now, mask=base, together=False)
    if actor is not None:
        view &= parse_query(actor_query(actor)).select(index, now)
        if actor not in {a.name for a in actors}:
            actors.append(ActorStat(actor, 0, 0, 0, 0, (0,) * 24, 1.0))
    rows = [SourceRow(n, shown.get(n, 0), day.get(n, 0)) for n in names]
    return View(index.rows(view), rows, actors)


def next_delay(settings: Settings, states: dict[str, SourceState], now: datetime) -> float | None:
    """Seconds until the next poll (`schedule.next_poll_delay`)."""
    return schedule.next_poll_delay(settings.sources, states, now)


def lock_notice(message: str) -> str:
    pid = re.search(r"\bpid (\d+)", message)
    who = f"another monitor (pid {pid.group(1)})" if pid else "another monitor"
    return f"read-only: {who} is writing; polling disabled"


class MonitorApp(App[int]):
    """The dashboard.

    `store` is open (as the writer unless `read_only`); the app never closes it.
    `poll` defaults to the real poller; `now` and `tz` fix the clock and the zone
    (tests); `autopoll=False` starts no poll on its own (demos, benchmarks).
    """

    CSS_PATH = "monitor.tcss"
    TITLE = "monitor"
    COMMANDS = App.COMMANDS | {MonitorCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_app", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help: every key", id="app.help"),
        Binding("r", "poll", "Poll now", id="app.poll"),
        Binding("s", "sources", "Sources screen (health)", id="app.sources"),
        Binding("a", "side", "Side pane: actors / sources", id="app.side"),
        Binding("slash", "filter", "Filter", id="app.filter", priority=True),
        Binding("escape", "clear", "Clear the filter", id="app.clear"),
        Binding("u", "utc", "Times in UTC / local", id="app.utc"),
        Binding("o", "open_link", "Open the link", id="app.open"),
        Binding("m", "seen", "Mark all new items seen", id="app.seen"),
        Binding("D", "digest", "Export today's digest (current filter)", id="app.digest"),
        *[
            Binding(
                d,
                f"saved_filter('{d}')",
                f"Saved filter {d} (again: clear)",
                id=f"{SAVED_FILTER}{d}",
            )
            for d in "1234567890"
        ],
    ]

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        read_only: bool = False,
        lock_message: str = "",
        poll: PollFn | None = None,
        now: Callable[[], datetime] = utcnow,
        tz: tzinfo | None = None,
        autopoll: bool = True,
        articles: ArticleFetcher | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        self.read_only = read_only
        self.lock_message = lock_message
        self.parse_pool: Executor | None = None
        self.annotate_fn: AnnotateFn | None = None
        if poll is None:
            from monitor.io.loops import on_own_loop
            from monitor.io.poller import annotate_stored, parse_pool, poll_once

            # a process parses, and the requests run on a loop of their own, so that
            # this one answers keys during a poll of hundreds of feeds
            self.parse_pool = None if read_only else parse_pool()
            # new items show at once; their actors come after, from the same worker process
            poll = partial(
                on_own_loop, partial(poll_once, executor=self.parse_pool, annotate=False)
            )
            self.annotate_fn = partial(
                annotate_stored, store, actors=settings.actors, executor=self.parse_pool
            )
        self.poll_fn: PollFn = poll
        if articles is None and not read_only and self.parse_pool is not None:
            articles = ArticleFetcher(settings, store, executor=self.parse_pool)
        self.articles = articles  # fetches article pages after each poll (None: never)
        if articles is not None:
            articles.on_text = self.text_arrived
        self._reader = ThreadPoolExecutor(1, "article")  # reads the shown item
        self.fetching: set[str] = set()  # ids whose article text is being fetched
        self.finding = 0  # new items still waiting for their actors
        self._after_poll = asyncio.Lock()  # what follows a poll: one at a time
        self._after_waiting = False  # a turn of it is queued behind the lock
        self._after_fresh: list[str] = []  # for that turn: new items, article pages
        self._after_jobs: dict[str, TextJob] = {}
        self._after_texts = False  # a poll that succeeded is among them
        self._reload_timer: Timer | None = None
        self.now = now
        self.tz = tz
        self.autopoll = autopoll
        self.set_keymap(dict(settings.keys))

        self.index = EntryIndex([], [])  # every stored item's entry, and their index
        self.ids: set[str] = set()
        self.states: dict[str, SourceState] = {}
        self.loaded = False
        self.view = View([], [])
        self.filter_text = ""
        self.active_query: Query | None = None
        self.saved: SavedFilter | None = None
        self.picked: str | None = None
        self.picked_actor: str | None = None
        self.polling = False
        self.polling_only: set[str] = set()
        self.last_report: PollReport | None = None
        self.last_failure: str | None = None
        self.next_poll: datetime | None = None
        self._poll_timer: Timer | None = None
        self._filter_timer: Timer | None = None
        self._day_timer: Timer | None = None
        self._digest_timer: Timer | None = None
        self.utc = False
        self.started = False
        self._main: MainScreen | None = None
        self._view_token = 0

    # -- widgets ---------------------------------------------------------------------------

    def get_default_screen(self) -> Screen[None]:
        return self.main

    @property
    def main(self) -> MainScreen:
        if self._main is None:
            self._main = MainScreen(self.now, self.tz)
        return self._main

    @property
    def timeline(self) -> Timeline:
        return self.main.query_one("#timeline", Timeline)

    @property
    def sources_pane(self) -> SourceList:
        return self.main.query_one("#sources", SourceList)

    @property
    def actors_pane(self) -> ActorList:
        return self.main.query_one("#actors", ActorList)

    @property
    def article(self) -> ArticlePane:
        return self.main.query_one("#article", ArticlePane)

    @property
    def filter_bar(self) -> FilterBar:
        return self.main.query_one("#filter", FilterBar)

    # -- start -------------------------------------------------------------------------------

    @property
    def entries(self) -> list[Entry]:
        """Every stored item's entry, newest first, as last read."""
        return self.index.entries

    def on_mount(self) -> None:
        self.started = True
        if self.read_only:
            self.say(lock_notice(self.lock_message), "warning", timeout=15)
        unknown = self.unknown_key_ids()
        if unknown:
            self.say("[keys] in config.toml: no binding named " + ", ".join(unknown), "warning")
        self.update_status()
        self.arm_day_timer()
        self.start()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def start(self) -> None:
        """Load the store, paint, then poll."""
        with self.reported("reading the store"):  # polling may repair it
            await self.reload()
        if not self.read_only:
            from monitor.io.http import warm

            with self.reported("loading the HTTP client"):
                await asyncio.to_thread(warm)
        self.run_digest_schedule()  # catches up a digest missed while the app was closed
        if self.read_only:
            self.arm_timer()  # re-read what the writer stores
        elif self.autopoll:
            self.start_poll()

    # -- loading ---------------------------------------------------------------------------

    async def reload(self) -> None:
        """Re-read entries and states in a thread, then refresh the view keeping the cursor."""
        store, old = self.store, self.ids

        def load() -> tuple[EntryIndex, dict[str, SourceState], set[str]]:
            index = store.entry_index()
            return index, store.states(), {e.id for e in index.entries}

        index, states, ids = await asyncio.to_thread(load)
        first = not self.loaded
        if first:  # what start-up made lives as long as the app: out of full collections
            gc.freeze()
        else:
            self.timeline.new_ids |= ids - old
        self.index, self.states, self.ids, self.loaded = index, states, ids, True
        self.refresh_health()
        await self.refresh_view()
        current = self.timeline.current
        if not first and current is not None:  # the shown item may have changed (full text)
            self.load_article(current)

    async def refresh_view(self) -> None:
        """Filter and count in a thread; only the latest request's result is shown."""
        self._view_token += 1
        token = self._view_token
        index, query, picked, now = self.index, self.active_query, self.picked, self.now()
        view = await asyncio.to_thread(compute_view, index, query, picked, now, self.picked_actor)
        if token == self._view_token:
            self.apply_view(view)

    def start_view(self) -> None:
        """Recompute the view in a worker; a newer call cancels an older one."""
        self.run_view()

    @work(group="view", exclusive=True, exit_on_error=False)
    async def run_view(self) -> None:
        await self.refresh_view()

    def apply_view(self, view: View) -> None:
        self.view = view
        before = self.timeline.current
        self.timeline.set_entries(view.entries)
        self.timeline.border_title = f"Timeline · {len(view.entries):,}"
        self.sources_pane.set_rows(view.sources, self.picked)
        self.actors_pane.set_rows(view.actors, self.picked_actor)
        self.update_status()
        current = self.timeline.current
        shown = self.article.entry
        if current is None:
            self.article.show(None, None, tz=self.zone)
        elif before is None or shown is None or shown.id != current.id:
            self.show_article(current)
        elif self.article.words != self.words:
            self.article.show(shown, self.article.item, tz=self.zone, words=self.words)
        self.filter_bar.query_one(FilterInput).send_on()  # keys typed ahead of Enter or Esc

    # -- the article -------------------------------------------------------------------------

    @property
    def zone(self) -> tzinfo | None:
        return UTC if self.utc else self.tz

    @property
    def words(self) -> tuple[str, ...]:
        return self.active_query.highlights() if self.active_query is not None else ()

    def show_article(self, entry: Entry | None) -> None:
        if entry is None:
            self.article.show(None, None, tz=self.zone)
            return
        self.load_article(entry)

    @work(group="article", exclusive=True, exit_on_error=False)
    async def load_article(self, entry: Entry) -> None:
        # One reader thread: while a write holds the store, the moves of the cursor wait
        # there, the older ones cancelled, instead of filling the loop's thread pool.
        loop = asyncio.get_running_loop()
        read = loop.run_in_executor(self._reader, self.store.get, entry.id)
        try:
            # Shown once it is read, in one repaint; "loading" only if the read is slow.
            done, _ = await asyncio.wait([read], timeout=LOADING_AFTER)
            current = self.timeline.current
            if not done and current is not None and current.id == entry.id:
                pending = entry.id in self.fetching
                self.article.show(
                    entry, None, tz=self.zone, words=self.words, loading=True, pending=pending
                )
            item = await read
        except asyncio.CancelledError:
            read.cancel()  # a newer move: not read at all if the reader has not begun
            raise
        if self.timeline.current is not None and self.timeline.current.id == entry.id:
            pending = entry.id in self.fetching
            self.article.show(entry, item, tz=self.zone, words=self.words, pending=pending)

    @on(RowList.Moved, "#timeline")
    def timeline_moved(self) -> None:
        self.show_article(self.timeline.current)
        self.update_status()

    @on(RowList.Chosen, "#timeline")
    def timeline_chosen(self) -> None:
        self.main.focus_pane("article")

    @on(RowList.Chosen, "#sources")
    def source_chosen(self) -> None:
        name = self.sources_pane.current
        self.picked = None if name is None or name == self.picked else name
        self.start_view()

    @on(RowList.Chosen, "#actors")
    def actor_chosen(self) -> None:
        name = self.actors_pane.current
        self.picked_actor = None if name is None or name == self.picked_actor else name
        self.start_view()

    def action_side(self) -> None:
        main = self.main
        main.set_side("sources" if main.side == "actors" else "actors")

    # -- polling -----------------------------------------------------------------------------

    def start_poll(self, *, force: bool = False, only: set[str] | None = None) -> bool:
        if self.read_only:
            self.say("read-only: polling disabled (another monitor is writing)", "warning")
            return False
        if self.polling:
            self.say("a poll is already running")
            return False
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        self.polling = True
        self.polling_only = set(only or ())
        self.next_poll = None
        self.update_status()
        self.refresh_health()
        self.run_poll(force, only)
        return True

    @work(group="poll", exclusive=True, exit_on_error=False)
    async def run_poll(self, force: bool, only: set[str] | None) -> None:
        before = set(self.ids)
        try:
            await self._poll_and_load(force, only)
        finally:
            self.polling = False
            self.polling_only = set()
        self.arm_timer()
        report = None if self.last_failure is not None else self.last_report
        self.after_poll(sorted(self.ids - before), report)

    def after_poll(self, fresh: list[str], report: PollReport | None) -> None:
        """Queue what follows a poll. Polls that end while it is still being done add to
        one waiting turn: never more than one runs and one waits, however often polls
        end (each waiting worker would keep its poll's report alive)."""
        self._after_fresh.extend(fresh)
        if report is not None:
            self._after_texts = True
            for job in report.text_jobs:
                self._after_jobs.setdefault(job.item_id, job)
        if not self._after_waiting:
            self._after_waiting = True
            self.run_after_poll()

    @work(group="after-poll", exit_on_error=False)
    async def run_after_poll(self) -> None:
        """After polls, one turn at a time and beside the next polls: the new items'
        actors, a step of catching up, then the article texts (after the actors of title
        and summary are stored: the text's replace them)."""
        async with self._after_poll:
            self._after_waiting = False
            fresh, self._after_fresh = self._after_fresh, []
            jobs, self._after_jobs = self._after_jobs, {}
            texts, self._after_texts = self._after_texts, False
            await self._annotate_new(sorted(set(fresh)))
            pending = await self._catch_up()
            if texts:
                for job in pending:
                    jobs.setdefault(job.item_id, job)
                if jobs:
                    self.fetch_texts(list(jobs.values()))

    async def _poll_and_load(self, force: bool, only: set[str] | None) -> None:
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
            self.say(self.last_failure, "error")
        with self.reported("reading the store"):
            await self.reload()

    async def _annotate_new(self, fresh: list[str]) -> None:
        """Actors, quotes and dates for the items a poll added, off the loop, the view
        read again after each stored chunk. The status bar counts the items left."""
        if self.annotate_fn is None or not fresh:
            return
        self.finding = len(fresh)
        self.update_status()

        async def stored(n: int) -> None:
            self.finding = max(0, self.finding - n)
            with self.reported("reading the store"):
                await self.reload()

        try:
            with self.reported("finding actors"):
                await self.annotate_fn(fresh, stored=stored)
        finally:
            self.finding = 0
            self.update_status()

    async def _catch_up(self) -> list[TextJob]:
        """One bounded step of catching up stored items (`monitor.io.backfill`): the newest
        items stored without actors are annotated in the parse worker, then the view is
        read again. Returns the recent items whose article text is still pending, for the
        queue. A failure is logged and said, never raised."""
        from monitor.io.backfill import pending_texts, unannotated

        entries, now, fetching = self.entries, self.now(), set(self.fetching)

        def find() -> tuple[list[str], list[TextJob]]:
            ids = unannotated(entries) if self.annotate_fn is not None else []
            return ids, pending_texts(entries, self.settings, now, skip=fetching)

        jobs: list[TextJob] = []
        with self.reported("catching up stored items"):
            ids, found = await asyncio.to_thread(find)
            if ids and self.annotate_fn is not None and await self.annotate_fn(ids, stored=None):
                await self.reload()
            jobs = found
        return jobs

    # -- article text ------------------------------------------------------------------------

    def fetch_texts(self, jobs: Sequence[TextJob]) -> None:
        """Queue these items' article pages; the queue is polite per host across calls."""
        if self.articles is None or self.read_only:
            return
        jobs = [j for j in jobs if j.item_id not in self.fetching]
        if not jobs:
            return
        self.fetching.update(j.item_id for j in jobs)
        self.update_status()
        current = self.timeline.current
        if current is not None and current.id in self.fetching:
            self.show_article(current)
        self.run_texts(jobs)

    @work(group="text", exit_on_error=False)
    async def run_texts(self, jobs: Sequence[TextJob]) -> None:
        assert self.articles is not None
        try:
            report = await self.articles.run(jobs)
            log.info("article text: %d fetched, failed %s", report.fetched, dict(report.failed))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("article texts failed")
            self.say(f"fetching article texts failed: {type(exc).__name__}: {exc}", "error")
        finally:
            before = len(self.fetching)
            self.fetching.difference_update(j.item_id for j in jobs)
            if len(self.fetching) != before:
                self.text_arrived(None)

    def text_arrived(self, item: Item | None) -> None:
        """An item's article text (or the reason it has none) is stored. Runs on the loop."""
        if item is not None:
            self.fetching.discard(item.id)
        current = self.timeline.current
        if current is not None and (item is None or current.id == item.id):
            self.show_article(current)
        self.update_status()
        if self._reload_timer is None:  # entries (has_text, search text) at most once a second
            self._reload_timer = self.set_timer(1.0, self._reload_texts)

    def _reload_texts(self) -> None:
        self._reload_timer = None
        if not self.polling:
            self.reread(rearm=False)

    @on(ArticlePane.Refetch)
    def refetch_text(self) -> None:
        entry = self.timeline.current
        if entry is None:
            return
        if self.articles is None or self.read_only:
            self.say("read-only: fetching is disabled", "warning")
            return
        if entry.id in self.fetching:
            self.say("the text is already being fetched")
            return
        if not entry.url:
            self.say("this item has no link")
            return
        self.refetch(entry)

    @work(group="refetch", exit_on_error=False)
    async def refetch(self, entry: Entry) -> None:
        from monitor.io.articles import jobs_for

        item = await asyncio.to_thread(self.store.get, entry.id)
        jobs = jobs_for([item], self.settings) if item is not None else []
        if not jobs:
            self.say("cannot fetch this item's page (its source is gone from the config)")
            return
        self.say("fetching the article text…")
        self.fetch_texts(jobs)

    def arm_timer(self) -> None:
        if self._poll_timer is not None:
            self._poll_timer.stop()
        delay = next_delay(self.settings, self.states, self.now())
        if delay is None:
            self.next_poll = None
        else:
            if self.read_only:
                delay = max(delay, 60.0)
            self.next_poll = self.now() + timedelta(seconds=delay)
            self._poll_timer = self.set_timer(delay, self._timer_fired)
        self.update_status()

    def _timer_fired(self) -> None:
        self._poll_timer = None
        if self.read_only:
            self.reread()
        elif not self.polling:
            self.start_poll()

    @work(group="load", exclusive=True, exit_on_error=False)
    async def reread(self, rearm: bool = True) -> None:
        try:
            with self.reported("reading the store"):
                await self.reload()
        finally:
            if rearm:
                self.arm_timer()

    def arm_day_timer(self) -> None:
        """Redraw the times once at midnight ("HH:MM" becomes a date)."""
        now = format.local(self.now(), self.zone)
        tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
        self._day_timer = self.set_timer((tomorrow - now).total_seconds(), self._new_day)

    def _new_day(self) -> None:
        self.timeline.refresh()
        self.arm_day_timer()

    def poll_source(self, name: str) -> None:
        if self.start_poll(force=True, only={name}):
            self.say(f"polling {text.clean(name)}…")

    def refresh_health(self) -> None:
        screen = self.screen
        if isinstance(screen, SourcesScreen):
            screen.set_states(self.states, self.polling, self.polling_only)

    # -- filters -----------------------------------------------------------------------------

    def set_filter(self, value: str, saved: SavedFilter | None = None) -> bool:
        """Parse and apply a query. A malformed one shows where and why; nothing raises."""
        value = value.strip()
        try:
            query = parse_query(value) if value else None
        except QueryError as exc:
            self.filter_bar.display = True
            self.filter_bar.show_error(str(exc.message), int(exc.position))
            return False
        except Exception as exc:  # a bug in the parser must not take the dashboard down
            log.exception("query parser failed on %r", value)
            self.filter_bar.display = True
            self.filter_bar.show_error(f"cannot read this query: {exc}", 0)
            return False
        self.filter_bar.show_error(None)
        if query is not None and query.empty:
            query = None
        self.filter_text, self.active_query, self.saved = value, query, saved
        self.timeline.set_words(self.words)
        self.start_view()
        return True

    @on(Input.Changed, "#filter-input")
    def filter_typed(self, event: Input.Changed) -> None:
        if not self.filter_bar.display or event.value != event.input.value:
            return  # typed before Esc or Enter, or superseded by a later keystroke
        if self._filter_timer is not None:
            self._filter_timer.stop()
        value = event.value
        self._filter_timer = self.set_timer(DEBOUNCE, lambda: self.set_filter(value))

    @on(Input.Submitted, "#filter-input")
    def filter_submitted(self, event: Input.Submitted) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        if self.set_filter(event.value):
            self.filter_bar.display = False
            self.main.focus_pane("timeline")
        else:
            self.filter_bar.query_one(FilterInput).resume()

    def action_filter(self) -> None:
        bar = self.filter_bar
        bar.display = True
        field = bar.query_one(Input)
        if field.value != self.filter_text:
            with field.prevent(Input.Changed):
                field.value = self.filter_text
        # At once, not on the next turn: keys typed right after `/` go to the field.
        self.main.set_focus(field)
        field.cursor_position = len(field.value)

    def action_clear(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        bar = self.filter_bar
        field = bar.query_one(Input)
        with field.prevent(Input.Changed):
            field.value = ""
        bar.show_error(None)
        bar.display = False
        self.picked = None
        self.picked_actor = None
        self.set_filter("")
        if self.focused is None or self.focused is field:
            self.main.focus_pane("timeline")

    def action_saved_filter(self, key: str) -> None:
        saved = next((f for f in self.settings.filters if f.key == key), None)
        if saved is None:
            self.say("no saved filter on " + key + " (add one under [filters] in config.toml)")
            return
        if self.saved is not None and self.saved.key == key:
            self.set_filter("")
        elif not self.set_filter(saved.query, saved):
            self.say(f"saved filter {key} is malformed", "error")

    @property
    def filter_label(self) -> str:
        parts = []
        if self.saved is not None:
            parts.append(f"{self.saved.key}: {text.clean(self.saved.name)}")
        elif self.filter_text:
            parts.append(self.filter_text)
        if self.picked is not None:
            parts.append(f'source:"{text.clean(self.picked)}"')
        if self.picked_actor is not None:
            parts.append(actor_query(text.clean(self.picked_actor)))
        return " + ".join(parts)

    # -- other actions -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dashboard actions only act on the dashboard, not under another screen."""
        if action in ("quit_app", "help", "poll", "command_palette", "quit"):
            return True
        if action in ("sources",):
            return not isinstance(self.screen, SourcesScreen | HelpScreen)
        if not self.started or not self.screen_stack:
            return True
        if action == "filter" and isinstance(self.focused, Input):
            return False  # `/` is a priority key, so that keys typed right after it follow it
        return isinstance(self.screen, MainScreen)

    def action_quit_app(self) -> None:
        self.exit(0)

    def on_unmount(self) -> None:
        self._reader.shutdown(wait=False, cancel_futures=True)
        if self.parse_pool is not None:
            self.parse_pool.shutdown(wait=False, cancel_futures=True)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.help_text()))

    def action_poll(self) -> None:
        self.start_poll(force=True)

    def action_sources(self) -> None:
        screen = SourcesScreen(self.settings, self.now, self.poll_source)
        screen.set_states(self.states, self.polling, self.polling_only)
        self.push_screen(screen)
        self.fresh_states()

    @work(group="states", exclusive=True, exit_on_error=False)
    async def fresh_states(self) -> None:
        self.states = await asyncio.to_thread(self.store.states)
        self.refresh_health()

    def action_utc(self) -> None:
        self.utc = not self.utc
        self.timeline.set_utc(self.utc)
        self.show_article(self.timeline.current)
        self.say("times in UTC" if self.utc else "times in the local zone")

    def action_open_link(self) -> None:
        url = self.article.url
        if url is None and self.timeline.current is not None:
            url = self.timeline.current.url
        if not url:
            self.say("this item has no link")
            return
        if check_url(url):
            self.say(f"not opening a link that is not http(s): {url}", "warning")
            return
        self.say(f"opening {url}")
        self.open_url(url)

    def action_seen(self) -> None:
        self.timeline.mark_all_seen()
        self.update_status()

    # -- the digest --------------------------------------------------------------------------

    def action_digest(self) -> None:
        self.export_digest(self.digest_query())

    def digest_query(self) -> Query | None:
        """What the view shows, as one query: the filter, and the source picked in the
        sources pane."""
        if self.picked is None:
            return self.active_query
        parts = [f'source:"{self.picked}"']
        if self.active_query is not None and not self.active_query.empty:
            parts.insert(0, f"({self.active_query.text})")
        try:
            return parse_query(" ".join(parts))
        except QueryError:  # a source name the query language cannot quote
            return self.active_query

    @work(group="digest", exclusive=True, exit_on_error=False)
    async def export_digest(self, query: Query | None) -> None:
        """Today's digest under `query`, in every configured format, written beside the
        scheduled ones under a name of its own; handed to the browser under textual serve."""
        from monitor.io.digest import export_today

        self.say("writing the digest…")
        try:
            paths = await asyncio.to_thread(
                export_today, self.settings, self.store, self.now(), query
            )
        except OSError as exc:
            self.say(f"cannot write the digest: {exc}", "error")
            return
        self.say("digest written to " + ", ".join(str(p) for p in paths), timeout=10)
        if self.is_web:
            for path in paths:
                self.deliver_text(path, save_filename=path.name, encoding="utf-8")

    def run_digest_schedule(self) -> None:
        """Write the scheduled digest if due (on start, then at each `[digest] at`)."""
        if self.read_only or not self.settings.digest.at:
            return
        self.scheduled_digest()

    @work(group="digest-schedule", exclusive=True, exit_on_error=False)
    async def scheduled_digest(self) -> None:
        from monitor.core.digest import next_run
        from monitor.io.digest import run_schedule, zone

        at = self.settings.digest.at
        assert at is not None
        try:
            ran = await asyncio.to_thread(run_schedule, self.settings, self.store, self.now())
        except OSError as exc:
            self.say(f"cannot write the scheduled digest: {exc}", "error")
            ran = None
        if ran is not None and ran.written:
            self.say(f"digest of {ran.day.isoformat()} written to {ran.written[0].parent}")
        now = self.now()
        delay = (next_run(now, zone(self.settings.digest.timezone)[0], at) - now).total_seconds()
        self._digest_timer = self.set_timer(max(delay, 1.0), self.run_digest_schedule)

    # -- status and messages -----------------------------------------------------------------

    @contextlib.contextmanager
    def reported(self, what: str) -> Iterator[None]:
        """A step whose failure is logged and said, never raised (cancelling still passes:
        CancelledError is no Exception)."""
        try:
            yield
        except Exception as exc:
            log.exception("%s failed", what)
            self.say(f"{what} failed: {type(exc).__name__}: {exc}", "error")

    def say(
        self, message: str, severity: str = "information", timeout: float | None = None
    ) -> None:
        """notify() for any text: cleaned, never markup."""
        level = severity if severity in ("information", "warning", "error") else "information"
        self.notify(text.clean(message), markup=False, severity=level, timeout=timeout)  # type: ignore[arg-type]

    def time(self, moment: datetime) -> str:
        return format.local(moment, self.zone).strftime("%H:%M")

    def status_text(self) -> Text:
        out = Text(end="")
        sep = (" · ", "dim")
        if self.read_only:
            out.append("read-only", style="bold reverse")
            out.append(*sep)
        if self.polling:
            out.append("polling…", style="bold reverse")
            out.append(*sep)
        if self.finding:
            out.append(f"finding actors of {self.finding:,}", style="bold")
            out.append(*sep)
        if self.fetching:
            out.append(f"fetching text of {len(self.fetching)}", style="bold")
            out.append(*sep)
        out.append(f"{len(self.view.entries):,}/{len(self.entries):,} items")
        new = len(self.timeline.new_ids) if self.started else 0
        if new:
            out.append(f" ({new} new)", style="bold")
        label = self.filter_label
        if label:
            out.append(*sep)
            out.append("filter: ")
            out.append_text(text.text(label, "bold"))
        out.append(*sep)
        ok, failing = format.tally((s for s in self.settings.sources if s.enabled), self.states)
        out.append(f"sources {ok} ok")
        if failing:
            out.append(f", {failing} failing", style="bold red")
        out.append(*sep)
        if self.last_failure:
            out.append("last poll failed", style="bold red")
        elif self.last_report is not None:
            r = self.last_report
            out.append(f"last poll {self.time(r.finished)}: {r.new} new")
            if r.failed:
                out.append(f", {len(r.failed)} failed", style="bold red")
        else:
            out.append("not polled yet")
        if self.next_poll is not None and not self.polling:
            out.append(*sep)
            out.append(f"next {self.time(self.next_poll)}")
        return out

    def update_status(self) -> None:
        if not self.started:
            return
        try:
            status = self.main.query_one("#status", StatusBar)
        except Exception:
            return
        status.show(self.status_text())

    # -- help --------------------------------------------------------------------------------

    def sections(self) -> list[tuple[str, Sequence[BindingType]]]:
        """Every binding of the dashboard, by where it acts."""
        return [
            ("Everywhere", self.BINDINGS),
            ("Dashboard", MainScreen.BINDINGS),
            ("Timeline", Timeline.BINDINGS),
            ("Actors pane", ActorList.BINDINGS),
            ("Sources pane", SourceList.BINDINGS),
            ("Article pane", ArticlePane.BINDINGS),
            ("Sources screen", [*SourcesScreen.BINDINGS, *TableList.BINDINGS]),
            ("Help", HelpScreen.BINDINGS),
        ]

    def unknown_key_ids(self) -> list[str]:
        """[keys] entries that name no binding (a typo would otherwise go unnoticed)."""
        known = {b.id for _, bindings in self.sections() for b in Binding.make_bindings(bindings)}
        return sorted(k for k in self.settings.keys if k not in known)

    def help_sections(self) -> list[tuple[str, Sequence[BindingType]]]:
        """`sections()` as the help shows them: of the digit keys, only the saved filters
        that [filters] defines, each with its name."""
        names = {f"{SAVED_FILTER}{f.key}": text.clean(f.name) for f in self.settings.filters}
        everywhere: list[BindingType] = []
        for binding in Binding.make_bindings(self.BINDINGS):
            if binding.id in names:
                description = names[binding.id] + " (saved filter; again: clear)"
                everywhere.append(replace(binding, description=description))
            elif not (binding.id or "").startswith(SAVED_FILTER):
                everywhere.append(binding)
        return [("Everywhere", everywhere), *self.sections()[1:]]

    def help_text(self) -> Text:
        keymap = {k: v for k, v in self.settings.keys.items() if v}
        return render_help(self, self.help_sections(), keymap)

    # -- the end -----------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed is reported, never fatal."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            log.error("worker %s failed: %r", event.worker.name, error)
            self.say(f"{event.worker.group} failed: {type(error).__name__}: {error}", "error")
