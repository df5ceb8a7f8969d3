"""Which store to open. The rest of monitor opens its store here and sees only the `Store`
protocol of `monitor.io.store`."""

from __future__ import annotations

from pathlib import Path

from monitor.config import Settings
from monitor.io.store import Store


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
