"""The side tables (triage, the alert ledger, the stories) in PostgreSQL: the `Engine` of
`io/tables.py` over the process's pool (`io/pg/connect.py`). The classes and their SQL
are the folder store's (`io/triage.py`, `io/ledger.py`, `io/story_file.py`); this only
runs them here.

Each part has a one-row counter table (`triage_writes`, `ledger_writes`,
`story_writes`; `schema.py`). Every write transaction updates its part's row first: the
part's writers, on any host, take turns as SQLite's `BEGIN IMMEDIATE` makes them take
turns on the file, so each transaction reads what the earlier ones committed and none
interleaves with another (an alert raised once per story, a tag's first spelling kept).
The number counts the writes, which tells a reader when to read again (`version`).
Reads run in one REPEATABLE READ snapshot.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any

import psycopg

from monitor.config import DatabaseSettings
from monitor.io.pg.connect import database, release, shown
from monitor.io.pg.schema import check
from monitor.io.store import StoreError
from monitor.io.tables import Cursor, Fail, Tx

COUNTERS = ("triage_writes", "ledger_writes", "story_writes")


@functools.lru_cache(maxsize=512)
def dialect(sql: str) -> str:
    """The shared SQL as psycopg takes it: `%s` parameters."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PgTx:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Cursor:
        return self.conn.execute(dialect(sql), args)

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> int:
        rows = list(rows)
        if not rows:
            return 0
        cur = self.conn.cursor()
        cur.executemany(dialect(sql), rows)
        return cur.rowcount  # the sum over the rows

    def insert(self, sql: str, args: Sequence[Any]) -> int | None:
        row = self.conn.execute(dialect(sql + " RETURNING id"), args).fetchone()
        return int(row[0]) if row else None


class PgEngine:
    """One part's tables in the database of `settings`: `counter` is its counter table;
    `create` makes the tables in an empty database (else it must be migrated)."""

    shared = True

    def __init__(
        self, settings: DatabaseSettings, fail: Fail, *, counter: str, create: bool
    ) -> None:
        if counter not in COUNTERS:
            raise ValueError(counter)
        self.counter = counter
        self.name = shown(settings.url)
        self._fail = fail
        self._closed = False
        try:
            self._db = database(settings)
        except (StoreError, psycopg.Error) as exc:
            raise fail(f"{self.name}: {exc}") from exc
        self.name = self._db.name
        try:
            with self._db.connection() as conn:
                check(conn, create=create)
        except (StoreError, psycopg.Error) as exc:
            release(self._db)
            raise fail(f"{self.name}: {exc}") from exc

    @contextlib.contextmanager
    def read(self) -> Iterator[Tx]:
        try:
            with self._db.connection() as conn, conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                yield _PgTx(conn)
        except psycopg.Error as exc:
            raise self._fail(f"{self.name}: {exc}") from exc

    @contextlib.contextmanager
    def write(self) -> Iterator[Tx]:
        try:
            with self._db.connection() as conn, conn.transaction():
                conn.execute(f"UPDATE {self.counter} SET n = n + 1")  # the part's turn
                yield _PgTx(conn)
        except psycopg.Error as exc:
            raise self._fail(f"{self.name}: {exc}") from exc

    def version(self) -> Hashable:
        try:
            with self._db.connection() as conn:
                row = conn.execute(f"SELECT n FROM {self.counter}").fetchone()
        except psycopg.Error as exc:
            raise self._fail(f"{self.name}: {exc}") from exc
        return int(row[0]) if row else 0

    def columns(self, table: str) -> set[str]:
        with self._db.connection() as conn:
            rows = conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = %s",
                (table,),
            ).fetchall()
        return {r[0] for r in rows}

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            release(self._db)
