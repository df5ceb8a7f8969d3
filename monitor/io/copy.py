"""Copying a store into another, of either backend (`monitor store copy`): items and
source states, in batches through the target's own `write`, so that a copy run again
(after a failure, or to catch up) merges by identity and duplicates nothing; then the
analysts' triage and the alert ledger, row by row, each row copied once (the stories
are derived: the target makes them again from its recent items)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.config import DatabaseSettings
from monitor.io.store import Store
from monitor.io.tables import Engine
from monitor.model import Item

Where = Path | DatabaseSettings  # a folder store's folder, or a database
# The side tables and their columns, in an order that inserts what others refer to first
TRIAGE = {
    "users": ("user", "since"),
    "seen": ("user", "id"),
    "starred": ("user", "id", "at"),
    "tags": ("user", "id", "key", "name", "by", "at"),
    "notes": ("user", "id", "text", "at"),
    "stories": ("user", "id", "at", "actors", "quotes"),
    "angles": ("user", "id", "story", "why", "at"),
}
LEDGER = {
    "alerts": ("id", "watch", "story", "at", "sources", "seen", "data"),
    "matches": ("watch", "item", "alert", "words", "context", "at", "shingles", "story"),
    "deliveries": (
        "id",
        "alert",
        "watch",
        "channel",
        "state",
        "attempts",
        "next_try",
        "last_error",
        "done_at",
        "tried_at",
    ),
}
BOOLEAN = {("alerts", "seen")}  # an integer in SQLite

BATCH = 2_000  # items per write of the target


@dataclass(frozen=True, slots=True)
class Copied:
    items: int  # items read from the source
    new: int  # of those, new in the target
    states: int
    source_count: int
    target_count: int
    missing: int  # source items the target lacks at the end (should be 0)


def copy_store(
    source: Store, target: Store, progress: Callable[[int, int], None] | None = None
) -> Copied:
    """Copy every item and source state of `source` into `target`, then check that the
    target holds every item of the source."""
    total = source.count()
    done = new = 0
    batch: list[Item] = []

    def flush() -> None:
        nonlocal done, new
        outcomes = target.write(batch, [])
        new += outcomes.count("new")
        done += len(batch)
        batch.clear()
        if progress is not None:
            progress(done, total)

    for item in source.items():
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    states = list(source.states().values())
    target.write([], states)
    wanted = {e.id for e in source.entries()}
    held = {e.id for e in target.entries()}
    return Copied(
        items=done,
        new=new,
        states=len(states),
        source_count=total,
        target_count=target.count(),
        missing=len(wanted - held),
    )


def copy_sides(source: Where, target: Where) -> list[str]:
    """Copy the triage and the alert ledger of `source` into `target`, what is there
    already left as it is; what was copied, in words. The ledger is copied only into a
    ledger that has no other alerts (their numbers would clash)."""
    from monitor.io import ledger, triage

    said: list[str] = []
    engines = (triage.open_engine(source), triage.open_engine(target))
    try:
        said.append(f"triage: {_copy_tables(*engines, TRIAGE)} rows")
    finally:
        for engine in engines:
            engine.close()
    engines = (ledger.open_engine(source, False), ledger.open_engine(target, False))
    try:
        clash = _clashing_alerts(*engines)
        if clash:
            said.append(f"alert ledger not copied: the target has {clash} other alerts")
        else:
            said.append(f"alert ledger: {_copy_tables(*engines, LEDGER)} rows")
    finally:
        for engine in engines:
            engine.close()
    return said


def _copy_tables(source: Engine, target: Engine, tables: Mapping[str, Sequence[str]]) -> int:
    """Every row of `tables` into `target` in one transaction; rows whose key is there
    already are skipped. Returns the number of rows inserted."""
    done = 0
    with source.read() as read:
        rows = {
            t: read.execute(f"SELECT {_names(c)} FROM {t}").fetchall() for t, c in tables.items()
        }
    with target.write() as write:
        for table, columns in tables.items():
            flags = [i for i, c in enumerate(columns) if (table, c) in BOOLEAN]
            marks = ", ".join("?" for _ in columns)
            done += write.many(
                f"INSERT INTO {table}({_names(columns)}) VALUES ({marks}) ON CONFLICT DO NOTHING",
                (_typed(row, flags, target.shared) for row in rows[table]),
            )
        if target.shared:  # the numbers given above: the database's own count on from them
            for table in ("alerts", "deliveries"):
                if table in tables:
                    write.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                    )
    return done


def _names(columns: Sequence[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _typed(row: Sequence[object], flags: list[int], database: bool) -> list[object]:
    out = list(row)
    for i in flags:
        out[i] = bool(out[i]) if database else int(bool(out[i]))
    return out


def _clashing_alerts(source: Engine, target: Engine) -> int:
    """Alerts of the target whose number is another alert's in the source."""
    with source.read() as read:
        mine = {r[0]: (r[1], r[2]) for r in read.execute("SELECT id, watch, story FROM alerts")}
    with target.read() as read:
        theirs = read.execute("SELECT id, watch, story FROM alerts").fetchall()
    return sum(1 for r in theirs if r[0] in mine and mine[r[0]] != (r[1], r[2]))
