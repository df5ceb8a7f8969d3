"""The alerts ledger: every (watch, item) match, every alert (one per watch and story) and
every delivery, in one SQLite file beside the store (`alerts.sqlite`), like the triage.

A match joins the alert of its watch whose story it is in: the live stories' (`Match.story`,
`io.live_stories`: the clusters of the dashboard and the digest), else, for a match in
no story and for rows recorded before matches had one, the same test on shingles
(`core.alerts.Stories`).

A match, its alert and the alert's pending deliveries are written in one transaction, and
UNIQUE(watch, item) with INSERT OR IGNORE keeps a restart, a re-poll or a second process
from recording the same match twice. Deliveries stay `pending` until a sender takes the
due ones (`due_deliveries`) and says how it went (`mark_sent`, `mark_failed`): a crash
between match and delivery delivers after the restart, at least once. `channel_health`
sums the deliveries up per channel, for the sources screen and `monitor sources`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from monitor.core.alerts import STORY_HOURS, Stories, pack, unpack
from monitor.io.sqlitefile import enable_wal, transaction
from monitor.model import Alert, AlertItem, ChannelHealth

FILE = "alerts.sqlite"
SCHEMA = 1  # PRAGMA user_version: 1 = matches have a story column
SCREEN = ("dashboard", "bell")  # delivered by the dashboard itself, not by a sender

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts(
    id INTEGER PRIMARY KEY, watch TEXT NOT NULL, story TEXT NOT NULL, at TEXT NOT NULL,
    sources INTEGER NOT NULL, seen INTEGER NOT NULL DEFAULT 0, data TEXT NOT NULL,
    UNIQUE(watch, story));
CREATE INDEX IF NOT EXISTS alerts_at ON alerts(at);
CREATE TABLE IF NOT EXISTS matches(
    watch TEXT NOT NULL, item TEXT NOT NULL, alert INTEGER NOT NULL, words TEXT NOT NULL,
    context TEXT NOT NULL, at TEXT NOT NULL, shingles BLOB NOT NULL,
    PRIMARY KEY(watch, item)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS matches_recent ON matches(watch, at);
CREATE TABLE IF NOT EXISTS deliveries(
    id INTEGER PRIMARY KEY, alert INTEGER NOT NULL, watch TEXT NOT NULL,
    channel TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0, next_try TEXT NOT NULL, last_error TEXT,
    done_at TEXT, tried_at TEXT, UNIQUE(alert, channel));
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_try);
"""


class LedgerError(Exception):
    """The ledger cannot be opened or written; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Match:
    """A watch matched an item (or an actor rule fired on it), before it is recorded.
    `key` is what makes it unique for the watch: the item's id, or the rule's key."""

    watch: str
    key: str
    item: AlertItem
    matched: tuple[str, ...]
    context: str
    shingles: set[int]
    story: str | None = None  # the item's live story (None: in none, or a rule's match)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What `record` did: alerts raised, and alerts that copies of their story joined."""

    raised: tuple[Alert, ...] = ()
    joined: tuple[Alert, ...] = ()


@dataclass(frozen=True, slots=True)
class Delivery:
    """A delivery row: the alert to send through one channel of its watch."""

    id: int
    alert: Alert
    watch: str
    channel: str
    state: str  # pending | sent | failed
    attempts: int
    next_try: datetime
    last_error: str | None


