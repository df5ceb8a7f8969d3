"""What the SQLite side files (text index, stories, triage, alert ledger) share: WAL mode
set safely, one write transaction at a time, and the format of a derived file."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

WAL_WAIT = 30.0  # seconds, as the connections' busy timeout


def enable_wal(db: sqlite3.Connection, wait: float = WAL_WAIT) -> None:
    """Put the file in WAL mode. Switching needs a moment alone with the file, and SQLite
    answers "database is locked" at once, without its busy timeout, when another process
    is switching or creating the same new file: two dashboards opening it together. So
    try again until `wait` has passed; once the file is in WAL mode this is a no-op."""
    deadline = time.monotonic() + wait
    delay = 0.005
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


@contextlib.contextmanager
def transaction(
    db: sqlite3.Connection,
    lock: threading.Lock,
    fail: Callable[[sqlite3.Error], Exception],
    committed: Callable[[], None] | None = None,
) -> Iterator[sqlite3.Connection]:
    """One write transaction on `db` (a connection in autocommit mode), this process's
    threads one at a time (`lock`) and another process's waiting its turn (the busy
    timeout); rolled back and raised as `fail(error)` when SQLite fails. `committed` runs
    after the commit, still under the lock."""
    with lock:
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
            if committed is not None:
                committed()
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise fail(exc) from exc


def check_format(db: sqlite3.Connection, fmt: str, schema: str | None = None) -> None:
    """A derived file's format, noted in its `meta` table (k, v): raises DatabaseError
    when it is another (the writer then makes the file again). `schema` (the writer's):
    the tables, made when the file is new, and the format noted."""
    new = not db.execute("SELECT name FROM sqlite_master WHERE name = 'meta'").fetchone()
    if not new or schema is None:
        row = db.execute("SELECT v FROM meta WHERE k = 'format'").fetchone()
        found = row[0] if row else None
        if found != fmt:
            raise sqlite3.DatabaseError(f"format {found!r}, not {fmt}")
    if schema is not None:
        db.executescript(schema)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (fmt,))


def remove_file(path: Path) -> None:
    """Delete an SQLite file with its WAL and shared-memory files (a derived file, to be
    made again)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def made_again(path: Path, inode: int) -> bool:
    """Whether the file a reader opened (its `inode`) was replaced since: the writer made
    it again (or it is gone)."""
    try:
        return path.stat().st_ino != inode
    except OSError:
        return True
