"""What a damaged items file still holds: every record that can be read from the file
itself, and, for the others, what the day's entry file remembers of them.

A truncated or garbled items/DAY.json must not lose the day's intact records. The writer
moves the damaged file aside (it is kept) and writes the salvaged records in its place
(`TinyStore._corrupt`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec

from monitor.io.tinystore.entries import entry_path
from monitor.io.tinystore.files import Record, encode_tables, write_atomic
from monitor.io.tinystore.idlog import IdLog
from monitor.model import Actor, Entry, Item

# The start of one document of a TinyDB table: "12":{ (a document id, then its object)
_DOC = re.compile(r'"\d+":\{')
_BAD = (KeyError, ValueError, TypeError, AttributeError, IndexError, OverflowError)


class _Head(msgspec.Struct, array_like=True):
    """The first fields of an entry file (entries.EntryFile), whatever its format."""

    format: str
    items: object
    text: object
    rows: msgspec.Raw


@dataclass(frozen=True, slots=True)
class Salvage:
    """The records saved from a damaged items file: `from_file` read from it whole,
    `from_entries` made again from the entry file (no summary, no full-text fields),
    and the ids of `lost`, known from the entry file or the id index and found in neither."""

    records: list[Record]
    from_file: int
    from_entries: int
    lost: list[str]

    def write(self, path: Path, table: str = "items") -> None:
        """Put the saved records where the damaged file was (moved aside before)."""
        if self.records:
            docs = {str(n): rec for n, rec in enumerate(self.records, 1)}
            write_atomic(path, encode_tables({table: docs}))

    def words(self, name: str, what: str = "items") -> str:
        """What happened, for the analyst."""
        whence = (
            f" ({self.from_file} read from it, {self.from_entries} from the day's entry file)"
            if what == "items"
            else ""
        )
        lost = f", {len(self.lost)} lost" if what == "items" else ""
        return (
            f"{name} was damaged: {len(self.records)} {what} saved{whence}{lost};"
            " the damaged file is kept beside it (.corrupt)"
        )


def records_in(raw: bytes) -> list[Record]:
    """Every document of a damaged TinyDB file that still decodes whole, with an id."""
    text = raw.decode("utf-8", errors="replace")
    decoder = json.JSONDecoder()
    out: list[Record] = []
    pos = 0
    while (m := _DOC.search(text, pos)) is not None:
        try:
            doc, end = decoder.raw_decode(text, m.end() - 1)
        except ValueError:
            pos = m.end()
            continue
        if isinstance(doc, dict) and isinstance(doc.get("id"), str) and doc["id"]:
            out.append(doc)
        pos = end
    return out


def entries_of(root: Path, day: str) -> list[Entry]:
    """The day's entry file's rows, whatever files it was made from; none if it does not
    decode."""
    try:
        data = entry_path(root, day).read_bytes()
        head = msgspec.msgpack.decode(data, type=_Head)
        return msgspec.msgpack.decode(head.rows, type=list[Entry])
    except (OSError, UnicodeDecodeError, msgspec.DecodeError):
        return []


def item_of(entry: Entry, keys: Sequence[str]) -> Item:
    """An item made again from its entry: what the timeline showed of it, its identity
    keys from the id index; to be annotated again."""
    actors: tuple[Actor, ...] = ()
    if len(entry.kinds) == len(entry.actors):  # older entry files have no kinds: none then
        counts = entry.mentions if len(entry.mentions) == len(entry.actors) else None
        actors = tuple(
            Actor(name, kind, counts[i] if counts else 0)
            for i, (name, kind) in enumerate(zip(entry.actors, entry.kinds, strict=True))
        )
    return Item(
        id=entry.id,
        title=entry.title,
        url=entry.url,
        sources=entry.sources,
        published=entry.published,
        published_raw=None,
        date_flag=entry.date_flag,
        language=entry.language,
        summary="",
        first_seen=entry.first_seen,
        keys=tuple(keys),
        actors=actors,
        annotated=False,
        text_status=entry.text_status,
        text_error=entry.text_error,
    )


def salvage(
    raw: bytes,
    entries: Sequence[Entry],
    known: Sequence[str],
    keys_of: Mapping[str, Sequence[str]],
) -> Salvage:
    """The records to write in place of a damaged items file: those read from `raw`,
    then those only `entries` hold. `known`: the ids the id index puts in that day."""
    records: list[Record] = []
    seen: set[str] = set()
    for rec in records_in(raw):
        try:
            Item.from_record(rec)
        except _BAD:
            continue  # not an item: left in the damaged file, which is kept
        if rec["id"] not in seen:
            seen.add(rec["id"])
            records.append(rec)
    from_file = len(records)
    for entry in entries:
        if entry.id not in seen:
            seen.add(entry.id)
            records.append(item_of(entry, keys_of.get(entry.id, ())).to_record())
    lost = sorted(set(known) - seen)
    return Salvage(records, from_file, len(records) - from_file, lost)


def salvage_day(path: Path, ids: IdLog) -> Salvage:
    """What can be saved of the damaged items file `path` (items/DAY.json): its own
    readable records, then the day's entry file's, with their keys from the id index."""
    day = path.name.removesuffix(".json")
    try:
        raw = path.read_bytes()
    except OSError:
        raw = b""
    known = [rid for rid, d in ids.id_day.items() if d == day]
    wanted = set(known)
    keys_of: dict[str, list[str]] = {}
    for key, rid in ids.key_id.items():
        if rid in wanted:
            keys_of.setdefault(rid, []).append(key)
    return salvage(raw, entries_of(path.parent.parent, day), known, keys_of)


def salvage_texts(path: Path) -> Salvage:
    """What can be saved of a damaged text file (text/DAY.json): its records that still
    decode whole. The others' pages are fetched again only if asked (`R`)."""
    try:
        raw = path.read_bytes()
    except OSError:
        raw = b""
    kept = [r for r in records_in(raw) if isinstance(r.get("text"), str)]
    return Salvage(kept, len(kept), 0, [])
