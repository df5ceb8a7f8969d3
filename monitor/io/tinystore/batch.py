"""What one write changes, before it is committed: the ids it assigns to days, the keys
it adds, the ids it drops, the days it holds and whether its index lines are out."""

from __future__ import annotations

from collections.abc import Iterable

from monitor.io.tinystore.days import Day
from monitor.io.tinystore.idlog import Line


class Batch:
    """What one write changes, before it is committed."""

    def __init__(self) -> None:
        self.key_id: dict[str, str] = {}
        self.id_day: dict[str, str] = {}
        self.new_keys: dict[str, list[str]] = {}
        self.drops: set[str] = set()
        self.days: dict[str, Day] = {}
        self.logged = False

    def assign(self, item_id: str, day: str, keys: Iterable[str], known: dict[str, str]) -> None:
        self.id_day[item_id] = day
        fresh = self.new_keys.setdefault(item_id, [])
        for k in keys:
            if known.get(k) != item_id and k not in fresh:
                fresh.append(k)
            self.key_id[k] = item_id

    def lines(self, committed: dict[str, str]) -> list[Line]:
        """The index lines of this batch, given where items are (`committed`: id -> day)."""
        lines = [Line(drop=rid) for rid in self.drops if rid in committed]
        for rid, day in self.id_day.items():
            keys = self.new_keys.get(rid, [])
            if committed.get(rid) != day or keys:
                lines.append(Line(id=rid, day=day, keys=keys))
        return lines
