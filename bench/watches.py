"""Watches: the CPU cost of evaluating 50 watches over the items of one large poll.

Run: uv run python bench/watches.py [--items 25000] [--watches 50] [--repeats 3]

N synthetic items (titles and summaries drawn from a vocabulary, a few words planted so
that each watch matches about 0.5% of them) are matched by W watches as the session's
pass does it (`io.watch_actions.find_matches`: an index of just these items, the items
read only when they match), then the matches recorded in a fresh ledger with their story
grouping. Process CPU time, median of the repeats (target: 1 s for 50 watches on 25,000
items).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config import Settings, Watch
from monitor.core.entries import entry_of
from monitor.core.index import EntryIndex
from monitor.core.query import NO_CONTEXT, parse_query
from monitor.io.ledger import Ledger
from monitor.io.watch_actions import find_matches
from monitor.model import Item

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
WORDS = [f"w{n}z" for n in range(3000)]  # no word is the prefix of another


class Items:
    """A store that only gets items (what `find_matches` asks of one)."""

    def __init__(self, items: list[Item]) -> None:
        self.by_id = {i.id: i for i in items}

    def get(self, item_id: str) -> Item | None:
        return self.by_id.get(item_id)


def make_items(n: int, watches: int, rng: random.Random) -> list[Item]:
    out = []
    for k in range(n):
        title = " ".join(rng.choices(WORDS, k=9))
        summary = " ".join(rng.choices(WORDS, k=40))
        if rng.random() < 0.005 * watches / 10:
            title += f" target{rng.randrange(watches)}z"
        when = NOW - timedelta(minutes=rng.randrange(600))
        out.append(
            Item(
                id=f"id{k:07d}",
                title=title,
                url=f"https://news.example/{k}",
                sources=(f"Source {k % 500}",),
                published=when,
                published_raw=None,
                date_flag=None,
                language="en",
                summary=summary,
                first_seen=when,
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=25_000)
    parser.add_argument("--watches", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(1)
    items = make_items(args.items, args.watches, rng)
    entries = [entry_of(i) for i in items]
    watches = [
        Watch(f"w{n}", f"target{n}z OR (w{n}z w{n + 1}z)" if n % 2 else f"target{n}z")
        for n in range(args.watches)
    ]
    queries = [(w, parse_query(w.query)) for w in watches]
    store = Items(items)
    settings = Settings(path=None, storage=Path("."), watches=tuple(watches))
    matching, recording, found = [], [], 0
    for _ in range(args.repeats):
        start = time.process_time()
        matches = find_matches(
            queries,
            entries,
            EntryIndex([], []),
            store,  # type: ignore[arg-type]
            NOW,
            NO_CONTEXT,
            settings,
        )
        matching.append(time.process_time() - start)
        with tempfile.TemporaryDirectory() as folder:
            ledger = Ledger(Path(folder))
            start = time.process_time()
            done = ledger.record(matches, {w.name: {"webhook": NOW} for w in watches}, NOW)
            recording.append(time.process_time() - start)
            ledger.close()
        found = len(matches)
    print(
        f"{args.watches} watches over {args.items:,} items: {found:,} matches,"
        f" {len(done.raised):,} alerts"
    )
    print(f"matching: {statistics.median(matching):.3f} s CPU (median of {args.repeats})")
    print(f"recording: {statistics.median(recording):.3f} s CPU")


if __name__ == "__main__":
    main()
