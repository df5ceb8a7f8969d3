"""PgStore: the `Store` protocol over PostgreSQL, for teams: many processes on many hosts
write and read one database.

- Writes are serialized by an advisory lock held for the transaction: identity is
  resolved against what is committed (two pollers bringing one article from two feeds
  make one item), and commit numbers (`items.seq`, from the `commits` sequence) follow
  commit order, so that a reader asking for "everything after commit N" misses nothing.
- Every write is an upsert on the identity keys: a crash or a retry never duplicates.
- Each commit NOTIFYs its number: dashboards learn of it at once (`follow`), and read
  only the rows of the commits they have not seen (`io/pg/entries.py`).
- The whole-text index is a column of `items`, written in the same transaction: it is
  never behind, and `reindex` makes it again from the records.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import psycopg

from monitor.core.dedupe import merge
from monitor.core.entries import doc_key, entry_of
from monitor.core.index import EntryIndex, Part, encode_parts
from monitor.core.query import TextSearch
from monitor.io.pg import leases, queue, schema
from monitor.io.pg.connect import CHANNEL, Database, release
from monitor.io.pg.entries import Entries
from monitor.io.pg.search import WORDS, PgSearch, words_params
from monitor.io.store import Change, StoreError
from monitor.model import Entry, Item, Outcome, SourceState

log = logging.getLogger(__name__)

WRITE_LOCK = 7_000_002  # pg_advisory_xact_lock key: one write transaction at a time
TOMBSTONE_DAYS = 7  # a dashboard away longer than this reads the store whole again
CHUNK = 2_000  # rows per statement when reading or re-indexing many
_PACK = msgspec.msgpack.Encoder()
_ITEM = msgspec.msgpack.Decoder(Item)
_STATE = msgspec.msgpack.Decoder(SourceState)
_COLUMNS = (
    "id, doc, day, published, first_seen, language, sources, actors, annotated, "
    "has_text, record, entry"
)
_WORD_COLUMNS = ("w_title", "w_body", "w_author", "w_sources")
_INCOMING = f"""
CREATE TEMP TABLE incoming(
    id text, doc bigint, day date, published timestamptz, first_seen timestamptz,
    language text, sources text[], actors text[], annotated boolean, has_text boolean,
    record bytea, entry bytea, {", ".join(f"{c} text" for c in _WORD_COLUMNS)}
) ON COMMIT DROP
"""
_UPSERT = f"""
INSERT INTO items({_COLUMNS}, words, seq)
SELECT {_COLUMNS}, {WORDS % _WORD_COLUMNS}, %s FROM incoming
ON CONFLICT (id) DO UPDATE SET
    doc = excluded.doc, day = excluded.day, published = excluded.published,
    first_seen = excluded.first_seen, language = excluded.language,
    sources = excluded.sources, actors = excluded.actors, annotated = excluded.annotated,
    has_text = excluded.has_text, record = excluded.record, entry = excluded.entry,
    words = excluded.words, seq = excluded.seq
