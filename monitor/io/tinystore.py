"""The default store: a directory of small TinyDB files, one per UTC day of `published`.

    meta.json             {"schema": 1} and the source states
    ids.log               append-only identity index: keys -> item id -> day
    items/YYYY-MM-DD.json item metadata of one day
    text/YYYY-MM-DD.json  full article text of the same items
    entries/YYYY-MM-DD.msgpack  the day's items as `Entry`s, for the timeline
    lock, owner.json      the writer lock and who holds it

A write touches only the days it changes, so its cost does not grow with history.
Write order (the crash-safety argument, see docs/storage.md): index lines are appended
and fsynced first, then each touched day is replaced atomically (text, items, entries),
then meta.json, then a commit line closes the batch. On open, index lines after the
last commit line are checked against the day files and corrected. An entry file names
the items and text files it was made from (mtime, size); one that does not match them
is rebuilt from them.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import mmap
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import msgspec
from filelock import FileLock, Timeout
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from monitor.core.dedupe import merge
from monitor.core.entries import SEARCH_TEXT_CHARS, entry_of, search_text
from monitor.core.index import EntryIndex, Part, build_parts, decode_parts, encode_parts
from monitor.io.store import Change, StoreError, StoreLocked
from monitor.model import SCHEMA_VERSION, Entry, Item, Outcome, SourceState

log = logging.getLogger(__name__)

META = "meta.json"
INDEX = "ids.log"
ITEMS = "items"
TEXTS = "text"
ENTRIES = "entries"
LOCK = "lock"
OWNER = "owner.json"
CACHE_DAYS = 8  # days kept in memory

_OURS = {META, INDEX, ITEMS, TEXTS, ENTRIES, LOCK, OWNER}
_DAY_FILE = re.compile(r"(\d{4}-\d{2}-\d{2})\.json")
_TEMP = re.compile(r"\..+\.\d+\.tmp")

Record = dict[str, Any]
Tables = dict[str, dict[str, Record]]
Stamp = tuple[int, int, int]
Sig = tuple[int, int]  # mtime_ns, size: what an entry file was made from


class Line(msgspec.Struct, omit_defaults=True):
    """One ids.log line: `id` lives in `day` and `keys` resolve to it; or `drop`: the item
    is not stored; or `commit`: the batch before this line is complete."""

    id: str | None = None
    day: str | None = None
    keys: list[str] = msgspec.field(default_factory=list)
    drop: str | None = None
    commit: str | None = None


class EntryFile(msgspec.Struct, array_like=True):
    """entries/DAY.msgpack: the entries of every record in items/DAY.json, newest first,
    the items and text files they were made from, and the index of the entries
    (`core.index.Part`; absent from files written before it, then made on load)."""

    format: str
    items: Sig | None
    text: Sig | None
    rows: msgspec.Raw  # list[Entry], decoded only once the header matches
    index: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)  # encode_parts; empty: none


_ENTRY_FILE = msgspec.msgpack.Decoder(EntryFile)
_ENTRY_ROWS = msgspec.msgpack.Decoder(list[Entry])


# --- files -------------------------------------------------------------------------------


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Replace `path` with `data`: temp file beside it, fsync, rename, fsync the folder.
    Without `durable`, no fsync: for files that are checked on read and can be made again."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable:
        fsync_dir(path.parent)


def _stamp(st: os.stat_result) -> Stamp:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _file_stamp(path: Path) -> Stamp | None:
    try:
        return _stamp(os.stat(path))
    except FileNotFoundError:
        return None


def _sig(stamp: Stamp | None) -> Sig | None:
    return None if stamp is None else (stamp[1], stamp[2])


class CorruptFile(Exception):
    """A store file that does not parse."""


def _encode_tables(data: Tables, chunk: int = 500) -> bytes:
    """`msgspec.json.encode(data)`, `chunk` documents at a time: one call for a day of
    25,000 records held the GIL, and so the dashboard's loop, for 100 ms."""
    encode = msgspec.json.encode
    out = [b"{"]
    for t, (name, docs) in enumerate(data.items()):
        out += [b"," if t else b"", encode(name), b":{"]
        pairs = list(docs.items())
        for i in range(0, len(pairs), chunk):
            out += [b"," if i else b"", encode(dict(pairs[i : i + chunk]))[1:-1]]
        out.append(b"}")
    out.append(b"}")
    return b"".join(out)


