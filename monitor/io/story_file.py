"""The stories file: each recent item's story, in SQLite beside the store (`stories.sqlite`).

Derived data, like the text index (`io/fts.py`): the store is the record, and this file
can be deleted at any time; it is made again from the recent items, matched anew. It
saves a restart from matching the history again, and keeps a story's items together
across restarts even where a new matching would group them otherwise (the order items
arrive in decides which story an item joins).

- `members`: item id -> story id (its earliest item's id) and when the item was first
  seen (seconds since the epoch, for dropping the rows that leave the recent days).
- `meta`: the file's format; a file of another format is made again.

Only the writer (the session holding the store's lock) writes; readers open the file
read-only and see each commit whole (WAL). Every failure is logged and answered by "no
saved stories" (`load` returns None), never raised into a poll.

With `[storage] backend = "postgresql"` the members are a table of the database
(`io/tables.py`: the same SQL), and every poller is a writer. `save` is an upsert:
saving again is harmless, and when two pollers matched an item into different stories
the last to save wins (each keeps its own view until it restarts; the stories are
derived, and both matchings are valid). Nothing is removed on failure there: the next
save writes everything again.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Collection, Iterable
from datetime import datetime
from pathlib import Path

from monitor.config import DatabaseSettings
from monitor.io.sqlitefile import check_format, enable_wal, made_again, remove_file
from monitor.io.tables import Engine, SqliteEngine, epoch

log = logging.getLogger(__name__)

FILE = "stories.sqlite"
FORMAT = "1"  # a file of another format is made again
CHUNK = 500  # ids asked for in one statement (SQLite's limit on parameters is 999)

# the file's tables; in PostgreSQL: `pg/schema.py` (STORIES)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members(
    item TEXT PRIMARY KEY, story TEXT NOT NULL, seen REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_seen ON members(seen);
"""


class StoryError(Exception):
    """The stories' tables failed; the message says where and why."""


# What a damaged file raises: sqlite's errors, or a UnicodeDecodeError for a text that
# is no UTF-8 any more
_ERRORS = (StoryError, sqlite3.Error, UnicodeDecodeError, OSError)

Row = tuple[str, str, datetime]  # item id, story id, first seen


class StoryFile:
    """The stories of one store: `root` is the folder store's folder, or the database."""

    def __init__(self, root: Path | DatabaseSettings, *, writer: bool) -> None:
        self.database: DatabaseSettings | None = None
        if isinstance(root, DatabaseSettings):
            self.database, self.path = root, Path(FILE)  # no file: used in messages only
        else:
            self.path = Path(root) / FILE
        self.writer = writer
        self._engine: Engine | None = None
        self._lock = threading.Lock()  # opening and closing
        self._inode = 0  # a reader's: the file it opened (the writer may make it again)
        self.missing = False  # the last `load` found no file

    def load(self, since: datetime) -> dict[str, str] | None:
        """Every item first seen since `since`, with its story id. None when there is no
        usable file: missing, damaged or of another format (the writer then makes it
        again, empty, and says so; `missing` says when there was no file at all)."""
        self.missing = self.database is None and not self.path.exists()
        try:
            engine = self._open()
            if engine is None:
                return None
            with engine.read() as db:
                rows = db.execute("SELECT item, story FROM members WHERE seen >= ?", (since,))
                found = dict(rows.fetchall())
            return None if self.missing else found
        except _ERRORS as exc:
            self._failed(exc)
            return None

    def stories_of(self, ids: Collection[str]) -> dict[str, str]:
        """The saved story of each of `ids` that has one (a reader: what the writer
        found since this process last looked)."""
        wanted = list(ids)
        out: dict[str, str] = {}
        try:
            engine = self._open()
            if engine is None:
                return out
            with engine.read() as db:
                for i in range(0, len(wanted), CHUNK):
                    part = wanted[i : i + CHUNK]
                    marks = ",".join("?" * len(part))
                    sql = f"SELECT item, story FROM members WHERE item IN ({marks})"
                    out.update(db.execute(sql, part).fetchall())
        except _ERRORS as exc:
            self._failed(exc)
        return out

    def save(self, rows: Iterable[Row], before: datetime) -> bool:
        """The writer: save these memberships (new, or moved to another story by a
        merge), and drop the rows of items first seen before `before`, in one commit.
        False when it failed: the file is removed, and the caller writes it whole."""
        if not self.writer:
            return False
        values = list(rows)
        try:
            engine = self._open()
            if engine is None:
                return False
            with engine.write() as db:
                db.many(
                    "INSERT INTO members VALUES (?, ?, ?) ON CONFLICT (item)"
                    " DO UPDATE SET story = excluded.story, seen = excluded.seen",
                    values,
                )
                db.execute("DELETE FROM members WHERE seen < ?", (before,))
            return True
        except _ERRORS as exc:
            self._failed(exc)
            return False

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None

    # -- inside -------------------------------------------------------------------------

    def _open(self) -> Engine | None:
        """The tables; None for a reader when there is no file (yet). Raises what the
        engine raises for tables it cannot use."""
        with self._lock:
            engine = self._engine
            if engine is not None and not self.writer and self._replaced():
                engine.close()  # the writer made the file again: read the new one
                engine = self._engine = None
            if engine is None:
                engine = self._engine = self._connect()
            return engine

    def _replaced(self) -> bool:
        return self.database is None and made_again(self.path, self._inode)

    def _connect(self) -> Engine | None:
        if self.database is not None:
            from monitor.io.pg.tables import PgEngine  # only with the backend in use

            return PgEngine(self.database, StoryError, counter="story_writes", create=self.writer)
        db = self._connect_file() if self.writer else self._connect_read()
        if db is None:
            return None
        return SqliteEngine(db, str(self.path), StoryError, stored=epoch)

    def _connect_read(self) -> sqlite3.Connection | None:
        if not self.path.exists():
            return None
        self._inode = self.path.stat().st_ino
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        try:
            check_format(db, FORMAT)
        except BaseException:
            db.close()
            raise
        return db

    def _connect_file(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            enable_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")  # derived data: a lost commit is redone
            check_format(db, FORMAT, _SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    def _failed(self, exc: BaseException) -> None:
        """Forget the connection; the writer removes the file, to make it again."""
        self.close()
        where = self.path if self.database is None else "in the database"
        if not self.writer:
            log.info("stories file %s not usable: %s", where, exc)
            return
        if self.database is not None:
            log.warning("stories %s not saved: %s", where, exc)
            return
        log.warning("stories file %s not usable (%s): making it again", where, exc)
        with contextlib.suppress(OSError):
            remove_file(self.path)
