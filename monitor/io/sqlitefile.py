"""What the SQLite side files (text index, triage, alert ledger) share: WAL mode set
safely, and one write transaction at a time."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator

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
