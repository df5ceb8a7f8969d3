"""The stories of the dashboard's items, kept up to date as they arrive (`core.stories`):
each read of the store adds only the entries not yet seen, of the recent days, in a
worker thread; the article pane asks who ran the shown item's story first."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from monitor.core.stories import WINDOW, StoryIndex, entry_member, pickup_line
from monitor.model import Entry

RECENT = timedelta(days=7)  # entries older than this (first seen) are left out of stories


class LiveStories:
    """A story index over entries, safe to read while a worker thread adds to it."""

    def __init__(self) -> None:
        self._index = StoryIndex()
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()

    def update(self, entries: Sequence[Entry], now: datetime) -> int:
        """Add the entries not yet in a story (first seen within RECENT); how many."""
        with self._lock:
            known = self._index
            fresh = [e for e in entries if e.id not in known and now - e.first_seen <= RECENT]
            # the newer reading of the entries already in: actors found, sources added
            kept = self._entries
            newer = [e for e in entries if e.id in kept and kept[e.id] is not e]
        members = [entry_member(e) for e in fresh]  # the slow part, outside the lock
        with self._lock:
            self._entries.update((e.id, e) for e in newer)
            self._entries.update((e.id, e) for e in fresh)
            self._index.add(members)
            self._index.forget_before(now - WINDOW)
        return len(fresh)

    def story_of(self, entry_id: str) -> str | None:
        """The id of the entry's story (its earliest item's id); None: in no story yet."""
        with self._lock:
            return self._index.story_of(entry_id) if entry_id in self._index else None

    def members(self, entry_id: str) -> list[str]:
        """The ids of the items of the entry's story, in the order they joined; empty when
        the entry is in no story yet."""
        with self._lock:
            return self._index.members(entry_id) if entry_id in self._index else []

    def groups(self) -> dict[str, list[Entry]]:
        """Every story of the recent entries: its id and its entries, oldest first."""
        with self._lock:
            stories = self._index.stories()
            entries = self._entries
            return {
                sid: sorted((entries[i] for i in ids if i in entries), key=_order)
                for sid, ids in stories.items()
            }

    def line(self, entry_id: str, clock: Callable[[datetime], str]) -> str:
        """Who ran the entry's story first, and who followed (`pickup_line`); empty when
        no other source carries it, or the entry is in no story yet."""
        with self._lock:
            if entry_id not in self._index:
                return ""
            ids = self._index.members(entry_id)
            entries = [self._entries[i] for i in ids if i in self._entries]
        return pickup_line(entries, entry_id, clock)


def _order(entry: Entry) -> tuple[datetime, str]:
    return entry.first_seen, entry.id
