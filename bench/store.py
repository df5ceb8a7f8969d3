"""Store benchmark: does the cost of a poll's write grow with history? Is the timeline cheap?

    uv run python bench/store.py [--sizes 0,10000,100000] [--repeats 7] [--no-rebuild]

For each size it builds a store of that many items (~1 KB metadata + a full text of ~700
words each, its words drawn with news-like frequencies from a vocabulary of 50,000; 1,000
items a day on the days before today), then measures, each in fresh processes:

- the dashboard's start, 5 times: open + count() and entries() (every item as an Entry),
  and the resident memory after it;
- opening it cold (open + count()), writing 1,000 new items dated today (median of the
  repeats, new ids each time) with the entries loaded, as the dashboard does, entries()
  after each write, reading items(since=now-24h), and peak RSS;
- entries() of a read-only open of the store without its entry files (a store from
  before them: every entry made from the day files);
- the size on disk of the store and of its text index (search.sqlite), per item.

The stores live in a temp folder that is removed afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypedDict

from monitor.io.tinystore import ENTRIES, TinyStore
from monitor.model import Actor, Item, Quote, SourceState

PER_DAY = 1000
BATCH = 1000

_TEXT = (
    "the government said on monday that talks would resume after the summit in brussels "
    "where ministers from across the region met to discuss trade energy prices security "
    "and the growing pressure on public budgets while officials warned that inflation "
    "remained high and that households would face another difficult winter analysts "
    "expect the central bank to keep rates unchanged opposition leaders called for an "
    "inquiry into the contracts awarded during the crisis and demanded new elections"
)


VOCABULARY = 50_000
TEXT_CHARS = 4_500  # ~700 words


def vocabulary(rng: random.Random) -> list[str]:
    """News words first (the most frequent), then made-up words of 2 to 4 syllables: the
    long tail a text index holds."""
    head = list(dict.fromkeys(_TEXT.split()))
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["an", "er", "on", "is"]
    tail: set[str] = set()
    while len(tail) < VOCABULARY - len(head):
        tail.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return head + sorted(tail)


class Gen:
    """Fast, realistic-looking items: text is sliced from one long random blob whose words
    follow Zipf's law (the n-th most frequent word comes about 1/n as often as the first),
    as the words of news text do."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        words = vocabulary(random.Random(0))  # the same words at every size
        weights = list(itertools.accumulate(1 / (n + 1) for n in range(len(words))))
        self.blob = " ".join(self.rng.choices(words, cum_weights=weights, k=1_500_000))

    def chunk(self, n: int) -> str:
        start = self.rng.randrange(len(self.blob) - n)
        return self.blob[start : start + n].strip()

    def item(self, tag: str, i: int, published: datetime, now: datetime) -> Item:
        site = i % 60
        slug = self.chunk(40).replace(" ", "-")
        url = f"https://www.news{site}.example.com/{published:%Y/%m/%d}/{slug}-{tag}{i}"
        keys = (f"u:{url}", f"g:https://feeds.news{site}.example.com/rss|{tag}-{i}")
        return Item(
            id=hashlib.blake2b(keys[0].encode(), digest_size=10).hexdigest(),
            title=self.chunk(90),
            url=url,
            sources=(f"News {site}",),
            published=published,
            published_raw=published.strftime("%a, %d %b %Y %H:%M:%S +0000"),
            date_flag=None,
            language="en",
            summary=self.chunk(420),
            first_seen=now,
            keys=keys,
            author="Jane Doe",
            text=self.chunk(TEXT_CHARS),
            actors=(Actor("European Union", "organisation", 2), Actor("Brussels", "place", 1)),
            quotes=(Quote("Jane Doe", self.chunk(120)),),
        )


