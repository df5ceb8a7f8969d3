"""Live stories: the cost of adding one poll's items to the stories of a large store.

Run: uv run python bench/stories.py [--store 100000] [--poll 25000] [--repeats 3]
     uv run python bench/stories.py --actors | --refresh | --memory

Generated news-like items (10-word titles, 60-word bodies from a 20,000-word vocabulary,
a third of them copies of an earlier item with a few words changed, as wire copy is)
spread over 30 days: --store of them are added first (one poll a day), then --poll more
in one poll. Prints, as medians: the CPU time of that poll (shingles, signatures, bucket
lookups and exact comparisons), its cost per item, and how the index's memory follows
the 72-hour window rather than the history (items kept in the buckets).

--actors: each item names eight actors (a few of them in most items) and is in one of
three languages, so that the test across languages (`core.story_features`) runs too.

--refresh: the items' actors come after they were added (`StoryIndex.refresh`, as the
dashboard does for entries annotated after they joined a story): a window of --poll × 3
items with actors in three languages, one poll a day over three days, the last day's
--poll items added without their features; prints the median CPU time of refreshing
those --poll items with them.

--memory: the index's memory (tracemalloc, what is held once built) with 10,000, 25,000
and 75,000 items in the window, each with ten features (actors and numbers).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.core.stories import WINDOW, Member, StoryIndex, item_members
from monitor.core.story_features import features
from monitor.model import Actor, Item

START = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 30
LANGUAGES = ("en", "fr", "de")


NAMES = [f"Actor {k}" for k in range(5_000)]
ZIPF = [1 / (k + 1) for k in range(len(NAMES))]  # a few actors in every other item


def generate(
    n: int,
    rng: random.Random,
    words: list[str],
    start: int = 0,
    actors: bool = False,
    days: int = DAYS,
) -> list[Item]:
    """`n` items over `days` from START, about a third of them edited copies of an earlier
    one. With `actors`: each names eight actors (a copy its original's) and is in English,
    French or German."""
    out: list[Item] = []
    for i in range(n):
        when = START + timedelta(seconds=rng.uniform(0, days * 86400))
        named: tuple[Actor, ...] = ()
        if out and rng.random() < 0.33:
            base = rng.choice(out[-500:])
            body = base.text.split() if base.text else []
            for _ in range(3):
                body[rng.randrange(len(body))] = rng.choice(words)
            title, text, named = base.title, " ".join(body), base.actors
        else:
            title = " ".join(rng.choices(words, k=10))
            text = " ".join(rng.choices(words, k=60))
            if actors:
                names = dict.fromkeys(rng.choices(NAMES, weights=ZIPF, k=8))
                named = tuple(Actor(a, "person", 8 - k) for k, a in enumerate(names))
        out.append(
            Item(
                id=f"i{start + i}",
                title=title,
                url=None,
                sources=("s",),
                published=when,
                published_raw=None,
                date_flag=None,
                language=rng.choice(LANGUAGES) if actors else "en",
                summary="",
                first_seen=when,
                text=text,
                actors=named,
            )
        )
    return out


def run(store: int, poll: int, seed: int, actors: bool = False) -> tuple[float, float, int, int]:
    rng = random.Random(seed)
    words = [f"w{k}" for k in range(20_000)]
    old = sorted(generate(store, rng, words, actors=actors), key=lambda it: it.first_seen)
    index = StoryIndex()
    for day in range(DAYS):  # the store as it grew, a poll a day
        cut = START + timedelta(days=day + 1)
        batch = [it for it in old if cut - timedelta(days=1) <= it.first_seen < cut]
        index.add(item_members(batch))
        index.forget_before(cut - WINDOW)
    end = START + timedelta(days=DAYS)
    new = [
        Item(**{**{f: getattr(it, f) for f in Item.__struct_fields__}, "first_seen": end})
        for it in generate(poll, rng, words, start=store, actors=actors)
    ]
    started = time.process_time()
    fresh = item_members(new)
    made = time.process_time()
    index.add(fresh)
    index.forget_before(end - WINDOW)
    done = time.process_time()
    return done - started, made - started, len(index), len(index._recent)


def refresh(poll: int, seed: int) -> float:
    """CPU seconds of refreshing the features of a poll of `poll` items, the newest of a
    window of three such polls."""
    rng = random.Random(seed)
    words = [f"w{k}" for k in range(20_000)]
    items = sorted(generate(3 * poll, rng, words, actors=True, days=3), key=lambda i: i.first_seen)
    full = item_members(items)
    index = StoryIndex()
    index.add(full[:poll])  # a poll a day
    index.add(full[poll : 2 * poll])
    late = full[-poll:]
    index.add(Member(m.id, m.when, m.shingles, m.language) for m in late)  # no actors yet
    started = time.process_time()
    for member in late:
        index.refresh(member)
    return time.process_time() - started


def memory(window: int) -> float:
    """MiB held by an index of `window` items, all within the window."""
    rng = random.Random(window)
    words = [f"w{k}" for k in range(20_000)]
    actors = [f"Actor {k}" for k in range(3_000)]
    items = generate(window, rng, words)
    named = [rng.sample(actors, 8) for _ in items]
    tracemalloc.start()  # from here: the members' shingles and features, and the index
    members = [
        Member(m.id, m.when, m.shingles, "en", features(names, ["12 1,200"]))
        for m, names in zip(item_members(items), named, strict=True)
    ]
    index = StoryIndex()
    for start in range(0, window, 5_000):
        index.add(members[start : start + 5_000])
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(index._recent) == window
    return held / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=int, default=100_000)
    ap.add_argument("--poll", type=int, default=25_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory", action="store_true", help="the index's memory, by window size")
    ap.add_argument("--actors", action="store_true", help="items name actors, in three languages")
    ap.add_argument("--refresh", action="store_true", help="a poll's actors come after it")
    args = ap.parse_args()
    if args.refresh:
        cpu = statistics.median(refresh(args.poll, seed) for seed in range(args.repeats))
        print(
            f"refresh the features of {args.poll:,} items in a window of {3 * args.poll:,}:"
            f" median {cpu:.2f} s CPU ({cpu / args.poll * 1e6:.0f} µs an item)"
        )
        return
    if args.memory:
        for window in (10_000, 25_000, 75_000):
            print(f"{window:,} items in the window: {memory(window):.0f} MiB")
        return
    runs = [run(args.store, args.poll, seed, args.actors) for seed in range(args.repeats)]
    cpu = statistics.median(r[0] for r in runs)
    made = statistics.median(r[1] for r in runs)
    print(
        f"add a poll of {args.poll:,} items to the stories of {args.store:,}: median"
        f" {cpu:.2f} s CPU ({cpu / args.poll * 1e6:.0f} µs an item, of which shingles"
        f" {made:.2f} s); {runs[0][2]:,} items in stories, {runs[0][3]:,} in the 72-hour"
        " buckets"
    )
    tracemalloc.start()
    run(args.store // 10, args.poll // 10, 99)
    _, peak = tracemalloc.get_traced_memory()
    print(f"peak Python memory for a tenth of it: {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
