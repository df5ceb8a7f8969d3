"""The alerts ledger: every (watch, item) match, every alert (one per watch and story) and
every delivery, in one SQLite file beside the folder store (`alerts.sqlite`), like the
triage; with `[storage] backend = "postgresql"`, in the database (`io/tables.py`: one
SQL for both).

A match joins the alert of its watch whose story it is in: the live stories' (`Match.story`,
`io.live_stories`: the clusters of the dashboard and the digest), else, for a match in
no story and for rows recorded before matches had one, the same test on shingles
(`core.alerts.Stories`).

A match, its alert and the alert's pending deliveries are written in one transaction, and
UNIQUE(watch, item) with ON CONFLICT DO NOTHING keeps a restart, a re-poll or a second
process from recording the same match twice; writers take turns (the file's lock, or the
database's `ledger_writes` row), so two pollers matching copies of one story at once
raise one alert. Deliveries stay `pending` until a sender takes the due ones
(`due_deliveries`) and says how it went (`mark_sent`, `mark_failed`): a crash between
match and delivery delivers after the restart, at least once. In the database, where
every poller sends, taking them moves their `next_try` on by LEASE in the same turn, so
no other process takes them meanwhile; one that dies before saying how it went has them
sent by another once the lease is over. `channel_health` sums the deliveries up per
channel, for the sources screen and `monitor sources`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from monitor.config import DatabaseSettings
from monitor.core.alerts import STORY_HOURS, Stories, pack, unpack
from monitor.io.sqlitefile import enable_wal, transaction
from monitor.io.tables import Engine, SqliteEngine, Tx, moment
from monitor.model import Alert, AlertItem, ChannelHealth

FILE = "alerts.sqlite"
SCHEMA = 1  # PRAGMA user_version: 1 = matches have a story column
SCREEN = ("dashboard", "bell")  # delivered by the dashboard itself, not by a sender
LEASE = timedelta(minutes=5)  # in the database: a taken delivery is another's after this

# the file's tables; in PostgreSQL: `pg/schema.py` (LEDGER)
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
    """The ledger of one store: `where` is the folder store's folder, or the database.
    Thread-safe: the file's one connection behind a lock, other processes waiting for a
    write transaction (up to 30 s); in the database, pooled connections."""

    def __init__(self, where: Path | DatabaseSettings, *, read_only: bool = False) -> None:
        self._engine = open_engine(where, read_only)

    def close(self) -> None:
        self._engine.close()

    def _write(self) -> AbstractContextManager[Tx]:
        return self._engine.write()

    def _read(self) -> AbstractContextManager[Tx]:
        return self._engine.read()

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
        since = now - timedelta(hours=STORY_HOURS)
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
                    alert_id = db.insert(
                        "INSERT INTO alerts(watch, story, at, sources, data)"
                        " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                        (m.watch, m.key, now, len(alert.sources), _dump(alert)),
                    )
                    if alert_id is None:
                        continue
                    alert = replace(alert, id=alert_id)
                    raised[alert_id] = alert
                    for channel, due in channels.get(m.watch, {}).items():
                        if channel not in SCREEN:
                            db.execute(
                                "INSERT INTO deliveries(alert, watch, channel, next_try)"
                                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                                (alert_id, m.watch, channel, due),
                            )
                db.execute(
                    "INSERT INTO matches"
                    "(watch, item, alert, words, context, at, shingles, story)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (
                        m.watch,
                        m.key,
                        alert_id,
                        json.dumps(list(m.matched)),
                        m.context,
                        now,
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
            args.append(since)
        if watch is not None:
            sql += " AND watch = ?"
            args.append(watch)
        sql += " ORDER BY at DESC, id DESC LIMIT ?"
        with self._read() as db:
            rows = db.execute(sql, (*args, limit)).fetchall()
        return [_load(data, id_, bool(seen)) for id_, seen, data in rows]

    def last(self) -> int:
        """The id of the latest alert (0: none yet)."""
        with self._read() as db:
            row = db.execute("SELECT max(id) FROM alerts").fetchone()
        return int(row[0] or 0)

    def unseen(self) -> dict[str, int]:
        """Watch -> alerts not marked seen."""
        with self._read() as db:
            rows = db.execute(
                "SELECT watch, count(*) FROM alerts WHERE NOT seen GROUP BY watch"
            ).fetchall()
        return {w: n for w, n in rows}

    def mark_seen(self, ids: Iterable[int]) -> int:
        """Mark alerts seen; returns how many were not."""
        wanted = list(ids)
        with self._write() as db:
            return sum(
                db.execute("UPDATE alerts SET seen = TRUE WHERE id = ? AND NOT seen", (i,)).rowcount
                for i in wanted
            )

    # -- deliveries, for the sender ------------------------------------------------------------

    def due_deliveries(self, now: datetime, channel: str | None = None) -> list[Delivery]:
        """Pending deliveries due at `now`, oldest first: a sender takes all of a watch and
        channel at once (the hourly and daily batches). In the database they are taken:
        due again only after LEASE, unless marked sent or failed before."""
        sql = (
            "SELECT d.id, d.watch, d.channel, d.state, d.attempts, d.next_try, d.last_error,"
            " a.id, a.seen, a.data FROM deliveries d JOIN alerts a ON a.id = d.alert"
            " WHERE d.state = 'pending' AND d.next_try <= ?"
        )
        args: list[object] = [now]
        if channel is not None:
            sql += " AND d.channel = ?"
            args.append(channel)
        taking = self._engine.shared  # the one process that writes a folder store sends
        with self._write() if taking else self._read() as db:
            rows = db.execute(sql + " ORDER BY d.next_try, d.id", args).fetchall()
            if taking:
                db.many(
                    "UPDATE deliveries SET next_try = ? WHERE id = ?",
                    ((now + LEASE, r[0]) for r in rows),
                )
        return [
            Delivery(d, _load(data, a, bool(seen)), w, c, s, n, moment(t), e)
            for d, w, c, s, n, t, e, a, seen, data in rows
        ]

    def next_due(self) -> datetime | None:
        """When the next pending delivery is due (None: none pending)."""
        with self._read() as db:
            row = db.execute(
                "SELECT min(next_try) FROM deliveries WHERE state = 'pending'"
            ).fetchone()
        return moment(row[0]) if row and row[0] else None

    def deliveries(self, alert: int) -> list[Delivery]:
        """Every delivery of one alert (for `monitor alerts`: what failed)."""
        with self._read() as db:
            rows = db.execute(
                "SELECT d.id, d.watch, d.channel, d.state, d.attempts, d.next_try,"
                " d.last_error, a.seen, a.data FROM deliveries d JOIN alerts a ON a.id = d.alert"
                " WHERE d.alert = ? ORDER BY d.id",
                (alert,),
            ).fetchall()
        return [
            Delivery(d, _load(data, alert, bool(seen)), w, c, s, n, moment(t), e)
            for d, w, c, s, n, t, e, seen, data in rows
        ]

    def mark_sent(self, ids: Iterable[int], now: datetime) -> None:
        """These deliveries went out."""
        with self._write() as db:
            db.many(
                "UPDATE deliveries SET state = 'sent', attempts = attempts + 1, done_at = ?,"
                " tried_at = ?, last_error = NULL WHERE id = ?",
                ((now, now, i) for i in ids),
            )

    def mark_failed(
        self, ids: Iterable[int], error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        """These deliveries failed: tried again at `retry_at`, or given up (None)."""
        with self._write() as db:
            if retry_at is None:
                db.many(
                    "UPDATE deliveries SET state = 'failed', attempts = attempts + 1,"
                    " last_error = ?, done_at = ?, tried_at = ? WHERE id = ?",
                    ((error, now, now, i) for i in ids),
                )
            else:
                db.many(
                    "UPDATE deliveries SET attempts = attempts + 1, last_error = ?,"
                    " next_try = ?, tried_at = ? WHERE id = ?",
                    ((error, retry_at, now, i) for i in ids),
                )

    def channel_health(self) -> list[ChannelHealth]:
        """Each channel with deliveries, by name: when it last worked, its last failure
        and how many tries in a row failed since, what waits and when it is tried next."""
        # read-only on a ledger from before `tried_at`: the end of a delivery stands in
        has_tried = "tried_at" in self._engine.columns("deliveries")
        tried = "coalesce(tried_at, done_at)" if has_tried else "done_at"
        rows_of = (
            f"(SELECT channel, state, attempts, next_try, last_error, {tried} AS t"
            " FROM deliveries) AS d"
        )
        out = []
        with self._read() as db:
            totals = db.execute(
                "SELECT channel, max(CASE WHEN state = 'sent' THEN t END),"
                " count(CASE WHEN state = 'pending' THEN 1 END),"
                " min(CASE WHEN state = 'pending' THEN next_try END),"
                f" count(CASE WHEN state = 'failed' THEN 1 END) FROM {rows_of}"
                " GROUP BY channel ORDER BY channel"
            ).fetchall()
            for channel, ok, pending, next_try, given_up in totals:
                last = db.execute(
                    f"SELECT t, last_error FROM {rows_of} WHERE channel = ?"
                    " AND last_error IS NOT NULL ORDER BY t IS NULL, t DESC LIMIT 1",
                    (channel,),
                ).fetchone()
                # the rows of one batch fail together: the longest run of failed tries
                # since the channel last worked is how many failed in a row (a retry of
                # unknown time, from before `tried_at`, counts as one since)
                since = "" if ok is None else " AND (t IS NULL OR t > ?)"
                streak = db.execute(
                    f"SELECT max(attempts) FROM {rows_of} WHERE channel = ?"
                    f" AND last_error IS NOT NULL{since}",
                    (channel,) if ok is None else (channel, ok),
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


def _moment(value: str | datetime | None) -> datetime | None:
    return moment(value) if value else None


def _get(db: Tx, alert_id: int) -> Alert | None:
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


def exists(where: Path | DatabaseSettings) -> bool:
    """Whether the store has a ledger yet (the database always has one)."""
    return isinstance(where, DatabaseSettings) or (Path(where) / FILE).exists()


def open_ledger(where: Path | DatabaseSettings, *, read_only: bool = False) -> Ledger | None:
    """The store's ledger; read-only: None when there is none yet (nothing is created)."""
    if read_only and not exists(where):
        return None
    return Ledger(where, read_only=read_only)


