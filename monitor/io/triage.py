"""The analyst's triage: what they saw, starred, tagged and annotated, kept across restarts.

One SQLite file beside the folder store (`triage.sqlite`), apart from the store's own
files: triage is the analyst's, not the feeds', and a read-only dashboard (one that does
not hold the store's writer lock) writes it too. SQLite gives what TinyDB cannot here:
two dashboards starring at once each commit whole, and neither loses the other's. With
`[storage] backend = "postgresql"` the same tables are in the database, shared by every
dashboard on every machine (`io/tables.py`: one SQL for both).

Every row names its user: by default each analyst keeps their own triage (`user` is
their login name); with `[triage] shared = true` every analyst reads and writes the
shared rows (user ""). Tags set by `[[tags]]` queries (auto-tags) belong to everyone and
are marked `auto`. Retention keeps what any analyst starred, tagged by hand or annotated.

The stories an analyst marked seen are kept with what they said then (`stories`: actors
and folded quotes, as JSON lists), and the later copies that brought a new angle with
why (`angles`): see `core.angles`.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from pathlib import Path

from monitor.config import DatabaseSettings
from monitor.core.angles import Decision
from monitor.io.clock import utcnow
from monitor.io.sqlitefile import enable_wal
from monitor.io.tables import Engine, SqliteEngine, Tx, moment
from monitor.model import SeenStory, TriageState, tag_key

log = logging.getLogger(__name__)

FILE = "triage.sqlite"
SHARED = ""  # the user of shared rows
AUTO = "auto"  # the `by` of tags set by [[tags]] queries

# the file's tables; in PostgreSQL: `pg/schema.py` (TRIAGE)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS users(user TEXT PRIMARY KEY, since TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen(user TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY(user, id))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS starred(
    user TEXT NOT NULL, id TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY(user, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tags(
    user TEXT NOT NULL, id TEXT NOT NULL, key TEXT NOT NULL, name TEXT NOT NULL,
    by TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY(user, id, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tags_key ON tags(key);
CREATE TABLE IF NOT EXISTS notes(
    user TEXT NOT NULL, id TEXT NOT NULL, text TEXT NOT NULL, at TEXT NOT NULL,
    PRIMARY KEY(user, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stories(
    user TEXT NOT NULL, id TEXT NOT NULL, at TEXT NOT NULL, actors TEXT NOT NULL,
    quotes TEXT NOT NULL, PRIMARY KEY(user, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS angles(
    user TEXT NOT NULL, id TEXT NOT NULL, story TEXT NOT NULL, why TEXT NOT NULL,
    at TEXT NOT NULL, PRIMARY KEY(user, id)) WITHOUT ROWID;
"""


class TriageError(Exception):
    """The triage file cannot be opened or written. The message says which and why."""


def login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "analyst"