class FileStorage(Storage):
    """A TinyDB storage that reads its JSON file once and writes it only on `flush`, atomically.

    TinyDB rewrites the whole storage on every table operation; keeping the data in memory
    turns a batch of operations into one file write.
    """

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self.stamp: Stamp | None = None
        self._data: Tables | None = None
        self._loaded = False

    def read(self) -> Tables | None:
        if not self._loaded:
            self._data = self._load()
            self._loaded = True
        return self._data

    def write(self, data: Tables) -> None:
        if self.readonly:
            raise StoreError("store is open read-only")
        self._data = data
        self._loaded = True

    def flush(self) -> None:
        if self.readonly:
            raise StoreError("store is open read-only")
        write_atomic(self.path, _encode_tables(self._data or {}))
        self.stamp = _file_stamp(self.path)

    def reset(self) -> None:
        """Forget the file's content: the table reads as empty."""
        self._data = None
        self._loaded = True

    def _load(self) -> Tables | None:
        try:
            with open(self.path, "rb") as f:
                self.stamp = _stamp(os.fstat(f.fileno()))
                raw = f.read()
        except FileNotFoundError:
            self.stamp = None
            return None
        try:
            return msgspec.json.decode(raw, type=Tables)
        except msgspec.DecodeError as exc:
            raise CorruptFile(f"{self.path.name}: {exc}") from exc


def _open_db(path: Path, readonly: bool) -> tuple[TinyDB, FileStorage]:
    db = TinyDB(path, storage=FileStorage, readonly=readonly)
    return db, cast(FileStorage, db.storage)


class _Table:
    """One TinyDB file holding one table, with a map from record key to doc id and the
    changes not yet written."""

    def __init__(
        self,
        path: Path,
        name: str,
        readonly: bool,
        on_corrupt: Callable[[Path, CorruptFile], None],
        key: str = "id",
    ) -> None:
        self.key = key
        self.db, self.storage = _open_db(path, readonly)
        self.table: Table = self.db.table(name)
        self.pending: dict[str, Record] = {}
        try:
            self.docs: dict[str, int] = {doc[key]: doc.doc_id for doc in self.table}
        except CorruptFile as exc:
            on_corrupt(path, exc)
            self.storage.reset()
            self.docs = {}

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
        yield from self.table

    def flush(self, keep: Callable[[str], bool]) -> None:
        """Apply the pending changes, drop records `keep` rejects, write the file once."""
        key, docs, pending = self.key, self.docs, self.pending
        updates = {rid: rec for rid, rec in pending.items() if rid in docs}
        inserts = [rec for rid, rec in pending.items() if rid not in docs]
        stale = [rid for rid in docs if rid not in pending and not keep(rid)]
        if updates:

            def replace(doc: MutableMapping[str, Any]) -> None:
                new = updates[doc[key]]
                doc.clear()
                doc.update(new)

            self.table.update(replace, doc_ids=[docs[rid] for rid in updates])
        if stale:
            self.table.remove(doc_ids=[docs.pop(rid) for rid in stale])
        if inserts:
            ids = self.table.insert_multiple(inserts)
            docs.update(zip((rec[key] for rec in inserts), ids, strict=True))
        pending.clear()
        self.storage.flush()


class _Day:
    """One partition: the items of one UTC day and, loaded on first use, their texts."""

    def __init__(
        self, root: Path, day: str, readonly: bool, on_corrupt: Callable[[Path, CorruptFile], None]
    ) -> None:
        self.day = day
        self._text_path = root / TEXTS / f"{day}.json"
        self._readonly = readonly
        self._on_corrupt = on_corrupt
        self.items = _Table(root / ITEMS / f"{day}.json", "items", readonly, on_corrupt)
        self._texts: _Table | None = None
        self.changed: dict[str, Item] = {}  # the items of the pending records

    @property
    def texts(self) -> _Table:
        if self._texts is None:
            self._texts = _Table(self._text_path, "text", self._readonly, self._on_corrupt)
        return self._texts

    def text(self, item_id: str) -> str | None:
        rec = self.texts.get(item_id)
        return rec["text"] if rec is not None else None

    def item(self, rec: Record) -> Item:
        return Item.from_record({**rec, "text": self.text(rec["id"])})

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


# --- helpers -----------------------------------------------------------------------------


def _untracked(rec: Record) -> Record:
    """`rec` with tuples for its lists: records stay in memory with their day, and tuples
    of plain values drop out of the garbage collector's sight, lists never do (a day of
    25,000 items is 150,000 lists that every full collection would walk)."""

    def tup(value: Any) -> Any:
        if type(value) is list:
            return tuple(tup(v) for v in value)
        return value

    return {k: tup(v) for k, v in rec.items()}


