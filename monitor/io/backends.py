"""Which store to open, and where the side tables live. The rest of monitor opens its
store, triage, alert ledger and stories here and sees only the `Store` protocol of
`monitor.io.store` and the classes of `io/triage.py`, `io/ledger.py` and
`io/live_stories.py`, whichever the backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.config import DatabaseSettings, Settings
from monitor.io.clock import utcnow
from monitor.io.store import Store

if TYPE_CHECKING:
    from monitor.io.ledger import Ledger
    from monitor.io.live_stories import LiveStories
    from monitor.io.triage import Triage


def open_store(where: Settings | Path, *, readonly: bool = False) -> Store:
    """The configured store: PostgreSQL with `[storage] backend = "postgresql"`, else the
    TinyDB folder (`where` may be that folder), taking its write lock unless read-only.
    Only the backend in use is imported."""
    if isinstance(where, Settings) and where.database is not None:
        from monitor.io.pg.connect import database
        from monitor.io.pg.store import PgStore

        db = where.database
        return PgStore(database(db), readonly=readonly, window=db.window)
    from monitor.io.tinystore import TinyStore

    return TinyStore(where.storage if isinstance(where, Settings) else where, readonly=readonly)


def side_tables(settings: Settings) -> Path | DatabaseSettings:
    """Where triage, the alert ledger and the stories are: SQLite files in the folder
    store's folder, or the tables of the PostgreSQL database."""
    return settings.database if settings.database is not None else settings.storage


def open_triage(settings: Settings, now: Callable[[], datetime] = utcnow) -> Triage:
    """The analyst's triage of the configured store: the one place that opens it (with
    `[triage] shared`, every analyst reads and writes the same rows). Raises TriageError."""
    from monitor.io.triage import Triage

    return Triage(side_tables(settings), shared=settings.triage.shared, now=now)


def open_ledger(settings: Settings, *, read_only: bool = False) -> Ledger | None:
    """The store's alert ledger; read-only: None when there is none yet (nothing is
    created). Raises LedgerError."""
    from monitor.io.ledger import open_ledger as opened

    return opened(side_tables(settings), read_only=read_only)


def live_stories(settings: Settings, *, writer: bool) -> LiveStories:
    """The stories of the store's recent items, saved with the store (by the `writer`)."""
    from monitor.io.live_stories import LiveStories

    return LiveStories(side_tables(settings), writer=writer)
