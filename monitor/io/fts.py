"""The whole-text index: every word of every item, in SQLite FTS5, beside the store.

Derived data: the store is the record and this file can be deleted at any time; the
writer makes it again, day by day (`TextIndex.stale_days`, `index_day`), and
`monitor reindex` makes it at once. docs/search.md says why FTS5 and not the others.

- `fts` is a contentless FTS5 table (the text is not stored twice): one row per item,
  rowid = `core.entries.doc_key(item.id)`, columns title, body (summary and full text),
  author, sources. It is fed text already folded by `core.fold.folded_words`, so matching
  ignores case and accents exactly as the query language folds its words.
- `docs` holds, per item, its day and what was indexed, compressed: a contentless table
  forgets its text, and deleting a row needs it back.
- `days` holds, per day, the signature of the day's files when the day was indexed: a
  day whose files changed since (a crash between the store's write and this one, a store
  copied without this file) is indexed again.

One writer (the store's); readers open the file read-only and see each commit whole
(WAL). Every failure here is logged and answered by "no index" (`keys` returns None and
the query falls back to titles and summaries), never raised into a poll or a filter.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import msgspec
import numpy as np

from monitor.core.entries import doc_key
from monitor.core.fold import folded_words
from monitor.core.index import Ints
from monitor.core.query_syntax import Near, Node, Not, Or, Term, short_prefix
from monitor.io.sqlitefile import check_format, enable_wal, made_again, remove_file
from monitor.model import Item

log = logging.getLogger(__name__)
# What a damaged database raises: sqlite's errors, or a UnicodeDecodeError when a text
# it returns is no UTF-8 any more
DB_ERRORS = (sqlite3.Error, UnicodeDecodeError)

FILE = "search.sqlite"
FORMAT = "2"  # a file of another format is made again
COLUMNS = ("title", "body", "author", "sources")
_FIELD_COLUMNS = {"": "", "title": "title", "text": "body", "author": "author"}
_INSERT = f"INSERT INTO fts(rowid, {', '.join(COLUMNS)}) VALUES(?, ?, ?, ?, ?)"
_DELETE = f"INSERT INTO fts(fts, rowid, {', '.join(COLUMNS)}) VALUES('delete', ?, ?, ?, ?, ?)"
_PACK = msgspec.msgpack.Encoder()
_UNPACK = msgspec.msgpack.Decoder(tuple[str, str, str, str])

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs(
    key INTEGER PRIMARY KEY, id TEXT NOT NULL, day TEXT NOT NULL, packed BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS docs_day ON docs(day);
CREATE TABLE IF NOT EXISTS days(day TEXT PRIMARY KEY, stamp TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    {", ".join(COLUMNS)}, content='', detail=full,
    tokenize="unicode61 remove_diacritics 0 tokenchars '_'");
"""


_Row = tuple[str, str, int, tuple[str, str, str, str], bytes]  # day, id, key, columns, packed


def _rows(pairs: Iterable[tuple[str, Item]]) -> list[_Row]:
    """What to insert, made before the write begins: folding and compressing are the slow
    part, and need neither the lock nor a transaction."""
    out = []
    for day, item in pairs:
        cols = indexed_columns(item)
        out.append((day, item.id, doc_key(item.id), cols, zlib.compress(_PACK.encode(cols), 6)))
    return out


def indexed_columns(item: Item) -> tuple[str, str, str, str]:
    """What the index holds of an item: its folded words, column by column."""
    body = f"{item.summary} {item.text}" if item.text else item.summary
    return (
        folded_words(item.title),
        folded_words(body),
        folded_words(item.author or ""),
        folded_words(" ".join(item.sources)),
    )


