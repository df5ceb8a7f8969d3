"""Many pollers on one PostgreSQL: 2,000 loopback feeds, 3 `monitor poll --watch`
processes against one database, measured at the feed server (a line per request).

    uv run python bench/pollers.py                  # a server of its own in a temporary folder
    uv run python bench/pollers.py --url postgresql://monitor@127.0.0.1:5432/postgres

1. Throughput, 1 poller and then 3 (`--repeats` each, a fresh database each): from the
   first request at the server until every source's state is stored; sources/s, items/s.
2. The schedule, 3 pollers for `--passes` intervals after their first pass: requests per
   source and the gaps between them; a second fetch of a source within one interval less
   the due grace would be a double fetch.
3. Kill one poller (SIGKILL) while it holds leases: how long until each of its sources is
   asked for by another poller.

Medians are printed. The feeds answer 304 after the first pass (ETag), as most do."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import psycopg

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.feedserver import feed_url  # noqa: E402
from bench.pyenv import cached_bytecode_env  # noqa: E402
from monitor.io.pg import schema  # noqa: E402
from monitor.io.pg.leases import EARLY, seconds_for  # noqa: E402
from tests.support.postgres import fresh_database, running_server  # noqa: E402

INTERVAL = 60  # seconds: each source's interval
TIMEOUT = 5  # seconds: the poll timeout (leases last seconds_for(TIMEOUT))


@contextlib.contextmanager
def feed_server(args: argparse.Namespace, log: Path, latency: float) -> Iterator[list[str]]:
    """The feeds, served by a process of their own; yields their URLs."""
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "feedserver.py"),
            *("--feeds", str(args.feeds), "--hosts", str(args.hosts)),
            *("--items", str(args.items), "--item-bytes", "600"),
            *("--latency", str(latency), "--log", str(log)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield [feed_url(n, info["hosts"], info["port"]) for n in range(args.feeds)]
    finally:
        proc.terminate()
        proc.wait(10)


def write_config(path: Path, url: str, feeds: list[str]) -> None:
    lines = [
        f'[storage]\nbackend = "postgresql"\nurl = "{url}"\n',
        f'[poll]\ninterval = "{INTERVAL}s"\ntimeout = "{TIMEOUT}s"\nconcurrency = 100\n',
    ]
    for n, u in enumerate(feeds):
        lines.append(f'[[sources]]\nname = "feed {n}"\nurl = "{u}"\nlanguage = "fr"\n')
    path.write_text("\n".join(lines), encoding="utf-8")


class Pollers:
    """`monitor poll --watch --no-actors --no-text` processes on one config."""

    def __init__(self, config: Path, count: int, folder: Path) -> None:
        env = cached_bytecode_env(folder / "pycache")
        env["PYTHONPATH"] = str(ROOT)
        argv = [sys.executable, "-m", "monitor", "--config", str(config), "poll", "--watch"]
        self.procs = [
            subprocess.Popen(
                [*argv, "--no-actors", "--no-text"],
                env=env,
                stdout=(folder / f"poller{i}.log").open("w"),
                stderr=subprocess.STDOUT,
            )
            for i in range(count)
        ]

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


def requests(log: Path, since: float = 0.0) -> list[tuple[float, int]]:
    """(time, feed) of every feed request at or after `since`."""
    out = []
    for line in log.read_text(encoding="utf-8").splitlines():
        at, n = line.split()
        if float(at) >= since:
            out.append((float(at), int(n)))
    return out


def stored(url: str) -> tuple[int, int]:
    """Sources with a stored state, and items."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM sources WHERE next_due IS NOT NULL),"
            " (SELECT count(*) FROM items)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def wait_stored(url: str, feeds: int, limit: float = 600.0) -> tuple[float, int]:
    """Wait until every source's state is stored; the time then, and the items."""
    deadline = time.time() + limit
    while time.time() < deadline:
        sources, items = stored(url)
        if sources >= feeds:
            return time.time(), items
        time.sleep(0.05)
    raise SystemExit(f"the sources were not all stored in {limit} s")


def database(server: str) -> str:
    """A fresh database with monitor's tables, on `server`."""
    url = fresh_database(server)
    with psycopg.connect(url, autocommit=True) as conn:
        schema.migrate(conn)
    return url


def throughput(args: argparse.Namespace, server: str, count: int, folder: Path) -> dict[str, float]:
    """One first pass of `count` pollers into a fresh database."""
    url = database(server)
    log = folder / f"requests-{count}-{time.monotonic_ns()}.log"
    with feed_server(args, log, args.latency) as feeds:
        config = folder / "config.toml"
        write_config(config, url, feeds)
        pollers = Pollers(config, count, folder)
        try:
            done, items = wait_stored(url, args.feeds)
        finally:
            pollers.stop()
        seen = requests(log)
    first = min(at for at, _ in seen)
    per = defaultdict(int)
    for _, n in seen:
        per[n] += 1
    seconds = done - first
    return {
        "seconds": seconds,
        "sources/s": args.feeds / seconds,
        "items/s": items / seconds,
        "items": items,
        "asked twice": sum(1 for c in per.values() if c > 1),
        "never asked": args.feeds - len(per),
    }


