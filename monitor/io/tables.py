"""The side tables (triage, the alert ledger, the stories) on either engine: an SQLite
file beside the folder store, or the PostgreSQL database of `[storage] backend =
"postgresql"` (`io/pg/tables.py`).

Each class (`Triage`, `Ledger`, `StoryFile`) is written once, its SQL in the dialect both
engines speak: `?` parameters (psycopg's `%s` is put in for PostgreSQL), upserts as
`INSERT … ON CONFLICT …`, `"user"` quoted (a reserved word in PostgreSQL), CASE rather
than sums of booleans. What differs is behind `Engine`, here and in `io/pg/tables.py`:

- a transaction: one connection behind a lock and `BEGIN IMMEDIATE` (SQLite); a pooled
  connection whose transaction first updates its part's row in a counter table, so the
  part's writers on every host take turns as they do on the SQLite file (PostgreSQL);
- a moment: ISO text or epoch seconds in SQLite (as each file always had them),
  timestamptz in PostgreSQL; `moment` reads either back;
- the id of an inserted row (`lastrowid`, or `RETURNING id`);
- what tells a reader that another process wrote (`version`: SQLite's data_version, or
  the part's counter).

This keeps one copy of the logic, and a folder store's files exactly as they were.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from monitor.io.sqlitefile import transaction

Fail = Callable[[str], Exception]  # "where: what failed", as the class raises it


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Tx(Protocol):
    """One transaction (or one consistent read) on an engine."""

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor: ...

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run `sql` for each row; how many rows changed."""
        ...

    def insert(self, sql: str, args: Sequence[Any]) -> int | None:
        """An INSERT into a table with an `id` key: the new row's id (None: none made)."""
        ...


class Engine(Protocol):
    name: str  # for messages: the file, or the database
    shared: bool  # several processes on several hosts write (PostgreSQL)

    def read(self) -> contextlib.AbstractContextManager[Tx]:
        """One consistent snapshot for the statements in the block."""
        ...

    def write(self) -> contextlib.AbstractContextManager[Tx]:
        """One write transaction; the part's other writers wait their turn."""
        ...

    def version(self) -> Hashable:
        """Changes when anyone committed a write (this engine too)."""
        ...

    def columns(self, table: str) -> set[str]: ...

    def close(self) -> None: ...


def moment(value: str | datetime) -> datetime:
    """A moment as an engine returns it: ISO text (SQLite) or a datetime (PostgreSQL)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromisoformat(value)


def iso(value: datetime) -> str:
    return value.isoformat()


def epoch(value: datetime) -> float:
    return value.timestamp()


class _SqliteTx:
    def __init__(self, db: sqlite3.Connection, stored: Callable[[datetime], object]) -> None:
        self.db = db
        self.stored = stored

    def _args(self, args: Sequence[Any]) -> Sequence[Any]:
        stored = self.stored
        return [stored(a) if isinstance(a, datetime) else a for a in args]

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        return self.db.execute(sql, self._args(args))

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        return self.db.executemany(sql, (self._args(r) for r in rows)).rowcount

    def insert(self, sql: str, args: Sequence[Any]) -> int | None:
        cur = self.db.execute(sql, self._args(args))
        return cur.lastrowid if cur.rowcount else None


class SqliteEngine:
    """An SQLite file (a connection in autocommit mode), its users' threads taking turns
    on one connection; other processes wait for a write (the busy timeout). Moments are
    stored as `stored` makes them (ISO text unless said)."""

    shared = False

    def __init__(
        self,
        db: sqlite3.Connection,
        name: str,
        fail: Fail,
        stored: Callable[[datetime], object] = iso,
    ) -> None:
        self.db = db
        self.name = name
        self._failed = fail
        self._tx = _SqliteTx(db, stored)
        self._lock = threading.Lock()
        self._commits = 0  # this connection's, which data_version does not count

    @contextlib.contextmanager
    def read(self) -> Iterator[Tx]:
        with self._lock:
            try:
                self.db.execute("BEGIN")
                try:
                    yield self._tx
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        self.db.execute("ROLLBACK")
                    raise
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
                raise self._fail(exc) from exc

    @contextlib.contextmanager
    def write(self) -> Iterator[Tx]:
        with transaction(self.db, self._lock, self._fail, self._committed):
            yield self._tx

    def _fail(self, exc: sqlite3.Error) -> Exception:
        return self._failed(f"{self.name}: {exc}")

    def _committed(self) -> None:
        self._commits += 1

    def version(self) -> Hashable:
        with self._lock:
            try:
                row = self.db.execute("PRAGMA data_version").fetchone()
            except sqlite3.Error as exc:
                raise self._fail(exc) from exc
            return row[0], self._commits

    def columns(self, table: str) -> set[str]:
        with self._lock:
            return {c[1] for c in self.db.execute(f"PRAGMA table_info({table})")}

    def close(self) -> None:
        with self._lock:
            self.db.close()
