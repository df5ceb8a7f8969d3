"""The entries a process holds of a database store, kept up to date by reading only
what was committed since the last read (rows by their commit number, and the ids that
retention dropped): a dashboard follows a growing database without reading it whole.

Each day's index (`core.index.Part`s, what filters use) takes 50 ms per 1,000 entries
to make: the first process to make a day's saves it in `day_parts`, noted with the
day's newest commit and its number of items, and the next ones take it from there while
those still hold (derived data, as the folder store's entry files)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import msgspec

from monitor.core.index import EntryIndex, Part, build_parts, decode_parts
from monitor.model import Entry

ENTRY = msgspec.msgpack.Decoder(Entry)


class _Day:
    __slots__ = ("by_id", "made", "parts", "rows", "seq")

    def __init__(self) -> None:
        self.by_id: dict[str, Entry] = {}
        self.rows: list[Entry] | None = None  # newest first; None: to sort again
        self.parts: list[Part] | None = None
        self.seq = 0  # the newest commit among its items
        self.made = False  # its parts were made here, not taken from `day_parts`

    def sorted(self) -> list[Entry]:
        if self.rows is None:
            self.rows = sorted(self.by_id.values(), key=_newest, reverse=True)
            self.parts = None
        return self.rows

    def index(self) -> list[Part]:
        rows = self.sorted()
        if self.parts is None:
            self.parts = build_parts(rows)
            self.made = True
        return self.parts

    def take_parts(self, packed: bytes) -> None:
        """The day's parts as saved, if they fit its entries (else they are made)."""
        try:
            parts = decode_parts(packed)
        except (ValueError, msgspec.DecodeError, msgspec.ValidationError):
            return
        rows = self.sorted()
        if sum(p.size for p in parts) == len(rows) and all(p.valid() for p in parts):
            self.parts = parts


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
            bucket.seq = max(bucket.seq, seq)
            self._day_of[item_id] = day
            self.seq = max(self.seq, seq)

    def take_parts(self, saved: Iterable[tuple[date, int, int, bytes]]) -> None:
        """Saved parts (day, newest commit, items, parts) for the days they still fit."""
        for day, seq, count, packed in saved:
            bucket = self._days.get(day)
            if bucket is not None and (bucket.seq, len(bucket.by_id)) == (seq, count):
                bucket.take_parts(packed)

    def made_parts(self) -> list[tuple[date, int, int, list[Part]]]:
        """The days whose parts were made here since the last call, to be saved."""
        out = []
        for day, bucket in self._days.items():
            if bucket.made and bucket.parts is not None:
                out.append((day, bucket.seq, len(bucket.by_id), bucket.parts))
                bucket.made = False
        return out

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
