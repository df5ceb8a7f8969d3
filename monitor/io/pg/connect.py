"""Connections to the database: the URL with its password from the environment, one
pool per process shared by every part of the backend, and a listener for commits."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg_pool import ConnectionPool

from monitor.config import DATABASE_URL_VAR, DatabaseSettings
from monitor.io.store import StoreError

log = logging.getLogger(__name__)

POOL_MAX = 8  # connections per process: a poll's write, reads, triage, the ledger
CONNECT_WAIT = 10.0  # seconds to wait for the server or a free connection
CHANNEL = "monitor_commits"  # NOTIFY channel: the payload is the commit's number


def conninfo(settings: DatabaseSettings) -> str:
    """The URL to connect with: `$MONITOR_DATABASE_URL` as it is (config already took
    it), or the configured URL with the password from `password_env`."""
    url = settings.url
    if settings.password_env is None or os.environ.get(DATABASE_URL_VAR):
        return url
    password = os.environ.get(settings.password_env)
    if password is None:
        raise StoreError(f"${settings.password_env} (storage.password_env) is not set")
    parts = urlsplit(url)
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def shown(url: str) -> str:
    """The URL for messages: never its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{netloc}", parts.path, parts.query, ""))


class Database:
    """One database, as this process uses it: a pool of autocommit connections (a
    transaction is asked for where one is wanted) and, when asked, a listener."""

    def __init__(self, settings: DatabaseSettings, *, max_size: int = POOL_MAX) -> None:
        self.settings = settings
        self.url = conninfo(settings)
        self.name = shown(self.url)
        self.pool = ConnectionPool(
            self.url,
            min_size=1,
            max_size=max_size,
            kwargs={"autocommit": True},
            timeout=CONNECT_WAIT,
            open=False,
            name="monitor",
        )
        try:
            self.pool.open(wait=True, timeout=CONNECT_WAIT)
        except Exception as exc:  # the pool says only that it timed out: say why
            self.pool.close()
            raise StoreError(f"cannot connect to {self.name}: {_why(self.url)}") from exc
        self._users = 1
        self._listener: Listener | None = None
        self._lock = threading.Lock()

    def connection(self) -> psycopg.Connection:
        """A pooled connection: `with db.connection() as conn:` (autocommit)."""
        return self.pool.connection()  # type: ignore[return-value]

    def listen(self, callback: Callable[[int], None]) -> None:
        """Call `callback(commit)` in a thread of its own for every commit any process
        makes (NOTIFY), within milliseconds of it."""
        with self._lock:
            if self._listener is None:
                self._listener = Listener(self.url)
            self._listener.callbacks.append(callback)
            listener = self._listener
        listener.ready.wait(CONNECT_WAIT)  # a commit from now on is heard

    def close(self) -> None:
        with self._lock:
            if self._listener is not None:
                self._listener.stop()
                self._listener = None
        self.pool.close()


def _why(url: str) -> str:
    try:
        psycopg.connect(url, connect_timeout=int(CONNECT_WAIT)).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return "timed out"


class Listener:
    """A connection of its own that LISTENs for commits and calls back (a thread). It
    reconnects after a lost connection, calling back with -1 (read everything again)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.callbacks: list[Callable[[int], None]] = []
        self._stop = threading.Event()
        self.ready = threading.Event()  # listening (set for good after a first try)
        self._conn: psycopg.Connection | None = None
        self._thread = threading.Thread(target=self._run, name="monitor-listen", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        lost = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    self._conn = conn
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.ready.set()
                    if lost:
                        self._call(-1)
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._call(int(note.payload) if note.payload.isdigit() else -1)
            except psycopg.Error as exc:
                if self._stop.is_set():
                    return
                log.warning("listening for commits: %s; trying again", exc)
                self.ready.set()  # nobody waits for a server that is not there
                lost = True
                self._stop.wait(1.0)

    def _call(self, commit: int) -> None:
        for callback in list(self.callbacks):
            try:
                callback(commit)
            except Exception:
                log.exception("a commit listener failed")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)


_open: dict[DatabaseSettings, Database] = {}
_open_lock = threading.Lock()


def database(settings: DatabaseSettings) -> Database:
    """The process's `Database` for `settings`, opened on first use; `release` it when
    done (the last release closes it)."""
    with _open_lock:
        db = _open.get(settings)
        if db is not None:
            db._users += 1
            return db
        db = Database(settings)
        _open[settings] = db
        return db


def release(db: Database) -> None:
    with _open_lock:
        db._users -= 1
        if db._users > 0:
            return
        if _open.get(db.settings) is db:
            del _open[db.settings]
    db.close()
