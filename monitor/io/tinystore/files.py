"""The store's files: their names, atomic replacement, stamps, and TinyDB files read once
and written whole."""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import msgspec
from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Table

from monitor.io.store import StoreError

log = logging.getLogger(__name__)

META = "meta.json"
INDEX = "ids.log"
ITEMS = "items"
TEXTS = "text"
ENTRIES = "entries"
LOCK = "lock"
OWNER = "owner.json"

_OURS = {META, INDEX, ITEMS, TEXTS, ENTRIES, LOCK, OWNER}
_TEMP = re.compile(r"\..+\.\d+\.tmp")  # as write_atomic names its temp files

Record = dict[str, Any]
Tables = dict[str, dict[str, Record]]
Stamp = tuple[int, int, int]
Sig = tuple[int, int]  # mtime_ns, size: what an entry file was made from


class CorruptFile(Exception):
    """A store file that does not parse."""


# What decoding a damaged file raises: msgspec's error, or a UnicodeDecodeError for a
# string that is no UTF-8 any more
DECODE_ERRORS = (msgspec.DecodeError, UnicodeDecodeError)


OnCorrupt = Callable[[Path, CorruptFile], None]  # what to do about one


def check_ours(root: Path) -> None:
    """Refuse a folder that holds files but none of a store's."""
    names = {p.name for p in root.iterdir()}
    if names and not names & _OURS:
        raise StoreError(f"{root} is not a monitor store (it holds other files)")


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


def remove_temps(folders: Iterable[Path]) -> None:
    """Temp files are only left by a writer that died; call this holding the lock, so that
    none is live."""
    for folder in folders:
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(folder):
                if _TEMP.fullmatch(entry.name):
                    log.info("removing stray temp file %s", entry.name)
                    os.unlink(entry.path)


def move_aside(path: Path) -> Path:
    """Rename a file that does not parse to NAME.corrupt (or .corrupt2, ...): kept, unused."""
    aside = path.with_name(f"{path.name}.corrupt")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt{n}")
    os.replace(path, aside)
    fsync_dir(path.parent)
    return aside


def moved_aside(root: Path) -> list[str]:
    """The day files `move_aside` renamed, relative to the store: items/DAY.json.corrupt."""
    return sorted(
        p.relative_to(root).as_posix()
        for sub in (ITEMS, TEXTS)
        if (root / sub).is_dir()
        for p in (root / sub).glob("*.corrupt*")
    )


def stamp_of(st: os.stat_result) -> Stamp:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def file_stamp(path: Path) -> Stamp | None:
    try:
        return stamp_of(os.stat(path))
    except FileNotFoundError:
        return None


def sig(stamp: Stamp | None) -> Sig | None:
    return None if stamp is None else (stamp[1], stamp[2])


def timestamp() -> str:
    """Now, as the store's files record it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """For decoding many small objects without cycles: collecting would only slow it down."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def encode_tables(data: Tables, chunk: int = 500) -> bytes:
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
        write_atomic(self.path, encode_tables(self._data or {}))
        self.stamp = file_stamp(self.path)

    def reset(self) -> None:
        """Forget the file's content: the table reads as empty."""
        self._data = None
        self._loaded = True

    def _load(self) -> Tables | None:
        try:
            with open(self.path, "rb") as f:
                self.stamp = stamp_of(os.fstat(f.fileno()))
                raw = f.read()
        except FileNotFoundError:
            self.stamp = None
            return None
        try:
            return msgspec.json.decode(raw, type=Tables)
        except DECODE_ERRORS as exc:
            raise CorruptFile(f"{self.path.name}: {exc}") from exc


def open_db(path: Path, readonly: bool) -> tuple[TinyDB, FileStorage]:
    db = TinyDB(path, storage=FileStorage, readonly=readonly)
    return db, cast(FileStorage, db.storage)


def replace_docs(table: Table, new: Mapping[str, Record], key: str, doc_ids: list[int]) -> None:
    """Replace the documents `doc_ids` whole, each by `new[doc[key]]`, in one table update."""

    def replace(doc: MutableMapping[str, Any]) -> None:
        rec = new[doc[key]]
        doc.clear()
        doc.update(rec)

    table.update(replace, doc_ids=doc_ids)