class TextIndex:
    """The index file of one store. The writer's instance indexes; a reader's only answers."""

    def __init__(self, root: Path, *, readonly: bool) -> None:
        self.path = root / FILE
        self.readonly = readonly
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._stamps: dict[str, str] = {}  # the writer's copy of `days`
        self._inode = 0  # a reader's: the file it opened
        self._complete = False  # the writer's word on it, as last said or read
        self._asked = -1.0  # a reader: when it last read that word (time.monotonic)
        self._read: sqlite3.Connection | None = None  # the writer's connection for reads
        self._read_lock = threading.Lock()
        self.broken = False  # a failure since opening: answers stop until reopened

    # -- opening ------------------------------------------------------------------------

    def open(self) -> bool:
        """Open (the writer creates, or recreates a file it cannot use); False when there
        is no usable index (a reader then falls back)."""
        with self._lock:
            if self._db is not None and self.readonly and self._replaced():
                self._db.close()  # the writer made the file again: read the new one
                self._db = None
            if self._db is not None:
                return True
            try:
                self._db = self._connect()
            except (*DB_ERRORS, OSError) as exc:
                if self.readonly:
                    log.info("text index %s not usable: %s", self.path, exc)
                    return False
                log.warning("text index %s not usable (%s): making it again", self.path, exc)
                try:
                    self._remove()
                    self._db = self._connect()
                except (*DB_ERRORS, OSError) as again:
                    log.warning("text index %s cannot be made: %s", self.path, again)
                    self.broken = True
                    return False
            return True

    def _replaced(self) -> bool:
        return made_again(self.path, self._inode)

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            self._inode = self.path.stat().st_ino  # raises when there is no file
            db = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, check_same_thread=False)
            try:
                check_format(db, FORMAT)
            except BaseException:
                db.close()
                raise
            return db
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            # Before any table: rows of ~2.4 KB (`docs.packed`) leave half of each 4 KB page
            # empty; 8 KB pages hold them a third smaller.
            db.execute("PRAGMA page_size=8192")
            enable_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")  # derived data: a lost commit is redone
            check_format(db, FORMAT, _SCHEMA)
            self._stamps = dict(db.execute("SELECT day, stamp FROM days").fetchall())
        except BaseException:
            db.close()
            raise
        return db

    def _remove(self) -> None:
        remove_file(self.path)

    def close(self) -> None:
        self._close_read()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def clear(self) -> None:
        """Writer: forget everything (`monitor reindex`)."""
        self.close()
        with self._lock:
            self._remove()
            self._stamps = {}
            self._complete = False
            self.broken = False
        self.open()

    # -- the writer ---------------------------------------------------------------------

    def stale_days(self, stamps: dict[str, str]) -> list[str]:
        """Days whose files (`stamps`: day -> signature, every day of the store) differ
        from what was indexed, newest first; days indexed but gone are dropped here, and
        so are rows of days gone before they were ever indexed whole (a writer that died
        while retention removed a day written since the index was last completed)."""
        if self.broken or not self.open():
            return []
        with self._lock:
            db = self._db
            try:
                held = {r[0] for r in db.execute("SELECT DISTINCT day FROM docs")} if db else set()
            except DB_ERRORS:
                held = set()
        gone = sorted(day for day in held | self._stamps.keys() if day not in stamps)
        if gone:
            self._guarded(lambda db: self._drop_days(db, gone))
        return sorted((d for d, s in stamps.items() if self._stamps.get(d) != s), reverse=True)

    def index_day(self, day: str, items: Sequence[Item], stamp: str) -> None:
        """Index the day's items anew: its old rows go, these come, in one commit."""
        rows = _rows((day, it) for it in items)

        def work(db: sqlite3.Connection) -> None:
            self._delete(db, _day_keys(db, day))
            self._insert(db, rows)
            db.execute("INSERT OR REPLACE INTO days VALUES (?, ?)", (day, stamp))

        if self._guarded(work):
            self._stamps[day] = stamp

    def put(
        self, items: Iterable[tuple[str, Item]], stamps: dict[str, str], new: frozenset[str]
    ) -> bool:
        """Index these (day, item) pairs again, and note the days' new signatures: of days
        indexed before, and of `new` days (made by this write: these are all their items).
        A day not indexed yet stays stale: it is indexed whole later. False when the
        write failed: the file is gone, and every day is to be indexed anew."""
        pairs = list(items)
        fresh = {d: s for d, s in stamps.items() if d in new or self._stamps.get(d) is not None}

        rows = _rows(pairs)

        def work(db: sqlite3.Connection) -> None:
            self._insert(db, rows)
            for day, stamp in fresh.items():
                db.execute("INSERT OR REPLACE INTO days VALUES (?, ?)", (day, stamp))

        if not pairs:
            return True
        if self._guarded(work):
            self._stamps.update(fresh)
            return True
        return False

    def restamp(self, stamps: dict[str, str]) -> None:
        """Note the days' new signatures after items were only removed from them (their
        rows went with `drop`); a day noted stale before stays stale."""
        fresh = {d: s for d, s in stamps.items() if self._stamps.get(d) is not None}

        def work(db: sqlite3.Connection) -> None:
            for day, stamp in fresh.items():
                db.execute("INSERT OR REPLACE INTO days VALUES (?, ?)", (day, stamp))

        if fresh and self._guarded(work):
            self._stamps.update(fresh)

    def drop(self, ids: Iterable[str]) -> bool:
        """Forget these items; False when the write failed (the file is gone: index anew)."""
        keys = [doc_key(i) for i in ids]
        return not keys or self._guarded(lambda db: self._delete(db, keys))

    def _drop_days(self, db: sqlite3.Connection, days: list[str]) -> None:
        for day in days:
            self._delete(db, _day_keys(db, day))
            db.execute("DELETE FROM days WHERE day = ?", (day,))
            self._stamps.pop(day, None)

    def _guarded(self, work: Callable[[sqlite3.Connection], object]) -> bool:
        """Run `work(db)` in one transaction; a failure is logged and leaves the index
        for the next open to repair, never raised."""
        if self.readonly or self.broken or not self.open():
            return False
        with self._lock:
            db = self._db
            assert db is not None
            try:
                db.execute("BEGIN IMMEDIATE")
                work(db)
                db.execute("COMMIT")
                return True
            except (*DB_ERRORS, OSError, ValueError, msgspec.DecodeError, zlib.error) as exc:
                log.warning(
                    "text index %s: write failed (%s); made again on next open", self.path, exc
                )
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                self._db = None
                db.close()
                self._close_read()
                self._stamps = {}
                self._complete = False
                with contextlib.suppress(OSError):
                    self._remove()  # it may disagree with the store now: start it again
                return False

    @staticmethod
    def _delete(db: sqlite3.Connection, keys: Sequence[int]) -> None:
        for key in keys:
            row = db.execute("SELECT packed FROM docs WHERE key = ?", (key,)).fetchone()
            if row is None:
                continue
            cols = _UNPACK.decode(zlib.decompress(row[0]))
            db.execute(_DELETE, (key, *cols))
            db.execute("DELETE FROM docs WHERE key = ?", (key,))

    @classmethod
    def _insert(cls, db: sqlite3.Connection, rows: Iterable[_Row], day: str | None = None) -> None:
        for row_day, item_id, key, cols, packed in rows:
            cls._delete(db, (key,))  # two ids of one key (rare): the later one stands
            db.execute(_INSERT, (key, *cols))
            db.execute(
                "INSERT INTO docs VALUES (?, ?, ?, ?)", (key, item_id, day or row_day, packed)
            )

    # -- answering ------------------------------------------------------------------------

    def _ask(self, sql: str, args: tuple[str, ...]) -> list[tuple[object, ...]] | None:
        """Rows of a read, or None. The writer reads through a connection of its own, so
        that a filter never waits for a write (WAL: it sees the last commit)."""
        if self.broken or not self.open():
            return None
        if self.readonly:
            lock, db = self._lock, self._db
        else:
            lock = self._read_lock
            with lock:
                if self._read is None:
                    try:
                        self._read = sqlite3.connect(self.path, check_same_thread=False)
                    except DB_ERRORS:
                        return None
            db = self._read
        with lock:
            if db is None:
                return None
            try:
                return db.execute(sql, args).fetchall()
            except DB_ERRORS as exc:
                log.warning("text index %s: %s reading %r", self.path, exc, args)
                return None

    def _close_read(self) -> None:
        with self._read_lock:
            if self._read is not None:
                self._read.close()
                self._read = None

    def keys(self, node: Node) -> Ints | None:
        """`core.query.TextSearch.keys`: the keys of the items matching `node`."""
        expr = match_expression(node)
        if expr is None:
            return None
        # One string of every rowid: a Python tuple per row would cost more than the
        # query itself when half the store matches.
        rows = self._ask("SELECT group_concat(rowid) FROM fts WHERE fts MATCH ?", (expr,))
        if rows is None:
            return None
        found = rows[0][0] if rows else None
        if not isinstance(found, str) or not found:
            return np.zeros(0, np.int64)
        return np.fromstring(found, dtype=np.int64, sep=",")

    def complete(self) -> bool:
        """Whether the index covers every day of the store (the writer says so in the
        file once it has indexed them all; until then queries fall back). Cheap enough
        for the event loop: the writer knows it; a reader believes a "yes" for a second."""
        if not self.readonly:
            return self._complete and self._db is not None and not self.broken
        now = time.monotonic()
        if self._complete and now - self._asked < 1.0:  # "not yet" is asked again at once
            return True
        rows = self._ask("SELECT v FROM meta WHERE k = ?", ("complete",))
        self._complete = rows is not None and bool(rows) and rows[0][0] == "1"
        self._asked = now
        return self._complete

    def set_complete(self, done: bool) -> None:
        """Writer: say whether the index covers every day."""
        value = "1" if done else "0"
        ok = self._guarded(
            lambda db: db.execute("INSERT OR REPLACE INTO meta VALUES ('complete', ?)", (value,))
        )
        self._complete = done and ok

    def count(self) -> int:
        if not self.open():
            return 0
        with self._lock:
            db = self._db
            assert db is not None
            return int(db.execute("SELECT count(*) FROM docs").fetchone()[0])


