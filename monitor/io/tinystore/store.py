"""TinyStore: the store over its files. It resolves identity, batches each write and
commits it in the order that makes it crash-safe, keeps recent days and every day's
entries in memory, and lets readers follow a writer."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import msgspec

from monitor.core.dedupe import merge
from monitor.core.index import EntryIndex, Part
from monitor.core.query import TextSearch
from monitor.io.fts import TextIndex
from monitor.io.store import Change, StoreError, StoreUnwritable
from monitor.io.tinystore.batch import Batch
from monitor.io.tinystore.days import (
    Day,
    aware,
    day_files,
    day_of,
    day_sigs,
    day_start,
    index_stamp,
    items_file,
)
from monitor.io.tinystore.entries import (
    DayEntries,
)
from monitor.io.tinystore.files import (
    ENTRIES,
    INDEX,
    ITEMS,
    META,
    TEXTS,
    CorruptFile,
    Record,
    Stamp,
    check_ours,
    file_stamp,
    fsync_dir,
    move_aside,
    moved_aside,
    remove_temps,
)
from monitor.io.tinystore.idlog import IdLog
from monitor.io.tinystore.indexer import Indexer
from monitor.io.tinystore.lock import WriterLock
from monitor.io.tinystore.meta import Meta
from monitor.io.tinystore.quarantine import Quarantine
from monitor.io.tinystore.repair import findings, repair
from monitor.io.tinystore.retention import drop_before, prune_texts, sweep
from monitor.io.tinystore.salvage import salvage_day, salvage_texts
from monitor.io.tinystore.views import EntryViews
from monitor.model import Entry, Item, Outcome, SourceState

log = logging.getLogger(__name__)
T = TypeVar("T")

COMMIT_WAIT = 5.0  # seconds a reader waits for a batch being written to be committed
CACHE_DAYS = 8  # days kept in memory between writes (a write holds every day it reads)


class TinyStore(EntryViews):
    """A `Store` in a folder of per-day TinyDB files. One writer at a time; readers never lock."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._mutex = threading.RLock()
        self._closed = False
        self._broken = False
        self._lock: WriterLock | None = None
        self._ids = IdLog(self.path / INDEX, readonly)
        self._meta = Meta(self.path, readonly, self._corrupt)
        self._days: OrderedDict[str, Day] = OrderedDict()
        self._entries: dict[str, DayEntries] = {}  # by day; loaded by entries(), kept by writes
        self._entries_all = False  # the writer has every day's entries in _entries
        self._moved: set[str] = set()  # days whose items moved in or out since rows were made
        self._quarantine = Quarantine(self.path, readonly)
        self._damage: list[str] = []  # damaged day files, in words (`damage`)
        self._gave_up: Stamp | None = None  # ids.log as it was when a reader stopped waiting
        self._text = TextIndex(self.path, readonly=readonly)
        self._indexer = Indexer(self.path, self._text, lambda: self._ids.id_day)
        if readonly:
            self._open_reader()
        else:
            self._open_writer()

    # -- opening ----------------------------------------------------------------------

    def _open_writer(self) -> None:
        root = self.path
        if root.exists() and not root.is_dir():
            raise StoreError(f"store {root} is not a directory")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnwritable(f"cannot create store {root}: {exc.strerror}") from exc
        check_ours(root)
        lock = WriterLock(root)
        lock.acquire()
        self._lock = lock
        try:
            self._meta.load()
            remove_temps([root, root / ITEMS, root / TEXTS, root / ENTRIES])
            sweep(root)
            lock.claim()
            for sub in (ITEMS, TEXTS, ENTRIES):
                (root / sub).mkdir(exist_ok=True)
            fsync_dir(root)
            if self._meta.stamp is None:
                self._meta.write({})
            self._load_index()
            self._repair_entries()
        except BaseException as exc:
            self._release()
            if isinstance(exc, OSError):  # a full disk, a read-only file system
                raise StoreUnwritable(f"cannot write store {root}: {exc.strerror}") from exc
            raise
        self._indexer.start()

    def _open_reader(self) -> None:
        if not self.path.exists():
            return  # nothing stored yet: an empty store
        if not self.path.is_dir():
            raise StoreError(f"store {self.path} is not a directory")
        check_ours(self.path)
        self._meta.load()
        self._load_index()

    def _release(self) -> None:
        self._indexer.stop()
        self._text.close()
        self._ids.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- the identity index -----------------------------------------------------------

    def _load_index(self) -> None:
        """Read ids.log whole and check an unfinished batch against the days (the writer
        commits the corrections); the writer rebuilds a missing log from the days."""
        for loaded in self._entries.values():
            loaded.rows = None  # every day's members are checked again
        empty = self._ids.load()
        if (empty or self._ids.garbled) and day_files(self.path):
            self._ids.rebuild(
                (day, self._day(day).items.records()) for day in reversed(day_files(self.path))
            )
        elif self.readonly:
            self._ids.verify_tail(self._holds)
        else:
            dropping = self._ids.unfinished_drops()  # an interrupted retention pass
            self._ids.close_tail(self._holds)
            for day in sorted(dropping):
                if items_file(self.path, day).exists() and prune_texts(self._day(day)):
                    self._forget_entries(day)

    def _holds(self, day: str, item_id: str) -> bool:
        """Whether the day's items file holds the item."""
        return self._day(day).items.get(item_id) is not None

    def _refresh(self) -> None:
        """Readers: pick up what a writer appended to the index and meta since last time;
        while a batch is being written, wait (up to COMMIT_WAIT) for its commit line, so
        that what is read next is whole committed batches."""
        if not self.readonly:
            return
        waited = 0.0
        while True:
            if not self._ids.catch_up(self._moved if self._entries else None):
                self._load_index()
            if not self._ids.tail or file_stamp(self.path / INDEX) == self._gave_up:
                break
            if waited >= COMMIT_WAIT:  # a writer that died mid-batch: read as it is
                self._gave_up = file_stamp(self.path / INDEX)
                break
            time.sleep(0.02)
            waited += 0.02
        if file_stamp(self.path / META) != self._meta.stamp and self.path.is_dir():
            self._meta.load()

    def _whole(self, read: Callable[[], T]) -> T:
        """Readers: `read()` again if a writer began a batch while it ran (its index lines
        come before any day it touches), so that it saw no half-written batch."""
        if not self.readonly:
            return read()
        for _ in range(3):
            before = file_stamp(self.path / INDEX)
            found = read()
            if file_stamp(self.path / INDEX) == before:
                break
        return found

    # -- days -------------------------------------------------------------------------

    def _corrupt(self, path: Path, exc: CorruptFile) -> None:
        """A file that does not parse. Readers skip it; the writer moves it aside and, for
        an items file, writes in its place what can be saved of it (`salvage`), and
        forgets the items that cannot be (they return as new when a feed lists them)."""
        if self.readonly:
            log.warning("store %s: %s does not parse; skipped (%s)", self.path, path.name, exc)
            return
        day = path.name.removesuffix(".json")
        kind = path.parent.name
        saved = salvage_day(path, self._ids) if kind == ITEMS else None
        texts = salvage_texts(path) if kind == TEXTS else None
        aside = move_aside(path)
        log.warning("store %s: %s does not parse; moved to %s (%s)", self.path, path, aside, exc)
        if kind in (ITEMS, TEXTS):
            self._forget_entries(day)  # made from the file moved aside
        if texts is not None:
            texts.write(path, "text")
            words = texts.words(f"{TEXTS}/{path.name}", "texts")
        elif saved is not None:
            saved.write(path)
            self._ids.drop_ids(saved.lost)
            words = saved.words(f"{ITEMS}/{path.name}")
        else:
            return
        log.warning("store %s: %s", self.path, words)
        self._damage.append(words)

    def _day(self, name: str, batch: Batch | None = None) -> Day:
        if batch is not None and name in batch.days:
            return batch.days[name]
        day = self._days.get(name)
        if day is not None and self.readonly:
            path = items_file(self.path, name)
            if day.items.storage.stamp != file_stamp(path):
                day = None
        if day is None:
            day = Day(self.path, name, self.readonly, self._corrupt, self._quarantine.add)
        if batch is not None:  # held until the write ends: a poll reads each day once
            batch.days[name] = day
        self._cache(day)
        return day

    def _cache(self, day: Day) -> None:
        """Keep `day` as the one used last; the one used longest ago goes beyond CACHE_DAYS."""
        self._days[day.name] = day
        self._days.move_to_end(day.name)
        while len(self._days) > CACHE_DAYS:
            self._days.popitem(last=False)

    def _pin(self, name: str, batch: Batch) -> Day:
        """The day, held by the batch until it is written."""
        day = self._day(name, batch)
        batch.days[name] = day
        self._days.pop(name, None)
        return day

    # -- the text index -----------------------------------------------------------------

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Writer: make the text index and the entry files again from the items. Returns
        the number of items indexed."""
        with self._mutex:
            self._check_open()
            if self.readonly:
                raise StoreError(f"store {self.path} is open read-only")
            self._indexer.stop()
            self._text.clear()
            for day in day_files(self.path):
                self._forget_entries(day)
                self._save_entries(day, self._build_entries(day))
        return self._indexer.run(progress)

    def text_search(self) -> TextSearch | None:
        """No mutex: the dashboard asks on its event loop, and a write may hold it long."""
        self._check_open()
        return self._text if self._text.complete() else None

    def text_backlog(self) -> bool:
        """Whether the text index is still being made."""
        return not self._text.complete()

    # -- Store ------------------------------------------------------------------------

    def states(self) -> dict[str, SourceState]:
        with self._mutex:
            self._check_open()
            self._refresh()
            return dict(self._meta.states)

    def get(self, item_id: str) -> Item | None:
        with self._mutex:
            self._check_open()
            self._refresh()
            name = self._ids.id_day.get(item_id)
            if name is None:
                return None
            day = self._day(name)
            rec = day.items.get(item_id)
            return day.item(rec) if rec is not None else None

    def version(self) -> object:
        return file_stamp(self.path / INDEX), file_stamp(self.path / META)

    def quarantined(self) -> int:
        with self._mutex:
            self._check_open()
            return self._quarantine.count()

    def damage(self) -> list[str]:
        with self._mutex:
            said = list(self._damage)
            for name in moved_aside(self.path):  # from earlier sessions too, until removed
                if not any(name.split(".json")[0] + ".json" in line for line in said):
                    said.append(
                        f"{name}: a damaged file, kept aside (what could be read was saved)"
                    )
            return said

    def problems(self) -> list[str]:
        return findings(self)

    def repair(self) -> list[str]:
        with self._mutex:
            self._check_open()
            if self.readonly:
                raise StoreError(f"store {self.path} is open read-only")
            return repair(self)

    def count(self) -> int:
        with self._mutex:
            self._check_open()
            self._refresh()
            return len(self._ids.id_day)

    def entries(self) -> list[Entry]:
        """Every item as an Entry, newest first: the days' lists, newest day first, joined
        into a new list. Only days whose files changed since the last call are read."""
        return self._whole(self._entries_now)

    def _entries_now(self) -> list[Entry]:
        with self._mutex:
            out: list[Entry] = []
            committed = self._ids.id_day
            for day in self._synced_days():
                out += self._entries[day].live_rows(day, committed)
            return out

    def entry_index(self) -> EntryIndex:
        """`entries()` with their index, joined from the days' indexes (each made when
        its day is written, and kept in its entry file)."""
        return self._whole(self._entry_index_now)

    def _entry_index_now(self) -> EntryIndex:
        with self._mutex:
            out: list[Entry] = []
            parts: list[Part] = []
            committed = self._ids.id_day
            for day in self._synced_days():
                loaded = self._entries[day]
                out += loaded.live_rows(day, committed)
                parts += loaded.live_parts(day, committed)
            return EntryIndex(out, parts)

    def items(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Item]:
        """Items with `published` in [since, until): newest day first, newest first within a day."""
        since, until = aware(since), aware(until)
        with self._mutex:
            self._check_open()
            self._refresh()
            days = day_files(self.path)
        for day in days:
            start = day_start(day)
            if since is not None and start + timedelta(days=1) <= since:
                break
            if until is not None and start >= until:
                continue
            with self._mutex:
                self._check_open()
                found = self._day(day).read(since, until, self._ids.id_day)
            yield from found

    def write(self, items: Sequence[Item], states: Sequence[SourceState]) -> list[Outcome]:
        """Merge `items` in by identity, upsert `states` by name; one commit for all of it."""
        with self._mutex, self._batch() as batch:
            outcomes = [self._put(item, batch) for item in items]
            known = self._meta.states
            changed = {s.name: s for s in states if known.get(s.name) != s}
            if changed or any(day.dirty for day in batch.days.values()):
                self._commit(batch, changed)
        return outcomes

    def update(self, changes: Sequence[tuple[str, Change]]) -> list[Item]:
        """Apply each change to the stored item of that id; one commit for all of them.
        Returns the items as stored after the change (unknown ids and no-ops left out)."""
        done: list[Item] = []
        with self._mutex, self._batch() as batch:
            for item_id, change in changes:
                name = self._where(item_id, batch)
                day = self._day(name, batch) if name is not None else None
                rec = day.items.get(item_id) if day is not None else None
                if day is None or rec is None:
                    continue
                old = day.item(rec)
                if old is None:
                    continue
                new = change(old)
                if new != old:
                    self._replace(item_id, day, new, batch)
                    done.append(new)
            if any(day.dirty for day in batch.days.values()):
                self._commit(batch, {})
        return done

    def drop_before(self, day: str, keep: frozenset[str]) -> int:
        """Drop every item published before `day` (YYYY-MM-DD, a UTC day) whose id is not
        in `keep`, in one commit (see `retention`). Returns how many were dropped."""
        with self._mutex, self._batch() as batch:
            try:
                return drop_before(self, batch, day, keep)
            except BaseException:
                self._entries_all = False  # days may be gone from memory but not from disk
                raise

    @contextlib.contextmanager
    def _batch(self) -> Iterator[Batch]:
        """One write: undone in memory if it fails, settled if it succeeds."""
        self._check_open()
        if self.readonly:
            raise StoreError(f"store {self.path} is open read-only")
        if self._broken and not self._recover():  # the disk may have room again
            raise StoreError(f"store {self.path} failed a write earlier and cannot recover yet")
        batch = Batch()
        try:
            yield batch
        except BaseException as exc:
            self._abort(batch)
            if isinstance(exc, OSError):
                raise StoreError(f"store {self.path}: write failed: {exc}") from exc
            raise
        self._settle(batch)

    def close(self) -> None:
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            self._days.clear()
            self._entries.clear()
            self._release()

    def __enter__(self) -> TinyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.path} is closed")

    def _where(self, item_id: str, batch: Batch) -> str | None:
        if item_id in batch.id_day:
            return batch.id_day[item_id]
        if item_id in batch.drops:
            return None
        return self._ids.id_day.get(item_id)

    def _resolve(self, item: Item, batch: Batch) -> str | None:
        key_id = self._ids.key_id
        for key in item.keys:
            rid = batch.key_id.get(key) or key_id.get(key)
            if rid is not None and self._where(rid, batch) is not None:
                return rid
        return item.id if self._where(item.id, batch) is not None else None

    def _find(self, new: Item, batch: Batch) -> tuple[str, Day, Record] | None:
        """The stored item `new` is another copy of: its id, day and record."""
        while (rid := self._resolve(new, batch)) is not None:
            name = self._where(rid, batch)
            assert name is not None
            day = self._day(name, batch)
            rec = day.items.get(rid)
            if rec is not None:
                return rid, day, rec
            # the index names a day that lacks the item: the item is absent
            batch.drops.add(rid)
            batch.id_day.pop(rid, None)
        return None

    def _put(self, new: Item, batch: Batch) -> Outcome:
        found = self._find(new, batch)
        if found is None:
            name = day_of(new.published)
            self._pin(name, batch).put(new)
            batch.drops.discard(new.id)
            batch.assign(new.id, name, new.keys, self._ids.key_id)
            return "new"
        rid, day, rec = found
        old = day.item(rec)
        merged = merge(old, new) if old is not None else msgspec.structs.replace(new, id=rid)
        if merged is None:
            return "unchanged"
        if old is None:  # the stored record was no item: the new copy replaces it
            self._quarantine.healed(day.items.storage.path, rid)
        self._replace(rid, day, merged, batch)
        return "updated"

    def _replace(self, rid: str, day: Day, item: Item, batch: Batch) -> None:
        name = day_of(item.published)
        if name != day.name:
            # the stored copy stays until the move is committed, then goes stale
            day.discard(rid)
        self._pin(name, batch).put(item)
        batch.assign(rid, name, item.keys, self._ids.key_id)

    def _commit(self, batch: Batch, changed: dict[str, SourceState]) -> None:
        lines = batch.lines(self._ids.id_day)
        if lines:
            self._ids.append(lines)  # 1. the index, before any day refers to it
            batch.logged = True
        indexed: list[tuple[str, Item]] = []
        stamps: dict[str, str] = {}
        new: set[str] = set()
        for day in batch.days.values():
            if day.dirty:  # 2. each touched day: text, items, entries
                name = day.name
                if not items_file(self.path, name).exists():
                    new.add(name)
                if name not in self._entries:  # the unchanged items' entries, if saved
                    found = self._read_entries(name, *day_sigs(self.path, name))
                    if found is not None:
                        self._entries[name] = found
                put = dict(day.changed)
                day.flush(self._lives_in(name))
                self._update_entries(day, put)
                indexed += [(name, item) for item in put.values()]
                stamps[name] = index_stamp(self.path, name)
        if changed:
            self._meta.write(changed)  # 3. source states
        if batch.logged:
            self._ids.commit()  # 4. the batch is complete
        # 5. derived: the text index (a failure there is repaired from the days, later)
        ok = self._text.put(indexed, stamps, frozenset(new))
        if not (ok and self._text.drop(batch.drops)):
            self._indexer.start()  # the index failed and is gone: make it again

    def _lives_in(self, day: str) -> Callable[[str], bool]:
        """Whether a record in `day` is the item's committed copy (not one left by a move)."""
        committed = self._ids.id_day
        return lambda rid: committed.get(rid, day) == day

    def _settle(self, batch: Batch) -> None:
        id_day, moved = self._ids.id_day, self._moved
        for rid in batch.drops:
            before = id_day.pop(rid, None)
            if before is not None:
                moved.add(before)
        for rid, day in batch.id_day.items():
            before = id_day.get(rid)
            if before != day:
                moved.add(day)
                if before is not None:
                    moved.add(before)
        id_day.update(batch.id_day)
        self._ids.key_id.update(batch.key_id)
        for pinned in batch.days.values():
            self._cache(pinned)

    def _abort(self, batch: Batch) -> None:
        """After a failed write: forget what memory holds beyond the files, repair the index."""
        for day in batch.days:
            self._days.pop(day, None)
            self._forget_entries(day)
        self._broken = True
        self._recover(index=batch.logged)

    def _recover(self, *, index: bool = True) -> bool:
        """Read meta (and the index, correcting an unfinished batch) again after a failed
        write; whether that worked. Until it does, no write starts: each tries again."""
        try:
            self._meta.load()
            if index:
                self._days.clear()
                self._load_index()
        except Exception:
            log.exception("store %s: cannot recover from a failed write yet", self.path)
            return False
        self._broken = False
        return True
