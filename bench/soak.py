"""Memory over many polls: does the dashboard hold on to anything from poll to poll?

    uv run python bench/soak.py [--feeds 200] [--polls 50]

bench/feedserver.py serves `--feeds` feeds (20 loopback addresses, 50 ms latency). The
dashboard (`App.run_test(size=(120, 40))`, the real poller, a store seeded with 1,000
items) polls them `--polls` times, one after another: the first poll brings their items,
the others are answered 304 Not Modified, as most polls of a day are. `j`/`k` are pressed
every 50 ms during each poll and 40 times after it, so that the screen is redrawn as a
reader would. Article pages are not fetched (their links lead nowhere here).

After each poll: resident memory (after `malloc_trim`, so that memory the allocator keeps
for later does not count), Python's allocated blocks (`sys.getallocatedblocks`: every
live object, tracked by the garbage collector or not) and the objects the collector
tracks. The summary gives their growth per poll over the second half of the run, when
caches have filled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))

from bench.feedserver import feed_url  # noqa: E402
from bench.poll import start_server  # noqa: E402
from bench.poll import write_config as poll_config  # noqa: E402
from bench.tui import proc_status, seed_store, send_key  # noqa: E402


def _trim() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


async def soak(config: Path, polls: int) -> list[tuple[float, int, int]]:
    from monitor.config import load
    from monitor.io.backends import open_store
    from monitor.tui.app import MonitorApp

    settings = load(config)
    app = MonitorApp(settings, open_store(settings.storage), autopoll=False)
    app.session.articles = None
    out: list[tuple[float, int, int]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(1)
        for n in range(polls):
            key = "j" if n % 2 else "k"
            if not app.start_poll(force=True):
                raise SystemExit("the poll did not start")
            while app.session.polling:
                send_key(app, key)
                await asyncio.sleep(0.05)
            for _ in range(40):
                send_key(app, key)
                await asyncio.sleep(0.02)
            await pilot.pause(0.5)
            _trim()
            rss = proc_status()["VmRSS"]
            row = (rss, sys.getallocatedblocks(), len(gc.get_objects()))
            out.append(row)
            print(
                f"  poll {n + 1:3}: RSS {rss:5.0f} MB, Python blocks {row[1]:>9,}, "
                f"tracked objects {row[2]:>7,}, items {len(app.session.index.entries):,}",
                flush=True,
            )
        await pilot.press("q")
    return out


def growth(values: list[float]) -> float:
    """Per poll, over the second half: the slope of a least-squares line."""
    half = values[len(values) // 2 :]
    if len(half) < 2:
        return 0.0
    xs = list(range(len(half)))
    return statistics.linear_regression(xs, half).slope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--polls", type=int, default=50)
    args = parser.parse_args()
    server, port, hosts = start_server(args.feeds, 20, 0.05)
    tmp = Path(tempfile.mkdtemp(prefix="soak-bench-"))
    try:
        config = tmp / "config.toml"
        poll_config(config, [feed_url(n, hosts, port) for n in range(args.feeds)])
        seed_store(tmp / "store", 1000)
        os.chdir(tmp)  # the config's store path is relative
        print(f"{args.polls} polls of {args.feeds} feeds, keys pressed meanwhile:")
        rows = asyncio.run(soak(config, args.polls))
        rss, blocks, tracked = zip(*rows, strict=True)
        print(
            f"\ngrowth per poll over the last {len(rows) - len(rows) // 2} polls: "
            f"RSS {growth(list(rss)):+.2f} MB, Python blocks {growth(list(blocks)):+,.0f}, "
            f"tracked objects {growth(list(tracked)):+,.0f}"
        )
        print(f"RSS first/last: {rss[0]:.0f}/{rss[-1]:.0f} MB (max {max(rss):.0f} MB)")
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