def held_by(url: str, pid: int) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT name FROM sources WHERE lease_owner LIKE %s", (f"%:{pid}:%",)
        ).fetchall()
    return [r[0] for r in rows]


def schedule_and_kill(args: argparse.Namespace, server: str, folder: Path) -> None:
    url = database(server)
    log = folder / "requests-schedule.log"
    with feed_server(args, log, args.slow) as feeds:  # passes that last: killed mid-pass
        config = folder / "config.toml"
        write_config(config, url, feeds)
        pollers = Pollers(config, 3, folder)
        try:
            ready, _ = wait_stored(url, args.feeds)
            print(f"first pass stored; watching {args.passes} intervals of {INTERVAL} s")
            time.sleep(args.passes * INTERVAL)
            window_end = time.time()
            victim = pollers.procs[0]
            deadline = time.time() + 3 * INTERVAL
            held: list[str] = []
            while time.time() < deadline and not held:  # until it fetches: it holds leases
                held = held_by(url, victim.pid)
                if not held:
                    time.sleep(0.005)
            victim.send_signal(signal.SIGKILL)
            killed = time.time()
            victim.wait(10)
            held = held_by(url, victim.pid)
            print(f"killed a poller holding {len(held)} leases")
            time.sleep(seconds_for(TIMEOUT) + INTERVAL)
        finally:
            pollers.stop()
        seen = requests(log)
    report_schedule(args, seen, ready, window_end)
    numbers = {int(name.split()[1]) for name in held}
    taken: dict[int, float] = {}
    for at, n in seen:
        if n in numbers and at > killed and n not in taken:
            taken[n] = at - killed
    if not numbers:
        print("the poller held no leases when killed: nothing to take over")
        return
    waits = sorted(taken.values())
    print(
        f"takeover: {len(taken)}/{len(numbers)} of its sources asked for again; after"
        f" median {statistics.median(waits):.1f} s, max {max(waits):.1f} s"
        f" (lease {seconds_for(TIMEOUT):.0f} s, interval {INTERVAL} s)"
    )


def report_schedule(
    args: argparse.Namespace, seen: list[tuple[float, int]], start: float, end: float
) -> None:
    """Requests per source in [start, end), and the gaps between a source's requests."""
    times: dict[int, list[float]] = defaultdict(list)
    for at, n in seen:
        times[n].append(at)
    gaps = []
    early = 0  # a second request sooner than the interval less leases.EARLY: a double fetch
    shortest = INTERVAL - EARLY.total_seconds()
    counts = []
    for n in range(args.feeds):
        ts = sorted(times.get(n, []))
        counts.append(sum(1 for t in ts if start <= t < end))
        for a, b in itertools.pairwise(ts):
            if b < end:
                gaps.append(b - a)
                early += b - a < shortest
    print(
        f"schedule over {end - start:.0f} s ({(end - start) / INTERVAL:.1f} intervals):"
        f" requests per source median {statistics.median(counts)}, min {min(counts)},"
        f" max {max(counts)}; gaps median {statistics.median(gaps):.1f} s,"
        f" min {min(gaps):.1f} s, max {max(gaps):.1f} s;"
        f" second requests sooner than {shortest:.0f} s: {early}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="a PostgreSQL server's URL (default: start one)")
    p.add_argument("--feeds", type=int, default=2000)
    p.add_argument("--hosts", type=int, default=50)
    p.add_argument("--items", type=int, default=10, help="items per feed")
    p.add_argument("--latency", type=float, default=0.05, help="seconds per response")
    p.add_argument("--slow", type=float, default=1.0, help="seconds per response in the kill part")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--passes", type=int, default=2, help="intervals watched before the kill")
    args = p.parse_args()
    with contextlib.ExitStack() as stack:
        server = args.url or stack.enter_context(running_server())
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pollers-")))
        print(f"{args.feeds} feeds on {args.hosts} loopback addresses, {args.items} items each")
        for count in (1, 3):
            runs = [throughput(args, server, count, folder) for _ in range(args.repeats)]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            print(
                f"{count} poller{'s' if count > 1 else ''}: first pass {med['seconds']:.1f} s,"
                f" {med['sources/s']:.0f} sources/s, {med['items/s']:.0f} items/s"
                f" ({med['items']:.0f} items); sources asked twice {med['asked twice']:.0f},"
                f" never {med['never asked']:.0f} (medians of {args.repeats})"
            )
        schedule_and_kill(args, server, folder)
        if os.environ.get("POLLERS_KEEP"):
            input(f"logs in {folder}; Enter to remove them")


if __name__ == "__main__":
    main()
