"""Stories marked seen: the cost of judging one large poll's later copies, and of `M`.

Run: uv run python bench/story_seen.py [--store 100000] [--poll 25000] [--seen 500] [--repeats 3]

Generated news-like items over the seven days the live stories keep (titles and summaries
from a vocabulary, half of them copies of an earlier item with a few words changed, each
with actors from a pool of names and now and then a quote) fill the stories
(`io.live_stories`); --seen of the stories of the last two days with several items are marked seen as `M`
does (their items read from the store, their actors and quotes kept, their items marked
seen in a fresh triage file); then a poll of --poll more items, some of them copies of
the seen stories (a fifth of those with a new actor), is judged as the session
does after a poll (`io.triage_actions.judge_copies`, from the poll's ids to the triage
written). Prints medians of the repeats: process CPU of the judging, and the wall time of
one `M` (a story's items read, its record and seen rows written).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from argparse import ArgumentParser
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.watches import Items  # a store that only gets items
from monitor.core.angles import seen_story
from monitor.core.entries import entry_of
from monitor.io.live_stories import LiveStories
from monitor.io.triage import Triage
from monitor.io.triage_actions import judge_copies
from monitor.model import Actor, Item, Quote

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
WORDS = [f"w{n}" for n in range(20_000)]
NAMES = [f"Person {n}" for n in range(500)]


def make(
    n: int, when: datetime, title: str, summary: str, actors: list[str], quotes: list[str]
) -> Item:
    return Item(
        id=f"id{n:07d}",
        title=title,
        url=None,
        sources=(f"Source {n % 300}",),
        published=when,
        published_raw=None,
        date_flag=None,
        language="en",
        summary=summary,
        first_seen=when,
        actors=tuple(Actor(a, "person", 1) for a in actors),
        quotes=tuple(Quote(actors[0], q) for q in quotes),
        annotated=True,
    )


def generate(count: int, rng: random.Random) -> list[Item]:
    """`count` items over the seven days before NOW, half of them copies."""
    out: list[Item] = []
    for n in range(count):
        when = NOW - timedelta(seconds=rng.uniform(3600, 7 * 86400 - 3600))
        if out and rng.random() < 0.5:
            base = rng.choice(out[-300:])
            words = base.summary.split()
            for _ in range(2):
                words[rng.randrange(len(words))] = rng.choice(WORDS)
            actors = [a.name for a in base.actors]
            quotes = [q.text for q in base.quotes]
            out.append(make(n, when, base.title, " ".join(words), actors, quotes))
        else:
            title = " ".join(rng.choices(WORDS, k=10))
            summary = " ".join(rng.choices(WORDS, k=40))
            quotes = [" ".join(rng.choices(WORDS, k=8))] if rng.random() < 0.3 else []
            out.append(make(n, when, title, summary, rng.sample(NAMES, 3), quotes))
    return out


def poll(count: int, start: int, seen: list[Item], rng: random.Random) -> list[Item]:
    """A poll at NOW: copies of the seen stories (a fifth of them name a new actor),
    among new items."""
    out: list[Item] = []
    for n in range(start, start + count):
        when = NOW - timedelta(seconds=rng.uniform(0, 600))
        if rng.random() < 0.04:
            base = rng.choice(seen)
            actors = [a.name for a in base.actors]
            quotes = [q.text for q in base.quotes]
            if rng.random() < 0.2:
                actors.append(rng.choice(NAMES))
            out.append(make(n, when, base.title, base.summary, actors, quotes))
        else:
            title = " ".join(rng.choices(WORDS, k=10))
            summary = " ".join(rng.choices(WORDS, k=40))
            out.append(make(n, when, title, summary, rng.sample(NAMES, 3), []))
    return out


def main() -> None:
    ap = ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", type=int, default=100_000)
    ap.add_argument("--poll", type=int, default=25_000)
    ap.add_argument("--seen", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(1)
    stored = generate(args.store, rng)
    stories = LiveStories()
    stories.update([entry_of(i) for i in stored], NOW - timedelta(minutes=30))
    # stories of the last two days, which a copy can still join (`core.stories.WINDOW`)
    recent = NOW - timedelta(days=2)
    groups = [g for g in stories.groups().values() if len(g) > 1 and g[-1].first_seen > recent]
    marked = [g[0].id for g in rng.sample(groups, min(args.seen, len(groups)))]
    members = {story_id: stories.members(story_id) for story_id in marked}  # before the poll
    store = Items(stored)
    new = poll(args.poll, args.store, [store.by_id[i] for i in marked], rng)
    store.by_id.update((i.id, i) for i in new)
    entries = [entry_of(i) for i in [*new, *stored]]
    stories.update(entries, NOW)  # as the read of the store after the poll does
    fresh = {i.id for i in new}

    judging: list[float] = []
    marking: list[float] = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as folder:
            triage = Triage(Path(folder), user="bench", now=lambda: NOW - timedelta(days=8))
            for story_id in marked:
                start = time.perf_counter()
                ids = members[story_id]
                items = [it for it in map(store.get, ids) if it is not None]
                triage.mark_story(seen_story(story_id, NOW - timedelta(minutes=20), items), ids)
                marking.append(time.perf_counter() - start)
            start = time.process_time()
            decision = judge_copies(triage, stories, store, fresh, True)  # type: ignore[arg-type]
            judging.append(time.process_time() - start)
            triage.close()
    assert decision is not None
    print(
        f"{args.seen} stories marked seen among {args.store:,} items; a poll of {args.poll:,}:"
        f" {len(decision.seen):,} later copies seen, {len(decision.angles):,} new angles"
    )
    print(
        f"judging the poll: {statistics.median(judging) * 1000:.0f} ms CPU (median of {args.repeats})"
    )
    print(
        f"M on one story: {statistics.median(marking) * 1000:.1f} ms (median of {len(marking):,})"
    )


if __name__ == "__main__":
    main()
