"""The French model: fr_core_news_md (the default) against fr_core_news_sm.

Run: uv run python bench/ner_models.py [--words 40000] [--repeats 3]

For each model, as medians over the repeats:
- quality on the French passages of the gold set (tests/gold/actors.json), through
  monitor's own `annotate_items` (NER, gazetteer, linking): precision and recall per kind;
- load time and resident memory of a fresh process, NER only (`_unneeded`, as monitor
  loads it);
- words/s (per CPU second of this process) of `nlp.pipe` with NER only, on the French news
  text of bench/ner.py cut into ~700-word articles;
- monitor's whole annotation per item: title + summary (~60 words) and full text
  (~700 words), in CPU milliseconds.
Timings are CPU time of this process, so other work on the machine weighs less on them
than on wall time, but not nothing: compare figures taken in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ner import SHARED, articles, median_time  # noqa: E402

PACKAGES = ("fr_core_news_md", "fr_core_news_sm")

LOAD = """
import json, resource, time
t = time.perf_counter()
import spacy
from monitor.io.annotate import _unneeded
nlp = spacy.load({package!r}, exclude=_unneeded({package!r}))
nlp("Le président Vladimir Poutine a parlé.")
seconds = time.perf_counter() - t
rss = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20
print(json.dumps({{"seconds": seconds, "rss": rss, "pipes": nlp.pipe_names}}))
"""


def load(package: str) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-c", LOAD.format(package=package)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(run.stdout)
    return result


def _item(n: int, title: str, summary: str, text: str | None, when: datetime) -> Any:
    from monitor.model import Item

    return Item(
        id=str(n),
        title=title,
        url=None,
        sources=("bench",),
        published=when,
        published_raw=None,
        date_flag=None,
        language="fr",
        summary=summary,
        first_seen=when,
        text=text,
    )


def gold_items() -> tuple[list[Any], list[Any]]:
    """The French gold documents and their passages as items (tests/support/gold.py)."""
    from tests.support.gold import ACTORS, load, to_item

    corpus = SHARED / "corpus"
    if not corpus.exists():
        sys.exit("the corpus is not at ../shared: nothing to measure")
    docs = [d for d in load(ACTORS) if d.language == "fr"]
    return docs, [to_item(corpus, d, n) for n, d in enumerate(docs)]


def use(package: str) -> Any:
    """Point monitor's French model at `package` (loaded afresh, NER only)."""
    from monitor.io import annotate

    annotate.MODELS["fr"] = package
    annotate._models.pop("fr", None)
    return annotate.model("fr")


def quality(docs: list[Any], items: list[Any]) -> dict[str, tuple[float, float]]:
    from monitor.io.annotate import annotate_items
    from tests.test_gold import KINDS, _by_kind

    done = annotate_items(items)
    return {kind: _by_kind(docs, done, kind) for kind in KINDS}


def _pipe(nlp: Any, texts: list[str]) -> None:
    list(nlp.pipe(texts, batch_size=64))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--words", type=int, default=40_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    from monitor.io.annotate import annotate_items

    docs, gold = gold_items()
    texts = articles(args.words)
    words = sum(len(t.split()) for t in texts)
    now = datetime(2026, 11, 25, tzinfo=UTC)
    short = [
        _item(n, " ".join(t.split()[:12]), " ".join(t.split()[12:60]), None, now)
        for n, t in enumerate(texts * 4)
    ]
    full = [_item(n, " ".join(t.split()[:12]), "", t, now) for n, t in enumerate(texts)]

    rows = []
    for package in PACKAGES:
        runs = [load(package) for _ in range(args.repeats)]
        secs = statistics.median(float(r["seconds"]) for r in runs)
        rss = statistics.median(float(r["rss"]) for r in runs)
        nlp = use(package)
        if nlp is None:
            sys.exit(f"{package} is not installed: uv sync --group bench")
        scores = quality(docs, gold)
        list(nlp.pipe(texts[:2]))
        pipe = median_time(partial(_pipe, nlp, texts), args.repeats)
        per_short = median_time(lambda: annotate_items(short), args.repeats) / len(short)
        per_full = median_time(lambda: annotate_items(full), args.repeats) / len(full)
        rows.append((package, scores, secs, rss, words / pipe, per_short, per_full))
        print(f"{package}: loads {runs[0]['pipes']}", flush=True)

    print(
        f"\nFrench gold passages: {len(docs)}; speed text: {words:,} words in {len(texts)} articles"
    )
    print(
        "| model | persons P / R | organisations P / R | places P / R | load s | RSS MB "
        "| NER words/s | ms per title+summary | ms per 700-word text |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for package, scores, secs, rss, wps, per_short, per_full in rows:
        pr = " | ".join(f"{p:.2f} / {r:.2f}" for p, r in scores.values())
        print(
            f"| {package} | {pr} | {secs:.2f} | {rss:.0f} | {wps:,.0f} "
            f"| {per_short * 1000:.2f} | {per_full * 1000:.1f} |"
        )


if __name__ == "__main__":
    main()
