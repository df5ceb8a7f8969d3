"""The Stories view at scale: its rows, and the key `S` until they are on screen.

    uv run python bench/story_view.py [--sizes 10000,50000,100000] [--repeats 7]

For each size, that many generated news-like items spread over the last 7 days (the
stories' window: `io.live_stories.RECENT`), a third of them copies of an item of the
hours before from another source (so stories of 2 to ~10 items), 60 sources, three
languages, 0 to 3 actors, go into an in-memory store and into the live stories once
(`LiveStories.update`, timed once: its own benchmark is bench/stories.py). Then:

1. rows: `LiveStories.groups()` and `core.story_view.rank_stories` (every story scored
   and sorted), then `summarize` of the 40 rows a screen shows; median of --repeats.
2. paint: the dashboard (`App.run_test(size=(120, 40))`, no polling, the same store and
   stories) with its timeline painted and the stories ranked (the dashboard ranks them in
   a thread after each update of the stories, so that `S` finds them ready); `S` is sent
   through the driver as a terminal's input thread does, and timed until the first frame
   that holds the list's lines; then `S` again (back to the timeline). Median of
   --repeats openings.

Target: 100,000 items turned into rows and painted within 300 ms. Also the resident
memory of this process (which holds the generated items twice, as items and as entries,
beside the dashboard: an upper bound of what the view costs, not the dashboard's own).
The rows are timed with the garbage collector's start-up objects frozen, as the
dashboard does after its first read (`gc.freeze`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.tui import proc_status, send_key, wait_for  # noqa: E402
from monitor.config import Settings, Source  # noqa: E402
from monitor.core.story_view import rank_stories, summarize  # noqa: E402
from monitor.io.live_stories import LiveStories  # noqa: E402
from monitor.model import Actor, Item  # noqa: E402
from monitor.tui.app import MonitorApp  # noqa: E402
from monitor.tui.widgets.story_list import StoryList  # noqa: E402
from tests.support.memstore import MemoryStore  # noqa: E402

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
DAYS = 7
SOURCES = [f"News {n}" for n in range(60)]
ACTORS = ["Vladimir Putin", "Donald Trump", "Kremlin", "European Union", "Paris", "Kyiv"]
SIZE = (120, 40)
SHOWN = 40  # rows a screen shows


def generate(n: int, seed: int) -> list[Item]:
    """`n` items over DAYS, a third of them copies of an item of the hours before."""
    rng = random.Random(seed)
    words = [f"w{k}" for k in range(20_000)]
    out: list[Item] = []
    for i in range(n):
        when = NOW - timedelta(seconds=rng.uniform(0, DAYS * 86400 - 600))
        if out and rng.random() < 0.33:
            base = rng.choice(out[-300:])
            title, summary = base.title, base.summary
            when = base.first_seen + timedelta(minutes=rng.uniform(1, 600))
            when = min(when, NOW)
        else:
            title = " ".join(rng.choices(words, k=10))
            summary = " ".join(rng.choices(words, k=30))
        actors = tuple(Actor(a, "person", rng.randint(1, 3)) for a in rng.sample(ACTORS, 2))
        out.append(
            Item(
                id=f"i{i:07d}",
                title=title,
                url=None,
                sources=(rng.choice(SOURCES),),
                published=when,
                published_raw=None,
                date_flag=None,
                language=rng.choice(("en", "fr", "de")),
                summary=summary,
                first_seen=when,
                actors=actors[: rng.randint(0, 2)],
                annotated=True,
            )
        )
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def rows_figures(stories: LiveStories, repeats: int) -> tuple[float, float, float, int]:
    """Medians of groups(), rank_stories and the visible rows' summaries; stories."""
    grouping, ranking, summing = [], [], []
    count = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        groups = stories.groups()
        t1 = time.perf_counter()
        rows = rank_stories(groups, NOW)
        t2 = time.perf_counter()
        for row in rows[:SHOWN]:
            summarize(row, NOW)
        t3 = time.perf_counter()
        grouping.append(t1 - t0)
        ranking.append(t2 - t1)
        summing.append(t3 - t2)
        count = len(rows)
    med = statistics.median
    return med(grouping), med(ranking), med(summing), count


async def paint_figures(store: MemoryStore, stories: LiveStories, repeats: int) -> list[float]:
    """Seconds from `S` to the first frame showing the ranked rows, per opening."""
    with tempfile.TemporaryDirectory(prefix="story-view-") as folder:
        return await _paint(store, stories, repeats, Path(folder))


async def _paint(
    store: MemoryStore, stories: LiveStories, repeats: int, folder: Path
) -> list[float]:
    sources = tuple(Source(name=s, url="http://127.0.0.1:9/x", interval=600.0) for s in SOURCES)
    settings = Settings(path=None, storage=folder, sources=sources)
    app = MonitorApp(
        settings,
        store,  # type: ignore[arg-type]
        poll=_no_poll,
        now=lambda: NOW,
        tz=UTC,
        autopoll=False,
    )
    app.session.stories = stories
    frames: list[float] = []
    display = app._display

    def timed_display(*args: Any, **kw: Any) -> Any:
        result = display(*args, **kw)
        frames.append(time.perf_counter())
        return result

    app._display = timed_display  # type: ignore[method-assign]
    out: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: app.main.timeline.entries, 120)
        story_list = app.main.query_one("#stories", StoryList)
        # ranked in a thread after the session's stories update, as after every read
        await wait_for(lambda: story_list.rows, 120)
        await pilot.pause(0.5)
        drawn: list[float] = []
        render_line = story_list.render_line

        def timed_line(y: int) -> Any:
            drawn.append(time.perf_counter())
            return render_line(y)

        story_list.render_line = timed_line  # type: ignore[method-assign]
        for _ in range(repeats):
            t_key = send_key(app, "S")
            first = await wait_for(lambda t=t_key: next((d for d in drawn if d >= t), None), 10)
            frame = await wait_for(
                lambda d=first: next((f for f in frames if d is not None and f >= d), None),
                10,
                0.001,
            )
            out.append((frame or time.perf_counter()) - t_key)
            await pilot.pause(0.2)
            send_key(app, "S")
            await pilot.pause(0.3)
    return out


async def _no_poll(*args: Any, **kw: Any) -> Any:
    raise RuntimeError("no polling in this benchmark")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,50000,100000")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        items = generate(size, seed=size)
        store = MemoryStore(items)
        stories = LiveStories()
        t0 = time.perf_counter()
        stories.update(store.entries(), NOW)
        built = time.perf_counter() - t0
        gc.collect()
        gc.freeze()
        grouping, ranking, summing, count = rows_figures(stories, args.repeats)
        paints = asyncio.run(paint_figures(store, stories, args.repeats))
        paint = statistics.median(paints)
        rss = proc_status()
        print(
            f"{size:>7,} items, {count:,} stories (built once in {built:.1f} s):"
            f" rows {ms(grouping + ranking + summing)} (groups {ms(grouping)},"
            f" rank {ms(ranking)}, {SHOWN} summaries {ms(summing)});"
            f" S to painted {ms(paint)} (min {ms(min(paints))}, max {ms(max(paints))});"
            f" this process's RSS {rss['VmRSS']:.0f} MB"
        )
    print("target: 100,000 items in rows and painted within 300 ms")


if __name__ == "__main__":
    main()
