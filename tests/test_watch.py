"""`monitor poll --watch`: passes one after another on the sources' intervals, the scheduled
digest once a day, a clean stop on SIGTERM and Ctrl+C. The schedule is the application
core's (`Session.run`), as in the dashboard."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import Settings, load
from monitor.io.backends import open_store
from monitor.io.digest import ScheduleRun
from monitor.io.events import ActorsFound, DigestWritten, Event, PollEnded
from monitor.io.session import Session
from monitor.io.store import Store
from monitor.model import PollReport
from tests.support.servers import FeedServer, static

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(60)

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Le Quotidien</title><link>https://q.example/</link>
<item><title>Poutine et Trump veulent normaliser les relations</title>
<link>https://q.example/1</link><pubDate>Mon, 14 Nov 2016 18:05:00 +0100</pubDate>
<description>Les deux dirigeants se sont entretenus par telephone.</description></item>
<item><title>Climat : la COP22 s'ouvre</title><link>https://q.example/2</link>
<pubDate>Mon, 14 Nov 2016 10:00:00 +0100</pubDate><description>A Marrakech.</description></item>
</channel></rss>"""


def config(tmp_path: Path, srv: FeedServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[storage]\npath = "store"\n\n'
        f'[[sources]]\nname = "Le Quotidien"\nurl = "{srv.url("/feed.xml")}"\ninterval = "10m"\n\n'
        '[digest]\ntimezone = "Europe/Paris"\nat = "07:00"\nformats = ["markdown", "json"]\n',
        encoding="utf-8",
    )
    return path


@dataclass
class Pass:
    """What one pass reported: its poll, the digest it wrote, the stored items it caught up."""

    report: PollReport
    digest: ScheduleRun | None = None
    annotated: int = 0


class Passes(list[Pass]):
    """A listener that gathers the events of each pass."""

    def __call__(self, event: Event) -> None:
        if isinstance(event, PollEnded):
            assert event.report is not None, event.failure
            self.append(Pass(event.report))
        elif isinstance(event, DigestWritten):
            self[-1].digest = event.run
        elif isinstance(event, ActorsFound) and event.backlog:
            self[-1].annotated += event.done


async def watch(
    settings: Settings,
    store: Store,
    *,
    on_pass: Passes,
    now_fn: Callable[[], datetime],
    sleep: Callable[[float], Awaitable[None]],
    passes: int,
    text: bool = True,
    annotate: bool = True,
) -> None:
    """As `monitor poll --watch` runs it, with a clock of the test's and `passes` polls."""
    session = Session(
        settings, store, listener=on_pass, now=now_fn, sleep=sleep, text=text, annotate=annotate
    )
    try:
        await session.run(passes=passes)
    finally:
        await session.close()


def run_watch(
    tmp_path: Path, start: datetime, passes: int, etag: str | None = None
) -> tuple[list[Pass], list[float], int]:
    """`passes` passes from `start` on a clock that sleeping moves on: (passes, sleeps,
    requests the server saw)."""
    with FeedServer() as srv:
        srv.route("/feed.xml", static(RSS, etag=etag))
        settings = load(config(tmp_path, srv))
        clock = [start]
        slept: list[float] = []
        done = Passes()

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            clock[0] += timedelta(seconds=seconds)

        store = open_store(settings.storage)
        try:
            asyncio.run(
                watch(
                    settings,
                    store,
                    on_pass=done,
                    now_fn=lambda: clock[0],
                    sleep=sleep,
                    passes=passes,
                    text=False,  # the links lead nowhere: no article pages
                )
            )
        finally:
            store.close()
        return done, slept, len(srv.log("/feed.xml"))


def test_passes_follow_the_intervals_and_the_digest_is_written_once(tmp_path: Path) -> None:
    start = datetime(2016, 11, 15, 8, 0, tzinfo=UTC)  # 09:00 in Paris, after 07:00
    passes, slept, requests = run_watch(tmp_path, start, 3, etag='"v1"')
    assert requests == 3  # one fetch per pass, every 10 minutes
    assert slept == [600.0, 600.0]
    assert [p.report.new for p in passes] == [2, 0, 0]
    first = passes[0].digest
    assert first is not None and first.day.isoformat() == "2016-11-14"
    assert sorted(p.name for p in first.written) == [
        "digest-2016-11-14.json",
        "digest-2016-11-14.md",
    ]
    assert passes[1].digest is None and passes[2].digest is None  # once a day
    md = (tmp_path / "digests" / "digest-2016-11-14.md").read_text(encoding="utf-8")
    assert "Poutine et Trump" in md and "2 items" in md


def test_the_next_pass_waits_for_the_digest_time(tmp_path: Path) -> None:
    start = datetime(2016, 11, 16, 5, 55, tzinfo=UTC)  # 06:55 in Paris
    passes, slept, _ = run_watch(tmp_path, start, 2)
    assert slept == [300.0]  # 07:00 comes before the source's 10 minutes
    assert passes[0].digest is not None and passes[0].digest.day.isoformat() == "2016-11-14"
    assert passes[1].digest is not None and passes[1].digest.day.isoformat() == "2016-11-15"
    assert (tmp_path / "digests" / "digest-2016-11-15.md").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_watch_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    with FeedServer() as srv:
        srv.route("/feed.xml", static(RSS))
        cfg = config(tmp_path, srv)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "monitor", "poll", "--watch", "--no-text", "--config", str(cfg)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().startswith("monitor: watching 1 sources")
            first = proc.stdout.readline()
            assert "1 fetched, 0 failed, 2 new" in first and "next pass in" in first
            proc.send_signal(sig)
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert out.strip().endswith("monitor: stopped")
        assert "Traceback" not in err


def test_watch_refuses_one_shot_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.cli import main

    with FeedServer() as srv:
        cfg = config(tmp_path, srv)
        assert main(["poll", "--watch", "--all", "--config", str(cfg)]) == 1
        assert "--watch" in capsys.readouterr().err


def test_a_pass_catches_up_items_stored_without_actors(tmp_path: Path) -> None:
    now = datetime(2016, 11, 15, 8, 0, tzinfo=UTC)
    done = Passes()

    async def sleep(seconds: float) -> None:
        pass

    with FeedServer() as srv:
        srv.route("/feed.xml", static(RSS))
        settings = load(config(tmp_path, srv))
        store = open_store(settings.storage)
        try:
            for annotate in (False, True):  # --no-actors, then without
                asyncio.run(
                    watch(
                        settings,
                        store,
                        on_pass=done,
                        now_fn=lambda: now,
                        sleep=sleep,
                        passes=1,
                        text=False,
                        annotate=annotate,
                    )
                )
                if not annotate:
                    assert not any(i.annotated for i in store.items())
            items = list(store.items())
        finally:
            store.close()
    # the second pass finds the source not due yet: it only catches up the stored items
    assert [p.report.new for p in done] == [2, 0] and [p.annotated for p in done] == [0, 2]
    assert all(i.annotated for i in items)
    assert "Vladimir Putin" in {a.name for i in items for a in i.actors}