class Ledger:
    """The ledger of one store (`store_path` is its folder). Thread-safe: one connection
    behind a lock; other processes wait for a write transaction (up to 30 s)."""

    def __init__(self, store_path: Path, *, read_only: bool = False) -> None:
        self.path = Path(store_path) / FILE
        self._lock = threading.Lock()
        try:
            if read_only:
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._db = sqlite3.connect(
                    uri, uri=True, timeout=30, check_same_thread=False, isolation_level=None
                )
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, timeout=30, check_same_thread=False, isolation_level=None
            )
            enable_wal(self._db)
            self._db.executescript(_SCHEMA)
            if not self._has("deliveries", "tried_at"):  # a ledger from before `tried_at`
                self._db.execute("ALTER TABLE deliveries ADD COLUMN tried_at TEXT")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(f"alerts ledger {self.path}: {exc}") from exc

    def _has_tried_at(self) -> bool:
        return self._has("deliveries", "tried_at")

    def _has(self, table: str, column: str) -> bool:
        columns = self._db.execute(f"PRAGMA table_info({table})").fetchall()
        return any(c[1] == column for c in columns)

    def _migrate(self) -> None:
        """Bring a ledger of an earlier schema up to SCHEMA, in one transaction (another
        process may be doing it too: the column is added once)."""
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version >= SCHEMA:
                return
            if not self._has("matches", "story"):  # rows from before: no story (NULL)
                db.execute("ALTER TABLE matches ADD COLUMN story TEXT")
            db.execute(f"PRAGMA user_version = {SCHEMA}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return transaction(
            self._db, self._lock, lambda exc: LedgerError(f"alerts ledger {self.path}: {exc}")
        )

    # -- recording ---------------------------------------------------------------------------

    def record(
        self,
        matches: Sequence[Match],
        channels: dict[str, dict[str, datetime]],
        now: datetime,
        story_of: Callable[[str], str | None] | None = None,
    ) -> Recorded:
        """Record `matches` not recorded yet, in one transaction. Each joins the alert of
        its watch whose story it is in (`_Recent`, over the watch's matches of the last
        STORY_HOURS; `story_of` gives their items' stories now, after merges), or raises
        a new alert with a pending delivery for each of `channels[watch]` (channel ->
        when due; the screen's own channels are left out)."""
        raised: dict[int, Alert] = {}
        joined: dict[int, Alert] = {}
        since = (now - timedelta(hours=STORY_HOURS)).isoformat()
        with self._write() as db:
            recent: dict[str, _Recent] = {}
            for m in matches:
                exists = db.execute(
                    "SELECT 1 FROM matches WHERE watch = ? AND item = ?", (m.watch, m.key)
                ).fetchone()
                if exists:
                    continue
                if m.watch not in recent:
                    rows = db.execute(
                        "SELECT alert, item, story, shingles FROM matches"
                        " WHERE watch = ? AND at >= ? ORDER BY at",
                        (m.watch, since),
                    )
                    recent[m.watch] = stories = _Recent()
                    for a, item, story, s in rows:
                        now_in = story_of(item) if story_of is not None and story else None
                        stories.add(a, now_in or story, unpack(s))
                alert_id = recent[m.watch].alert_of(m.story, m.shingles)
                alert = _get(db, alert_id) if alert_id is not None else None
                if alert is not None and alert_id is not None:
                    alert = replace(alert, items=(*alert.items, m.item))
                    db.execute(
                        "UPDATE alerts SET data = ?, sources = ? WHERE id = ?",
                        (_dump(alert), len(alert.sources), alert_id),
                    )
                    if alert_id in raised:
                        raised[alert_id] = alert
                    else:
                        joined[alert_id] = alert
                else:
                    alert = Alert(
                        watch=m.watch,
                        story=m.key,
                        title=m.item.title,
                        url=m.item.url,
                        items=(m.item,),
                        matched=m.matched,
                        context=m.context,
                        at=now,
                    )
                    cur = db.execute(
                        "INSERT OR IGNORE INTO alerts(watch, story, at, sources, data)"
                        " VALUES (?, ?, ?, ?, ?)",
                        (m.watch, m.key, now.isoformat(), len(alert.sources), _dump(alert)),
                    )
                    if not cur.rowcount or cur.lastrowid is None:
                        continue
                    alert_id = cur.lastrowid
                    alert = replace(alert, id=alert_id)
                    raised[alert_id] = alert
                    for channel, due in channels.get(m.watch, {}).items():
                        if channel not in SCREEN:
                            db.execute(
                                "INSERT OR IGNORE INTO deliveries(alert, watch, channel, next_try)"
                                " VALUES (?, ?, ?, ?)",
                                (alert_id, m.watch, channel, due.isoformat()),
                            )
                db.execute(
                    "INSERT OR IGNORE INTO matches"
                    "(watch, item, alert, words, context, at, shingles, story)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        m.watch,
                        m.key,
                        alert_id,
                        json.dumps(list(m.matched)),
                        m.context,
                        now.isoformat(),
                        pack(m.shingles),
                        m.story,
                    ),
                )
                recent[m.watch].add(alert_id, m.story, m.shingles)
        return Recorded(tuple(raised.values()), tuple(joined.values()))

    # -- reading -----------------------------------------------------------------------------

    def alerts(
        self,
        *,
        since: datetime | None = None,
        watch: str | None = None,
        after: int = 0,
        limit: int = 1000,
    ) -> list[Alert]:
        """Alerts newest first (raised since `since`, of the watch `watch`, recorded after
        the alert `after`)."""
        sql = "SELECT id, seen, data FROM alerts WHERE id > ?"
        args: list[object] = [after]
        if since is not None:
            sql += " AND at >= ?"
            args.append(since.isoformat())
        if watch is not None:
            sql += " AND watch = ?"
            args.append(watch)
        sql += " ORDER BY at DESC, id DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(sql, (*args, limit)).fetchall()
        return [_load(data, id_, bool(seen)) for id_, seen, data in rows]

    def last(self) -> int:
        """The id of the latest alert (0: none yet)."""
        with self._lock:
            row = self._db.execute("SELECT max(id) FROM alerts").fetchone()
        return int(row[0] or 0)

    def unseen(self) -> dict[str, int]:
        """Watch -> alerts not marked seen."""
        with self._lock:
            rows = self._db.execute(
                "SELECT watch, count(*) FROM alerts WHERE seen = 0 GROUP BY watch"
            ).fetchall()
        return {w: n for w, n in rows}

    def mark_seen(self, ids: Iterable[int]) -> int:
        """Mark alerts seen; returns how many were not."""
        wanted = list(ids)
        with self._write() as db:
            return sum(
                db.execute("UPDATE alerts SET seen = 1 WHERE id = ? AND seen = 0", (i,)).rowcount
                for i in wanted
            )

    # -- deliveries, for the sender ------------------------------------------------------------

    def due_deliveries(self, now: datetime, channel: str | None = None) -> list[Delivery]:
        """Pending deliveries due at `now`, oldest first: a sender takes all of a watch and
        channel at once (the hourly and daily batches)."""
        sql = (
            "SELECT d.id, d.watch, d.channel, d.state, d.attempts, d.next_try, d.last_error,"
            " a.id, a.seen, a.data FROM deliveries d JOIN alerts a ON a.id = d.alert"
            " WHERE d.state = 'pending' AND d.next_try <= ?"
        )
        args: list[str] = [now.isoformat()]
        if channel is not None:
            sql += " AND d.channel = ?"
            args.append(channel)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY d.next_try, d.id", args).fetchall()
        return [
            Delivery(d, _load(data, a, bool(seen)), w, c, s, n, datetime.fromisoformat(t), e)
            for d, w, c, s, n, t, e, a, seen, data in rows
        ]

    def next_due(self) -> datetime | None:
        """When the next pending delivery is due (None: none pending)."""
        with self._lock:
            row = self._db.execute(
                "SELECT min(next_try) FROM deliveries WHERE state = 'pending'"
            ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def deliveries(self, alert: int) -> list[Delivery]:
        """Every delivery of one alert (for `monitor alerts`: what failed)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT d.id, d.watch, d.channel, d.state, d.attempts, d.next_try,"
                " d.last_error, a.seen, a.data FROM deliveries d JOIN alerts a ON a.id = d.alert"
                " WHERE d.alert = ? ORDER BY d.id",
                (alert,),
            ).fetchall()
        return [
            Delivery(d, _load(data, alert, bool(seen)), w, c, s, n, datetime.fromisoformat(t), e)
            for d, w, c, s, n, t, e, seen, data in rows
        ]

    def mark_sent(self, ids: Iterable[int], now: datetime) -> None:
        """These deliveries went out."""
        with self._write() as db:
            for i in ids:
                db.execute(
                    "UPDATE deliveries SET state = 'sent', attempts = attempts + 1, done_at = ?,"
                    " tried_at = ?, last_error = NULL WHERE id = ?",
                    (now.isoformat(), now.isoformat(), i),
                )

    def mark_failed(
        self, ids: Iterable[int], error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        """These deliveries failed: tried again at `retry_at`, or given up (None)."""
        with self._write() as db:
            for i in ids:
                if retry_at is None:
                    db.execute(
                        "UPDATE deliveries SET state = 'failed', attempts = attempts + 1,"
                        " last_error = ?, done_at = ?, tried_at = ? WHERE id = ?",
                        (error, now.isoformat(), now.isoformat(), i),
                    )
                else:
                    db.execute(
                        "UPDATE deliveries SET attempts = attempts + 1, last_error = ?,"
                        " next_try = ?, tried_at = ? WHERE id = ?",
                        (error, retry_at.isoformat(), now.isoformat(), i),
                    )

    def channel_health(self) -> list[ChannelHealth]:
        """Each channel with deliveries, by name: when it last worked, its last failure
        and how many tries in a row failed since, what waits and when it is tried next."""
        with self._lock:
            # read-only on a ledger from before `tried_at`: the end of a delivery stands in
            tried = "coalesce(tried_at, done_at)" if self._has_tried_at() else "done_at"
            rows_of = (
                f"SELECT channel, state, attempts, next_try, last_error, {tried} AS t"
                " FROM deliveries"
            )
            totals = self._db.execute(
                "SELECT channel, max(CASE WHEN state = 'sent' THEN t END),"
                " sum(state = 'pending'), min(CASE WHEN state = 'pending' THEN next_try END),"
                f" sum(state = 'failed') FROM ({rows_of}) GROUP BY channel ORDER BY channel"
            ).fetchall()
            out = []
            for channel, ok, pending, next_try, given_up in totals:
                last = self._db.execute(
                    f"SELECT t, last_error FROM ({rows_of}) WHERE channel = ?"
                    " AND last_error IS NOT NULL ORDER BY coalesce(t, '') DESC LIMIT 1",
                    (channel,),
                ).fetchone()
                # the rows of one batch fail together: the longest run of failed tries
                # since the channel last worked is how many failed in a row (a retry of
                # unknown time, from before `tried_at`, counts as one since)
                streak = self._db.execute(
                    f"SELECT max(attempts) FROM ({rows_of}) WHERE channel = ?"
                    " AND last_error IS NOT NULL AND (t IS NULL OR t > ?)",
                    (channel, ok or ""),
                ).fetchone()
                out.append(
                    ChannelHealth(
                        channel=channel,
                        last_success=_moment(ok),
                        last_failure=_moment(last[0]) if last else None,
                        last_error=last[1] if last else None,
                        failures=int(streak[0] or 0),
                        pending=int(pending or 0),
                        next_try=_moment(next_try),
                        given_up=int(given_up or 0),
                    )
                )
        return out


class _Recent:
    """One watch's recent matches, by story: a match joins the alert of an earlier match
    in its live story; a match in no story, or one whose story none of them is in, is
    compared on shingles with those recorded in no story (`core.alerts.Stories`): two
    items the live stories keep apart stay apart."""

    def __init__(self) -> None:
        self.by_story: dict[str, int] = {}  # story -> the alert of its earliest match
        self.loose = Stories()  # matches in no story
        self.every = Stories()  # all of them, for a match in no story

    def add(self, alert: int, story: str | None, shingles: set[int]) -> None:
        if story is not None:
            self.by_story.setdefault(story, alert)
        else:
            self.loose.add(alert, shingles)
        self.every.add(alert, shingles)

    def alert_of(self, story: str | None, shingles: set[int]) -> int | None:
        if story is None:
            return self.every.story_of(shingles)
        found = self.by_story.get(story)
        return found if found is not None else self.loose.story_of(shingles)


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _get(db: sqlite3.Connection, alert_id: int) -> Alert | None:
    row = db.execute("SELECT seen, data FROM alerts WHERE id = ?", (alert_id,)).fetchone()
    return _load(row[1], alert_id, bool(row[0])) if row else None


def _dump(alert: Alert) -> str:
    data = alert.to_json()
    del data["id"]  # the row's own: not known yet when the alert is inserted
    return json.dumps(data, ensure_ascii=False)


def _load(data: str, alert_id: int, seen: bool) -> Alert:
    d = json.loads(data)
    return Alert(
        watch=d["watch"],
        story=d["story"],
        title=d["title"],
        url=d["url"],
        items=tuple(
            AlertItem(
                i["id"],
                i["title"],
                i["url"],
                tuple(i["sources"]),
                datetime.fromisoformat(i["published"]),
            )
            for i in d["items"]
        ),
        matched=tuple(d["matched"]),
        context=d["context"],
        at=datetime.fromisoformat(d["at"]),
        id=alert_id,
        seen=seen,
    )


def open_ledger(store_path: Path, *, read_only: bool = False) -> Ledger | None:
    """The store's ledger; read-only: None when there is none yet (nothing is created)."""
    if read_only and not (Path(store_path) / FILE).exists():
        return None
    return Ledger(store_path, read_only=read_only)
