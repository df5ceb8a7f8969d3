"""Named-entity recognition and annotation cost.

Run: uv run python bench/ner.py [--words 40000] [--repeats 3]

French news text: the bodies of the French articles in ../shared/corpus/articles/fundus and
the founding example, repeated to --words words and cut into ~700-word articles.
Prints, as medians over the repeats:
- model load time and resident memory of a fresh process, NER only (the components
  monitor loads: `ner` and what its model listens to, which for the French model is nothing
  else, its NER having its own tok2vec) vs the full pipeline (each in its own process);
- words/s (per CPU second of this process) of monitor's French model: NER only with nlp.pipe (one process, and n_process=2), and the
  full pipeline with nlp(text) per article;
- monitor's whole annotation (`annotate_items`: NER, gazetteer, linking, quotes, dates) per
  item, for title + summary items (~60 words) and full texts (~700 words), as the share of
  one core that 25,000 new items an hour and 5,000 full texts an hour need;
- the same for the English title + summary items of the corpus' US and UK feeds, a third
  of them with Title Case headlines (whose names must be confirmed elsewhere), annotated
  as one poll's batch.
`--annotation-only` skips the model loads and the words/s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from msgspec.structs import replace

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FUNDUS = SHARED / "corpus" / "articles" / "fundus" / "test_data" / "fr"
FEEDS = SHARED / "corpus" / "feeds"
ENGLISH_FEEDS = [  # US and UK outlets (feeds/fastfeedparser/INDEX.tsv), and two more
    "fastfeedparser/0c1cef22da7ddc10",
    "fastfeedparser/1796df62c4a287cc",
    "fastfeedparser/4288464f77b21d15",
    "fastfeedparser/4bf53cb602417030",
    "fastfeedparser/78f77fae2e1ffc14",
    "fastfeedparser/7be307059415227d",
    "fastfeedparser/9f9555d69283aeda",
    "fastfeedparser/f9c17f360c71def1",
    "fastfeedparser/d2a188f20637f7a4",
    "fastfeedparser/4179e7a13df0f120",
    "fastfeedparser/16dc10cf98d1ee82",
    "fastfeedparser/960551eca5b5db81",
    "rss-parser/guardian.rss",
    "feed-rs/rss_2.0_bbc.xml",
]
SEED = SHARED / "seed" / "article-fr-trump-poutine.txt"
ITEMS_PER_HOUR, TEXTS_PER_HOUR = 25_000, 5_000
TARGET_ITEMS, TARGET_TEXTS = 0.05, 0.5  # share of one core

LOAD = """
import json, resource, time
t = time.perf_counter()
import spacy
from monitor.io.annotate import _unneeded
from monitor.io.annotate import MODELS
exclude = _unneeded(MODELS["fr"]) if {ner_only} else []
nlp = spacy.load(MODELS["fr"], exclude=exclude)
nlp("Le président Vladimir Poutine a parlé.")
seconds = time.perf_counter() - t
rss = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20
print(json.dumps({{"seconds": seconds, "rss": rss, "pipes": nlp.pipe_names}}))
"""


def corpus_text() -> str:
    bodies = []
    for path in sorted(FUNDUS.glob("*.json")):
        for entry in json.loads(path.read_text(encoding="utf-8")).values():
            body = entry.get("body") or {}
            bodies.extend(p for s in body.get("sections", []) for p in s.get("paragraphs", []))
    if SEED.exists():
        bodies.append(SEED.read_text(encoding="utf-8"))
    if not bodies:
        sys.exit("the corpus is not at ../shared: nothing to measure")
    return "\n\n".join(bodies)


def articles(words: int, size: int = 700) -> list[str]:
    base = corpus_text().split()
    out: list[str] = []
    n = 0
    while n < words:
        start = (n * 7) % max(1, len(base) - size)
        out.append(" ".join(base[start : start + size]))
        n += size
    return out


def load(ner_only: bool) -> dict[str, object]:
    code = LOAD.format(ner_only=ner_only)
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    result: dict[str, object] = json.loads(run.stdout)
    return result


def median_time(fn: object, repeats: int, clock: object = time.process_time) -> float:
    """Median CPU seconds of this process (wall seconds with clock=time.perf_counter)."""
    times = []
    for _ in range(repeats):
        t = clock()  # type: ignore[operator]
        fn()  # type: ignore[operator]
        times.append(clock() - t)  # type: ignore[operator]
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--words", type=int, default=40_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--annotation-only", action="store_true")
    args = ap.parse_args()
    if not args.annotation_only:
        models(args)
    annotation(args)


def english_items() -> list[object]:
    """The items of the corpus' English news feeds, as monitor makes them (some feeds
    carry the article's text too)."""
    from monitor.core.normalize import normalize_feed
    from monitor.core.parse import parse_feed
    from monitor.model import Source

    now = datetime(2026, 2, 20, tzinfo=UTC)
    out: list[object] = []
    for path in ENGLISH_FEEDS:
        source = Source(name=path, url=f"https://example.org/{path}", language="en")
        feed = parse_feed((FEEDS / path).read_bytes())
        out.extend(normalize_feed(feed, source, now=now))
    return out


