"""Many pollers on one PostgreSQL database: each due source fetched by one of them, a dead
poller's sources taken over once its leases expire. Real servers on 127.0.0.1: the
database (skipped, saying why, without one) and the feeds."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from monitor.config import DatabaseSettings, Settings, load
from monitor.io.pg import leases
from monitor.io.pg.connect import Database
from monitor.io.pg.store import PgStore
from monitor.io.poller import TAKEN, poll_once
from monitor.io.store import Leasing
from monitor.model import PollReport, SourceState
from tests.support.servers import FeedServer, static

ROOT = Path(__file__).resolve().parent.parent
SOURCES = 12


def rss(n: int) -> bytes:
    items = "".join(
        f"<item><title>Story {k} of feed {n}</title><link>http://news.example/{n}/{k}</link>"
        f"<guid>http://news.example/{n}/{k}</guid>"
        "<pubDate>Fri, 22 Nov 2024 09:00:00 GMT</pubDate></item>"
        for k in range(2)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>F{n}</title>{items}</channel></rss>'.encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        for n in range(SOURCES):  # slow enough that two pollers' passes overlap
            srv.route(f"/feed/{n}.xml", static(rss(n), etag=f'"{n}"', delay=0.05))
        yield srv


def config(tmp_path: Path, srv: FeedServer, url: str) -> Path:
    text = (
        f'[storage]\npath = "store"\nbackend = "postgresql"\nurl = "{url}"\n\n'
        '[poll]\ntimeout = "2s"\ninterval = "1m"\nper_host = 50\n\n'
    )
    for n in range(SOURCES):
        text += f'[[sources]]\nname = "feed {n}"\nurl = "{srv.url(f"/feed/{n}.xml")}"\n\n'
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def fetches(srv: FeedServer) -> dict[int, int]:
    """Requests per feed number so far."""
    out = dict.fromkeys(range(SOURCES), 0)
    for req in srv.log():
        out[int(req.path.rsplit("/", 1)[1].split(".")[0])] += 1
    return out


def pg_store(url: str) -> PgStore:
    """A store of its own, on a pool of its own: as another process would have."""
    return PgStore(Database(DatabaseSettings(url=url)))


def fetched(report: PollReport) -> set[str]:
    return {r.name for r in report.results if r.status != "skipped"}


async def both(settings: Settings, a: PgStore, b: PgStore) -> tuple[PollReport, PollReport]:
    first, second = await asyncio.gather(
        poll_once(settings, a, annotate=False), poll_once(settings, b, annotate=False)
    )
    return first, second


def test_two_pollers_fetch_each_due_source_once(
    server: FeedServer, tmp_path: Path, pg_url: str
) -> None:
    settings = load(config(tmp_path, server, pg_url))
    a, b = pg_store(pg_url), pg_store(pg_url)
    try:
        assert isinstance(a, Leasing)
        first, second = asyncio.run(both(settings, a, b))
        names = {s.name for s in settings.sources}
        assert fetched(first) | fetched(second) == names  # every source, by one of them
        assert not fetched(first) & fetched(second)  # none by both
        assert set(fetches(server).values()) == {1}  # asked once each
        left = [r for r in (*first.results, *second.results) if r.status == "skipped"]
        assert len(left) == SOURCES and {r.detail for r in left} == {TAKEN}
        assert a.count() == b.count() == 2 * SOURCES
        with psycopg.connect(pg_url) as conn:  # the writes gave every lease back
            held = conn.execute("SELECT count(*) FROM sources WHERE lease_owner IS NOT NULL")
            assert held.fetchone() == (0,)
        # at once again: nothing is due, and the states one wrote are what the other sees
        again = asyncio.run(both(settings, b, a))
        assert not fetched(again[0]) and not fetched(again[1])
        assert set(fetches(server).values()) == {1}
        assert len(b.states()) == SOURCES
    finally:
        a.close()
        b.close()


def test_a_dead_pollers_sources_are_taken_over(
    server: FeedServer, tmp_path: Path, pg_url: str
) -> None:
    """A poller that leased every due source and died before writing (its leases never
    given back): another takes them over once the leases expire, not before."""
    settings = load(config(tmp_path, server, pg_url))
    names = [s.name for s in settings.sources]
    dead, alive = pg_store(pg_url), pg_store(pg_url)
    try:
        assert dead.lease(names, datetime.now(UTC), 1.5) == set(names)
        report = asyncio.run(poll_once(settings, alive, annotate=False))
        assert not fetched(report) and set(fetches(server).values()) == {0}
        time.sleep(1.6)
        report = asyncio.run(poll_once(settings, alive, annotate=False))
        assert fetched(report) == set(names)
        assert set(fetches(server).values()) == {1}
    finally:
        dead.close()
        alive.close()


def test_leases_follow_what_the_database_says_is_due(pg_url: str) -> None:
    store = pg_store(pg_url)
    now = datetime.now(UTC)
    try:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            # a source another poller fetched a moment ago is not due, whatever a stale
            # copy of the states says; --all (force) takes it
            later = SourceState("fresh", "http://x.example/", next_due=now + timedelta(minutes=5))
            store.write([], [later])
            assert leases.take(conn, "one", ["fresh", "new"], now, 60) == ["new"]
            assert leases.take(conn, "two", ["fresh", "new"], now, 60) == []
            assert leases.take(conn, "two", ["fresh"], now, 60, force=True) == ["fresh"]
            # asking again renews what the owner holds; a release frees it for the next
            assert leases.take(conn, "one", ["new"], now, 60) == ["new"]
            leases.release(conn, "one", ["new"])
            assert leases.take(conn, "two", ["new"], now, 60) == ["new"]
            # a source written by its lease holder is free (and not due) at once
            store.owner = "two"
            store.write([], [SourceState("new", "http://y.example/", next_due=now)])
            row = conn.execute("SELECT lease_owner FROM sources WHERE name = 'new'").fetchone()
            assert row == (None,)
        assert set(store.states()) == {"fresh", "new"}  # leased rows hold no state yet
    finally:
        store.close()


def test_a_killed_poller_process_is_taken_over(tmp_path: Path, pg_url: str) -> None:
    """A `monitor poll --watch` process is killed (SIGKILL) while it fetches, holding its
    leases: another poller takes the sources over once the leases expire, not before."""
    with FeedServer() as srv:
        for n in range(SOURCES):  # answers after the poll's timeout: passes last 2 s
            srv.route(f"/feed/{n}.xml", static(rss(n), delay=3.0))
        settings = load(config(tmp_path, srv, pg_url))
        store = pg_store(pg_url)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        argv = [sys.executable, "-m", "monitor", "--config", str(tmp_path / "config.toml")]
        poller = subprocess.Popen(
            [*argv, "poll", "--watch", "--no-actors", "--no-text"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            held = _held_by(pg_url, poller.pid, wait=60.0)
            poller.send_signal(signal.SIGKILL)
            poller.wait(10)
            killed = time.monotonic()
            assert held == {s.name for s in settings.sources}
            report = asyncio.run(poll_once(settings, store, annotate=False))
            assert not fetched(report)  # still leased to the dead poller
            expiry = leases.seconds_for(settings.poll.timeout)
            time.sleep(max(0.0, expiry - (time.monotonic() - killed)) + 0.5)
            report = asyncio.run(poll_once(settings, store, annotate=False))
            assert fetched(report) == held
            assert len(store.states()) == SOURCES
        finally:
            if poller.poll() is None:
                poller.kill()
                poller.wait(10)
            store.close()


def _held_by(url: str, pid: int, *, wait: float) -> set[str]:
    """The sources leased to process `pid`, as soon as it holds any."""
    deadline = time.monotonic() + wait
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            rows = conn.execute(
                "SELECT name FROM sources WHERE lease_owner LIKE %s", (f"%:{pid}:%",)
            ).fetchall()
            if rows:
                return {r[0] for r in rows}
            time.sleep(0.02)
    raise AssertionError(f"process {pid} leased nothing in {wait} s")
