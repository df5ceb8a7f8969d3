"""Watches for the `Session`: `[[watches]]` evaluated over the items of a pass, where the
auto-tags are (`TriageMixin.evaluate`: new or changed items once their actors are known,
and again when their text arrives), in the writer only. Matches go to the ledger
(`io/ledger.py`), which groups copies of one story into one alert and never records a
(watch, item) twice; new alerts are reported as `AlertRaised`, and their deliveries wait in
the ledger as pending rows for the senders of the channels.

Actor rules: `quoted` fires on a new quote by the actor; `new_actor` on an actor first
seen within NEW_ACTOR_HOURS that now appears in at least 2 sources (once per actor);
`rising` when the actor's rising score (`core.trends.rising_score`) reaches the threshold
(once per actor and day). A watch with a query and a rule fires on the items that match
both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor.core.alerts import due_at, keyword_context
from monitor.core.cluster import shingles
from monitor.core.fold import fold_text
from monitor.core.humanize import span
from monitor.core.index import EntryIndex
from monitor.core.trends import BASELINE_DAYS, rising_score
from monitor.io import backends
from monitor.io.events import AlertRaised, ChannelNotice, Event
from monitor.io.ledger import Ledger, LedgerError, Match, exists
from monitor.model import Alert, AlertItem, ChannelHealth, Entry, Item

if TYPE_CHECKING:
    from monitor.config import Settings, Watch
    from monitor.core.query import Context, Query
    from monitor.io.deliver import Outcome, SendFn
    from monitor.io.store import Store

log = logging.getLogger(__name__)

FRESH_HOURS = 48  # items first seen earlier (a catch-up of old ones) raise no alert
NEW_ACTOR_HOURS = 48  # an actor first seen this recently is new
NEW_ACTOR_SOURCES = 2
MAX_SEND_WAIT = 3600.0  # seconds: the clock is looked at again at least this often


class WatchMixin:
    """Watches for the `Session`: `watch`, the ledger, the unseen counts."""

    if TYPE_CHECKING:  # what the session provides
        settings: Settings
        store: Store
        read_only: bool
        index: EntryIndex
        now: Callable[[], datetime]

        def emit(self, event: Event) -> None: ...
        def reported(self, what: str) -> AbstractContextManager[None]: ...
        def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...
        def context(self) -> Context: ...

    def _init_watches(self, ledger: Ledger | None, send: SendFn | None = None) -> None:
        self.ledger = ledger  # opened by the first use unless given
        self.send_fn = send  # None: the channels (`io.channels.send`)
        self.alert_counts: dict[str, int] = {}  # watch -> unseen alerts, as last read
        self._watch_queries: list[tuple[Watch, Query | None]] | None = None
        self._ledger_lock = asyncio.Lock()
        self._last_alert: int | None = None  # read-only: the latest alert reported
        self._ledger_closed = False
        self._sending: asyncio.Task[Any] | None = None  # delivering what is due
        self._send_again = False  # more became due while it ran
        self._send_timer: asyncio.TimerHandle | None = None  # the next due delivery
        self._failing: dict[str, int] = {}  # channel -> failed attempts since it last sent
        self._gave_up: dict[str, str] = {}  # channel -> the give-up last said

    def _watching(self) -> bool:
        """Watches are the writer's: one process matches, for every analyst."""
        return not self.read_only and bool(self.settings.watches)

    def watch_queries(self) -> list[tuple[Watch, Query | None]]:
        if self._watch_queries is None:
            from monitor.core.query import parse_query

            self._watch_queries = [
                (w, parse_query(w.query) if w.query else None) for w in self.settings.watches
            ]
        return self._watch_queries

    async def open_ledger(self) -> Ledger | None:
        """The ledger (opened the first time, in a thread), or None when it cannot be."""
        async with self._ledger_lock:
            if self.ledger is None and not self._ledger_closed:
                with self.reported("opening the alerts ledger"):
                    self.ledger = await asyncio.to_thread(backends.open_ledger, self.settings)
        return self.ledger

    async def close_watches(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
        self._ledger_closed = True  # a worker that reads after the session closed opens none
        if self.ledger is not None:
            await asyncio.to_thread(self.ledger.close)
            self.ledger = None

    async def refresh_alerts(self) -> dict[str, int]:
        """Read the unseen counts again. Read-only, the alerts the writer (another
        process) raised since the last read are reported as `AlertRaised`."""
        ledger = await self.open_ledger()
        if ledger is None:
            return self.alert_counts
        last = self._last_alert
        watching = self.read_only and bool(self.settings.watches)

        def read() -> tuple[dict[str, int], list[Alert], int | None]:
            if not watching:
                return ledger.unseen(), [], None
            if last is None:  # the first read: what was there before is not news
                return ledger.unseen(), [], ledger.last()
            new = ledger.alerts(after=last)
            return ledger.unseen(), new, max((a.id for a in new), default=last)

        with self.reported("reading the alerts"):
            self.alert_counts, new, self._last_alert = await asyncio.to_thread(read)
            if new:
                self.emit(AlertRaised(tuple(reversed(new))))
        return self.alert_counts

    async def read_alerts(self, limit: int = 500) -> list[Alert]:
        """The latest alerts, newest first, for the screen."""
        ledger = await self.open_ledger()
        if ledger is None:
            return []
        return await asyncio.to_thread(ledger.alerts, limit=limit)

    async def channel_health(self) -> list[ChannelHealth]:
        """The alert channels' health, for the sources screen ([]: no ledger yet, and
        none is made for it)."""
        if self.ledger is None and not exists(backends.side_tables(self.settings)):
            return []
        ledger = await self.open_ledger()
        if ledger is None:
            return []
        with self.reported("reading the alert channels' health"):
            return await asyncio.to_thread(ledger.channel_health)
        return []

    async def mark_alerts_seen(self, ids: Sequence[int]) -> int:
        ledger = await self.open_ledger()
        if ledger is None or not ids:
            return 0
        n = await asyncio.to_thread(ledger.mark_seen, ids)
        await self.refresh_alerts()
        return n

    async def watch(self, entries: Sequence[Entry], index: EntryIndex | None = None) -> None:
        """Evaluate every watch over `entries` (new or changed items; `index`: theirs, made
        when not given) and record what matched; only these are looked at, never the
        whole store."""
        if not entries or not self._watching():
            return
        ledger = await self.open_ledger()
        if ledger is None:
            return
        queries, now, ctx = self.watch_queries(), self.now(), self.context()
        store, whole, settings = self.store, self.index, self.settings

        def run() -> tuple[tuple[Alert, ...], tuple[Alert, ...], dict[str, int]]:
            matches = find_matches(queries, entries, whole, store, now, ctx, settings, index)
            if not matches:
                return (), (), ledger.unseen()
            from monitor.io.digest import zone

            tz = zone(settings.digest.timezone)[0]
            channels = {
                w.name: {c: due_at(now, w.every, w.quiet, tz) for c in w.notify} for w, _ in queries
            }
            done = ledger.record(matches, channels, now, _stories(ctx))
            return done.raised, done.joined, ledger.unseen()

        with self.reported("matching the watches"):
            try:
                raised, joined, counts = await asyncio.to_thread(run)
            except LedgerError as exc:
                log.error("%s", exc)
                raise
            self.alert_counts = counts
            if raised or joined:
                self.emit(AlertRaised(raised, joined))
        self.deliver_soon()

    # -- sending the deliveries --------------------------------------------------------------

    def deliver_soon(self) -> None:
        """Send the deliveries due now (the writer only), then again when the next one is
        due (hourly and daily batches, quiet hours, retries)."""
        if not self._watching() or self._ledger_closed:
            return
        if self._sending is not None and not self._sending.done():
            self._send_again = True
            return
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None
        self._sending = self._spawn(self._deliver())

    async def _deliver(self) -> None:
        from monitor.io.deliver import deliver_due

        ledger = await self.open_ledger()
        if ledger is None:
            return
        with self.reported("delivering alerts"):
            self._send_again = True
            # asked again up to the last await (a match recorded meanwhile): go round
            # again, or its delivery would wait for the next poll, or never come in
            # `monitor poll`, which ends when its tasks do
            while self._send_again:
                self._send_again = False
                done = await deliver_due(ledger, self.settings.alerts, self.now(), self.send_fn)
                for outcome in done.outcomes:
                    self._channel_went(outcome)
                await self.refresh_alerts()
                due = await asyncio.to_thread(ledger.next_due)
            if due is not None and not self._ledger_closed:
                delay = min(max((due - self.now()).total_seconds(), 1.0), MAX_SEND_WAIT)
                loop = asyncio.get_running_loop()
                self._send_timer = loop.call_later(delay, self.deliver_soon)

    def _channel_went(self, outcome: Outcome) -> None:
        """Say a channel's failure once when it starts failing, and once when it gives up
        or sends again: a retry every few minutes must not notify every time (each
        attempt is logged, and listed by `monitor alerts`)."""
        channel, error = outcome.channel, outcome.error
        failed = self._failing.get(channel, 0)
        if error is None:
            self._gave_up.pop(channel, None)
            if failed:
                del self._failing[channel]
                said = f"{channel}: alerts delivered again after {_failures(failed)}"
                self.emit(ChannelNotice(channel, said, ok=True))
            return
        if outcome.retry_at is not None:
            self._failing[channel] = failed + 1
            if not failed:
                wait = span(max((outcome.retry_at - self.now()).total_seconds(), 0.0))
                said = f"{channel}: alert delivery failed: {error}; retrying in {wait}"
                self.emit(ChannelNotice(channel, said, ok=False))
            return
        self._failing.pop(channel, None)
        after = f" after {_failures(failed + 1)}" if failed else ""
        said = f"{channel}: alert delivery given up{after}: {error}"
        if self._gave_up.get(channel) != said:  # an unset channel gives up on each alert
            self._gave_up[channel] = said
            self.emit(ChannelNotice(channel, said, ok=False))


def _stories(ctx: Context) -> Callable[[str], str | None] | None:
    """The story of an item, now (a story that merged has its earlier story's id)."""
    return ctx.stories.story_of if ctx.stories is not None else None


def _failures(n: int) -> str:
    return "1 failure" if n == 1 else f"{n} failures"


def find_matches(
    queries: Sequence[tuple[Watch, Query | None]],
    entries: Sequence[Entry],
    whole: EntryIndex,
    store: Store,
    now: datetime,
    ctx: Context,
    settings: Settings,
    index: EntryIndex | None = None,
    since: datetime | None = None,
) -> list[Match]:
    """In a thread: the matches of every watch over `entries` (`index`: theirs, made when
    not given; their items read from the store only when they match), oldest first, so
    that a story's first copy comes first. Items first seen before `since` (default:
    FRESH_HOURS before `now`; old items a catch-up annotated) raise nothing."""
    index = index if index is not None else EntryIndex.build(entries)
    fresh = since if since is not None else now - timedelta(hours=FRESH_HOURS)
    items: dict[str, Item | None] = {}

    def item(entry_id: str) -> Item | None:
        if entry_id not in items:
            items[entry_id] = store.get(entry_id)
        return items[entry_id]

    story_of = ctx.stories.story_of if ctx.stories is not None else None
    found: list[tuple[datetime, Match]] = []
    for w, query in queries:
        rows = index.rows(query.select(index, now, ctx)) if query is not None else entries
        words = query.highlights() if query is not None else ()
        picked = [e for e in rows if e.first_seen >= fresh]
        if not w.actor_rules:
            if query is None:
                continue
            for e in picked:
                it = item(e.id)
                if it is not None:
                    found.append((e.published, _match(w.name, e.id, it, words, story_of=story_of)))
            continue
        if w.quoted is not None:
            name = fold_text(w.quoted)
            for e in picked:
                if not any(fold_text(a) == name for a in e.actors):
                    continue
                it = item(e.id)
                quotes = [q.text for q in it.quotes if fold_text(q.actor) == name] if it else []
                if it is not None and quotes:
                    m = _match(
                        w.name, e.id, it, (w.quoted,), (quotes[0], it.title), story_of=story_of
                    )
                    found.append((e.published, m))
        if w.new_actor or w.rising:
            for key, actor, e in _actor_rules(w, picked, whole, now, settings):
                it = item(e.id)
                if it is not None:
                    m = _match(w.name, key, it, (actor,), (it.title, it.summary, it.text))
                    found.append((e.published, m))
    found.sort(key=lambda pair: pair[0])
    return [m for _, m in found]


def _match(
    watch: str,
    key: str,
    item: Item,
    words: Sequence[str],
    texts: Sequence[str | None] | None = None,
    *,
    story_of: Callable[[str], str | None] | None = None,
) -> Match:
    """A match of `item`, in the story `story_of` says (a rule's alert is its own)."""
    context, matched = keyword_context(texts or (item.title, item.summary, item.text), words)
    own = key == item.id
    return Match(
        watch=watch,
        key=key,
        item=AlertItem(item.id, item.title, item.url, item.sources, item.published),
        matched=matched,
        context=context,
        shingles=shingles(item) if own else set(),
        story=story_of(item.id) if own and story_of is not None else None,
    )


def _actor_rules(
    w: Watch, entries: Sequence[Entry], whole: EntryIndex, now: datetime, settings: Settings
) -> list[tuple[str, str, Entry]]:
    """(key, actor, entry) for `new_actor` and `rising`, over the actors of `entries`,
    counted over every stored item (`whole`)."""
    names = {a for e in entries for a in e.actors}
    if not names:
        return []
    first: dict[str, datetime] = {}
    sources: dict[str, set[str]] = {}
    day: dict[str, int] = dict.fromkeys(names, 0)
    before: dict[str, int] = dict.fromkeys(names, 0)
    one, week = now - timedelta(hours=24), now - timedelta(days=1 + BASELINE_DAYS)
    for e in whole.entries:
        for a in e.actors:
            if a not in names:
                continue
            first[a] = min(first.get(a, e.first_seen), e.first_seen)
            sources.setdefault(a, set()).update(e.sources)
            if e.published >= one:
                day[a] += 1
            elif e.published >= week:
                before[a] += 1
    threshold = settings.alerts.rising_threshold
    fresh = now - timedelta(hours=NEW_ACTOR_HOURS)
    out: list[tuple[str, str, Entry]] = []
    done: set[str] = set()
    for e in entries:
        for a in e.actors:
            if a in done:
                continue
            if (
                w.new_actor
                and first.get(a, now) >= fresh
                and len(sources.get(a, ())) >= NEW_ACTOR_SOURCES
            ):
                out.append((f"new actor:{a}", a, e))
                done.add(a)
            elif w.rising and rising_score(day[a], before[a]) >= threshold and day[a] > 1:
                out.append((f"rising:{a}:{now.date().isoformat()}", a, e))
                done.add(a)
    return out
