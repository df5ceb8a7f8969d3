"""Retention: dropping the items published before a day, in the store's write order.

1. `{"drop": id}` lines in ids.log, fsynced: the index forgets the items first;
2. each old day: a day left with no item is removed (items file, then text, then
   entries); a day that keeps some items (starred, tagged, annotated) is rewritten
   with only those (items file, then text, then entries);
3. a commit line.

A crash between two steps: the drop lines are an unfinished batch, checked on open as
every batch is (`IdLog.verify_tail`). A dropped item still in its day file is put back
(the next pass drops it again); one already gone from it stays dropped. Text and entry
files left behind by a crash (a removed day's, or a rewritten day's texts of dropped
items) are removed when a writer opens the store (`sweep`, `prune_texts`): they hold
nothing an item refers to.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.io.tinystore.days import Day, day_files, day_sigs, index_stamp, items_file, text_file
from monitor.io.tinystore.entries import entry_path
from monitor.io.tinystore.files import ENTRIES, ITEMS, TEXTS, fsync_dir
from monitor.io.tinystore.idlog import Line

if TYPE_CHECKING:
    from monitor.io.tinystore.batch import Batch
    from monitor.io.tinystore.store import TinyStore

log = logging.getLogger(__name__)

_DAY_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})\.(json|msgpack)")


def drop_before(store: TinyStore, batch: Batch, day: str, keep: frozenset[str]) -> int:
    """Drop every item that lives in a day before `day` (YYYY-MM-DD, UTC) and is not in
    `keep`; remove or rewrite those days' files. Under the store's mutex, in a batch.
    Returns the number of items dropped."""
    root = store.path
    id_day = store._ids.id_day
    living: dict[str, set[str]] = {}  # old day -> the items that live there
    for rid, where in id_day.items():
        if where < day:
            living.setdefault(where, set()).add(rid)
    old = sorted({d for d in day_files(root) if d < day} | living.keys())
    gone = sorted((d, rid) for d, ids in living.items() for rid in ids if rid not in keep)
    whole: list[str] = []  # days left with no item: removed
    partial: dict[str, Day] = {}  # days that keep some items: rewritten without the others
    for name in old:
        kept = living.get(name, set()) & keep
        if not kept:
            whole.append(name)
        elif living[name] - kept:  # (copies left by moves alone wait for the next write)
            partial[name] = store._pin(name, batch)
    if not gone and not whole and not partial:
        return 0

    if gone:  # 1. the index, before any file
        store._ids.append([Line(drop=rid) for _, rid in gone])
        batch.logged = True
        batch.drops.update(rid for _, rid in gone)
    for name in whole:  # 2. the days
        store._days.pop(name, None)
        store._entries.pop(name, None)
    _remove_days(root, whole)
    stamps: dict[str, str] = {}
    for name, loaded in partial.items():
        kept = living.get(name, set()) & keep
        if name not in store._entries:  # the kept items' entries, if saved
            found = store._read_entries(name, *day_sigs(root, name))
            if found is not None:
                store._entries[name] = found
        loaded.remove([rid for rid in loaded.items.docs if rid not in kept])
        store._update_entries(loaded, {})
        stamps[name] = index_stamp(root, name)
    if batch.logged:
        store._ids.commit()  # 3. the batch is complete
    # derived: the text index (whole days it finds gone by itself; see TextIndex.stale_days)
    if store._text.drop(rid for _, rid in gone):
        store._text.restamp(stamps)
    else:
        store._indexer.start()  # the index failed and is gone: make it again
    if gone:
        log.info("store %s: %d items before %s dropped (%d days)", root, len(gone), day, len(old))
    return len(gone)


def _remove_days(root: Path, days: Iterable[str]) -> None:
    """Remove the days' files: every items file first (the day is gone once its items
    file is), then the texts, then the entries."""
    days = list(days)
    if not days:
        return
    for folder, path_of in (
        (ITEMS, items_file),
        (TEXTS, text_file),
        (ENTRIES, entry_path),
    ):
        for name in days:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path_of(root, name))
        fsync_dir(root / folder)


def sweep(root: Path) -> None:
    """The writer, on open: remove text and entry files whose day has no items file (left
    by a crash while a day was removed or first written). A day whose items file was
    moved aside as corrupt keeps its text, for inspection."""
    try:
        items = set(os.listdir(root / ITEMS))
    except FileNotFoundError:
        return
    for folder in (TEXTS, ENTRIES):
        try:
            names = os.listdir(root / folder)
        except FileNotFoundError:
            continue
        for name in names:
            m = _DAY_NAME.fullmatch(name)
            if m is None:
                continue
            stem = f"{m.group(1)}.json"
            if stem in items or any(n.startswith(stem + ".corrupt") for n in items):
                continue
            log.info("store %s: removing %s/%s, whose day is gone", root, folder, name)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(root / folder / name)


def prune_texts(day: Day) -> bool:
    """Drop the texts of items no longer in the day's items file (a crash between a
    rewritten items file and its text file). Returns whether the text file changed."""
    items, texts = day.items.docs, day.texts
    if all(rid in items for rid in texts.docs):
        return False
    texts.flush(lambda rid: rid in items)
    return True
