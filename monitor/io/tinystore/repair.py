"""`monitor check` and `monitor check --repair`: every stored file verified, in words; the
repair quarantines what cannot be read and makes every derived file again.

Nothing is deleted silently: a record taken out of a day file is in quarantine.jsonl
first (durably), a file that does not parse is kept beside its replacement (.corrupt),
and every step is said."""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.io.tinystore.days import Day, day_files, day_sigs
from monitor.io.tinystore.entries import entry_path, read_entry_file
from monitor.io.tinystore.files import INDEX

if TYPE_CHECKING:
    from monitor.io.tinystore.store import TinyStore


def findings(store: TinyStore) -> list[str]:
    """What cannot be read or is out of date, one line each; empty when all is well.
    Reads every record of every day."""
    out: list[str] = []
    root = store.path
    days = day_files(root)
    stale = 0
    for day in days:
        items, text = day_sigs(root, day)
        if entry_path(root, day).exists() and read_entry_file(root, day, items, text) is None:
            stale += 1
    for _ in store.items():  # every record decoded once: the bad ones are set aside
        pass
    ids = store._ids
    if ids.garbled:
        out.append(
            f"{INDEX}: {ids.garbled} lines do not parse; read from the day files instead"
            " (--repair writes it again)"
        )
    missing, unindexed = index_gaps(store)
    if missing:
        out.append(f"{INDEX}: {missing} items are not in the day it names (--repair)")
    if unindexed:
        out.append(
            f"{INDEX}: {unindexed} stored items are missing from it, hidden from the"
            " timeline and searches (--repair makes it again)"
        )
    if stale:
        out.append(f"entries: {stale} day files are out of date or damaged (made again on use)")
    out += store._quarantine.lines()
    if not store._text.complete():
        out.append("search.sqlite: the text index is incomplete (--repair makes it again)")
    return out


def index_gaps(store: TinyStore) -> tuple[int, int]:
    """How many ids the id index puts in a day that lacks them, and how many stored
    records (with an id) it does not know."""
    ids = store._ids
    days = set(day_files(store.path))
    missing = sum(
        1 for rid, day in ids.id_day.items() if day in days and not store._holds(day, rid)
    )
    unindexed = 0
    for day in days:
        unindexed += sum(1 for rid in store._day(day).items.docs if rid not in ids.id_day)
    return missing, unindexed


def repair(store: TinyStore) -> list[str]:
    """The writer: take every record that is no item out of its day file (a copy is in
    quarantine.jsonl first), drop it from the id index, then make the entry files and the
    text index again. Returns what was done, in words."""
    done: list[str] = []
    root = store.path
    quarantine = store._quarantine
    for name in day_files(root):
        day = Day(root, name, False, store._corrupt, quarantine.add)
        table = day.items
        gone = [rec["id"] for rec in list(table.records()) if day.item(rec) is None]
        if not table.keyless and not gone:
            continue
        if not quarantine.kept():
            done.append(f"items/{name}.json: cannot keep a copy of its bad records; left")
            continue  # never delete what is not kept elsewhere
        n = len(table.keyless) + len(gone)
        table.table.remove(doc_ids=[*table.keyless, *(table.docs.pop(rid) for rid in gone)])
        table.storage.flush()
        store._ids.drop_ids(gone)
        store._days.pop(name, None)
        quarantine.forget(table.storage.path)
        done.append(
            f"items/{name}.json: {n} record{'s' if n != 1 else ''} moved to quarantine.jsonl"
        )
    missing, unindexed = index_gaps(store)
    if missing or unindexed or store._ids.garbled:
        days = day_files(root)
        store._days.clear()
        store._ids.rebuild((d, store._day(d).items.records()) for d in reversed(days))
        store._forget_entries_all()
        done.append(f"{INDEX}: made again from the day files ({store.count()} items)")
    indexed = store.reindex()
    done.append(f"entry files and the text index made again ({indexed} items)")
    return done