class Triage:
    """One analyst's triage of one store: `where` is the folder store's folder, or the
    database. `now` dates the rows, and the start of a new analyst's triage
    (`TriageState.since`).

    Thread-safe: the callers' threads take turns on the file's one connection; in the
    database each takes a pooled one."""

    def __init__(
        self,
        where: Path | DatabaseSettings,
        *,
        shared: bool = False,
        user: str | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.user = SHARED if shared else (user or login())
        self.now = now
        self._lock = threading.Lock()  # the cached state and the ranks of the reads
        self._cached: tuple[Hashable, TriageState] | None = None
        self._reads = 0
        self._engine = open_engine(where)
        try:
            with self._engine.write() as db:
                db.execute(
                    "INSERT INTO users VALUES (?, ?) ON CONFLICT DO NOTHING", (self.user, now())
                )
        except TriageError:
            self._engine.close()
            raise

    def close(self) -> None:
        self._engine.close()

    def _write(self) -> contextlib.AbstractContextManager[Tx]:
        """One transaction; another process's waits its turn (up to 30 s in the file)."""
        return self._engine.write()

    # -- reading ----------------------------------------------------------------------------

    def state(self) -> TriageState:
        """This analyst's triage now, with everyone's auto-tags. Read again only when the
        file changed since the last call (a dashboard calls this after every poll)."""
        return self.snapshot()[1]

    def snapshot(self) -> tuple[int, TriageState]:
        """`state()` and its rank among this object's reads: of two snapshots taken in
        different threads, the higher-ranked is the later, whichever returned first."""
        user = self.user
        with self._lock:
            self._reads += 1
            rank = self._reads
            version = self._engine.version()
            cached = self._cached
            if cached is not None and cached[0] == version:
                return rank, cached[1]
            with self._engine.read() as db:  # one snapshot for every table
                since_row = db.execute(
                    'SELECT since FROM users WHERE "user" = ?', (user,)
                ).fetchone()
                seen = _ids(db, 'SELECT id FROM seen WHERE "user" = ?', user)
                starred = _ids(db, 'SELECT id FROM starred WHERE "user" = ?', user)
                tag_rows = db.execute(
                    'SELECT key, name, id FROM tags WHERE "user" = ? OR by = ? ORDER BY at',
                    (user, AUTO),
                ).fetchall()
                notes = dict(
                    db.execute('SELECT id, text FROM notes WHERE "user" = ?', (user,)).fetchall()
                )
                angles = dict(
                    db.execute('SELECT id, why FROM angles WHERE "user" = ?', (user,)).fetchall()
                )
                stories = _ids(db, 'SELECT id FROM stories WHERE "user" = ?', user)
            tags: dict[str, set[str]] = {}
            names: dict[str, str] = {}
            for key, name, item_id in tag_rows:
                tags.setdefault(key, set()).add(item_id)
                names.setdefault(key, name)
            state = TriageState(
                starred=starred,
                tags={k: frozenset(v) for k, v in tags.items()},
                tag_names=names,
                notes=notes,
                seen=seen,
                since=moment(since_row[0]) if since_row else None,
                angles=angles,
                stories=stories,
            )
            self._cached = (version, state)
        return rank, state

    def tags(self) -> dict[str, int]:
        """Every tag this analyst sees (theirs and auto-tags), as written, with its number of
        items; most used first."""
        state = self.state()
        counts = {state.tag_names[k]: len(ids) for k, ids in state.tags.items()}
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold())))

    def protected(self) -> frozenset[str]:
        """Items retention keeps: starred, tagged by hand or annotated, by any analyst."""
        with self._engine.read() as db:
            rows = db.execute(
                "SELECT id FROM starred UNION SELECT id FROM tags WHERE by != ? "
                "UNION SELECT id FROM notes",
                (AUTO,),
            ).fetchall()
        return frozenset(r[0] for r in rows)

    # -- writing ----------------------------------------------------------------------------

    def star(self, ids: Iterable[str], on: bool = True) -> int:
        """Star (or unstar) items; returns how many changed."""
        now = self.now()
        with self._write() as db:
            if on:
                return db.many(
                    "INSERT INTO starred VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    ((self.user, i, now) for i in ids),
                )
            return db.many(
                'DELETE FROM starred WHERE "user" = ? AND id = ?', ((self.user, i) for i in ids)
            )

    def tag(self, name: str, ids: Iterable[str], on: bool = True, *, auto: bool = False) -> int:
        """Tag (or untag) items with `name`; returns how many changed. An auto-tag (set by
        a `[[tags]]` query) is everyone's."""
        key = tag_key(name)
        if not key:
            raise TriageError("a tag needs a name")
        name = " ".join(name.split())
        user, by = (SHARED, AUTO) if auto else (self.user, self.user or "shared")
        now = self.now()
        with self._write() as db:
            if on:
                known = db.execute("SELECT name FROM tags WHERE key = ? LIMIT 1", (key,)).fetchone()
                shown = known[0] if known else name  # one spelling per tag: the first
                return db.many(
                    "INSERT INTO tags VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    ((user, i, key, shown, by, now) for i in ids),
                )
            return db.many(
                'DELETE FROM tags WHERE ("user" = ? OR by = ?) AND id = ? AND key = ?',
                ((self.user, AUTO, i, key) for i in ids),
            )

    def note(self, item_id: str, text: str) -> bool:
        """Set the item's note; an empty one removes it. Returns whether it changed."""
        text = text.strip()
        with self._write() as db:
            old = db.execute(
                'SELECT text FROM notes WHERE "user" = ? AND id = ?', (self.user, item_id)
            ).fetchone()
            if (old[0] if old else "") == text:
                return False
            if text:
                db.execute(
                    'INSERT INTO notes VALUES (?, ?, ?, ?) ON CONFLICT ("user", id)'
                    " DO UPDATE SET text = excluded.text, at = excluded.at",
                    (self.user, item_id, text, self.now()),
                )
            else:
                db.execute('DELETE FROM notes WHERE "user" = ? AND id = ?', (self.user, item_id))
            return True

    def mark_seen(self, ids: Iterable[str], on: bool = True) -> int:
        """Mark items seen (or unseen); returns how many changed."""
        with self._write() as db:
            if on:
                return db.many(_SEEN, ((self.user, i) for i in ids))
            return db.many(
                'DELETE FROM seen WHERE "user" = ? AND id = ?', ((self.user, i) for i in ids)
            )

    # -- stories marked seen (`core.angles`) --------------------------------------------

    def seen_stories(self) -> dict[str, SeenStory]:
        """The stories this analyst marked seen, by their id when marked."""
        with self._engine.read() as db:
            rows = db.execute(
                'SELECT id, at, actors, quotes FROM stories WHERE "user" = ?', (self.user,)
            ).fetchall()
        return {
            i: SeenStory(i, moment(at), _set(actors), _set(quotes))
            for i, at, actors, quotes in rows
        }

    def mark_story(self, story: SeenStory, ids: Iterable[str]) -> int:
        """Mark a story's items seen and keep what it said; how many items changed."""
        rows = [(self.user, i) for i in ids]
        with self._write() as db:
            self._keep(db, [story])
            return db.many(_SEEN, rows)

    def unmark_story(self, records: Iterable[str], ids: Iterable[str]) -> int:
        """Undo `mark_story`: its items unread, its records (`SeenStory.id`, several when
        stories merged) and the new angles of its items forgotten; how many items changed."""
        rows = [(self.user, i) for i in ids]
        with self._write() as db:
            db.many(
                'DELETE FROM stories WHERE "user" = ? AND id = ?',
                ((self.user, r) for r in records),
            )
            db.many('DELETE FROM angles WHERE "user" = ? AND id = ?', rows)
            return db.many('DELETE FROM seen WHERE "user" = ? AND id = ?', rows)

    def settle_copies(self, decision: Decision) -> None:
        """Later copies of seen stories: seen, or flagged new angles, in one transaction,
        with what the stories now know."""
        now = self.now()
        with self._write() as db:
            db.many(_SEEN, ((self.user, i) for i in decision.seen))
            db.many(
                'INSERT INTO angles VALUES (?, ?, ?, ?, ?) ON CONFLICT ("user", id)'
                " DO UPDATE SET story = excluded.story, why = excluded.why, at = excluded.at",
                ((self.user, a.id, a.story, a.why, now) for a in decision.angles),
            )
            self._keep(db, decision.stories)

    def _keep(self, db: Tx, stories: Iterable[SeenStory]) -> None:
        db.many(
            'INSERT INTO stories VALUES (?, ?, ?, ?, ?) ON CONFLICT ("user", id) DO UPDATE'
            " SET at = excluded.at, actors = excluded.actors, quotes = excluded.quotes",
            ((self.user, s.id, s.at, _json(s.actors), _json(s.quotes)) for s in stories),
        )

    def forget(self, ids: Iterable[str]) -> None:
        """Drop every row of these items (retention dropped them from the store)."""
        rows = [(i,) for i in ids]
        with self._write() as db:
            for table in ("seen", "starred", "tags", "notes", "stories", "angles"):
                db.many(f"DELETE FROM {table} WHERE id = ?", rows)


