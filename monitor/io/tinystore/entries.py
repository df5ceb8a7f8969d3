"""Entry files, entries/DAY.msgpack: a day's items as `Entry`s for the timeline, with their
index. Each names the items and text files it was made from (mtime, size); one that does
not match them, or was made for another `ENTRY_FORMAT`, is made again from them."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import mmap
import os
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from monitor.core.entries import entry_of, search_text
from monitor.core.index import Part, build_parts, decode_parts, encode_parts
from monitor.io.tinystore.days import Day, day_sigs
from monitor.io.tinystore.files import DECODE_ERRORS, ENTRIES, Sig, no_gc, sig, write_atomic
from monitor.model import ANNOTATOR, Entry, Item

log = logging.getLogger(__name__)


class EntryFile(msgspec.Struct, array_like=True):
    """entries/DAY.msgpack: the entries of every record in items/DAY.json, newest first,
    the items and text files they were made from, and the index of the entries
    (`core.index.Part`; absent from files written before it, then made on load)."""

    format: str
    items: Sig | None
    text: Sig | None
    rows: msgspec.Raw  # list[Entry], decoded only once the header matches
    index: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # encode_parts; empty: none
    check: bytes = b""  # `_check` of rows and index (absent from older files)


def _check(rows: msgspec.Raw, index: msgspec.Raw) -> bytes:
    """A digest of an entry file's rows and index: a byte garbled in them, under a header
    that still matches, is found on load and the file made again."""
    h = hashlib.blake2b(digest_size=16)
    h.update(memoryview(rows))
    h.update(memoryview(index))
    return h.digest()


_ENTRY_FILE = msgspec.msgpack.Decoder(EntryFile)
_ENTRY_ROWS = msgspec.msgpack.Decoder(list[Entry])


def _entry_format() -> str:
    """What entry files depend on: the fields of Entry, what search_text makes of a
    sample and the annotation's version (an entry says whether its item's actors are
    current). A file of another format is rebuilt, so changing any needs no migration."""
    when = datetime(2000, 1, 1, tzinfo=UTC)
    sample = Item(
        id="x",
        title="Les États-Unis, l'Ukraine : « cœur » Œuvre Straße ﬁn — O'Neil",
        url=None,
        sources=("Le Monde – International", "BBC"),
        published=when,
        published_raw=None,
        date_flag=None,
        language=None,
        summary="Путин, 北京, İstanbul, 3,5 %, naïve_x ǅ 𝔘 e\u0301 x-y-z",
        first_seen=when,
        text="abc déf " * 200,
    )
    digest = hashlib.blake2b(search_text(sample).encode(), digest_size=8).hexdigest()
    return f"2:{','.join(Entry.__struct_fields__)}:{digest}:{ANNOTATOR}"


ENTRY_FORMAT = _entry_format()


def _newest(entry: Entry) -> tuple[datetime, str]:
    """Sort key, used with reverse=True: newest first, then by id, as `items()` does."""
    return entry.published, entry.id


class DayEntries:
    """The entries of one day: `all` for every record of its items file, newest first,
    made from the items and text files with these signatures, and `parts`, their index
    (parts, made on first use when not given: `indexed` says whether they were); `rows` is
    `all` without the copies that moved items left behind (None until computed), and
    `rows_parts` its index when it differs."""

    __slots__ = ("_parts", "all", "indexed", "items", "rows", "rows_parts", "text")

    def __init__(
        self,
        items: Sig | None,
        text: Sig | None,
        rows: list[Entry],
        parts: list[Part] | None = None,
    ) -> None:
        self.items = items
        self.text = text
        self.all = rows
        self._parts = parts
        self.indexed = parts is not None
        self.rows: list[Entry] | None = None
        self.rows_parts: list[Part] | None = None

    @property
    def parts(self) -> list[Part]:
        if self._parts is None:
            self._parts = build_parts(self.all)
        return self._parts

    def live_rows(self, day: str, committed: dict[str, str]) -> list[Entry]:
        """`rows`: the entries of the items that live in `day` (`committed`: id -> day)."""
        if self.rows is None:
            rows = [e for e in self.all if committed.get(e.id) == day]
            self.rows = self.all if len(rows) == len(self.all) else rows
            self.rows_parts = None
        return self.rows

    def live_parts(self, day: str, committed: dict[str, str]) -> list[Part]:
        """The index of `live_rows`."""
        rows = self.live_rows(day, committed)
        if rows is self.all:
            return self.parts
        if self.rows_parts is None:
            self.rows_parts = build_parts(rows)
        return self.rows_parts


def entry_path(root: Path, day: str) -> Path:
    return root / ENTRIES / f"{day}.msgpack"


def _decode(
    data: mmap.mmap, items: Sig | None, text: Sig | None
) -> tuple[list[Entry], list[Part] | None] | str | None:
    """An entry file's rows and index if it was made from files with these signatures,
    else None; why it does not parse if it does not. An index that does not fit the rows
    is left out (None), to be made again."""
    try:
        head = _ENTRY_FILE.decode(data)
        if head.format != ENTRY_FORMAT or head.items != items or head.text != text:
            return None
        if head.check and head.check != _check(head.rows, head.index):
            return "its rows or index do not match their digest"
        with no_gc():
            rows = _ENTRY_ROWS.decode(head.rows)
    except DECODE_ERRORS as exc:
        return str(exc)
    parts = None
    if head.index:
        try:
            parts = decode_parts(head.index)
        except ValueError:
            parts = None
        if parts is not None and sum(p.size for p in parts) != len(rows):
            parts = None
    return rows, parts


def read_entry_file(root: Path, day: str, items: Sig | None, text: Sig | None) -> DayEntries | None:
    """The day's entry file, if it was made from files with these signatures."""
    path = entry_path(root, day)
    try:
        with open(path, "rb") as f:
            # mapped, not read: decoded straight from the page cache, no copy
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        return None
    except ValueError:  # empty
        data = None
    try:
        found = _decode(data, items, text) if data is not None else "empty file"
    finally:
        if data is not None:
            with contextlib.suppress(BufferError):  # still in use: closed when collected
                data.close()
    if isinstance(found, str):
        log.info("store %s: %s does not parse; rebuilding it (%s)", root, path.name, found)
        return None
    if found is None:
        return None
    return DayEntries(items, text, *found)


