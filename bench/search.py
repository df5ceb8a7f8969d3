"""Search benchmark: whole-text queries over a store as it grows.

    uv run python bench/search.py [--sizes 10000,100000] [--repeats 21]

For each size it builds a store with bench/store.py's generator (1,000 items a day, each
with a full text of ~700 words drawn from a 50,000-word vocabulary with news-like
frequencies), indexed as the poller indexes it (the text index is written with each
write). Then, in a fresh process that opens the store read-only as `monitor search`
does, and after one warm-up run of each query (the index file in the OS cache), it
prints for each kind of query the median and p95 of `Query.select` + `EntryIndex.rows`
(what `monitor search` and a filter key do), and the number of matches. Also: the size
of the text index on disk per item, the time to make it again (`monitor reindex`) per
1,000 items, and the wall time of the whole `monitor search` command (Python's start
included) for one query.

Words are picked by their rank in the vocabulary: rank 30 is in most texts, rank 3,000
in a few percent, rank 40,000 in a handful.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.store import build, vocabulary  # noqa: E402


def queries() -> list[tuple[str, str]]:
    """(kind, query) pairs, with words of known rank in the generator's vocabulary."""
    import random

    words = vocabulary(random.Random(0))  # as Gen makes it
    head = [w for w in words[:60] if len(w) > 5]
    common, middle, rare = words[30] if len(words[30]) > 3 else head[0], words[3000], words[40000]
    return [
        ("common word (most texts)", common),
        ("middle word (few %)", middle),
        ("rare word", rare),
        ("prefix, 3 letters", middle[:3]),
        ("short word (a prefix in titles only)", middle[:2]),
        ("phrase of 2 words", f'"{head[0]} {head[1]}"'),
        ("NEAR/5", f"{middle} NEAR/5 {head[2]}"),
        ("3 words", f"{head[0]} {middle} {head[3]}"),
        ("OR", f"{middle} OR {rare}"),
        ("word in the title", f"title:{middle}"),
        ("word and a field", f"{middle} since:30d"),
        ("NOT", f"{middle} -{head[1]}"),
    ]


def measure(path: Path, repeats: int) -> dict[str, Any]:
    """In a fresh process: each query's times from a read-only store, warm."""
    from monitor.core.query import Context, parse_query
    from monitor.io.tinystore import TinyStore

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    store = TinyStore(path, readonly=True)
    index = store.entry_index()
    text = store.text_search()
    assert text is not None, "the text index is not complete"
    out["open"] = time.perf_counter() - t0
    ctx = Context(text=text)
    now = datetime.now(UTC)
    rows: dict[str, Any] = {}
    for kind, q in queries():
        query = parse_query(q)
        found = index.rows(query.select(index, now, ctx))  # warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            found = index.rows(query.select(index, now, ctx))
            times.append(time.perf_counter() - t0)
        times.sort()
        rows[kind] = {
            "query": q,
            "median": statistics.median(times),
            "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
            "hits": len(found),
        }
    out["queries"] = rows
    with open("/proc/self/status") as f:
        out["rss_mb"] = next(int(x.split()[1]) / 1024 for x in f if x.startswith("VmRSS"))
    store.close()
    return out


def reindex_time(path: Path) -> tuple[float, int]:
    from monitor.io.tinystore import TinyStore

    store = TinyStore(path)
    t0 = time.perf_counter()
    n = store.reindex()
    took = time.perf_counter() - t0
    store.close()
    return took, n


def _child(*args: str) -> Any:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--no-reindex", action="store_true", help="skip the reindex timing")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reindex", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.repeats)))
        return
    if args.reindex:
        print(json.dumps(reindex_time(args.reindex)))
        return
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    tmp = Path(tempfile.mkdtemp(prefix="search-bench-"))
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            path = tmp / f"store-{size}"
            built = build(path, size, today)
            os.sync()
            index_bytes = sum(
                f.stat().st_size for f in path.iterdir() if f.name.startswith("search.sqlite")
            )
            text_bytes = sum(f.stat().st_size for f in (path / "text").iterdir())
            res = _child("--measure", str(path), "--repeats", str(args.repeats))
            print(
                f"{size} items: built and indexed in {built:.0f} s | text index "
                f"{index_bytes / 1e6:.0f} MB, {index_bytes / size / 1000:.1f} KB per item "
                f"(the texts themselves: {text_bytes / size / 1000:.1f} KB per item) | "
                f"read-only open + entry_index {res['open'] * 1000:.0f} ms | "
                f"RSS after the queries {res['rss_mb']:.0f} MB",
                flush=True,
            )
            for kind, r in res["queries"].items():
                print(
                    f"  {kind:<38} {r['median'] * 1000:7.1f} ms  p95 {r['p95'] * 1000:7.1f} ms"
                    f"  {r['hits']:>7} hits   {r['query']}",
                    flush=True,
                )
            cfg = tmp / "config.toml"
            cfg.write_text(
                f'[storage]\npath = "{path}"\n\n[[sources]]\nname = "News 0"\n'
                'url = "http://127.0.0.1:9/news0.xml"\n',
                encoding="utf-8",
            )
            walls = []
            q = res["queries"]["middle word (few %)"]["query"]
            for _ in range(5):
                t0 = time.perf_counter()
                subprocess.run(
                    [sys.executable, "-m", "monitor", "search", "--config", str(cfg), q],
                    check=True,
                    capture_output=True,
                )
                walls.append(time.perf_counter() - t0)
            print(
                f"  whole `monitor search {q}` command, Python's start included: median "
                f"{statistics.median(walls) * 1000:.0f} ms",
                flush=True,
            )
            if not args.no_reindex:
                took, n = _child("--reindex", str(path))
                print(
                    f"  monitor reindex: {n} items in {took:.1f} s "
                    f"({took / max(n, 1) * 1e6:.0f} ms per 1,000 items)",
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
