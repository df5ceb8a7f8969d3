"""SQLite side files (text index, triage, alert ledger) in WAL mode, set safely."""

from __future__ import annotations

import sqlite3
import time

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
