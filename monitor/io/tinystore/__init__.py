"""The default store: a directory of small TinyDB files, one per UTC day of `published`.

    meta.json             {"schema": 1} and the source states
    ids.log               append-only identity index: keys -> item id -> day
    items/YYYY-MM-DD.json item metadata of one day
    text/YYYY-MM-DD.json  full article text of the same items
    entries/YYYY-MM-DD.msgpack  the day's items as `Entry`s, for the timeline
    lock, owner.json      the writer lock and who holds it
    quarantine.jsonl      copies of records that are valid JSON but no item, with why

A write touches only the days it changes, so its cost does not grow with history.
Write order (the crash-safety argument, see docs/storage.md): index lines are appended
and fsynced first, then each touched day is replaced atomically (text, items, entries),
then meta.json, then a commit line closes the batch. On open, index lines after the
last commit line are checked against the day files and corrected. An entry file names
the items and text files it was made from (mtime, size); one that does not match them
is rebuilt from them.

The modules: `files` (names, atomic writes, TinyDB files), `days` (a day's items and
texts), `idlog` (ids.log), `entries` (entry files), `meta` (meta.json), `lock` (the writer
lock and owner.json), `quarantine` (records that are no item), `retention` (dropping old
items in the same write order), `batch` (what one write changes), `views` (the entries
in memory), `salvage`, `repair` (check and repair) and `store` (TinyStore, which ties
them together).
"""

from monitor.io.tinystore.files import ENTRIES, INDEX, ITEMS, LOCK, META, OWNER, TEXTS
from monitor.io.tinystore.quarantine import QUARANTINE
from monitor.io.tinystore.store import CACHE_DAYS, TinyStore

__all__ = [
    "CACHE_DAYS",
    "ENTRIES",
    "INDEX",
    "ITEMS",
    "LOCK",
    "META",
    "OWNER",
    "QUARANTINE",
    "TEXTS",
    "TinyStore",
]
