"""`monitor poll` killed with SIGKILL at random moments: the store always opens, nothing is lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor.io.backends import open_store
from tests.support.servers import FeedServer, Reply, Request

ROOT = Path(__file__).resolve().parents[1]
FEEDS = 10
ROUNDS = 20


def _growing_feed(name: str) -> object:
    """Every request shows 5 more items than the last, so every poll has something to write."""
    calls = 0

    async def handle(req: Request, reply: Reply) -> None:
        nonlocal calls
        calls += 1
        base = datetime(2026, 11, 20, tzinfo=UTC)
        items = []
        for k in range(max(0, 5 * calls - 30), 5 * calls):
            when = format_datetime(base + timedelta(hours=k))
            items.append(
                f"<item><title>{name} story {k}</title><guid>https://{name}.test/{k}</guid>"
                f"<link>https://{name}.test/{k}</link><pubDate>{when}</pubDate>"
                f"<description>{'word ' * 300}</description></item>"
            )
        body = f"<rss version='2.0'><channel><title>{name}</title>{''.join(items)}</channel></rss>"
        await reply.send(200, body.encode(), {"Content-Type": "application/rss+xml"})

    return handle


@pytest.fixture
def config(tmp_path: Path) -> Iterator[Path]:
    with FeedServer() as srv:
        text = '[storage]\npath = "store"\n\n'
        for n in range(FEEDS):
            url = srv.route(f"/f{n}.xml", _growing_feed(f"f{n}"))  # type: ignore[arg-type]
            text += f'[[sources]]\nname = "f{n}"\nurl = "{url}"\n\n'
        path = tmp_path / "config.toml"
        path.write_text(text, encoding="utf-8")
        yield path


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_kill_poll_in_a_loop(config: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "monitor", "poll", "--all", "--no-text", "--config", str(config)]
    store_path = config.parent / "store"
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rnd = random.Random(7)
    kept: set[str] = set()
    killed_mid = 0
    for _ in range(ROUNDS):
        store = open_store(store_path)  # opens, and recovers as the writer would
        try:
            ids = [i.id for i in store.items()]
            assert len(ids) == len(set(ids)), "an item is stored twice"
            assert kept <= set(ids), "items committed earlier are gone"
            assert store.count() == len(ids)
            kept = set(ids)
        finally:
            store.close()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.1, 0.45))
        if proc.poll() is None:
            killed_mid += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert killed_mid >= ROUNDS // 2  # most kills landed while the poll was running
    store = open_store(store_path)
    try:
        assert kept <= {i.id for i in store.items()}
    finally:
        store.close()
