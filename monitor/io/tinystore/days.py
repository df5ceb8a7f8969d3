"""Days: the items of one UTC day of `published` in items/DAY.json and, beside them, their
full texts in text/DAY.json."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tinydb.table import Table as DbTable

from monitor.io.tinystore.files import (
    ITEMS,
    TEXTS,
    CorruptFile,
    OnCorrupt,
    Record,
    Sig,
    file_stamp,
    open_db,
    replace_docs,
    sig,
)
from monitor.model import Item

OnBad = Callable[[Path, Record, str], None]  # a record that is no item, and why
# What decoding a record that is valid JSON but no item raises
_BAD = (KeyError, ValueError, TypeError, AttributeError, IndexError, OverflowError)

_DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.json")


def day_of(moment: datetime) -> str:
    """The day of a moment: its UTC date."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).date().isoformat()
    except OverflowError:
        return moment.date().isoformat()


def day_start(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)


def aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def items_file(root: Path, day: str) -> Path:
    return root / ITEMS / f"{day}.json"


def text_file(root: Path, day: str) -> Path:
    return root / TEXTS / f"{day}.json"


def day_files(root: Path) -> list[str]:
    """Stored days, newest first."""
    try:
        names = os.listdir(root / ITEMS)
    except FileNotFoundError:
        return []
    days = [m.group(1) for name in names if (m := _DAY_FILE.fullmatch(name))]
    return sorted(days, reverse=True)


def day_sigs(root: Path, day: str) -> tuple[Sig | None, Sig | None]:
    """The signatures of the day's items and text files as they are now."""
    return sig(file_stamp(items_file(root, day))), sig(file_stamp(text_file(root, day)))


def index_stamp(root: Path, day: str) -> str:
    """The day's files' signatures, as the text index records them."""
    items, text = day_sigs(root, day)
    return f"{items}|{text}"


def _untracked(rec: Record) -> Record:
    """`rec` with tuples for its lists: records stay in memory with their day, and tuples
    of plain values drop out of the garbage collector's sight, lists never do (a day of
    25,000 items is 150,000 lists that every full collection would walk)."""

    def tup(value: Any) -> Any:
        if type(value) is list:
            return tuple(tup(v) for v in value)
        return value

    return {k: tup(v) for k, v in rec.items()}


class Table:
    """One TinyDB file holding one table, with a map from record key to doc id and the
    changes not yet written."""

    def __init__(
        self,
        path: Path,
        name: str,
        readonly: bool,
        on_corrupt: OnCorrupt,
        on_bad: OnBad,
        key: str = "id",
    ) -> None:
        self.key = key
        self.db, self.storage = open_db(path, readonly)
        self.table: DbTable = self.db.table(name)
        self.pending: dict[str, Record] = {}
        self.docs: dict[str, int] = {}
        self.keyless: list[int] = []  # doc ids of documents without a key (no item)
        try:
            self._index(path, on_bad)
        except CorruptFile as exc:
            seen = self.storage.stamp
            on_corrupt(path, exc)
            self.docs = {}
            if file_stamp(path) not in (None, seen):  # the writer put what it saved there
                self.db, self.storage = open_db(path, readonly)
                self.table = self.db.table(name)
                with contextlib.suppress(CorruptFile):
                    self._index(path, on_bad)
                    return
                self.docs = {}
            self.storage.reset()

    def _index(self, path: Path, on_bad: OnBad) -> None:
        key = self.key
        for doc in self.table:
            rid = doc.get(key)
            if isinstance(rid, str) and rid:
                self.docs[rid] = doc.doc_id
            else:  # no key: unreachable, and no item
                self.keyless.append(doc.doc_id)
                on_bad(path, dict(doc), f"no {key}")

    def get(self, rid: str) -> Record | None:
        rec = self.pending.get(rid)
        if rec is not None:
            return rec
        doc_id = self.docs.get(rid)
        if doc_id is None:
            return None
        doc = self.table.get(doc_id=doc_id)
        return dict(doc) if doc is not None else None

    def records(self) -> Iterator[Record]:
        """The records that have a key (see `__init__`)."""
        key = self.key
        for doc in self.table:
            if isinstance(doc.get(key), str):
                yield doc

    def flush(self, keep: Callable[[str], bool]) -> None:
        """Apply the pending changes, drop records `keep` rejects, write the file once."""
        key, docs, pending = self.key, self.docs, self.pending
        updates = {rid: rec for rid, rec in pending.items() if rid in docs}
        inserts = [rec for rid, rec in pending.items() if rid not in docs]
        stale = [rid for rid in docs if rid not in pending and not keep(rid)]
        if updates:
            replace_docs(self.table, updates, key, [docs[rid] for rid in updates])
        if stale:
            self.table.remove(doc_ids=[docs.pop(rid) for rid in stale])
        if inserts:
            ids = self.table.insert_multiple(inserts)
            docs.update(zip((rec[key] for rec in inserts), ids, strict=True))
        pending.clear()
        self.storage.flush()


