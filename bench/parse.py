"""Feed parsing speed: fastfeedparser, feedparser, and ours (parse_feed + parse_date).

Run: uv run python bench/parse.py [--repeats N]

Reads the feeds of ../shared/corpus/feeds/fastfeedparser (files named by 16 hex characters;
INDEX.tsv names the outlets). For each parser and feed, the median CPU time over the repeats
(after one warm-up run) is taken; the table sums those medians and divides by the items found.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import fastfeedparser
import feedparser

from monitor.core.dates import parse_date, parse_iso_or_rfc822
from monitor.core.parse import parse_feed

CORPUS_FEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
FEEDS = CORPUS_FEEDS / "fastfeedparser"
# Smaller sets with localized dates and legacy encodings, shown for information.
OTHERS = ("feed-rs", "rss-parser")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
TARGET_MS = 0.2  # ours, per item, dates included


def run_fastfeedparser(body: bytes) -> int:
    return len(fastfeedparser.parse(body)["entries"])


def run_feedparser(body: bytes) -> int:
    return len(feedparser.parse(body).entries)


def run_parse_feed(body: bytes) -> int:
    return len(parse_feed(body).entries)


def run_ours(body: bytes) -> int:
    feed = parse_feed(body)
    for e in feed.entries:
        parse_date(e.published_raw or e.published_iso, e.language or feed.language, now=NOW)
    return len(feed.entries)


def measure(run: Callable[[bytes], int], bodies: list[bytes], repeats: int) -> tuple[int, float]:
    """(items found, summed per-feed median CPU seconds)."""
    items = 0
    total = 0.0
    for body in bodies:
        items += run(body)  # warm-up, and the count
        times = []
        for _ in range(repeats):
            start = time.process_time()
            run(body)
            times.append(time.process_time() - start)
        total += statistics.median(times)
    return items, total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    if not FEEDS.is_dir():
        print(f"corpus not found: {FEEDS}", file=sys.stderr)
        return 1
    files = sorted(p for p in FEEDS.iterdir() if re.fullmatch(r"[0-9a-f]{16}", p.name))
    bodies = [p.read_bytes() for p in files]
    size = sum(len(b) for b in bodies)
    print(f"{len(files)} feeds, {size / 1e6:.1f} MB, median of {args.repeats} runs per feed\n")

    slow = 0
    dated = 0
    for body in bodies:
        for e in parse_feed(body).entries:
            raw = e.published_raw or e.published_iso
            if raw:
                dated += 1
                slow += parse_iso_or_rfc822(raw) is None

    rows: list[tuple[str, Callable[[bytes], int]]] = [
        ("fastfeedparser", run_fastfeedparser),
        ("feedparser", run_feedparser),
        ("parse_feed", run_parse_feed),
        ("parse_feed + parse_date", run_ours),
    ]
    ours = table(rows, bodies, args.repeats)
    print(f"\ndates: {dated}, of which {slow} needed dateparser")
    verdict = "ok" if ours <= TARGET_MS else "OVER"
    print(f"ours: {ours:.4f} ms/item, target {TARGET_MS} ms/item: {verdict}")

    others = [
        p.read_bytes()
        for d in OTHERS
        for p in sorted((CORPUS_FEEDS / d).glob("*"))
        if p.suffix != ".json" and not p.name.startswith(("LICENSE", "INDEX"))
    ]
    if others:
        names = " and ".join(OTHERS)
        print(f"\n{names}: {len(others)} files (dateparser results cached after the warm-up)")
        table(rows[2:], others, args.repeats)
    return 0


def table(
    rows: list[tuple[str, Callable[[bytes], int]]], bodies: list[bytes], repeats: int
) -> float:
    """Print one line per parser; return the last one's ms/item."""
    print(f"{'parser':<26}{'items':>7}{'total ms':>11}{'ms/item':>10}")
    per_item = float("nan")
    for name, run in rows:
        items, seconds = measure(run, bodies, repeats)
        per_item = seconds * 1000 / items if items else float("nan")
        print(f"{name:<26}{items:>7}{seconds * 1000:>11.1f}{per_item:>10.4f}")
    return per_item


if __name__ == "__main__":
    sys.exit(main())
