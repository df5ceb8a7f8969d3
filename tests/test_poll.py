"""End to end: real corpus feeds and misbehaving servers on 127.0.0.1, the real poller and store."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import Settings, load
from monitor.io.backends import open_store
from monitor.io.poller import poll_once
from monitor.io.store import Store
from monitor.model import PollReport, SourceResult
from tests.support.servers import FeedServer, drip, gzip_bomb, stacked, static

ROOT = Path(__file__).resolve().parents[1]
FFP = "feeds/fastfeedparser"
CONTRACT = {
    "id",
    "title",
    "url",
    "sources",
    "published",
    "published_raw",
    "date_flag",
    "language",
    "summary",
    "text",
    "actors",
}

pytestmark = pytest.mark.timeout(60)


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def server(corpus: Path) -> Iterator[FeedServer]:
    bbc = (corpus / FFP / "1796df62c4a287cc").read_bytes()
    with FeedServer() as srv:
        srv.route("/bbc.xml", static(bbc, etag='"v1"'))
        srv.route("/copy.xml", static(bbc))  # the same articles in a second feed
        srv.route(
            "/dw.rdf",
            static(
                (corpus / FFP / "14dda539770f94e3").read_bytes(),
                last_modified="Tue, 17 Feb 2026 10:00:00 GMT",
            ),
        )
        srv.route(
            "/feed.json",
            static(
                (corpus / FFP / "d4b7ab74da763119").read_bytes(),
                content_type="application/feed+json",
            ),
        )
        srv.route("/heise.atom", static((corpus / "feeds/rss-parser/heise.atom").read_bytes()))
        srv.route("/limited", static(b"slow down", status=429, retry_after="120"))
        srv.route("/drip", drip(interval=0.2))
        srv.route("/bomb", gzip_bomb())
        srv.route("/stacked", stacked(bbc, "gzip, gzip"))
        srv.loop("/loop-a", "/loop-b")
        srv.route(
            "/page.html",
            static(
                b"<!doctype html><html><body><p>Hello</p></body></html>", content_type="text/html"
            ),
        )
        yield srv


def _config(tmp_path: Path, srv: FeedServer) -> Path:
    sources = {
        "BBC": srv.url("/bbc.xml"),
        "BBC copy": srv.url("/copy.xml"),
        "DW": srv.url("/dw.rdf"),
        "JSON Feed": srv.url("/feed.json"),
        "heise": srv.url("/heise.atom"),
        "Rate limited": srv.url("/limited"),
        "Drip": srv.url("/drip"),
        "Bomb": srv.url("/bomb"),
        "Stacked": srv.url("/stacked"),
        "Loop": srv.url("/loop-a"),
        "HTML": srv.url("/page.html"),
        "Refused": f"http://127.0.0.1:{_closed_port()}/feed.xml",
    }
    text = '[storage]\npath = "store"\n\n[poll]\ntimeout = "2s"\nmax_size = "2MiB"\n\n'
    for name, url in sources.items():
        text += f'[[sources]]\nname = "{name}"\nurl = "{url}"\n\n'
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _poll(settings: Settings, store: Store, **kw: object) -> dict[str, SourceResult]:
    report: PollReport = asyncio.run(poll_once(settings, store, **kw))  # type: ignore[arg-type]
    return {r.name: r for r in report.results}


def test_poll_end_to_end(server: FeedServer, tmp_path: Path) -> None:
    settings = load(_config(tmp_path, server))
    store = open_store(settings.storage)
    try:
        started = datetime.now(UTC)
        r = _poll(settings, store)
        assert r["BBC"].status == "ok" and r["BBC"].new == 33
        # the copy carries the same articles: merged into the same items, not duplicated
        assert (
            r["BBC copy"].status == "ok" and r["BBC copy"].new == 0 and r["BBC copy"].updated == 33
        )
        assert r["DW"].status == "ok" and r["DW"].new == 141
        assert r["JSON Feed"].status == "ok" and r["JSON Feed"].new == 10
        assert r["heise"].status == "ok" and r["heise"].new > 0
        expected_errors = {
            "Rate limited": "http",
            "Drip": "timeout",
            "Bomb": "too_large",
            "Stacked": "encoding",
            "Loop": "redirect",
            "HTML": "parse",
            "Refused": "connect",
        }
        for name, kind in expected_errors.items():
            assert r[name].status == "error" and r[name].error == kind, (name, r[name])
        assert r["Rate limited"].http_status == 429
        total = sum(x.new for x in r.values())
        assert store.count() == total

        states = store.states()
        limited = states["Rate limited"]
        assert limited.retry_after is not None
        assert (
            started + timedelta(seconds=110)
            < limited.retry_after
            < started + timedelta(seconds=140)
        )
        assert states["Drip"].failures == 1 and states["Drip"].last_error == "timeout"
        assert states["BBC"].etag == '"v1"' and states["BBC"].item_count == 33

        bbc_items = [i for i in store.items() if "BBC" in i.sources]
        assert len(bbc_items) == 33 and all(i.sources == ("BBC", "BBC copy") for i in bbc_items)

        # second pass, ignoring intervals: 304s cost nothing, failing sources still wait
        server.clear()
        r2 = _poll(settings, store, force=True)
        assert r2["BBC"].status == "not_modified"
        (req,) = server.log("/bbc.xml")
        assert req.header("if-none-match") == '"v1"'
        (req,) = server.log("/dw.rdf")
        assert req.header("if-modified-since") == "Tue, 17 Feb 2026 10:00:00 GMT"
        assert r2["DW"].status == "not_modified"
        assert r2["BBC copy"].status == "ok" and r2["BBC copy"].unchanged == 33
        assert r2["Rate limited"].status == "skipped" and "Retry-After" in (
            r2["Rate limited"].detail or ""
        )
        assert r2["Drip"].status == "skipped" and "backing off" in (r2["Drip"].detail or "")
        assert not server.log("/limited") and not server.log("/drip")
        assert store.count() == total
    finally:
        store.close()


def test_poll_only_due_sources(server: FeedServer, tmp_path: Path) -> None:
    settings = load(_config(tmp_path, server))
    store = open_store(settings.storage)
    try:
        _poll(settings, store, only={"BBC"})
        server.clear()
        r = _poll(settings, store, only={"BBC"})
        assert r["BBC"].status == "skipped" and "not due" in (r["BBC"].detail or "")
        assert not server.log("/bbc.xml")
    finally:
        store.close()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_cli_poll_export_and_lock(server: FeedServer, tmp_path: Path) -> None:
    cfg = _config(tmp_path, server)
    run = _cli("poll", "--no-text", "--config", str(cfg), cwd=tmp_path)  # corpus links lead out
    assert run.returncode == 0, run.stderr
    assert "BBC" in run.stdout and "error: timeout" in run.stdout
    assert "7 failed" in run.stdout
    assert "1/12" in run.stderr or "12/12" in run.stderr  # plain progress lines off a terminal

    run = _cli("export", "--config", str(cfg), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(rows) == 33 + 141 + 10 + len([r for r in rows if "heise" in r["sources"]])
    assert all(set(row) >= CONTRACT for row in rows)
    first = rows[0]
    assert datetime.fromisoformat(first["published"]).utcoffset() == timedelta(0)

    run = _cli(
        "--config", str(cfg), "export", "--format", "json", "--since", "1000000d", cwd=tmp_path
    )
    assert len(json.loads(run.stdout)) == len(rows)

    run = _cli("sources", "--config", str(cfg), cwd=tmp_path)
    assert run.returncode == 0 and "timed out" in run.stdout

    holder = open_store(load(cfg).storage)  # another writer holds the store
    try:
        run = _cli("poll", "--all", "--config", str(cfg), cwd=tmp_path)
        assert run.returncode == 1
        assert f"pid {os.getpid()}" in run.stderr
    finally:
        holder.close()


def test_poll_parses_in_a_worker_process(server: FeedServer, tmp_path: Path) -> None:
    from monitor.io.loops import parse_pool

    settings = load(_config(tmp_path, server))
    store = open_store(settings.storage)
    pool = parse_pool()
    try:
        r = _poll(settings, store, executor=pool, only={"BBC", "DW", "JSON Feed", "HTML"})
        assert r["BBC"].new == 33 and r["DW"].new == 141 and r["JSON Feed"].new == 10
        assert r["HTML"].status == "error" and r["HTML"].error == "parse"
    finally:
        pool.shutdown()
        store.close()


def test_parse_worker_exits_with_its_parent(tmp_path: Path) -> None:
    """A SIGKILLed parent leaves no parse worker behind."""
    import signal
    import time

    code = (
        "import sys, os\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from monitor.io.loops import parse_pool\n"
        "pool = parse_pool()\n"
        "print(pool.submit(os.getpid).result(), flush=True)\n"
        "import time; time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    pytest.fail(f"parse worker {worker} outlived its parent")