def write_entry_file(root: Path, day: str, entries: DayEntries) -> None:
    rows = msgspec.Raw(msgspec.msgpack.encode(entries.all))
    index = msgspec.Raw(encode_parts(entries.parts))
    head = EntryFile(ENTRY_FORMAT, entries.items, entries.text, rows, index, _check(rows, index))
    # not fsynced: a file lost or cut short by a power cut is found out and made again
    write_atomic(entry_path(root, day), msgspec.msgpack.encode(head), durable=False)


def entry_file_stale(root: Path, day: str) -> bool:
    """Whether the day's entry file is missing or older than its items or text file. Only
    mtimes: the exact check is done on load."""
    try:
        made = os.stat(entry_path(root, day)).st_mtime_ns
    except FileNotFoundError:
        return True
    items, text = day_sigs(root, day)
    return made < max(items[0] if items else 0, text[0] if text else 0)


def build_entries(day: Day) -> DayEntries:
    """The day's entries made from its items and text files (slow: reads the text)."""
    texts = day.texts  # loads the text file, so that its stamp is known
    rows = [entry_of(it) for rec in day.items.records() if (it := day.item(rec)) is not None]
    rows.sort(key=_newest, reverse=True)
    return DayEntries(sig(day.items.storage.stamp), sig(texts.storage.stamp), rows)


def updated_entries(
    root: Path, day: Day, old: DayEntries | None, changed: dict[str, Item]
) -> DayEntries:
    """After a day's files were written: its entries, made again only for `changed` items,
    the others taken from `old`."""
    known = {e.id: e for e in old.all} if old is not None else {}
    rows = []
    for rid in day.items.docs:
        item = changed.get(rid)
        entry = entry_of(item) if item is not None else known.get(rid)
        if entry is None:  # not in the entry file: made from the record
            rec = day.items.get(rid)
            made = day.item(rec) if rec is not None else None
            if made is None:
                continue  # no item (set aside)
            entry = entry_of(made)
        rows.append(entry)
    rows.sort(key=_newest, reverse=True)
    return DayEntries(*day_sigs(root, day.name), rows)
