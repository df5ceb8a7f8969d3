"""Saved stories: the cost of restoring them at open, against matching the items again.

Run: uv run python bench/story_file.py [--entries 100000] [--days 7] [--repeats 5]

Generated news-like entries (bench/stories.py's: a third of them edited copies) spread
over --days days, all within the days the live stories keep. A writer matches them
once and saves the stories beside a store in a temp folder (`io/story_file.py`); then,
as a restart would, a new `LiveStories` restores them from the file: every saved item
back into its story, the items of the last 72 hours shingled again for the band
buckets, nothing matched. Prints, as medians: the CPU and wall time of that first
update at open (writer, and a read-only reader), of the matching it replaces (no file),
and of a later update with nothing new; the file's size; then the wall time of
`is:story-lead` and `story:ID` over the entries' index with the stories restored, as the
dashboard's filter asks them.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.stories import START, generate
from monitor.core.entries import entry_of
from monitor.core.index import EntryIndex
from monitor.core.query import Context, parse_query
from monitor.io.live_stories import LiveStories
from monitor.io.story_file import FILE
from monitor.model import Entry


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of `work()`."""
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    return time.process_time() - cpu, time.perf_counter() - wall


def entries(n: int, days: int, seed: int) -> tuple[list[Entry], datetime]:
    rng = random.Random(seed)
    words = [f"w{k}" for k in range(20_000)]
    items = generate(n, rng, words, days=days)
    got = sorted((entry_of(it) for it in items), key=lambda e: e.published, reverse=True)
    return got, START + timedelta(days=days)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    listed, now = entries(args.entries, args.days, 1)
    folder = Path(tempfile.mkdtemp(prefix="monitor-bench-"))
    try:
        first = LiveStories(folder, writer=True)
        matched = [timed(lambda: first.update(listed, now))]
        first.close()
        size = (folder / FILE).stat().st_size
        stories = len(first.groups())
        for _ in range(args.repeats - 1):  # matching all of them again, no file
            fresh = LiveStories()
            matched.append(timed(lambda fresh=fresh: fresh.update(listed, now)))
        restored, read, again = [], [], []
        for _ in range(args.repeats):
            writer = LiveStories(folder, writer=True)
            restored.append(timed(lambda writer=writer: writer.update(listed, now)))
            again.append(timed(lambda writer=writer: writer.update(listed, now)))
            writer.close()
            assert len(writer.groups()) == stories  # the same stories, none matched
            reader = LiveStories(folder)
            read.append(timed(lambda reader=reader: reader.update(listed, now)))
            reader.close()
        index, ctx = EntryIndex.build(listed), Context(stories=reader)
        biggest = max(reader.groups().values(), key=len)[-1].id
        asked: dict[str, list[float]] = {}
        for text in ("is:story-lead", f"story:{biggest}"):
            query = parse_query(text)
            for _ in range(args.repeats):
                took = timed(lambda query=query: query.select(index, now, ctx))[1]
                asked.setdefault(text, []).append(took)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def median(runs: list[tuple[float, float]]) -> str:
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        return f"{cpu:.2f} s CPU ({wall:.2f} s wall)"

    window = sum(1 for e in listed if e.first_seen >= now - timedelta(hours=72))
    print(
        f"{args.entries:,} entries over {args.days} days, {stories:,} stories,"
        f" {window:,} in the 72-hour window; {FILE} {size / 2**20:.1f} MiB"
    )
    print(f"restore at open, writer: median {median(restored)}")
    print(f"restore at open, read-only reader: median {median(read)}")
    print(f"matching them all instead (no file): median {median(matched)}")
    print(f"a later update with nothing new: median {median(again)}")
    for text, walls in asked.items():
        print(
            f"{text} over the {args.entries:,} entries: median {statistics.median(walls) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
