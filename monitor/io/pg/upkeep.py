"""Upkeep of a database store: its rows read whole, CHUNK at a time by id, to make the
entries and words again (`monitor reindex`), to find the records and entries that do not
decode (`monitor check`), and to set the records aside and make the entries again
(`monitor check --repair`). The methods of `PgStore` of those names call these."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from monitor.io.pg.store import CHUNK, PgStore, _item
from monitor.model import Entry


def _pages(store: PgStore, columns: str) -> Iterator[list[Any]]:
    """Every row of `items` (`id` first, then `columns`), CHUNK at a time, by id: each
    page read on a connection of its own, so that writes may come in between."""
    last = ""
    while True:
        with store._conn() as conn:
            rows = conn.execute(
                f"SELECT id, {columns} FROM items WHERE id > %s ORDER BY id LIMIT %s",
                (last, CHUNK),
            ).fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def reindex(store: PgStore, progress: Callable[[int, int], None] | None) -> int:
    """Make every item's entry and words again from its record, a page per commit (so
    that readers pick the new entries up). Returns the number of items."""
    total = store.count()
    done = 0
    for rows in _pages(store, "record"):
        items = [it for _, record in rows if (it := _item(record)) is not None]
        with store._writing() as (conn, seq):
            store._put(conn, items, seq)
        done += len(items)
        if progress is not None:
            progress(done, total)
    return done


def unreadable(store: PgStore) -> tuple[list[str], list[str]]:
    """The ids of the records that do not decode, and of the entries that do not."""
    bad_items: list[str] = []
    bad_entries: list[str] = []
    for rows in _pages(store, "record, entry"):
        for rid, record, entry in rows:
            if _item(record) is None:
                bad_items.append(rid)
                continue
            try:
                msgspec.msgpack.decode(entry, type=Entry)
            except (msgspec.DecodeError, msgspec.ValidationError):
                bad_entries.append(rid)
    return bad_items, bad_entries


def problems(store: PgStore) -> list[str]:
    bad_items, bad_entries = unreadable(store)
    said = []
    if bad_items:
        said.append(
            f"{len(bad_items)} stored items cannot be read (monitor check --repair sets them aside)"
        )
    if bad_entries:
        said.append(
            f"{len(bad_entries)} entries cannot be read (monitor check --repair makes them again)"
        )
    return said


def repair(store: PgStore) -> list[str]:
    """Set aside the records that cannot be read (kept in `quarantine`, and dropped as
    retention drops, so that readers forget them), and make again the entries and words
    of the items whose entry cannot be read."""
    bad_items, bad_entries = unreadable(store)
    with store._writing() as (conn, seq):
        if bad_items:
            conn.execute(
                "INSERT INTO quarantine(id, record, why) SELECT id, record, "
                "'does not decode' FROM items WHERE id = ANY(%s)",
                (bad_items,),
            )
            conn.execute("DELETE FROM items WHERE id = ANY(%s)", (bad_items,))
            conn.execute("DELETE FROM item_keys WHERE id = ANY(%s)", (bad_items,))
            conn.cursor().executemany(
                "INSERT INTO dropped(id, seq) VALUES (%s, %s)", [(i, seq) for i in bad_items]
            )
        again = [
            it
            for _, record in conn.execute(
                "SELECT id, record FROM items WHERE id = ANY(%s)", (bad_entries,)
            )
            if (it := _item(record)) is not None
        ]
        store._put(conn, again, seq)
    said = []
    if bad_items:
        said.append(f"set aside {len(bad_items)} items that cannot be read (table quarantine)")
    if again:
        said.append(f"made the entries of {len(again)} items again")
    return said
