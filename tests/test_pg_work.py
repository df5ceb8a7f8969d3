"""`monitor work`: the jobs a poll's write leaves in the queue, done by a worker on the
same database as it would be on another host; leases, retries, the backlog. Real servers
on 127.0.0.1: PostgreSQL (skipped, saying why, without one) and the feed and its pages."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from monitor.config import DatabaseSettings, load
from monitor.io.annotate import annotate_items
from monitor.io.pg import queue
from monitor.io.pg.connect import Database
from monitor.io.pg.store import PgStore
from monitor.io.pg.worker import Worker
from monitor.io.poller import poll_once
from tests.support.items import item, settings
from tests.support.servers import FeedServer, static

ROOT = Path(__file__).resolve().parent.parent
HTML = "text/html; charset=utf-8"


def pg_store(url: str) -> PgStore:
    """A store on a pool of its own: as another process (a poller, a worker) has."""
    return PgStore(Database(DatabaseSettings(url=url)))


def pending(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return dict(queue.pending(conn))


@pytest.fixture
def site(seed: Path) -> Iterator[FeedServer]:
    """A feed of two stories whose summaries name nobody, and their article pages."""
    story = (seed / "article-fr-trump-poutine.txt").read_text(encoding="utf-8")
    paras = "".join(f"<p>{p}</p>" for p in story.split("\n") if p.strip())
    with FeedServer() as srv:
        srv.route("/robots.txt", static(b"", content_type="text/plain"))
        entries = ""
        for k in range(2):
            page = (
                f"<html lang='fr'><head><title>Entretien {k}</title></head><body><article>"
                f"<h1>Entretien téléphonique {k}</h1>{paras}</article></body></html>"
            )
            srv.route(f"/a/{k}", static(page.encode(), content_type=HTML))
            link = srv.url(f"/a/{k}")
            entries += (
                f"<item><title>Un appel {k}</title><link>{link}</link><guid>{link}</guid>"
                "<description>Un entretien au téléphone.</description>"
                "<pubDate>Fri, 22 Nov 2024 09:00:00 GMT</pubDate></item>"
            )
        feed = f'<?xml version="1.0"?><rss version="2.0"><channel>{entries}</channel></rss>'
        srv.route("/feed.xml", static(feed.encode()))
        yield srv


def test_a_worker_annotates_and_fetches_what_a_poll_stored(
    site: FeedServer, tmp_path: Path, pg_url: str
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[storage]\nbackend = "postgresql"\nurl = "{pg_url}"\n\n[articles]\ndelay = "0.01s"\n\n'
        f'[[sources]]\nname = "Dépêches"\nurl = "{site.url("/feed.xml")}"\nlanguage = "fr"\n',
        encoding="utf-8",
    )
    sets = load(cfg)
    poller, worker_store = pg_store(pg_url), pg_store(pg_url)
    try:
        # a poller run with --no-actors --no-text: the write leaves the work queued
        asyncio.run(poll_once(sets, poller, annotate=False))
        assert pending(pg_url) == {"actors": 2, "text": 2}
        assert not any(e.annotated for e in poller.entries())
        worker = Worker(sets, worker_store, actors=True, texts=True)
        asyncio.run(worker.drain())
        assert pending(pg_url) == {"actors": 0, "text": 0}
        stored = list(poller.items())
        assert len(stored) == 2
        for it in stored:
            assert it.text_status == "page" and it.text and it.annotated
            assert {"Vladimir Putin", "Donald Trump"} <= {a.name for a in it.actors}
        assert [len(site.log(f"/a/{k}")) for k in range(2)] == [1, 1]
        # done twice, a job writes the same: here, nothing is left to take
        asyncio.run(worker.drain())
        assert [len(site.log(f"/a/{k}")) for k in range(2)] == [1, 1]
        assert list(poller.items()) == stored
    finally:
        poller.close()
        worker_store.close()


def test_a_job_whose_worker_died_is_taken_again(pg_url: str) -> None:
    """A worker took a job and died (its lease never given back): the job is taken again
    once the lease expires; one that keeps failing is given up after TRIES."""
    store = pg_store(pg_url)
    try:
        store.write([item(1), item(2)], [])
        worker = Worker(settings(), store, actors=True, texts=False)
        with psycopg.connect(pg_url, autocommit=True) as conn:
            assert sorted(queue.take(conn, "dead", "actors", 10, 1.0)) == ["id000001", "id000002"]
            assert queue.take(conn, "other", "actors", 10, 60) == []  # leased
            asyncio.run(worker.drain())
            assert not any(e.annotated for e in store.entries())
            time.sleep(1.1)
            asyncio.run(worker.drain())
            assert all(e.annotated for e in store.entries())
            tries = conn.execute("SELECT tries FROM work WHERE kind = 'actors'").fetchall()
            assert tries == [(2,), (2,)]
            # a job taken TRIES times, never done, is given up
            store.write([item(3)], [])
            for _ in range(queue.TRIES):
                assert queue.take(conn, "crashing", "actors", 10, 0.05) == ["id000003"]
                time.sleep(0.1)
            assert queue.take(conn, "next", "actors", 10, 60) == []
            row = conn.execute(
                "SELECT gave_up, done IS NOT NULL FROM work WHERE kind = 'actors' AND id = %s",
                ("id000003",),
            ).fetchone()
            assert row == (True, True)
    finally:
        store.close()


def test_writes_keep_the_queue_true_and_the_backlog_fills_it(pg_url: str) -> None:
    store = pg_store(pg_url)
    try:
        store.write([item(1), item(2)], [])
        assert pending(pg_url) == {"actors": 2, "text": 2}
        # a poller that annotates itself: its write marks the job done
        store.write(annotate_items([store.get("id000001")]), [])  # type: ignore[list-item]
        assert pending(pg_url) == {"actors": 1, "text": 2}
        # items stored before there were jobs get theirs from the backlog
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DELETE FROM work")
            made = queue.find_backlog(conn)
        assert made == {"actors": 1, "text": 0}  # first seen long ago: no page wanted
        assert pending(pg_url) == {"actors": 1, "text": 0}
    finally:
        store.close()


def test_cli_work_once(pg_url: str, tmp_path: Path) -> None:
    store = pg_store(pg_url)
    try:
        store.write([item(1)], [])
    finally:
        store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[storage]\nbackend = "postgresql"\nurl = "{pg_url}"\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "monitor", "--config", str(cfg), "work"]
    done = subprocess.run(
        [*argv, "--actors", "--once"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "actors: 1 jobs, 1 items annotated" in done.stdout
    assert pending(pg_url)["actors"] == 0
    bare = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    assert bare.returncode == 2 and "--actors, --texts or both" in bare.stderr
