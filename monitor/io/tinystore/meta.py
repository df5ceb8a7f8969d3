"""meta.json: the store's schema version and the state of each source."""

from __future__ import annotations

import contextlib
from pathlib import Path

from tinydb import TinyDB

from monitor.io.store import StoreError
from monitor.io.tinystore.files import (
    META,
    CorruptFile,
    FileStorage,
    OnCorrupt,
    Stamp,
    open_db,
    replace_docs,
)
from monitor.model import SCHEMA_VERSION, SourceState


class Meta:
    """The meta.json of the store at `root`: empty until loaded."""

    def __init__(self, root: Path, readonly: bool, on_corrupt: OnCorrupt) -> None:
        self.root = root
        self.readonly = readonly
        self._on_corrupt = on_corrupt
        self.db: TinyDB | None = None
        self._storage: FileStorage | None = None
        self.stamp: Stamp | None = None  # None: no file (to be written)
        self.states: dict[str, SourceState] = {}

    def load(self) -> None:
        """Read the file again. A store of a newer schema is refused."""
        path = self.root / META
        db, storage = open_db(path, self.readonly)
        try:
            info = [dict(doc) for doc in db.table("info")]
            states = [dict(doc) for doc in db.table("states")]
        except CorruptFile as exc:
            self._on_corrupt(path, exc)
            storage.reset()
            if not self.readonly:
                storage.stamp = None  # moved aside: write a fresh one
            info, states = [], []
        schema = max((int(doc.get("schema", 1)) for doc in info), default=SCHEMA_VERSION)
        if schema > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.root} has schema {schema}; this version of monitor reads "
                f"schema {SCHEMA_VERSION} at most"
            )
        self.db, self._storage = db, storage
        self.stamp = storage.stamp
        self.states = {}
        for rec in states:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                self.states[rec["name"]] = SourceState.from_record(rec)

    def write(self, changed: dict[str, SourceState]) -> None:
        """Upsert the `changed` states (by name) and write the file."""
        assert self.db is not None and self._storage is not None
        db = self.db
        info = db.table("info")
        if len(info) == 0:
            info.insert({"schema": SCHEMA_VERSION})
        table = db.table("states")
        docs = {doc["name"]: doc.doc_id for doc in table}
        recs = {name: state.to_record() for name, state in changed.items()}
        updates = [docs[name] for name in recs if name in docs]
        if updates:
            replace_docs(table, recs, "name", updates)
        inserts = [rec for name, rec in recs.items() if name not in docs]
        if inserts:
            table.insert_multiple(inserts)
        self._storage.flush()
        self.stamp = self._storage.stamp
        self.states.update(changed)
