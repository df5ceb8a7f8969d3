"""Which store to open. The rest of monitor opens its store here and sees only the `Store`
protocol of `monitor.io.store`."""

from __future__ import annotations

from pathlib import Path

from monitor.io.store import Store


def open_store(path: Path, *, readonly: bool = False) -> Store:
    """Open the default (TinyDB) store at `path`, taking the write lock unless read-only."""
    from monitor.io.tinystore import TinyStore  # only the backend in use is imported

    return TinyStore(path, readonly=readonly)
