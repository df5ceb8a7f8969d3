"""The analyst's triage in the application core: stars, tags, notes and what was seen
(`io.triage.Triage`), and the auto-tags of `[[tags]]`.

A part of `Session` (its mixin), kept apart to keep the session readable. Every write
runs in a thread, then the state is read back, the view computed again and
`TriageChanged` emitted; a write that fails is a `Problem`, never raised. The state is
read again with the store on every `load`, so what another dashboard (or `monitor star`)
did shows at the next read.

Rows seen under the dashboard's cursor are not written one by one: a row is seen once the
cursor has rested on it `seen_after` seconds, and the rows seen meanwhile are written
together `SEEN_FLUSH` seconds later (and when the session closes).

A story marked seen (`mark_story_seen`) marks all its items seen, and its later copies
arrive seen unless they bring a new actor or quote (`story_copies`, after each poll's
actors are found; `core.angles`): those stay unread, flagged "new angle".
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Collection, Coroutine, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from monitor.core.angles import Copy, Decision, copy_of, joined, later_copies, seen_story
from monitor.core.entries import entry_of
from monitor.core.index import EntryIndex
from monitor.io.backends import open_triage
from monitor.io.events import Event, Problem, TriageChanged
from monitor.io.triage import Triage, TriageError
from monitor.model import Entry, Item, SeenStory, TriageState, tag_key

if TYPE_CHECKING:
    from monitor.config import Settings
    from monitor.core.query import Context, Query
    from monitor.core.view import View
    from monitor.io.live_stories import LiveStories
    from monitor.io.store import Store

log = logging.getLogger(__name__)

SEEN_AFTER = 1.0  # seconds the cursor rests on a row before the row counts as seen
SEEN_FLUSH = 2.0  # seconds: the rows seen meanwhile are written in one transaction
TAG_AFTER = 1.0  # seconds: article texts arriving meanwhile are auto-tagged together

T = TypeVar("T")
Snapshot = tuple[int, TriageState]  # `Triage.snapshot`: a rank, and the state
Read = tuple[Snapshot | None, str | None]  # `read_triage`: what was read, or why not


def items(n: int) -> str:
    return f"{n} item" if n == 1 else f"{n:,} items"


RECHECK_HOURS = 48  # what the start matches again: as far back as an item may raise an alert


class TriageMixin:
    """Triage for the `Session`: `triage_state`, the marks of a row, the actions."""

    if TYPE_CHECKING:  # what the session provides
        settings: Settings
        store: Store
        read_only: bool
        views: bool
        index: EntryIndex
        view: View
        stories: LiveStories
        annotate: bool
        now: Callable[[], datetime]

        def emit(self, event: Event) -> None: ...
        def reported(self, what: str) -> AbstractContextManager[None]: ...
        def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...
        def context(self) -> Context: ...
        async def refresh_view(self) -> None: ...
        async def stories_ready(self) -> None: ...
        def _watching(self) -> bool: ...
        async def watch(
            self, entries: Sequence[Entry], index: EntryIndex | None = None
        ) -> None: ...

    def _init_triage(self, triage: Triage | None) -> None:
        self.triage = triage  # opened by the first `load` unless given
        # until the file is read (or if it cannot be): what arrives from now on is unread
        self.triage_state = TriageState(since=self.now())
        self.seen_after = SEEN_AFTER
        self.unread_count = 0  # unread items in the view, as of the last view
        self._triage_tried = triage is not None
        self._triage_problem: str | None = None
        self._triage_rank = 0  # of the snapshot kept (`Triage.snapshot`)
        self._seen_now: set[str] = set()  # seen here, not yet read back from the file
        self._seen_queue: set[str] = set()  # seen here, not yet written
        self._rest: asyncio.TimerHandle | None = None
        self._flush: asyncio.TimerHandle | None = None
        self._tag_items: dict[str, Item] = {}  # texts arrived, not yet auto-tagged
        self._tag_timer: asyncio.TimerHandle | None = None
        self._tag_queries: list[tuple[str, Query]] | None = None
        self._writing = asyncio.Lock()  # the analyst's writes, one at a time and in order
        self._opening = threading.Lock()

    # -- reading -----------------------------------------------------------------------------

    def read_triage(self) -> Read:
        """In a thread: the triage now (the file is opened the first time), or why not."""
        try:
            with self._opening:  # two reads of the store at once open it once
                if self.triage is None:
                    if self._triage_tried:
                        return None, self._triage_problem
                    self._triage_tried = True
                    self.triage = open_triage(self.settings, self.now)
                triage = self.triage
            return triage.snapshot(), None
        except TriageError as exc:
            return None, str(exc)

    def took_triage(self, snapshot: Snapshot | None, problem: str | None) -> None:
        """On the loop: keep what a thread read, unless a later read was kept already (a
        poll's read of the store and a star can cross); a new problem is said once."""
        if problem is not None and problem != self._triage_problem:
            log.error("triage: %s", problem)
            self.emit(Problem("triage", f"stars, tags and notes are unavailable: {problem}"))
        self._triage_problem = problem
        if snapshot is not None and snapshot[0] > self._triage_rank:
            self._triage_rank, self.triage_state = snapshot
            self._seen_now -= self.triage_state.seen

    def triage_now(self) -> TriageState:
        """The triage with the rows seen here and not yet read back: what queries see."""
        if not self._seen_now:
            return self.triage_state
        return replace(self.triage_state, seen=self.triage_state.seen | self._seen_now)

    def unread(self, entry: Entry) -> bool:
        return entry.id not in self._seen_now and self.triage_state.unread(
            entry.id, entry.first_seen
        )

    def marks(self, entry: Entry) -> tuple[bool, bool, bool]:
        """(unread, starred, new angle): the marks of the entry's row."""
        state = self.triage_state
        return self.unread(entry), entry.id in state.starred, entry.id in state.angles

    def unread_test(self) -> Callable[[Entry], bool]:
        """`unread` as of now, on copies: for a thread, while the loop marks rows seen."""
        state, seen = self.triage_state, frozenset(self._seen_now)
        since, done = state.since, state.seen

        def test(e: Entry) -> bool:
            new = since is None or e.first_seen >= since
            return new and e.id not in done and e.id not in seen

        return test

    # -- the analyst's actions ---------------------------------------------------------------

    async def _write(
        self,
        what: str,
        ids: Collection[str],
        write: Callable[[Triage], T],
        said: Callable[[T], str],
    ) -> str | None:
        """`write` in a thread, the state read back, the view, then `TriageChanged`.
        Returns what changed in words; None when it failed (a `Problem` says why)."""
        triage = self.triage
        if triage is None:
            why = self._triage_problem or "the triage file is not open yet"
            self.emit(Problem(what, f"{what} failed: {why}"))
            return None
        with self.reported(what):
            async with self._writing:
                done, snapshot = await asyncio.to_thread(_write_read, triage, write)
            self.took_triage(snapshot, None)
            message = said(done)
            if self.views:
                await self.refresh_view()
            self.emit(TriageChanged(frozenset(ids), message))
            return message
        return None

    async def star(self, ids: Iterable[str], on: bool = True) -> str | None:
        """Star (or unstar) items."""
        wanted = list(dict.fromkeys(ids))
        word = "starred" if on else "unstarred"
        return await self._write(
            "starring" if on else "unstarring",
            wanted,
            lambda t: t.star(wanted, on),
            lambda n: f"{word} {items(n)}" if n else f"already {word}",
        )

    async def tag(self, name: str, ids: Iterable[str], on: bool = True) -> str | None:
        """Tag (or untag) items with `name` (case-insensitive; the first spelling stays)."""
        wanted = list(dict.fromkeys(ids))
        name = " ".join(name.split())
        if not name:
            self.emit(Problem("tagging", "a tag needs a name"))
            return None

        def said(n: int) -> str:
            shown = self.triage_state.tag_names.get(tag_key(name), name)
            if on:
                return f"tagged {items(n)} {shown}" if n else f"already tagged {shown}"
            return f"removed the tag {shown} from {items(n)}" if n else f"no tag {shown} to remove"

        return await self._write("tagging", wanted, lambda t: t.tag(name, wanted, on), said)

    async def note(self, item_id: str, text: str) -> str | None:
        """Set the item's note; an empty one removes it."""
        gone = not text.strip()

        def said(changed: bool) -> str:
            if not changed:
                return "note unchanged"
            return "note removed" if gone else "note saved"

        return await self._write(
            "saving the note", [item_id], lambda t: t.note(item_id, text), said
        )

    async def mark_seen(self, ids: Iterable[str]) -> str | None:
        """Mark items seen, at once on screen, then in the file."""
        wanted = [i for i in dict.fromkeys(ids) if i not in self._seen_now]
        self._seen_now.update(wanted)
        return await self._write(
            "marking seen",
            wanted,
            lambda t: t.mark_seen(wanted),
            lambda n: f"marked {items(n)} seen" if n else "nothing new to mark seen",
        )

    async def mark_view_seen(self) -> str | None:
        """`m`: every unread item of the view seen."""
        unread, shown = self.unread_test(), self.view.entries

        def find() -> list[str]:
            return [e.id for e in shown if unread(e)]

        return await self.mark_seen(await asyncio.to_thread(find))

    # -- stories marked seen -----------------------------------------------------------------

    async def mark_story_seen(self, story_id: str, on: bool = True) -> str | None:
        """Mark every item of the story of `story_id` (an item's id: its story now, merges
        may have grown it) seen, and keep what the story says, so that its later copies
        arrive seen unless they bring a new angle (`story_copies`). Not `on`: its items
        unread again, and the story forgotten."""
        stories, store, now, marked = (
            self.stories,
            self.store,
            self.now(),
            self.triage_state.stories,
        )

        def collect() -> tuple[SeenStory, list[str], list[str]]:
            sid = stories.story_of(story_id) or story_id
            found = [it for it in map(store.get, stories.members(sid) or [sid]) if it is not None]
            records = [r for r in marked if r == sid or stories.story_of(r) == sid]
            return seen_story(sid, now, found), [it.id for it in found], records

        story, ids, records = await asyncio.to_thread(collect)
        if on:
            self._seen_now.update(ids)
        else:
            self._seen_now.difference_update(ids)
            self._seen_queue.difference_update(ids)
        return await self._write(
            "marking the story seen" if on else "marking the story unread",
            ids,
            lambda t: t.mark_story(story, ids) if on else t.unmark_story(records, ids),
            # every item of it, however many were already so: the key was for the story
            lambda n: f"marked the story {'seen' if on else 'unread'} ({items(len(ids))})",
        )

    async def story_copies(self, fresh: Sequence[str]) -> None:
        """The items that joined a story marked seen after it was marked: seen, or, when
        they bring an actor or a quote the story had not, left unread and flagged "new
        angle" (`core.angles`). After each poll, once the actors and quotes of its new
        items (`fresh`) are found: those are judged with what was found, and so is any
        copy left unjudged earlier (a crash, a story still being read at the start), once
        it has its actors. Only the items of seen stories are read whole."""
        triage = self.triage
        if not fresh or triage is None or self.read_only or not self.triage_state.stories:
            return
        stories, store = self.stories, self.store
        wanted, annotating = set(fresh), self.annotate
        await self.stories_ready()  # the read of the store after the poll put them in

        def settle() -> tuple[Decision, Snapshot] | None:
            decision = judge_copies(triage, stories, store, wanted, annotating)
            return None if decision is None else (decision, triage.snapshot())

        with self.reported("marking the copies of seen stories"):
            async with self._writing:
                done = await asyncio.to_thread(settle)
            if done is None:
                return
            decision, snapshot = done
            self.took_triage(snapshot, None)
            if self.views:
                await self.refresh_view()
            ids = frozenset([*decision.seen, *(a.id for a in decision.angles)])
            self.emit(TriageChanged(ids, _angles_said(decision)))

    # -- seen under the cursor -------------------------------------------------------------

    def rest(self, entry: Entry | None) -> None:
        """The dashboard's cursor is on `entry` (None: on no row). Once it has rested there
        `seen_after` seconds, the row is seen; the rows seen meanwhile are written together."""
        if self._rest is not None:
            self._rest.cancel()
            self._rest = None
        if entry is not None and self.unread(entry):
            loop = asyncio.get_running_loop()
            self._rest = loop.call_later(self.seen_after, self._rested, entry)

    def _rested(self, entry: Entry) -> None:
        self._rest = None
        if not self.unread(entry):
            return
        self._seen_now.add(entry.id)
        self._seen_queue.add(entry.id)
        self.unread_count = max(0, self.unread_count - 1)
        self.emit(TriageChanged(frozenset({entry.id}), ""))
        if self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(SEEN_FLUSH, self._flush_later)

    def _flush_later(self) -> None:
        self._flush = None
        self._spawn(self.flush_seen())

    async def flush_seen(self) -> None:
        """Write the rows seen under the cursor since the last write. The view is not
        computed again: an `is:unread` view keeps the rows just read until the next one."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        ids, self._seen_queue = list(self._seen_queue), set()
        triage = self.triage
        if not ids or triage is None:
            return
        with self.reported("saving what was seen"):
            _, snapshot = await asyncio.to_thread(_write_read, triage, lambda t: t.mark_seen(ids))
            self.took_triage(snapshot, None)

    async def close_triage(self) -> None:
        """Write what is pending and close the file."""
        if self._rest is not None:
            self._rest.cancel()
        if self._tag_timer is not None:
            self._tag_timer.cancel()
        await self.flush_seen()
        if self.triage is not None:
            await asyncio.to_thread(self.triage.close)
            self.triage = None

    # -- auto-tags ---------------------------------------------------------------------------

    def auto_tags(self) -> list[tuple[str, Query]]:
        if self._tag_queries is None:
            from monitor.core.query import parse_query

            self._tag_queries = [(t.name, parse_query(t.query)) for t in self.settings.tags]
        return self._tag_queries

    def _tagging(self) -> bool:
        """Auto-tags are the writer's: one process applies them, for every analyst."""
        return not self.read_only and bool(self.settings.tags) and self.triage is not None

    async def auto_tag_ids(self, ids: Collection[str]) -> None:
        """The `[[tags]]` and `[[watches]]` of the stored items `ids` (new, or changed:
        their actors)."""
        if not ids or not self._evaluating():
            return
        wanted, index = set(ids), self.index

        def find() -> list[Entry]:
            return [e for e in index.entries if e.id in wanted]

        await self.evaluate(await asyncio.to_thread(find))

    def auto_tag_later(self, item: Item) -> None:
        """An item's article text arrived: its `[[tags]]` and `[[watches]]`, with others
        arriving meanwhile."""
        if not self._evaluating():
            return
        self._tag_items[item.id] = item
        if self._tag_timer is None:
            loop = asyncio.get_running_loop()
            self._tag_timer = loop.call_later(TAG_AFTER, self._tag_now)

    def _tag_now(self) -> None:
        self._tag_timer = None
        self._spawn(self.auto_tag_arrived())

    async def auto_tag_arrived(self) -> None:
        """The `[[tags]]` of the items whose text arrived since the last call."""
        if self._tag_timer is not None:
            self._tag_timer.cancel()
            self._tag_timer = None
        arrived, self._tag_items = list(self._tag_items.values()), {}
        if arrived:
            await self.evaluate(await asyncio.to_thread(lambda: [entry_of(i) for i in arrived]))

    def _evaluating(self) -> bool:
        return self._tagging() or self._watching()

    async def recheck(self, index: EntryIndex) -> None:
        """At the writer's start, the recent items whose actors are known go through the
        pass's auto-tags and watches again: a process killed between storing items and
        matching them must not lose their alerts. The ledger and the triage take each
        (watch, item) and each tag once, so what was matched before adds nothing."""
        since = self.now() - timedelta(hours=RECHECK_HOURS)
        recent = [e for e in index.entries if e.annotated and e.first_seen >= since]
        await self.evaluate(recent)

    async def evaluate(self, entries: Sequence[Entry]) -> None:
        """The one pass over new or changed items: auto-tags, then watches (which may ask
        for a tag), over one index of just these items, never the whole store."""
        if not entries:
            return
        await self.stories_ready()  # alerts group by story; a query may ask for one
        index = await asyncio.to_thread(EntryIndex.build, entries)
        await self.auto_tag(entries, index)
        await self.watch(entries, index)

    async def auto_tag(self, entries: Sequence[Entry], index: EntryIndex | None = None) -> None:
        """Tag `entries` (`index`: theirs, made when not given) with every `[[tags]]` query
        they match; only these are looked at (an index of just them, as
        `core.digest.matching` does), never the whole store."""
        triage = self.triage
        if not entries or triage is None or not self._tagging():
            return
        queries, now, ctx = self.auto_tags(), self.now(), self.context()

        def apply() -> tuple[dict[str, int], set[str], Snapshot]:
            rows = index if index is not None else EntryIndex.build(entries)
            counts: dict[str, int] = {}
            tagged: set[str] = set()
            for name, query in queries:
                ids = [e.id for e in rows.rows(query.select(rows, now, ctx))]
                n = triage.tag(name, ids, auto=True) if ids else 0
                if n:
                    counts[name] = n
                    tagged.update(ids)
            return counts, tagged, triage.snapshot()

        with self.reported("auto-tagging"):
            counts, tagged, snapshot = await asyncio.to_thread(apply)
            self.took_triage(snapshot, None)
            if counts:
                if self.views:
                    await self.refresh_view()
                said = ", ".join(f"{name} {n}" for name, n in counts.items())
                self.emit(TriageChanged(frozenset(tagged), f"auto-tagged: {said}", counts))


def judge_copies(
    triage: Triage,
    stories: LiveStories,
    store: Store,
    fresh: set[str],
    annotating: bool,
) -> Decision | None:
    """In a thread: the later copies of the stories marked seen, judged and written
    (`TriageMixin.story_copies`); None when there was none. The stories hold `fresh`
    already (`Session.stories_ready`)."""
    current: dict[str, SeenStory] = {}  # a story now -> its record(s), joined
    for record in triage.seen_stories().values():
        sid = stories.story_of(record.id)
        if sid is not None:
            known = current.get(sid)
            current[sid] = record if known is None else joined(known, record)
    state = triage.state()
    copies: dict[str, list[Copy]] = {}
    for sid in current:
        for item_id in stories.members(sid):
            if item_id in state.seen or item_id in state.angles:
                continue
            item = store.get(item_id)
            # another poll's copy waits for its actors, in that poll's turn
            if item is not None and (item_id in fresh or item.annotated or not annotating):
                copies.setdefault(sid, []).append(copy_of(item))
    decision = later_copies((current[sid], found) for sid, found in copies.items())
    if not decision.seen and not decision.angles:
        return None
    triage.settle_copies(decision)
    return decision


def _angles_said(decision: Decision) -> str:
    """What the dashboard says of later copies: nothing unless one is a new angle."""
    angles = decision.angles
    if len(angles) == 1:
        return f"new angle on a story marked seen: {angles[0].why}"
    return f"{len(angles)} new angles on stories marked seen (is:new-angle)" if angles else ""


def _write_read(triage: Triage, write: Callable[[Triage], T]) -> tuple[T, Snapshot]:
    """A write, then the state it left (both in the caller's thread)."""
    done = write(triage)
    return done, triage.snapshot()