def models(args: argparse.Namespace) -> None:
    from monitor.io.annotate import MODELS

    for ner_only in (True, False):
        runs = [load(ner_only) for _ in range(args.repeats)]
        secs = statistics.median(float(r["seconds"]) for r in runs)  # type: ignore[arg-type]
        rss = statistics.median(float(r["rss"]) for r in runs)  # type: ignore[arg-type]
        label = "NER only" if ner_only else "full pipeline"
        print(f"load {MODELS['fr']}, {label:13}: {secs:.2f} s, {rss:.0f} MB  {runs[0]['pipes']}")

    import spacy

    from monitor.io.annotate import MODELS, _unneeded

    texts = articles(args.words)
    words = sum(len(t.split()) for t in texts)
    ner = spacy.load(MODELS["fr"], exclude=_unneeded(MODELS["fr"]))
    full = spacy.load(MODELS["fr"])
    list(ner.pipe(texts[:2]))
    one = median_time(lambda: list(ner.pipe(texts, batch_size=64)), args.repeats)
    two = median_time(
        lambda: list(ner.pipe(texts, batch_size=64, n_process=2)), 1, time.perf_counter
    )
    whole = median_time(lambda: [full(t) for t in texts], 1)
    print(f"NER only, nlp.pipe, 1 process : {words / one:,.0f} words/s")
    print(f"NER only, nlp.pipe, 2 processes: {words / two:,.0f} words/s (wall, with their start)")
    print(f"full pipeline, nlp(text)       : {words / whole:,.0f} words/s")


def annotation(args: argparse.Namespace) -> None:
    from monitor.core.headlines import casing
    from monitor.io.annotate import annotate_items, model
    from monitor.model import Item

    texts = articles(args.words)
    model("fr")  # loaded once, as in the parse worker
    now = datetime(2026, 11, 25, tzinfo=UTC)

    def item(n: int, title: str, summary: str, text: str | None) -> Item:
        return Item(
            id=str(n),
            title=title,
            url=None,
            sources=("bench",),
            published=now,
            published_raw=None,
            date_flag=None,
            language="fr",
            summary=summary,
            first_seen=now,
            text=text,
        )

    short = [
        item(n, " ".join(t.split()[:12]), " ".join(t.split()[12:60]), None)
        for n, t in enumerate(texts * 4)
    ]
    full_items = [item(n, " ".join(t.split()[:12]), "", t) for n, t in enumerate(texts)]
    per_short = median_time(lambda: annotate_items(short), args.repeats) / len(short)
    per_full = median_time(lambda: annotate_items(full_items), args.repeats) / len(full_items)
    share_items = per_short * ITEMS_PER_HOUR / 3600
    share_texts = per_full * TEXTS_PER_HOUR / 3600
    print(
        f"annotate title+summary (~60 words): {per_short * 1000:.2f} ms/item -> "
        f"{ITEMS_PER_HOUR:,}/h = {share_items:.1%} of a core (target < {TARGET_ITEMS:.0%})"
    )
    print(
        f"annotate full text (~700 words)   : {per_full * 1000:.1f} ms/item -> "
        f"{TEXTS_PER_HOUR:,}/h = {share_texts:.1%} of a core (target < {TARGET_TEXTS:.0%})"
    )
    model("en")
    english = [replace(i, text=None) for i in english_items() if isinstance(i, Item)]
    title_case = sum(1 for i in english if casing(i.title) != "sentence")
    per_en = median_time(lambda: annotate_items(english), args.repeats) / len(english)
    print(
        f"annotate English title+summary, {len(english)} items of the corpus feeds "
        f"({title_case} in Title Case), one batch: {per_en * 1000:.2f} ms/item -> "
        f"{ITEMS_PER_HOUR:,}/h = {per_en * ITEMS_PER_HOUR / 3600:.1%} of a core "
        f"(target < {TARGET_ITEMS:.0%})"
    )


if __name__ == "__main__":
    main()
