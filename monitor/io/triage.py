"""The analyst's triage: what they saw, starred, tagged and annotated, kept across restarts.

One SQLite file beside the store (`triage.sqlite`), apart from the store's own files:
triage is the analyst's, not the feeds', and a read-only dashboard (one that does not
hold the store's writer lock) writes it too. SQLite gives what TinyDB cannot here: two
dashboards starring at once each commit whole, and neither loses the other's.

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
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from monitor.core.angles import Decision
from monitor.io.clock import utcnow
from monitor.io.sqlitefile import enable_wal, transaction
from monitor.model import SeenStory, TriageState, tag_key

log = logging.getLogger(__name__)

FILE = "triage.sqlite"
SHARED = ""  # the user of shared rows
AUTO = "auto"  # the `by` of tags set by [[tags]] queries

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
    """One analyst's triage of one store: `path` is the store's folder. `now` dates the
    rows, and the start of a new analyst's triage (`TriageState.since`).

    Thread-safe: one connection behind a lock, so the callers' threads take turns."""

    def __init__(
        self,
        store_path: Path,
        *,
        shared: bool = False,
        user: str | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.path = Path(store_path) / FILE
        self.user = SHARED if shared else (user or login())
        self.now = now
        self._lock = threading.Lock()
        self._writes = 0  # this connection's commits, which data_version does not count
        self._cached: tuple[int, int, TriageState] | None = None
        self._reads = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=30, check_same_thread=False, isolation_level=None
            )
        except (sqlite3.Error, OSError) as exc:
            raise TriageError(f"triage {self.path}: {exc}") from exc
        try:
            enable_wal(self._db)
            self._db.executescript(_SCHEMA)
            self._db.execute(
                "INSERT OR IGNORE INTO users VALUES (?, ?)", (self.user, now().isoformat())
            )
        except sqlite3.Error as exc:
            self._db.close()
            raise TriageError(f"triage {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One transaction; another process's waits its turn (up to 30 s)."""
        return transaction(
            self._db,
            self._lock,
            lambda exc: TriageError(f"triage {self.path}: {exc}"),
            self._committed,
        )

    def _committed(self) -> None:
        self._writes += 1

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
            db = self._db
            self._reads += 1
            rank = self._reads
            try:
                version = db.execute("PRAGMA data_version").fetchone()[0]
                cached = self._cached
                if cached is not None and cached[:2] == (version, self._writes):
                    return rank, cached[2]
                db.execute("BEGIN")  # one snapshot for every table
                since_row = db.execute("SELECT since FROM users WHERE user = ?", (user,)).fetchone()
                seen = frozenset(
                    r[0] for r in db.execute("SELECT id FROM seen WHERE user = ?", (user,))
                )
                starred = frozenset(
                    r[0] for r in db.execute("SELECT id FROM starred WHERE user = ?", (user,))
                )
                tag_rows = db.execute(
                    "SELECT key, name, id FROM tags WHERE user = ? OR by = ? ORDER BY at",
                    (user, AUTO),
                ).fetchall()
                notes = dict(
                    db.execute("SELECT id, text FROM notes WHERE user = ?", (user,)).fetchall()
                )
                angles = dict(
                    db.execute("SELECT id, why FROM angles WHERE user = ?", (user,)).fetchall()
                )
                stories = frozenset(
                    r[0] for r in db.execute("SELECT id FROM stories WHERE user = ?", (user,))
                )
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    db.execute("ROLLBACK")
                raise TriageError(f"triage {self.path}: {exc}") from exc
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
                since=datetime.fromisoformat(since_row[0]) if since_row else None,
                angles=angles,
                stories=stories,
            )
            self._cached = (version, self._writes, state)
        return rank, state

    def tags(self) -> dict[str, int]:
        """Every tag this analyst sees (theirs and auto-tags), as written, with its number of
        items; most used first."""
        state = self.state()
        counts = {state.tag_names[k]: len(ids) for k, ids in state.tags.items()}
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold())))

    def protected(self) -> frozenset[str]:
        """Items retention keeps: starred, tagged by hand or annotated, by any analyst."""
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT id FROM starred UNION SELECT id FROM tags WHERE by != ? "
                    "UNION SELECT id FROM notes",
                    (AUTO,),
                ).fetchall()
            except sqlite3.Error as exc:
                raise TriageError(f"triage {self.path}: {exc}") from exc
        return frozenset(r[0] for r in rows)

    # -- writing ----------------------------------------------------------------------------

    def star(self, ids: Iterable[str], on: bool = True) -> int:
        """Star (or unstar) items; returns how many changed."""
        now = self.now().isoformat()
        with self._write() as db:
            if on:
                return _many(
                    db,
                    "INSERT OR IGNORE INTO starred VALUES (?, ?, ?)",
                    ((self.user, i, now) for i in ids),
                )
            return _many(
                db, "DELETE FROM starred WHERE user = ? AND id = ?", ((self.user, i) for i in ids)
            )

    def tag(self, name: str, ids: Iterable[str], on: bool = True, *, auto: bool = False) -> int:
        """Tag (or untag) items with `name`; returns how many changed. An auto-tag (set by
        a `[[tags]]` query) is everyone's."""
        key = tag_key(name)
        if not key:
            raise TriageError("a tag needs a name")
        name = " ".join(name.split())
        user, by = (SHARED, AUTO) if auto else (self.user, self.user or "shared")
        now = self.now().isoformat()
        with self._write() as db:
            if on:
                known = db.execute("SELECT name FROM tags WHERE key = ? LIMIT 1", (key,)).fetchone()
                shown = known[0] if known else name  # one spelling per tag: the first
                return _many(
                    db,
                    "INSERT OR IGNORE INTO tags VALUES (?, ?, ?, ?, ?, ?)",
                    ((user, i, key, shown, by, now) for i in ids),
                )
            return _many(
                db,
                "DELETE FROM tags WHERE (user = ? OR by = ?) AND id = ? AND key = ?",
                ((self.user, AUTO, i, key) for i in ids),
            )

    def note(self, item_id: str, text: str) -> bool:
        """Set the item's note; an empty one removes it. Returns whether it changed."""
        text = text.strip()
        with self._write() as db:
            old = db.execute(
                "SELECT text FROM notes WHERE user = ? AND id = ?", (self.user, item_id)
            ).fetchone()
            if (old[0] if old else "") == text:
                return False
            if text:
                db.execute(
                    "INSERT OR REPLACE INTO notes VALUES (?, ?, ?, ?)",
                    (self.user, item_id, text, self.now().isoformat()),
                )
            else:
                db.execute("DELETE FROM notes WHERE user = ? AND id = ?", (self.user, item_id))
            return True

    def mark_seen(self, ids: Iterable[str], on: bool = True) -> int:
        """Mark items seen (or unseen); returns how many changed."""
        with self._write() as db:
            if on:
                return _many(
                    db, "INSERT OR IGNORE INTO seen VALUES (?, ?)", ((self.user, i) for i in ids)
                )
            return _many(
                db, "DELETE FROM seen WHERE user = ? AND id = ?", ((self.user, i) for i in ids)
            )

    # -- stories marked seen (`core.angles`) --------------------------------------------

    def seen_stories(self) -> dict[str, SeenStory]:
        """The stories this analyst marked seen, by their id when marked."""
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT id, at, actors, quotes FROM stories WHERE user = ?", (self.user,)
                ).fetchall()
            except sqlite3.Error as exc:
                raise TriageError(f"triage {self.path}: {exc}") from exc
        return {
            i: SeenStory(i, datetime.fromisoformat(at), _set(actors), _set(quotes))
            for i, at, actors, quotes in rows
        }

    def mark_story(self, story: SeenStory, ids: Iterable[str]) -> int:
        """Mark a story's items seen and keep what it said; how many items changed."""
        rows = [(self.user, i) for i in ids]
        with self._write() as db:
            self._keep(db, [story])
            return _many(db, "INSERT OR IGNORE INTO seen VALUES (?, ?)", rows)

    def unmark_story(self, records: Iterable[str], ids: Iterable[str]) -> int:
        """Undo `mark_story`: its items unread, its records (`SeenStory.id`, several when
        stories merged) and the new angles of its items forgotten; how many items changed."""
        rows = [(self.user, i) for i in ids]
        with self._write() as db:
            _many(
                db,
                "DELETE FROM stories WHERE user = ? AND id = ?",
                ((self.user, r) for r in records),
            )
            _many(db, "DELETE FROM angles WHERE user = ? AND id = ?", rows)
            return _many(db, "DELETE FROM seen WHERE user = ? AND id = ?", rows)

    def settle_copies(self, decision: Decision) -> None:
        """Later copies of seen stories: seen, or flagged new angles, in one transaction,
        with what the stories now know."""
        now = self.now().isoformat()
        with self._write() as db:
            _many(
                db,
                "INSERT OR IGNORE INTO seen VALUES (?, ?)",
                ((self.user, i) for i in decision.seen),
            )
            _many(
                db,
                "INSERT OR REPLACE INTO angles VALUES (?, ?, ?, ?, ?)",
                ((self.user, a.id, a.story, a.why, now) for a in decision.angles),
            )
            self._keep(db, decision.stories)

    def _keep(self, db: sqlite3.Connection, stories: Iterable[SeenStory]) -> None:
        _many(
            db,
            "INSERT OR REPLACE INTO stories VALUES (?, ?, ?, ?, ?)",
            (
                (self.user, s.id, s.at.isoformat(), _json(s.actors), _json(s.quotes))
                for s in stories
            ),
        )

    def forget(self, ids: Iterable[str]) -> None:
        """Drop every row of these items (retention dropped them from the store)."""
        rows = [(i,) for i in ids]
        with self._write() as db:
            for table in ("seen", "starred", "tags", "notes", "stories", "angles"):
                _many(db, f"DELETE FROM {table} WHERE id = ?", rows)


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


def _many(db: sqlite3.Connection, sql: str, rows: Iterable[tuple[str, ...]]) -> int:
    before = db.total_changes
    db.executemany(sql, rows)
    return db.total_changes - before
