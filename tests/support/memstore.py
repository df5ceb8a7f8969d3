"""An in-memory `Store`, for tests that need a store but not its files."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime

from monitor.core.dedupe import merge
from monitor.core.entries import entry_of
from monitor.core.index import EntryIndex
from monitor.model import Entry, Item, Outcome, SourceState


class MemoryStore:
    """A `Store` held in a dict. Thread-safe; identity is the item id only."""

    def __init__(
        self, items: Iterable[Item] = (), states: Mapping[str, SourceState] | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Item] = {}
        self._entries: dict[str, Entry] = {}
        self._states: dict[str, SourceState] = dict(states or {})
        self._sorted: list[Entry] | None = None
        self.closed = False
        self.writes = 0
        for item in items:
            self._items[item.id] = item
            self._entries[item.id] = entry_of(item)

    def states(self) -> dict[str, SourceState]:
        with self._lock:
            return dict(self._states)

    def write(self, items: Sequence[Item], states: Sequence[SourceState]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        with self._lock:
            self.writes += 1
            for item in items:
                old = self._items.get(item.id)
                if old is None:
                    stored: Item | None = item
                    outcomes.append("new")
                else:
                    stored = merge(old, item)
                    outcomes.append("updated" if stored else "unchanged")
                if stored is not None:
                    self._items[item.id] = stored
                    self._entries[item.id] = entry_of(stored)
                    self._sorted = None
            for state in states:
                self._states[state.name] = state
        return outcomes

    def update(self, changes: Sequence[tuple[str, Callable[[Item], Item]]]) -> list[Item]:
        done: list[Item] = []
        with self._lock:
            self.writes += 1
            for item_id, change in changes:
                old = self._items.get(item_id)
                if old is None or (new := change(old)) == old:
                    continue
                self._items[item_id] = new
                self._entries[item_id] = entry_of(new)
                self._sorted = None
                done.append(new)
        return done

    def drop_before(self, day: str, keep: frozenset[str]) -> int:
        start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        with self._lock:
            gone = [i for i, it in self._items.items() if it.published < start and i not in keep]
            for item_id in gone:
                del self._items[item_id], self._entries[item_id]
            if gone:
                self.writes += 1
                self._sorted = None
        return len(gone)

    def add(self, items: Iterable[Item]) -> None:
        """Store items as they are (no merging)."""
        with self._lock:
            for item in items:
                self._items[item.id] = item
                self._entries[item.id] = entry_of(item)
            self._sorted = None

    def items(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Item]:
        with self._lock:
            chosen = [
                i
                for i in self._items.values()
                if (since is None or i.published >= since)
                and (until is None or i.published < until)
            ]
        chosen.sort(key=lambda i: i.published, reverse=True)
        return iter(chosen)

    def entries(self) -> list[Entry]:
        with self._lock:
            if self._sorted is None:
                self._sorted = sorted(
                    self._entries.values(), key=lambda e: e.published, reverse=True
                )
            return list(self._sorted)

    def entry_index(self) -> EntryIndex:
        return EntryIndex.build(self.entries())

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Nothing is derived here: the entries are made on each read."""
        with self._lock:
            self._sorted = None
            return len(self._items)

    def quarantined(self) -> int:
        return 0

    def version(self) -> object:
        return self.writes

    def damage(self) -> list[str]:
        return []

    def problems(self) -> list[str]:
        return []

    def repair(self) -> list[str]:
        return []

    def text_backlog(self) -> bool:
        return False

    def text_search(self) -> None:
        """No text index: queries match titles and summaries."""
        return None

    def get(self, item_id: str) -> Item | None:
        with self._lock:
            return self._items.get(item_id)

    def count(self) -> int:
        with self._lock:
            return len(self._items)

    def close(self) -> None:
        self.closed = True