def open_engine(where: Path | DatabaseSettings, read_only: bool) -> Engine:
    """The ledger's tables: in the database, or in the file in the store's folder (made,
    or brought up to SCHEMA, unless read-only). Raises LedgerError."""

    def fail(message: str) -> LedgerError:
        return LedgerError(f"alerts ledger {message}")

    if isinstance(where, DatabaseSettings):
        from monitor.io.pg.tables import PgEngine  # only with the backend in use

        return PgEngine(where, fail, counter="ledger_writes", create=not read_only)
    path = Path(where) / FILE
    try:
        if read_only:
            uri = f"{path.resolve().as_uri()}?mode=ro"
            db = sqlite3.connect(
                uri, uri=True, timeout=30, check_same_thread=False, isolation_level=None
            )
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
            try:
                _make(db)
            except sqlite3.Error:
                db.close()
                raise
    except (sqlite3.Error, OSError) as exc:
        raise fail(f"{path}: {exc}") from exc
    return SqliteEngine(db, str(path), fail)


def _make(db: sqlite3.Connection) -> None:
    """Make the file's tables, or bring a ledger of an earlier schema up to SCHEMA in one
    transaction (another process may be doing it too: the column is added once)."""

    def has(table: str, column: str) -> bool:
        return any(c[1] == column for c in db.execute(f"PRAGMA table_info({table})"))

    enable_wal(db)
    db.executescript(_SCHEMA)
    if not has("deliveries", "tried_at"):  # a ledger from before `tried_at`
        db.execute("ALTER TABLE deliveries ADD COLUMN tried_at TEXT")
    with transaction(db, threading.Lock(), lambda exc: exc):
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version >= SCHEMA:
            return
        if not has("matches", "story"):  # rows from before: no story (NULL)
            db.execute("ALTER TABLE matches ADD COLUMN story TEXT")
        db.execute(f"PRAGMA user_version = {SCHEMA}")