class Day:
    """The items of one UTC day (`name`, YYYY-MM-DD) and, loaded on first use, their texts."""

    def __init__(
        self, root: Path, name: str, readonly: bool, on_corrupt: OnCorrupt, on_bad: OnBad
    ) -> None:
        self.name = name
        self._text_path = text_file(root, name)
        self._readonly = readonly
        self._on_corrupt = on_corrupt
        self._on_bad = on_bad
        self.items = Table(items_file(root, name), "items", readonly, on_corrupt, on_bad)
        self._texts: Table | None = None
        self.changed: dict[str, Item] = {}  # the items of the pending records

    @property
    def texts(self) -> Table:
        if self._texts is None:
            self._texts = Table(
                self._text_path, "text", self._readonly, self._on_corrupt, self._on_bad
            )
        return self._texts

    def text(self, item_id: str) -> str | None:
        rec = self.texts.get(item_id)
        text = rec.get("text") if rec is not None else None
        return text if isinstance(text, str) else None

    def item(self, rec: Record) -> Item | None:
        """The record's item; None, reported, for a record that is no item."""
        try:
            return Item.from_record({**rec, "text": self.text(rec["id"])})
        except _BAD as exc:
            self._on_bad(self.items.storage.path, dict(rec), f"bad record: {exc!r}"[:300])
            return None

    def read(
        self, since: datetime | None, until: datetime | None, committed: dict[str, str]
    ) -> list[Item]:
        """The items with `published` in [since, until), newest first, without the copies
        moved items left behind (`committed`: id -> day, from the index)."""
        day = self.name
        found: list[Item] = []
        for rec in self.items.records():
            if committed.get(rec["id"], day) != day:
                continue  # a copy left behind by a move; the item lives in another day
            item = self.item(rec)
            if item is None:
                continue
            published = item.published
            if (since is None or published >= since) and (until is None or published < until):
                found.append(item)
        found.sort(key=lambda it: (it.published, it.id), reverse=True)
        return found

    def put(self, item: Item) -> None:
        rec = _untracked(item.to_record())
        text = rec.pop("text", None)
        self.items.pending[item.id] = rec
        self.changed[item.id] = item
        if text is not None and self.text(item.id) != text:
            self.texts.pending[item.id] = {"id": item.id, "text": text}

    def discard(self, item_id: str) -> None:
        """Forget an unwritten change (the item moved to another day in the same batch)."""
        self.items.pending.pop(item_id, None)
        self.changed.pop(item_id, None)
        if self._texts is not None:
            self._texts.pending.pop(item_id, None)

    def remove(self, ids: Iterable[str]) -> None:
        """Drop these records from the day's files: items first, then their texts (a crash
        in between leaves texts no item refers to, which `retention.prune_texts` removes
        when a writer opens the store)."""
        gone = set(ids)
        if not gone:
            return
        self.items.flush(lambda rid: rid not in gone)
        texts = self.texts
        if any(rid in texts.docs for rid in gone):
            texts.flush(lambda rid: rid not in gone)

    @property
    def dirty(self) -> bool:
        return bool(self.items.pending or (self._texts is not None and self._texts.pending))

    def flush(self, keep: Callable[[str], bool]) -> None:
        """Write text first, then items: a crash in between leaves at worst an unused text."""
        items = self.items
        if self._texts is not None and self._texts.pending:
            self._texts.flush(lambda rid: rid in items.pending or (rid in items.docs and keep(rid)))
        if items.pending:
            items.flush(keep)
        self.changed.clear()