def day_of(moment: datetime) -> str:
    """The partition of a moment: its UTC date."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).date().isoformat()
    except OverflowError:
        return moment.date().isoformat()


def _day_start(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _decode_entries(
    data: mmap.mmap, items: Sig | None, text: Sig | None
) -> tuple[list[Entry], list[Part] | None] | str | None:
    """An entry file's rows and index if it was made from files with these signatures,
    else None; why it does not parse if it does not. An index that does not fit the rows
    is left out (None), to be made again."""
    try:
        head = _ENTRY_FILE.decode(data)
        if head.format != ENTRY_FORMAT or head.items != items or head.text != text:
            return None
        with _no_gc():
            rows = _ENTRY_ROWS.decode(head.rows)
    except msgspec.DecodeError as exc:
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


def _newest(entry: Entry) -> tuple[datetime, str]:
    """Sort key, used with reverse=True: newest first, then by id, as `items()` does."""
    return entry.published, entry.id


def _entry_format() -> str:
    """What entry files depend on: the fields of Entry and what search_text makes of a
    sample. A file of another format is rebuilt, so changing either needs no migration."""
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
        text="abc déf " * (SEARCH_TEXT_CHARS // 8 + 1),
    )
    digest = hashlib.blake2b(search_text(sample).encode(), digest_size=8).hexdigest()
    return f"1:{','.join(Entry.__struct_fields__)}:{SEARCH_TEXT_CHARS}:{digest}"


ENTRY_FORMAT = _entry_format()


class _Entries:
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


def _decode_lines(data: bytes) -> list[Line]:
    """Complete index lines; a line that does not parse is skipped."""
    if not data.strip():
        return []
    try:  # all at once as one JSON array: much faster than line by line
        return msgspec.json.decode(
            b"[" + data.rstrip(b"\n").replace(b"\n", b",") + b"]", type=list[Line]
        )
    except msgspec.DecodeError:
        pass
    out: list[Line] = []
    decoder = msgspec.json.Decoder(Line)
    for raw in data.splitlines():
        try:
            out.append(decoder.decode(raw))
        except msgspec.DecodeError:
            log.warning("ids.log: skipping a line that does not parse")
    return out


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _command(argv: Sequence[str]) -> str:
    if not argv:
        return "?"
    prog = os.path.basename(argv[0])
    if prog == "__main__.py":
        prog = os.path.basename(os.path.dirname(argv[0]))
    cmd = " ".join([prog, *argv[1:]])
    return cmd if len(cmd) <= 60 else cmd[:59] + "…"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Batch:
    """What one write changes, before it is committed."""

    def __init__(self) -> None:
        self.key_id: dict[str, str] = {}
        self.id_day: dict[str, str] = {}
        self.new_keys: dict[str, list[str]] = {}
        self.drops: set[str] = set()
        self.days: dict[str, _Day] = {}
        self.logged = False

    def assign(self, item_id: str, day: str, keys: Iterable[str], known: dict[str, str]) -> None:
        self.id_day[item_id] = day
        fresh = self.new_keys.setdefault(item_id, [])
        for k in keys:
            if known.get(k) != item_id and k not in fresh:
                fresh.append(k)
            self.key_id[k] = item_id


# --- the store ---------------------------------------------------------------------------


class TinyStore:
    """A `Store` in a folder of per-day TinyDB files. One writer at a time; readers never lock."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._mutex = threading.RLock()
        self._closed = False
        self._broken = False
        self._lock: FileLock | None = None
        self._log_fd: int | None = None
        self._log_pos = 0
        self._key_id: dict[str, str] = {}
        self._id_day: dict[str, str] = {}
        self._tail: dict[str, str | None] = {}  # uncommitted index lines: id -> day before
        self._reverted: dict[str, str] = {}  # tail lines undone at open (readers only)
        self._days: OrderedDict[str, _Day] = OrderedDict()
        self._entries: dict[str, _Entries] = {}  # by day; loaded by entries(), kept by writes
        self._entries_all = False  # the writer has every day's entries in _entries
        self._moved: set[str] = set()  # days whose items moved in or out since rows were made
        self._states: dict[str, SourceState] = {}
        self._meta: TinyDB | None = None
        self._meta_stamp: Stamp | None = None
        if readonly:
            self._open_reader()
        else:
            self._open_writer()

    # -- opening ----------------------------------------------------------------------

    def _open_writer(self) -> None:
        root = self.path
        if root.exists() and not root.is_dir():
            raise StoreError(f"store {root} is not a directory")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create store {root}: {exc}") from exc
        self._check_ours()
        lock = FileLock(root / LOCK, timeout=0, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            raise StoreLocked(self._in_use()) from None
        except OSError as exc:
            raise StoreError(f"cannot lock store {root}: {exc}") from exc
        self._lock = lock
        try:
            self._load_meta()
            self._remove_temps()
            write_atomic(
                root / OWNER,
                msgspec.json.encode({"pid": os.getpid(), "argv": sys.argv, "since": _now()}),
            )
            for sub in (ITEMS, TEXTS, ENTRIES):
                (root / sub).mkdir(exist_ok=True)
            fsync_dir(root)
            if self._meta_stamp is None:
                self._write_meta({})
            self._load_index()
            self._repair_entries()
        except BaseException:
            self._release()
            raise

    def _open_reader(self) -> None:
        if not self.path.exists():
            return  # nothing stored yet: an empty store
        if not self.path.is_dir():
            raise StoreError(f"store {self.path} is not a directory")
        self._check_ours()
        self._load_meta()
        self._load_index()

    def _check_ours(self) -> None:
        names = {p.name for p in self.path.iterdir()}
        if names and not names & _OURS:
            raise StoreError(f"{self.path} is not a monitor store (it holds other files)")

    def _in_use(self) -> str:
        try:
            owner = msgspec.json.decode((self.path / OWNER).read_bytes(), type=Record)
            since = datetime.fromisoformat(owner["since"]).astimezone(UTC)
            with contextlib.suppress(PermissionError):  # alive, someone else's
                os.kill(int(owner["pid"]), 0)  # a dead pid: the file is a dead writer's
            return (
                f"store {self.path} is in use by pid {owner['pid']} "
                f"({_command(owner.get('argv') or [])}, since {since:%Y-%m-%d %H:%M} UTC)"
            )
        except (OSError, msgspec.DecodeError, KeyError, TypeError, ValueError):
            return f"store {self.path} is in use by another process"

    def _remove_temps(self) -> None:
        """Temp files are only left by a writer that died; we hold the lock, so none is live."""
        for folder in (self.path, self.path / ITEMS, self.path / TEXTS, self.path / ENTRIES):
            with contextlib.suppress(FileNotFoundError):
                for entry in os.scandir(folder):
                    if _TEMP.fullmatch(entry.name):
                        log.info("removing stray temp file %s", entry.name)
                        os.unlink(entry.path)

    def _release(self) -> None:
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
        if self._lock is not None:
            with contextlib.suppress(OSError, msgspec.DecodeError):
                owner = msgspec.json.decode((self.path / OWNER).read_bytes(), type=Record)
                if owner.get("pid") == os.getpid():
                    (self.path / OWNER).unlink()
            self._lock.release()
            self._lock = None

    # -- meta.json ----------------------------------------------------------------------

    def _load_meta(self) -> None:
        path = self.path / META
        db, storage = _open_db(path, self.readonly)
        try:
            info = [dict(doc) for doc in db.table("info")]
            states = [dict(doc) for doc in db.table("states")]
        except CorruptFile as exc:
            self._corrupt(path, exc)
            storage.reset()
            if not self.readonly:
                storage.stamp = None  # moved aside: write a fresh one
            info, states = [], []
        schema = max((int(doc.get("schema", 1)) for doc in info), default=SCHEMA_VERSION)
        if schema > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema {schema}; this version of monitor reads "
                f"schema {SCHEMA_VERSION} at most"
            )
        self._meta = db
        self._meta_stamp = storage.stamp
        self._states = {}
        for rec in states:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                self._states[rec["name"]] = SourceState.from_record(rec)

    def _write_meta(self, changed: dict[str, SourceState]) -> None:
        assert self._meta is not None
        db = self._meta
        info = db.table("info")
        if len(info) == 0:
            info.insert({"schema": SCHEMA_VERSION})
        table = db.table("states")
        docs = {doc["name"]: doc.doc_id for doc in table}
        recs = {name: state.to_record() for name, state in changed.items()}
        updates = [docs[name] for name in recs if name in docs]
        if updates:

            def replace(doc: MutableMapping[str, Any]) -> None:
                new = recs[doc["name"]]
                doc.clear()
                doc.update(new)

            table.update(replace, doc_ids=updates)
        inserts = [rec for name, rec in recs.items() if name not in docs]
        if inserts:
            table.insert_multiple(inserts)
        storage = cast(FileStorage, db.storage)
        storage.flush()
        self._meta_stamp = storage.stamp
        self._states.update(changed)

    # -- the identity index -----------------------------------------------------------

    def _load_index(self) -> None:
        path = self.path / INDEX
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b""
        end = data.rfind(b"\n") + 1
        self._key_id, self._id_day, self._tail, self._reverted = {}, {}, {}, {}
        for loaded in self._entries.values():
            loaded.rows = None  # every day's members are checked again
        with _no_gc():  # many small objects, no cycles: collecting would only slow this down
            self._replay(_decode_lines(data[:end]))
        self._log_pos = end
        if self.readonly:
            self._verify_tail()
            return
        if end < len(data):
            log.warning("ids.log: dropping a torn last line")
            os.truncate(path, end)
        self._log_fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if not end and self._day_files():
            self._rebuild_index()
            return
        had_tail = bool(self._tail)
        fixes = self._verify_tail()
        if had_tail:
            self._append([*fixes, Line(commit=_now())])
        self._reverted.clear()

    def _replay(self, lines: Iterable[Line], moved: set[str] | None = None) -> None:
        """Apply index lines; add the days items moved in or out of to `moved`."""
        id_day, key_id, tail, reverted = self._id_day, self._key_id, self._tail, self._reverted
        for line in lines:
            rid = line.id
            if rid is not None and line.day is not None:
                before = id_day.get(rid)
                if rid not in tail:
                    tail[rid] = before
                id_day[rid] = line.day
                for k in line.keys:
                    key_id[k] = rid
                if reverted:
                    reverted.pop(rid, None)
                if moved is not None and before != line.day:
                    moved.add(line.day)
                    if before is not None:
                        moved.add(before)
            elif line.drop is not None:
                before = id_day.pop(line.drop, None)
                tail.pop(line.drop, None)
                reverted.pop(line.drop, None)
                if moved is not None and before is not None:
                    moved.add(before)
            elif line.commit is not None:
                # a writer finished the batch a reader saw unfinished
                if moved is not None:
                    for rid, day in reverted.items():
                        moved.add(day)
                        if rid in id_day:
                            moved.add(id_day[rid])
                id_day.update(reverted)
                reverted.clear()
                tail.clear()

    def _verify_tail(self) -> list[Line]:
        """Check the index lines of an unfinished batch against the day files.

        A line whose item is not in its day is undone: the item stays where it was before
        the batch, or is forgotten if it was new.
        """
        fixes: list[Line] = []
        for rid, before in self._tail.items():
            day = self._id_day.get(rid)
            if day is None or self._day(day).items.get(rid) is not None:
                continue
            if before is not None and self._day(before).items.get(rid) is not None:
                self._id_day[rid] = before
                fixes.append(Line(id=rid, day=before))
            else:
                del self._id_day[rid]
                fixes.append(Line(drop=rid))
            self._reverted[rid] = day
        self._tail.clear()
        return fixes

    def _rebuild_index(self) -> None:
        """ids.log is gone but days exist: index every stored item again."""
        log.warning("ids.log is missing; rebuilding it from the day files")
        best: dict[str, tuple[str, str, list[str]]] = {}  # id -> (changed, day, keys)
        for day in reversed(self._day_files()):
            for rec in self._day(day).items.records():
                changed = rec.get("updated_at") or rec.get("first_seen") or ""
                rid = rec["id"]
                if rid not in best or changed > best[rid][0]:
                    best[rid] = (changed, day, list(rec.get("keys", ())))
        lines = [Line(id=rid, day=day, keys=keys) for rid, (_, day, keys) in best.items()]
        self._append([*lines, Line(commit=_now())])
        self._replay(lines)
        self._tail.clear()

    def _append(self, lines: Sequence[Line]) -> None:
        assert self._log_fd is not None
        encode = msgspec.json.Encoder().encode
        data = b"".join(encode(line) + b"\n" for line in lines)
        view = memoryview(data)
        while view:
            view = view[os.write(self._log_fd, view) :]
        os.fsync(self._log_fd)

    def _refresh(self) -> None:
        """Readers: pick up what a writer appended to the index and meta since last time."""
        if not self.readonly:
            return
        path = self.path / INDEX
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:
            size = 0
        if size < self._log_pos:
            self._load_index()
        elif size > self._log_pos:
            with open(path, "rb") as f:
                f.seek(self._log_pos)
                chunk = f.read(size - self._log_pos)
            end = chunk.rfind(b"\n") + 1
            self._replay(_decode_lines(chunk[:end]), self._moved if self._entries else None)
            self._log_pos += end
        if _file_stamp(self.path / META) != self._meta_stamp and self.path.is_dir():
            self._load_meta()

    # -- days -------------------------------------------------------------------------

    def _corrupt(self, path: Path, exc: CorruptFile) -> None:
        """A file that does not parse. Readers skip it; the writer moves it aside and, for
        an items file, forgets its items (they return as new when a feed lists them again)."""
        if self.readonly:
            log.warning("store %s: %s does not parse; skipped (%s)", self.path, path.name, exc)
            return
        aside = path.with_name(f"{path.name}.corrupt")
        n = 1
        while aside.exists():
            n += 1
            aside = path.with_name(f"{path.name}.corrupt{n}")
        os.replace(path, aside)
        fsync_dir(path.parent)
        log.warning("store %s: %s does not parse; moved to %s (%s)", self.path, path, aside, exc)
        day = path.name.removesuffix(".json")
        if path.parent.name in (ITEMS, TEXTS):
            self._forget_entries(day)  # made from the file moved aside
        if path.parent.name == ITEMS:
            lost = [rid for rid, d in self._id_day.items() if d == day]
            if lost:
                self._append([Line(drop=rid) for rid in lost])
                for rid in lost:
                    del self._id_day[rid]

    def _day(self, day: str, batch: _Batch | None = None) -> _Day:
        if batch is not None and day in batch.days:
            return batch.days[day]
        part = self._days.get(day)
        if part is not None and self.readonly:
            path = self.path / ITEMS / f"{day}.json"
            if part.items.storage.stamp != _file_stamp(path):
                part = None
        if part is None:
            part = _Day(self.path, day, self.readonly, self._corrupt)
            self._days[day] = part
        self._days.move_to_end(day)
        while len(self._days) > CACHE_DAYS:
            self._days.popitem(last=False)
        return part

    def _pin(self, day: str, batch: _Batch) -> _Day:
        """The day, held by the batch until it is written."""
        part = self._day(day, batch)
        batch.days[day] = part
        self._days.pop(day, None)
        return part

    def _day_files(self) -> list[str]:
        """Stored days, newest first."""
        try:
            names = os.listdir(self.path / ITEMS)
        except FileNotFoundError:
            return []
        days = [m.group(1) for name in names if (m := _DAY_FILE.fullmatch(name))]
        return sorted(days, reverse=True)

    # -- entries ----------------------------------------------------------------------

    def _entry_path(self, day: str) -> Path:
        return self.path / ENTRIES / f"{day}.msgpack"

    def _sigs(self, day: str) -> tuple[Sig | None, Sig | None]:
        """The signatures of the day's items and text files as they are now."""
        return (
            _sig(_file_stamp(self.path / ITEMS / f"{day}.json")),
            _sig(_file_stamp(self.path / TEXTS / f"{day}.json")),
        )

    def _read_entries(self, day: str, items: Sig | None, text: Sig | None) -> _Entries | None:
        """The day's entry file, if it was made from files with these signatures."""
        path = self._entry_path(day)
        try:
            with open(path, "rb") as f:
                # mapped, not read: decoded straight from the page cache, no copy
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except FileNotFoundError:
            return None
        except ValueError:  # empty
            data = None
        try:
            found = _decode_entries(data, items, text) if data is not None else "empty file"
        finally:
            if data is not None:
                with contextlib.suppress(BufferError):  # still in use: closed when collected
                    data.close()
        if isinstance(found, str):
            log.info("store %s: %s does not parse; rebuilding it (%s)", self.path, path.name, found)
            return None
        if found is None:
            return None
        return _Entries(items, text, *found)

    def _build_entries(self, day: str) -> _Entries:
        """The day's entries made from its items and text files (slow: reads the text)."""
        part = self._days.get(day) if not self.readonly else None
        if part is None:  # not cached: an old day must not push recent ones out
            part = _Day(self.path, day, self.readonly, self._corrupt)
        texts = part.texts  # loads the text file, so that its stamp is known
        rows = [entry_of(part.item(rec)) for rec in part.items.records()]
        rows.sort(key=_newest, reverse=True)
        return _Entries(_sig(part.items.storage.stamp), _sig(texts.storage.stamp), rows)

    def _save_entries(self, day: str, entries: _Entries) -> None:
        rows = msgspec.Raw(msgspec.msgpack.encode(entries.all))
        index = msgspec.Raw(encode_parts(entries.parts))
        head = EntryFile(ENTRY_FORMAT, entries.items, entries.text, rows, index)
        # not fsynced: a file lost or cut short by a power cut is found out and made again
        write_atomic(self._entry_path(day), msgspec.msgpack.encode(head), durable=False)

    def _load_entries(self, day: str) -> _Entries:
        """The day's entries from its entry file, else rebuilt (and saved by the writer)."""
        items, text = self._sigs(day)
        found = self._read_entries(day, items, text)
        if found is None:
            found = self._build_entries(day)
        if not found.indexed and not self.readonly:  # new, or from before indexes
            self._save_entries(day, found)
        return found

    def _forget_entries(self, day: str) -> None:
        self._entries.pop(day, None)
        self._entries_all = False

    def _repair_entries(self) -> None:
        """Writer open: make the entry file of every day that lacks one or has one older
        than its items or text file (a store from before entry files, or a crash between
        the two). The exact check is done on load; this one only looks at mtimes."""
        stale = []
        for day in self._day_files():
            try:
                made = os.stat(self._entry_path(day)).st_mtime_ns
            except FileNotFoundError:
                stale.append(day)
                continue
            items, text = self._sigs(day)
            if made < max(items[0] if items else 0, text[0] if text else 0):
                stale.append(day)
        if stale:
            log.info("store %s: building the entry files of %d days", self.path, len(stale))
        for day in stale:
            self._save_entries(day, self._build_entries(day))

    def _sync_entries(self) -> None:
        """Bring `_entries` up to date with the files: every day, each read once."""
        if not self.readonly:
            if not self._entries_all:
                for day in self._day_files():
                    if day not in self._entries:
                        self._entries[day] = self._load_entries(day)
                self._entries_all = True
            return
        days = self._day_files()
        for day in self._entries.keys() - set(days):
            del self._entries[day]
        for day in days:
            known = self._entries.get(day)
            items, text = self._sigs(day)
            if known is not None and known.items == items and known.text == text:
                continue
            found = self._read_entries(day, items, text)
            if found is None:
                if known is not None and self._writing():
                    continue  # the writer is between this day's files: keep the last view
                found = self._build_entries(day)
            self._entries[day] = found

    def _writing(self) -> bool:
        """Readers: whether a writer's batch is under way (index lines without a commit)."""
        self._refresh()
        return bool(self._tail)

    def _rows(self, day: str, loaded: _Entries) -> list[Entry]:
        """The day's entries without the copies that moved items left behind."""
        if loaded.rows is None:
            id_day = self._id_day
            rows = [e for e in loaded.all if id_day.get(e.id) == day]
            loaded.rows = loaded.all if len(rows) == len(loaded.all) else rows
            loaded.rows_parts = None
        return loaded.rows

    def _parts(self, day: str, loaded: _Entries) -> list[Part]:
        """The index of `_rows(day, loaded)`."""
        rows = self._rows(day, loaded)
        if rows is loaded.all:
            return loaded.parts
        if loaded.rows_parts is None:
            loaded.rows_parts = build_parts(rows)
        return loaded.rows_parts

    def _update_entries(self, part: _Day, changed: dict[str, Item]) -> None:
        """After a day's files were written: its entries, made again only for `changed`
        items, into memory and its entry file."""
        day = part.day
        old = {e.id: e for e in self._entries[day].all} if day in self._entries else {}
        rows = []
        for rid in part.items.docs:
            item = changed.get(rid)
            entry = entry_of(item) if item is not None else old.get(rid)
            if entry is None:  # not in the entry file: made from the record
                rec = part.items.get(rid)
                assert rec is not None
                entry = entry_of(part.item(rec))
            rows.append(entry)
        rows.sort(key=_newest, reverse=True)
        items, text = self._sigs(day)
        entries = _Entries(items, text, rows)
        self._save_entries(day, entries)
        self._entries[day] = entries

    # -- Store ------------------------------------------------------------------------

    def states(self) -> dict[str, SourceState]:
        with self._mutex:
            self._check_open()
            self._refresh()
            return dict(self._states)

    def get(self, item_id: str) -> Item | None:
        with self._mutex:
            self._check_open()
            self._refresh()
            day = self._id_day.get(item_id)
            if day is None:
                return None
            part = self._day(day)
            rec = part.items.get(item_id)
            if rec is None:
                return None
            return Item.from_record({**rec, "text": part.text(item_id)})

    def count(self) -> int:
        with self._mutex:
            self._check_open()
            self._refresh()
            return len(self._id_day)

    def entries(self) -> list[Entry]:
        """Every item as an Entry, newest first: the days' lists, newest day first, joined
        into a new list. Only days whose files changed since the last call are read."""
        with self._mutex:
            out: list[Entry] = []
            for day in self._synced_days():
                out += self._rows(day, self._entries[day])
            return out

    def entry_index(self) -> EntryIndex:
        """`entries()` with their index, joined from the days' indexes (each made when
        its day is written, and kept in its entry file)."""
        with self._mutex:
            out: list[Entry] = []
            parts: list[Part] = []
            for day in self._synced_days():
                loaded = self._entries[day]
                out += self._rows(day, loaded)
                parts += self._parts(day, loaded)
            return EntryIndex(out, parts)

    def _synced_days(self) -> list[str]:
        """With `_entries` up to date: its days, newest first. Under the mutex."""
        self._check_open()
        self._refresh()
        self._sync_entries()
        for day in self._moved:
            if day in self._entries:
                self._entries[day].rows = None
        self._moved.clear()
        return sorted(self._entries, reverse=True)

    def items(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Item]:
        """Items with `published` in [since, until): newest day first, newest first within a day."""
        since, until = _aware(since), _aware(until)
        with self._mutex:
            self._check_open()
            self._refresh()
            days = self._day_files()
        for day in days:
            start = _day_start(day)
            if since is not None and start + timedelta(days=1) <= since:
                break
            if until is not None and start >= until:
                continue
            with self._mutex:
                self._check_open()
                found = self._read_day(day, since, until)
            yield from found

    def _read_day(self, day: str, since: datetime | None, until: datetime | None) -> list[Item]:
        part = self._day(day)
        id_day = self._id_day
        found: list[tuple[datetime, Record]] = []
        for rec in part.items.records():
            if id_day.get(rec["id"], day) != day:
                continue  # a copy left behind by a move; the item lives in another day
            published = datetime.fromisoformat(rec["published"])
            if (since is None or published >= since) and (until is None or published < until):
                found.append((published, rec))
        found.sort(key=lambda pair: (pair[0], pair[1]["id"]), reverse=True)
        return [Item.from_record({**rec, "text": part.text(rec["id"])}) for _, rec in found]

    def write(self, items: Sequence[Item], states: Sequence[SourceState]) -> list[Outcome]:
        """Merge `items` in by identity, upsert `states` by name; one commit for all of it."""
        with self._mutex, self._batch() as batch:
            outcomes = [self._put(item, batch) for item in items]
            changed = {s.name: s for s in states if self._states.get(s.name) != s}
            if changed or any(part.dirty for part in batch.days.values()):
                self._commit(batch, changed)
        return outcomes

    def update(self, changes: Sequence[tuple[str, Change]]) -> list[Item]:
        """Apply each change to the stored item of that id; one commit for all of them.
        Returns the items as stored after the change (unknown ids and no-ops left out)."""
        done: list[Item] = []
        with self._mutex, self._batch() as batch:
            for item_id, change in changes:
                day = self._where(item_id, batch)
                part = self._day(day, batch) if day is not None else None
                rec = part.items.get(item_id) if part is not None else None
                if part is None or rec is None:
                    continue
                old = Item.from_record({**rec, "text": part.text(item_id)})
                new = change(old)
                if new != old:
                    self._replace(item_id, part, new, batch)
                    done.append(new)
            if any(part.dirty for part in batch.days.values()):
                self._commit(batch, {})
        return done

    @contextlib.contextmanager
    def _batch(self) -> Iterator[_Batch]:
        """One write: undone in memory if it fails, settled if it succeeds."""
        self._check_open()
        if self.readonly:
            raise StoreError(f"store {self.path} is open read-only")
        if self._broken:
            raise StoreError(f"store {self.path} failed a write earlier; reopen it")
        batch = _Batch()
        try:
            yield batch
        except BaseException as exc:
            self._abort(batch)
            if isinstance(exc, OSError):
                raise StoreError(f"store {self.path}: write failed: {exc}") from exc
            raise
        self._settle(batch)

    def close(self) -> None:
        with self._mutex:
            if self._closed:
                return
            self._closed = True
            self._days.clear()
            self._entries.clear()
            self._release()

    def __enter__(self) -> TinyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self.path} is closed")

    def _where(self, item_id: str, batch: _Batch) -> str | None:
        if item_id in batch.id_day:
            return batch.id_day[item_id]
        if item_id in batch.drops:
            return None
        return self._id_day.get(item_id)

    def _resolve(self, item: Item, batch: _Batch) -> str | None:
        for key in item.keys:
            rid = batch.key_id.get(key) or self._key_id.get(key)
            if rid is not None and self._where(rid, batch) is not None:
                return rid
        return item.id if self._where(item.id, batch) is not None else None

    def _find(self, new: Item, batch: _Batch) -> tuple[str, _Day, Record] | None:
        """The stored item `new` is another copy of: its id, day and record."""
        while (rid := self._resolve(new, batch)) is not None:
            day = self._where(rid, batch)
            assert day is not None
            part = self._day(day, batch)
            rec = part.items.get(rid)
            if rec is not None:
                return rid, part, rec
            # the index names a day that lacks the item: the item is absent
            batch.drops.add(rid)
            batch.id_day.pop(rid, None)
        return None

    def _put(self, new: Item, batch: _Batch) -> Outcome:
        found = self._find(new, batch)
        if found is None:
            day = day_of(new.published)
            self._pin(day, batch).put(new)
            batch.drops.discard(new.id)
            batch.assign(new.id, day, new.keys, self._key_id)
            return "new"
        rid, part, rec = found
        merged = merge(Item.from_record({**rec, "text": part.text(rid)}), new)
        if merged is None:
            return "unchanged"
        self._replace(rid, part, merged, batch)
        return "updated"

    def _replace(self, rid: str, part: _Day, item: Item, batch: _Batch) -> None:
        day = day_of(item.published)
        if day != part.day:
            # the stored copy stays until the move is committed, then goes stale
            part.discard(rid)
        self._pin(day, batch).put(item)
        batch.assign(rid, day, item.keys, self._key_id)

    def _commit(self, batch: _Batch, changed: dict[str, SourceState]) -> None:
        lines = [Line(drop=rid) for rid in batch.drops if rid in self._id_day]
        for rid, day in batch.id_day.items():
            keys = batch.new_keys.get(rid, [])
            if self._id_day.get(rid) != day or keys:
                lines.append(Line(id=rid, day=day, keys=keys))
        if lines:
            self._append(lines)  # 1. the index, before any day refers to it
            batch.logged = True
        for part in batch.days.values():
            if part.dirty:  # 2. each touched day: text, items, entries
                day = part.day
                if day not in self._entries:  # the unchanged items' entries, if saved
                    found = self._read_entries(day, *self._sigs(day))
                    if found is not None:
                        self._entries[day] = found
                put = dict(part.changed)
                part.flush(self._lives_in(day))
                self._update_entries(part, put)
        if changed:
            self._write_meta(changed)  # 3. source states
        if batch.logged:
            self._append([Line(commit=_now())])  # 4. the batch is complete

    def _lives_in(self, day: str) -> Callable[[str], bool]:
        """Whether a record in `day` is the item's committed copy (not one left by a move)."""
        committed = self._id_day
        return lambda rid: committed.get(rid, day) == day

    def _settle(self, batch: _Batch) -> None:
        id_day, moved = self._id_day, self._moved
        for rid in batch.drops:
            before = id_day.pop(rid, None)
            if before is not None:
                moved.add(before)
        for rid, day in batch.id_day.items():
            before = id_day.get(rid)
            if before != day:
                moved.add(day)
                if before is not None:
                    moved.add(before)
        id_day.update(batch.id_day)
        self._key_id.update(batch.key_id)
        for day, part in batch.days.items():
            self._days[day] = part
            self._days.move_to_end(day)
        while len(self._days) > CACHE_DAYS:
            self._days.popitem(last=False)

    def _abort(self, batch: _Batch) -> None:
        """After a failed write: forget what memory holds beyond the files, repair the index."""
        for day in batch.days:
            self._days.pop(day, None)
            self._forget_entries(day)
        try:
            self._load_meta()
            if batch.logged:
                self._days.clear()
                self._load_index_again()
        except Exception:
            log.exception("store %s: cannot recover from a failed write", self.path)
            self._broken = True

    def _load_index_again(self) -> None:
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None
        self._load_index()