def build(path: Path, size: int, today: datetime) -> float:
    """A store of `size` items, PER_DAY a day on the days before `today`. Returns seconds."""
    gen = Gen(seed=size + 7)
    t0 = time.perf_counter()
    with TinyStore(path) as store:
        states = [
            SourceState(f"News {n}", f"https://feeds.news{n}.example.com/rss") for n in range(60)
        ]
        store.write([], states)
        done = 0
        day = 1
        while done < size:
            n = min(PER_DAY, size - done)
            base = today - timedelta(days=day)
            batch = [
                gen.item(f"h{day}-", k, base + timedelta(seconds=k * 86_000 // n), base)
                for k in range(n)
            ]
            store.write(batch, [])
            done += n
            day += 1
    return time.perf_counter() - t0


COLD_RUNS = 5


class Start(TypedDict):
    open: float
    entries: float
    count: int
    rss_mb: float


class Result(TypedDict):
    count: int
    cold_open: float
    writes: list[float]
    write_median: float
    after_write: list[float]
    after_write_median: float
    recent_items: int
    recent_read: float
    rss_mb: float


def _rss_mb() -> float:
    """Resident memory now. (A child's peak RSS starts at its parent's at fork time.)"""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start(path: Path) -> Start:
    """Run in a fresh process: what the dashboard does first."""
    t0 = time.perf_counter()
    store = TinyStore(path)
    count = store.count()
    opened = time.perf_counter() - t0
    t0 = time.perf_counter()
    entries = store.entries()
    took = time.perf_counter() - t0
    assert len(entries) == count, (len(entries), count)
    return {
        "open": opened,
        "entries": took,
        "count": count,
        "rss_mb": _rss_mb(),
    }


def measure(path: Path, repeats: int) -> Result:
    """Run in a fresh process: timings and peak RSS for one store."""
    now = datetime.now(UTC)
    gen = Gen(seed=99)
    t0 = time.perf_counter()
    store = TinyStore(path)
    count = store.count()
    cold = time.perf_counter() - t0
    store.entries()

    def batch(tag: str) -> list[Item]:
        return [
            gen.item(tag, k, now - timedelta(seconds=k * 40_000 // BATCH), now)
            for k in range(BATCH)
        ]

    store.write(batch("warm-"), [])  # first write of the process: not counted
    store.entries()
    times: list[float] = []
    after: list[float] = []
    for r in range(repeats):
        items = batch(f"r{r}-")
        t0 = time.perf_counter()
        outcomes = store.write(items, [])
        times.append(time.perf_counter() - t0)
        assert outcomes.count("new") == BATCH, outcomes
        t0 = time.perf_counter()
        n = len(store.entries())
        after.append(time.perf_counter() - t0)
        assert n == count + (r + 2) * BATCH, n
    t0 = time.perf_counter()
    recent = sum(1 for _ in store.items(since=now - timedelta(hours=24)))
    read = time.perf_counter() - t0
    store.close()
    return {
        "count": count,
        "cold_open": cold,
        "writes": times,
        "write_median": statistics.median(times),
        "after_write": after,
        "after_write_median": statistics.median(after),
        "recent_items": recent,
        "recent_read": read,
        "rss_mb": _peak_mb(),
    }


def measure_rebuild(path: Path) -> float:
    """Run in a fresh process: entries() of a read-only store without entry files."""
    t0 = time.perf_counter()
    with TinyStore(path, readonly=True) as store:
        store.entries()
    return time.perf_counter() - t0


def _size_on_disk(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def _child(*args: str) -> Any:
    """Run this file with `args` in a fresh process; its last line of output, as JSON."""
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _ms_range(values: list[float]) -> str:
    return (
        f"{statistics.median(values) * 1000:.0f} ms "
        f"({min(values) * 1000:.0f}–{max(values) * 1000:.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0,10000,100000")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-rebuild", action="store_true", help="skip the rebuild timing")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rebuild", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.start:
        print(json.dumps(start(args.start)))
        return
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeats)))
        return
    if args.rebuild:
        print(json.dumps(measure_rebuild(args.rebuild)))
        return
    if args.repeats < 5:
        parser.error("--repeats must be at least 5")
    sizes = [int(s) for s in args.sizes.split(",")]
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    tmp = Path(tempfile.mkdtemp(prefix="store-bench-"))
    results: dict[int, Result] = {}
    try:
        for size in sizes:
            path = tmp / f"store-{size}"
            built = build(path, size, today)
            os.sync()  # the build's writeback must not slow the timings below
            disk = _size_on_disk(path)
            entries_disk = _size_on_disk(path / ENTRIES)
            starts: list[Start] = [_child("--start", str(path)) for _ in range(COLD_RUNS)]
            res: Result = _child("--measure", str(path), "--repeats", str(args.repeats))
            results[size] = res
            writes = ", ".join(f"{t * 1000:.0f}" for t in res["writes"])
            print(
                f"{size:>7} items  built {built:6.1f} s  {disk:7.1f} MB on disk "
                f"({entries_disk:.1f} MB of entry files) | "
                f"write 1000: median {res['write_median'] * 1000:6.1f} ms ({writes}) | "
                f"cold open {res['cold_open'] * 1000:6.1f} ms | "
                f"items(24h) {res['recent_items']} in {res['recent_read'] * 1000:6.1f} ms | "
                f"peak RSS {res['rss_mb']:.0f} MB",
                flush=True,
            )
            print(
                f"{'':>7}        start, {COLD_RUNS} runs: open + count() "
                f"{_ms_range([r['open'] for r in starts])}, then entries() "
                f"{_ms_range([r['entries'] for r in starts])}, together "
                f"{_ms_range([r['open'] + r['entries'] for r in starts])} | "
                f"RSS after it {max(r['rss_mb'] for r in starts):.0f} MB | "
                f"entries() after a 1000-item write: median "
                f"{res['after_write_median'] * 1000:.1f} ms",
                flush=True,
            )
            if not args.no_rebuild and size:
                shutil.rmtree(path / ENTRIES)
                rebuild = _child("--rebuild", str(path))
                print(
                    f"{'':>7}        without entry files: read-only open + entries() "
                    f"{rebuild:.1f} s",
                    flush=True,
                )
        smallest = min(sizes)
        for size in sizes:
            if size != smallest:
                ratio = results[size]["write_median"] / results[smallest]["write_median"]
                print(f"write ratio {size}/{smallest}: {ratio:.2f} (target <= 2)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