def _json(values: Iterable[str]) -> str:
    return json.dumps(sorted(values), ensure_ascii=False)


def _set(raw: str) -> frozenset[str]:
    try:
        values = json.loads(raw)
    except ValueError:  # a damaged row: the story knows nothing, its copies are new angles
        return frozenset()
    return (
        frozenset(v for v in values if isinstance(v, str))
        if isinstance(values, list)
        else frozenset()
    )


_SEEN = "INSERT INTO seen VALUES (?, ?) ON CONFLICT DO NOTHING"


def _ids(db: Tx, sql: str, user: str) -> frozenset[str]:
    return frozenset(r[0] for r in db.execute(sql, (user,)))


def open_engine(where: Path | DatabaseSettings) -> Engine:
    """The triage's tables: in the database, or in the file in the store's folder (made
    when missing). Raises TriageError."""

    def fail(message: str) -> TriageError:
        return TriageError(f"triage {message}")

    if isinstance(where, DatabaseSettings):
        from monitor.io.pg.tables import PgEngine  # only with the backend in use

        return PgEngine(where, fail, counter="triage_writes", create=True)
    path = Path(where) / FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    except (sqlite3.Error, OSError) as exc:
        raise fail(f"{path}: {exc}") from exc
    try:
        enable_wal(db)
        db.executescript(_SCHEMA)
    except sqlite3.Error as exc:
        db.close()
        raise fail(f"{path}: {exc}") from exc
    return SqliteEngine(db, str(path), fail)


def exists(where: Path | DatabaseSettings) -> bool:
    """Whether there is a triage to read (the database always has one)."""
    return isinstance(where, DatabaseSettings) or (Path(where) / FILE).exists()