def _day_keys(db: sqlite3.Connection, day: str) -> list[int]:
    return [r[0] for r in db.execute("SELECT key FROM docs WHERE day = ?", (day,))]


# --- the query language in FTS5's -------------------------------------------------------------


def match_expression(node: Node) -> str | None:
    """`node` (words, phrases, NEAR, and AND / OR / NOT of them) as an FTS5 expression;
    None when FTS5 cannot say it (a NOT with nothing beside it)."""
    if isinstance(node, Term):
        return _term(node)
    if isinstance(node, Near):
        return f"NEAR({_phrase(node.left)} {_phrase(node.right)}, {node.distance})"
    if isinstance(node, Not):
        return None
    if isinstance(node, Or):
        parts = [match_expression(c) for c in node.children]
        if any(p is None for p in parts):
            return None
        return " OR ".join(f"({p})" for p in parts)
    positive = [c for c in node.children if not isinstance(c, Not)]
    negative = [c.child for c in node.children if isinstance(c, Not)]
    if not positive:
        return None
    got = [match_expression(c) for c in positive]
    against = [match_expression(c) for c in negative]
    if any(p is None for p in got) or any(p is None for p in against):
        return None
    expr = " AND ".join(f"({p})" for p in got)
    if against:
        expr = f"({expr}) NOT ({' OR '.join(f'({p})' for p in against)})"
    return expr


def _phrase(t: Term) -> str:
    """A word (its last word a prefix, unless shorter than SHORT_PREFIX) or a phrase, as
    an FTS5 phrase. Folded words hold only letters, digits and `_`: nothing to escape
    inside the quotes. No prefix index is kept (docs/search.md: it doubles the file);
    prefixes of 3 letters and more are fast without one, shorter ones are not."""
    quoted = '"' + " ".join(t.words) + '"'
    return quoted + "*" if t.kind == "word" and not short_prefix(t) else quoted


def _term(t: Term) -> str | None:
    if t.kind not in ("word", "phrase"):
        return None
    column = _FIELD_COLUMNS[t.field]
    return f"{column} : {_phrase(t)}" if column else _phrase(t)
