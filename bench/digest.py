"""The daily digest: the clustering threshold's evidence, and the time to build and write it.

Run: uv run python bench/digest.py [--repeats N] [--sizes 1000,5000,20000]

1. Threshold. Exact Jaccard of the shingle sets (monitor.core.cluster) for
   - unrelated pairs: every pair of items of the real feeds in ../shared/corpus/feeds
     (distinct stories, bar a few true duplicates, which are listed);
   - same-story pairs: the founding example (../shared/seed) against copies of it with
     edits a republishing outlet makes: a new title, words changed, a summary only.
2. Time. A day of N items made from the corpus items (a fifth of them republished by
   other sources with small edits), built into a digest (clustering included) and
   rendered in all three formats; median wall time over the repeats. The imports (numpy,
   jinja2) are timed apart, once. Then the whole path of `monitor digest` for 5,000
   items: read from a TinyDB store, built, three files written.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from msgspec.structs import replace

from monitor.core.cluster import THRESHOLD, jaccard, shingles
from monitor.model import Item, Source

SHARED = Path(__file__).resolve().parents[2] / "shared"
FEEDS = SHARED / "corpus" / "feeds"
SEED = SHARED / "seed" / "article-fr-trump-poutine.txt"
DAY = date(2026, 11, 14)
NOW = datetime(2026, 11, 15, 6, 0, tzinfo=UTC)


def corpus_items() -> list[Item]:
    from monitor.core.normalize import normalize_feed
    from monitor.core.parse import parse_feed

    items: list[Item] = []
    seen: set[str] = set()
    for path in sorted(p for p in FEEDS.rglob("*") if p.is_file()):
        if path.suffix in (".tsv", ".md", ".txt", ".json") and path.stem.isupper():
            continue
        feed = parse_feed(path.read_bytes())
        if feed.fatal:
            continue
        src = Source(name=path.parent.name + "/" + path.name, url="https://example.org/feed")
        for it in normalize_feed(feed, src, now=NOW):
            key = it.title + "|" + it.summary[:200]
            if key not in seen and it.title:
                seen.add(key)
                items.append(it)
    return items


def item(title: str, body: str, n: int, *, text: bool = True) -> Item:
    when = NOW - timedelta(hours=12, minutes=n)
    return Item(
        id=f"i{n}",
        title=title,
        url=f"https://example.org/{n}",
        sources=(f"source {n}",),
        published=when,
        published_raw=None,
        date_flag=None,
        language="fr",
        summary=body.split("\n\n")[0] if not text else body[:300],
        first_seen=when,
        text=body if text else None,
    )


def edit_words(text: str, rate: float, rng: random.Random) -> str:
    words = text.split(" ")
    for i in rng.sample(range(len(words)), int(len(words) * rate)):
        words[i] = rng.choice(["toutefois", "ainsi", "mardi", "selon", "très", "nouveau"])
    return " ".join(words)


def threshold_report() -> None:
    items = corpus_items()
    sets = [shingles(it) for it in items]
    scores: list[tuple[float, int, int]] = []
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            if sets[i] & sets[j]:
                scores.append((jaccard(sets[i], sets[j]), i, j))
    pairs = len(sets) * (len(sets) - 1) // 2
    print(f"unrelated: {len(items)} corpus items, {pairs:,} pairs")
    for cut in (0.1, 0.2, 0.3, 0.4, 0.5):
        print(f"  pairs with Jaccard >= {cut}: {sum(1 for s, _, _ in scores if s >= cut)}")
    print("  the highest pairs (true duplicates are expected here):")
    for s, i, j in sorted(scores, reverse=True)[:8]:
        print(f"    {s:.2f}  {items[i].title[:50]!r}  ~  {items[j].title[:50]!r}")
    if not SEED.exists():
        print("seed not found: same-story pairs skipped")
        return
    body = SEED.read_text(encoding="utf-8").strip()
    first = body.split("\n\n")[0]
    title = "Trump et Poutine veulent normaliser les relations russo-américaines"
    base = item(title, body, 0)
    rng = random.Random(6)
    cases = {
        "same text, another title": item("Poutine et Trump : vers un réchauffement", body, 1),
        "2% of words changed": item(title, edit_words(body, 0.02, rng), 2),
        "5% of words changed": item(title, edit_words(body, 0.05, rng), 3),
        "10% of words changed": item(title, edit_words(body, 0.10, rng), 4),
        "20% of words changed": item(title, edit_words(body, 0.20, rng), 5),
        "summary only (first paragraph)": item(title, first, 6, text=False),
        "both summary only, title changed": item("Appel Trump-Poutine", first, 7, text=False),
    }
    print(f"same story (founding example, {len(body.split())} words), threshold {THRESHOLD}:")
    for name, other in cases.items():
        print(f"  {jaccard(shingles(base), shingles(other)):.2f}  {name}")


def day_of(n: int, pool: list[Item], rng: random.Random) -> list[Item]:
    start = datetime(2026, 11, 14, tzinfo=UTC)
    out: list[Item] = []
    vocab = sorted({w for it in pool for w in (it.title + " " + it.summary).split()})
    for k in range(n):
        if out and rng.random() < 0.2:  # republished by another source, slightly edited
            orig = rng.choice(out[-200:])
            title = edit_words(orig.title, 0.1, rng) if len(orig.title.split()) > 5 else orig.title
            summary = (
                edit_words(orig.summary, 0.05, rng)
                if orig.summary.count(" ") > 20
                else orig.summary
            )
        else:
            orig = pool[k % len(pool)]
            title, summary = orig.title, orig.summary
            if k >= len(pool):  # past the pool: new text made of the pool's words
                title = " ".join(rng.choices(vocab, k=10))
                summary = " ".join(rng.choices(vocab, k=rng.randrange(10, 80)))
        when = start + timedelta(seconds=rng.randrange(86400))
        out.append(
            replace(
                orig,
                id=f"d{k}",
                keys=(f"u:https://example.org/d{k}",),
                url=f"https://example.org/d{k}",
                title=title,
                summary=summary,
                sources=(f"source {k % 300}",),
                published=when,
                first_seen=when,
            )
        )
    return out


def timing_report(sizes: list[int], repeats: int) -> None:
    t = time.perf_counter()
    import jinja2  # noqa: F401
    import numpy  # noqa: F401

    print(f"\nimport numpy and jinja2: {time.perf_counter() - t:.2f} s, once per process")
    from monitor.core.cluster import cluster
    from monitor.core.digest import build_digest
    from monitor.core.digest_render import render_html, render_json, render_markdown
    from monitor.io.digest import template

    pool = corpus_items()
    html = template()
    print(
        "wall seconds (CPU seconds of this process in brackets: less sensitive to a shared machine)"
    )
    print(f"{'items':>7} {'cluster':>14} {'digest + 3 formats':>20} {'stories':>8}")
    for n in sizes:
        day = day_of(n, pool, random.Random(n))
        cl, full, cl_cpu, full_cpu = [], [], [], []
        stories = 0
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            cluster(day)
            cl.append(time.perf_counter() - t)
            cl_cpu.append(time.process_time() - c)
            t, c = time.perf_counter(), time.process_time()
            d = build_digest(
                day,
                day=DAY,
                zone=UTC,
                zone_name="UTC",
                generated_at=NOW,
                filters=[("Russie", "russie OR kremlin"), ("Climat", "climat OR climate")],
            )
            render_json(d)
            render_markdown(d)
            render_html(d, html)
            full.append(time.perf_counter() - t)
            full_cpu.append(time.process_time() - c)
            stories = len(d.stories)
        med = statistics.median
        print(
            f"{n:>7} {med(cl):>7.2f} ({med(cl_cpu):.2f}) {med(full):>12.2f} ({med(full_cpu):.2f})"
            f" {stories:>8}"
        )


def store_report(n: int, repeats: int) -> None:
    """The whole `monitor digest` path: the day read from a TinyDB store, built, and
    written in the three formats."""
    import tempfile

    from monitor.config import DigestSettings, SavedFilter, Settings
    from monitor.io.backends import open_store
    from monitor.io.digest import make_digest, render, write_file

    day = day_of(n, corpus_items(), random.Random(n))
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            path=None,
            storage=Path(folder) / "db",
            filters=(SavedFilter("1", "Russie", "russie OR kremlin"),),
            digest=DigestSettings(dir=Path(folder) / "digests"),
        )
        store = open_store(settings.storage)
        store.write(day, [])
        times, cpu = [], []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            d = make_digest(settings, store, DAY, UTC, "UTC", NOW)
            assert len(d.items) == n, len(d.items)
            for fmt in ("markdown", "html", "json"):
                write_file(settings.digest.dir / f"d.{fmt}", render(d, fmt), force=True)
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        store.close()
    print(
        f"from a store of {n} items, read + built + 3 files written: "
        f"{statistics.median(times):.2f} s ({statistics.median(cpu):.2f} s CPU)"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--skip-threshold", action="store_true")
    args = ap.parse_args()
    if not FEEDS.is_dir():
        print(f"corpus not found: {FEEDS}", file=sys.stderr)
        return 1
    if not args.skip_threshold:
        threshold_report()
    timing_report([int(s) for s in args.sizes.split(",")], args.repeats)
    store_report(5000, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
