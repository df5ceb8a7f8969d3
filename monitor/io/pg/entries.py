"""The entries a process holds of a database store, kept up to date by reading only
what was committed since the last read (rows by their commit number, and the ids that
retention dropped): a dashboard follows a growing database without reading it whole."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import msgspec

from monitor.core.index import EntryIndex, Part, build_parts
from monitor.model import Entry

ENTRY = msgspec.msgpack.Decoder(Entry)


class _Day:
    __slots__ = ("by_id", "parts", "rows")

    def __init__(self) -> None:
        self.by_id: dict[str, Entry] = {}
        self.rows: list[Entry] | None = None  # newest first; None: to sort again
        self.parts: list[Part] | None = None

    def sorted(self) -> list[Entry]:
        if self.rows is None:
            self.rows = sorted(self.by_id.values(), key=_newest, reverse=True)
            self.parts = None
        return self.rows

    def index(self) -> list[Part]:
        rows = self.sorted()
        if self.parts is None:
            self.parts = build_parts(rows)
        return self.parts


def _newest(entry: Entry) -> tuple[object, str]:
    return entry.published, entry.id


class Entries:
    """Every entry of the store, by day, as of commit `seq`."""

    def __init__(self) -> None:
        self.seq = 0  # the newest commit read
        self._days: dict[date, _Day] = {}
        self._day_of: dict[str, date] = {}
        self.unreadable = 0  # entries that did not decode

    def take(self, rows: Iterable[tuple[str, date, bytes, int]], dropped: Iterable[str]) -> None:
        """Rows committed since `seq` (id, day, packed entry, commit), and the ids dropped."""
        for item_id in dropped:
            self._forget(item_id)
        for item_id, day, packed, seq in rows:
            try:
                entry = ENTRY.decode(packed)
            except (msgspec.DecodeError, msgspec.ValidationError):
                self.unreadable += 1
                continue
            self._forget(item_id)
            bucket = self._days.get(day)
            if bucket is None:
                bucket = self._days[day] = _Day()
            bucket.by_id[item_id] = entry
            bucket.rows = None
            self._day_of[item_id] = day
            self.seq = max(self.seq, seq)

    def _forget(self, item_id: str) -> None:
        day = self._day_of.pop(item_id, None)
        if day is None:
            return
        bucket = self._days[day]
        del bucket.by_id[item_id]
        bucket.rows = None
        if not bucket.by_id:
            del self._days[day]

    def forget_before(self, day: date) -> None:
        """Drop the days before `day` (a window that moved on)."""
        for old in [d for d in self._days if d < day]:
            for item_id in self._days.pop(old).by_id:
                del self._day_of[item_id]

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def __len__(self) -> int:
        return len(self._day_of)

    def entries(self) -> list[Entry]:
        out: list[Entry] = []
        for day in sorted(self._days, reverse=True):
            out += self._days[day].sorted()
        return out

    def index(self) -> EntryIndex:
        out: list[Entry] = []
        parts: list[Part] = []
        for day in sorted(self._days, reverse=True):
            bucket = self._days[day]
            out += bucket.sorted()
            parts += bucket.index()
        return EntryIndex(out, parts)