"""


def _row(item: Item) -> tuple[Any, ...]:
    """An item as the columns of `incoming`: what the write sends."""
    entry = entry_of(item)
    return (
        item.id,
        doc_key(item.id),
        _day(item.published),
        item.published,
        item.first_seen,
        item.language,
        list(item.sources),
        [a.casefold() for a in entry.actors],
        entry.annotated,
        entry.has_text,
        _PACK.encode(item),
        _PACK.encode(entry),
        *words_params(item),
    )


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def owner_id() -> str:
    """Who holds a lease: this host and process, and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class PgStore:
    """A `Store` in a PostgreSQL database (`db`, shared with the rest of the backend).

    Every process may write; `readonly` is for commands that only read (they do not
    create the tables either). `window` (seconds): `entries` and `entry_index` hold
    the items published within that much of now only (`[storage] window`), so that a
    dashboard on years of history holds what it shows; None: every item."""

    def __init__(
        self, db: Database, *, readonly: bool = False, window: float | None = None
    ) -> None:
        self.db = db
        self.readonly = readonly
        self.window = window
        self.owner = owner_id()
        self._mutex = threading.RLock()  # this process's entries
        self._entries = Entries()
        self._closed = False
        self._latest = 0  # the newest commit known to exist (NOTIFY, or our own)
        self._followers: list[Callable[[int], None]] = []
        try:
            with self._conn() as conn:
                schema.check(conn, create=not readonly)
            self._latest = self._commit_now()
        except BaseException:
            release(db)
            raise
        self._listening = False  # a command that reads once needs no listener

    @property
    def name(self) -> str:
        return self.db.name

    # -- connections ------------------------------------------------------------------

    @contextlib.contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        """A pooled connection; the database's failures raised as `StoreError`."""
        if self._closed:
            raise StoreError(f"store {self.db.name} is closed")
        try:
            with self.db.connection() as conn:
                yield conn
        except psycopg.Error as exc:
            raise StoreError(f"database {self.db.name}: {_words(exc)}") from exc

    @contextlib.contextmanager
    def _writing(self) -> Iterator[tuple[psycopg.Connection, int]]:
        """One write transaction, alone (the advisory lock), with its commit number;
        NOTIFYs it on commit."""
        if self.readonly:
            raise StoreError(f"store {self.db.name} is open read-only")
        with self._conn() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
            row = conn.execute("SELECT nextval('commits')").fetchone()
            assert row is not None
            seq = int(row[0])
            yield conn, seq
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(seq)))
        self._latest = max(self._latest, seq)

    def _notified(self, commit: int) -> None:
        """The listener's thread: a commit was made (-1: maybe some; read again)."""
        if self._closed:
            return
        if commit <= 0:  # listening again after a lost connection: what was missed?
            try:
                commit = self._commit_now()
            except StoreError:
                return
        self._latest = max(self._latest, commit)
        for callback in list(self._followers):
            callback(commit)

    def _commit_now(self) -> int:
        """The newest commit whose rows are visible (one query on indexed columns; not
        the sequence, which counts a write still under way)."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT greatest((SELECT max(seq) FROM items), (SELECT max(seq) FROM dropped))"
            ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def follow(self, callback: Callable[[int], None]) -> None:
        """Call `callback(commit)` from another thread whenever any process commits."""
        self._followers.append(callback)
        self._listen()

    def _listen(self) -> None:
        if not self._listening:
            self._listening = True
            self.db.listen(self._notified)

    # -- Store: writing ---------------------------------------------------------------

    def write(self, items: Sequence[Item], states: Sequence[SourceState]) -> list[Outcome]:
        with self._writing() as (conn, seq):
            stored, key_id = self._stored_for(conn, items)
            outcomes: list[Outcome] = []
            out: dict[str, Item] = {}
            for item in items:
                rid = next((key_id[k] for k in item.keys if key_id.get(k) in stored), None)
                if rid is None and item.id in stored:
                    rid = item.id
                if rid is None:
                    stored[item.id] = out[item.id] = item
                    outcomes.append("new")
                else:
                    old = stored[rid]
                    merged = merge(old, new=item) if old is not None else None
                    if old is None:  # an unreadable record: the new copy replaces it
                        merged = msgspec.structs.replace(item, id=rid)
                    if merged is None:
                        outcomes.append("unchanged")
                        continue
                    stored[rid] = out[rid] = merged
                    outcomes.append("updated")
                target = rid or item.id
                for key in (*item.keys, target):
                    key_id[key] = target
            self._put(conn, list(out.values()), seq)
            self._put_states(conn, states)
        return outcomes

    def _stored_for(
        self, conn: psycopg.Connection, items: Sequence[Item]
    ) -> tuple[dict[str, Item | None], dict[str, str]]:
        """The stored items the incoming ones may be copies of (by any key, or id), and
        every known key of theirs -> id; locked until the commit."""
        keys = list({k for item in items for k in item.keys} | {item.id for item in items})
        key_id: dict[str, str] = {}
        for i in range(0, len(keys), CHUNK * 10):
            rows = conn.execute(
                "SELECT key, id FROM item_keys WHERE key = ANY(%s)", (keys[i : i + CHUNK * 10],)
            ).fetchall()
            key_id.update(rows)
        wanted = list(set(key_id.values()) | {item.id for item in items})
        stored: dict[str, Item | None] = {}
        for i in range(0, len(wanted), CHUNK * 10):
            for rid, record in conn.execute(
                "SELECT id, record FROM items WHERE id = ANY(%s) FOR UPDATE",
                (wanted[i : i + CHUNK * 10],),
            ):
                stored[rid] = _item(record)
        return stored, key_id

    def _put(self, conn: psycopg.Connection, items: list[Item], seq: int) -> None:
        """Upsert `items` and their keys in the open transaction, as commit `seq`."""
        if not items:
            return
        queue.note_written(conn, items)  # the work they still need, in the same commit
        conn.execute(_INCOMING)
        with conn.cursor() as cur:
            with cur.copy("COPY incoming FROM STDIN") as copy:
                for item in items:
                    copy.write_row(_row(item))
            cur.execute(_UPSERT, (seq,))
            pairs = [(key, item.id) for item in items for key in {*item.keys, item.id}]
            cur.execute("CREATE TEMP TABLE incoming_keys(key text, id text) ON COMMIT DROP")
            with cur.copy("COPY incoming_keys FROM STDIN") as copy:
                for pair in pairs:
                    copy.write_row(pair)
            cur.execute(
                "INSERT INTO item_keys SELECT DISTINCT ON (key) key, id FROM incoming_keys "
                "ON CONFLICT (key) DO UPDATE SET id = excluded.id "
                "WHERE item_keys.id IS DISTINCT FROM excluded.id"
            )

    def _put_states(self, conn: psycopg.Connection, states: Sequence[SourceState]) -> None:
        """Upsert the source states; a source written here is no longer leased by us."""
        if not states:
            return
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO sources(name, state, next_due) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET state = excluded.state, "
                "next_due = excluded.next_due, "
                "lease_until = CASE WHEN sources.lease_owner = %s THEN NULL "
                "ELSE sources.lease_until END, "
                "lease_owner = CASE WHEN sources.lease_owner = %s THEN NULL "
                "ELSE sources.lease_owner END",
                [(s.name, _PACK.encode(s), s.next_due, self.owner, self.owner) for s in states],
            )

    def lease(
        self, names: Sequence[str], now: datetime, seconds: float, *, force: bool = False
    ) -> set[str]:
        """`Leasing`: the due sources this process may fetch (`io/pg/leases.py`)."""
        with self._conn() as conn:
            return set(leases.take(conn, self.owner, names, now, seconds, force=force))

    def release(self, names: Sequence[str]) -> None:
        with self._conn() as conn:
            leases.release(conn, self.owner, names)

    def update(self, changes: Sequence[tuple[str, Change]]) -> list[Item]:
        if not changes:
            return []
        done: list[Item] = []
        with self._writing() as (conn, seq):
            ids = list({item_id for item_id, _ in changes})
            found = {
                rid: _item(record)
                for rid, record in conn.execute(
                    "SELECT id, record FROM items WHERE id = ANY(%s) FOR UPDATE", (ids,)
                )
            }
            now: dict[str, Item] = {}
            for item_id, change in changes:
                old = now.get(item_id) or found.get(item_id)
                if old is None:
                    continue
                new = change(old)
                if new != old:
                    now[item_id] = new
                    done.append(new)
            self._put(conn, list(now.values()), seq)
        return done

    def drop_before(self, day: str, keep: frozenset[str]) -> int:
        with self._writing() as (conn, seq):
            rows = conn.execute(
                "DELETE FROM items WHERE day < %s AND NOT (id = ANY(%s)) RETURNING id",
                (date.fromisoformat(day), list(keep)),
            ).fetchall()
            gone = [r[0] for r in rows]
            if gone:
                conn.execute("DELETE FROM item_keys WHERE id = ANY(%s)", (gone,))
                with conn.cursor() as cur, cur.copy("COPY dropped(id, seq) FROM STDIN") as copy:
                    for item_id in gone:
                        copy.write_row((item_id, seq))
            _prune_tombstones(conn)
        return len(gone)

    # -- Store: reading ---------------------------------------------------------------

    def states(self) -> dict[str, SourceState]:
        with self._conn() as conn:
            rows = conn.execute("SELECT state FROM sources").fetchall()
        out: dict[str, SourceState] = {}
        for (packed,) in rows:
            try:
                state = _STATE.decode(packed)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue  # made again by the next fetch of the source
            out[state.name] = state
        return out

    def get(self, item_id: str) -> Item | None:
        with self._conn() as conn:
            row = conn.execute("SELECT record FROM items WHERE id = %s", (item_id,)).fetchone()
        return _item(row[0]) if row else None

    def items(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Item]:
        """Read in steps of CHUNK by a server-side cursor: the whole history never sits
        in memory."""
        where, args = _range(since, until)
        with self._conn() as conn, conn.transaction():
            cur = conn.cursor(name=f"items_{secrets.token_hex(4)}")
            cur.itersize = CHUNK
            cur.execute(
                f"SELECT record FROM items {where} ORDER BY published DESC, id DESC",
                args,
            )
            for (record,) in cur:
                item = _item(record)
                if item is not None:
                    yield item

    def entries(self) -> list[Entry]:
        with self._mutex:
            self._catch_up()
            return self._entries.entries()

    def entry_index(self) -> EntryIndex:
        with self._mutex:
            self._catch_up()
            index = self._entries.index()
            made = self._entries.made_parts()
        if made and not self.readonly:
            self._save_parts(made)
        return index

    def _save_parts(self, made: list[tuple[date, int, int, list[Part]]]) -> None:
        """Save the days' parts made here, for the next process (`io/pg/entries.py`);
        derived: a failure costs that process the time to make them, nothing else."""
        try:
            with self._conn() as conn, conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO day_parts VALUES (%s, %s, %s, %s) ON CONFLICT (day) DO UPDATE"
                    " SET seq = excluded.seq, items = excluded.items, parts = excluded.parts",
                    [(day, seq, count, encode_parts(parts)) for day, seq, count, parts in made],
                )
        except StoreError as exc:
            log.warning("%s", exc)

    def _since(self) -> date | None:
        """The first day of the window (None: every day). Whole days: what is held,
        what is read and what the text index is asked for agree."""
        if self.window is None:
            return None
        return (datetime.now(UTC) - timedelta(seconds=self.window)).date()

    def _catch_up(self) -> None:
        """Read the rows of the commits not read yet (all of them, the first time), and
        forget the items dropped since, in one snapshot."""
        known = self._entries.seq
        since = self._since() or date.min
        self._entries.forget_before(since)
        with self._conn() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            gone: list[str] = []
            if known:
                row = conn.execute("SELECT v FROM store_meta WHERE k = 'pruned'").fetchone()
                if row is not None and row[0] > known:  # tombstones we needed are gone
                    self._entries.clear()
                    known = 0
                else:
                    gone = [
                        r[0]
                        for r in conn.execute("SELECT id FROM dropped WHERE seq > %s", (known,))
                    ]
            with conn.cursor(binary=True) as cur:
                cur.execute(
                    "SELECT id, day, entry, seq FROM items WHERE seq > %s AND day >= %s",
                    (known, since),
                )
                rows = cur.fetchall()
                saved = []
                if not known:  # a first read: the days' saved indexes, where they fit
                    cur.execute(
                        "SELECT day, seq, items, parts FROM day_parts WHERE day >= %s", (since,)
                    )
                    saved = cur.fetchall()
        self._entries.take(rows, gone)
        self._entries.take_parts(saved)

    def text_search(self) -> TextSearch | None:
        return PgSearch(self.db, self._since())

    def text_backlog(self) -> bool:
        return False

    def count(self) -> int:
        with self._conn() as conn:
            row = conn.execute("SELECT count(*) FROM items").fetchone()
        return int(row[0]) if row else 0

    def version(self) -> object:
        """The newest commit this process has heard of (LISTEN, from the first call on):
        no query."""
        self._listen()
        return self._latest

    # -- Store: upkeep ----------------------------------------------------------------

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        from monitor.io.pg import upkeep

        return upkeep.reindex(self, progress)

    def quarantined(self) -> int:
        return self._entries.unreadable

    def damage(self) -> list[str]:
        return []

    def problems(self) -> list[str]:
        from monitor.io.pg import upkeep

        return upkeep.problems(self)

    def repair(self) -> list[str]:
        from monitor.io.pg import upkeep

        return upkeep.repair(self)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        release(self.db)

    def __enter__(self) -> PgStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _prune_tombstones(conn: psycopg.Connection) -> None:
    """Forget the dropped ids older than TOMBSTONE_DAYS; a reader that last read before
    them reads everything again (`store_meta.pruned`)."""
    row = conn.execute(
        "DELETE FROM dropped WHERE at < now() - %s * interval '1 day' RETURNING seq",
        (TOMBSTONE_DAYS,),
    ).fetchall()
    if row:
        conn.execute(
            "INSERT INTO store_meta VALUES ('pruned', %s) ON CONFLICT (k) DO UPDATE "
            "SET v = greatest(store_meta.v, excluded.v)",
            (max(r[0] for r in row),),
        )


def _item(record: bytes) -> Item | None:
    try:
        return _ITEM.decode(record)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


def _range(since: datetime | None, until: datetime | None) -> tuple[str, list[datetime]]:
    terms, args = [], []
    if since is not None:
        terms.append("published >= %s")
        args.append(since if since.tzinfo else since.replace(tzinfo=UTC))
    if until is not None:
        terms.append("published < %s")
        args.append(until if until.tzinfo else until.replace(tzinfo=UTC))
    return ("WHERE " + " AND ".join(terms) if terms else ""), args


def _words(exc: psycopg.Error) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
