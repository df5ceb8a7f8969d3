"""Article extraction: quality against the corpus, publication dates, speed and memory.

    uv run python bench/extract.py [--fast] [--burst 500]

Extracts every page of ../shared/corpus/articles/fundus (fr, de, uk, us) and
../shared/corpus/articles/readability with `monitor.core.extract.extract_page`, compares
the text with the expected body (fundus JSON `body`; readability `expected.html` as text)
by token-level precision, recall and F1, checks the page date against fundus
`publishing_date`, then times extraction on one core and reads the peak resident memory
during a burst of pages. `tests/test_extract_quality.py` pins the floors with the same code.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from monitor.core.extract import extract_page
from monitor.core.normalize import html_to_paragraphs

ARTICLES = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "articles"
NOW = datetime(2026, 12, 1, tzinfo=UTC)  # after every page of the corpus
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Page:
    name: str  # e.g. fundus/fr/LeFigaro_2024_11_22 or readability/lemonde-1
    language: str
    body: bytes
    expected: str
    published: datetime | None  # fundus publishing_date


def _fundus_body(body: dict[str, object]) -> str:
    parts: list[str] = []
    for line in body.get("summary") or []:  # type: ignore[attr-defined]
        parts.append(str(line))
    for section in body.get("sections") or []:  # type: ignore[attr-defined]
        parts.extend(str(x) for x in section.get("headline") or [])
        parts.extend(str(x) for x in section.get("paragraphs") or [])
    return "\n\n".join(parts)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def pages(root: Path = ARTICLES) -> Iterator[Page]:
    """Every corpus page with its expected text, fundus first."""
    fundus = root / "fundus"
    mapping: dict[str, str] = json.loads(
        (fundus / "FUNDUS-HTML-TO-JSON.DERIVED.json").read_text(encoding="utf-8")
    )
    for key, html_name in sorted(mapping.items()):
        html_path = fundus / "test_data" / html_name
        if not html_path.exists():
            continue  # the corpus keeps fr, de, uk and us only
        json_name, version = key.split("#", 1)
        entry = json.loads((fundus / "test_data" / json_name).read_text(encoding="utf-8"))[version]
        date = entry.get("publishing_date")
        yield Page(
            name=f"fundus/{html_name.removesuffix('.html.gz')}",
            language=json_name.split("/")[0],
            body=gzip.decompress(html_path.read_bytes()),
            expected=_fundus_body(entry.get("body") or {}),
            published=_aware(datetime.fromisoformat(date)) if date else None,
        )
    for folder in sorted((root / "readability" / "test-pages").iterdir()):
        meta = json.loads((folder / "expected-metadata.json").read_text(encoding="utf-8"))
        yield Page(
            name=f"readability/{folder.name}",
            language=(meta.get("lang") or "").split("-")[0].lower(),
            body=(folder / "source.html").read_bytes(),
            expected=html_to_paragraphs((folder / "expected.html").read_text(encoding="utf-8")),
            published=None,
        )


def tokens(text: str) -> Counter[str]:
    return Counter(w.lower() for w in _WORD.findall(text))


def scores(got: str, expected: str) -> tuple[float, float, float]:
    """Token-level precision, recall and F1 (bags of lower-cased words)."""
    g, e = tokens(got), tokens(expected)
    common = sum((g & e).values())
    p = common / sum(g.values()) if g else 0.0
    r = common / sum(e.values()) if e else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


@dataclass(frozen=True, slots=True)
class Result:
    page: Page
    precision: float
    recall: float
    f1: float
    date_ok: bool | None  # None: no expected date


def evaluate(corpus: list[Page], *, fast: bool = False) -> list[Result]:
    results: list[Result] = []
    for page in corpus:
        got = extract_page(page.body, f"https://example.org/{page.name}", now=NOW, fast=fast)
        p, r, f = scores(got.text or "", page.expected)
        date_ok = None
        if page.published is not None:
            date_ok = (
                got.published is not None
                and abs((got.published - page.published).total_seconds()) <= 60
            )
        results.append(Result(page, p, r, f, date_ok))
    return results


def summary(results: list[Result]) -> dict[str, float]:
    out: dict[str, float] = {}
    groups: dict[str, list[Result]] = {"all": results}
    for r in results:
        groups.setdefault(r.page.language, []).append(r)
    for name, group in groups.items():
        out[f"f1.{name}"] = statistics.median(r.f1 for r in group)
        out[f"precision.{name}"] = statistics.median(r.precision for r in group)
        out[f"recall.{name}"] = statistics.median(r.recall for r in group)
        out[f"pages.{name}"] = len(group)
    out["f1.mean"] = statistics.fmean(r.f1 for r in results)
    out["below_half"] = sum(r.f1 < 0.5 for r in results)
    dated = [r.date_ok for r in results if r.date_ok is not None]
    out["dates.within_minute"] = sum(dated) / len(dated) if dated else 0.0
    out["dates.pages"] = len(dated)
    return out


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fast", action="store_true", help="only trafilatura's fast=True")
    ap.add_argument("--burst", type=int, default=500, help="pages in the speed and memory burst")
    args = ap.parse_args()
    if not ARTICLES.exists():
        sys.exit(f"corpus not found at {ARTICLES}")
    corpus = list(pages())
    print(f"{len(corpus)} pages, {sum(len(p.body) for p in corpus) / 1e6:.1f} MB of HTML")
    for fast in (True,) if args.fast else (False, True):
        results = evaluate(corpus, fast=fast)
        s = summary(results)
        print(f"\nfast={fast}")
        print(f"  mean F1 {s['f1.mean']:.3f}, {s['below_half']:.0f} pages below 0.5")
        for key in sorted(k for k in s if k.startswith("f1.") and k != "f1.mean"):
            lang = key[3:]
            print(
                f"  {lang or '?':4} pages {s['pages.' + lang]:4.0f}  median F1 {s[key]:.3f}"
                f"  P {s['precision.' + lang]:.3f}  R {s['recall.' + lang]:.3f}"
            )
        print(f"  dates within a minute: {s['dates.within_minute']:.1%} of {s['dates.pages']:.0f}")
        worst = sorted(results, key=lambda r: r.f1)[:5]
        print("  worst:", ", ".join(f"{r.page.name} {r.f1:.2f}" for r in worst))

        before = _rss_mib()
        burst = [corpus[i % len(corpus)] for i in range(args.burst)]
        t0, c0 = time.perf_counter(), time.process_time()
        for page in burst:
            extract_page(page.body, "https://example.org/", now=NOW, fast=fast)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"  burst of {len(burst)} pages: {len(burst) / cpu:.1f} pages/s of CPU"
            f" ({len(burst) / wall:.1f}/s wall, {cpu / len(burst) * 1000:.1f} ms/page),"
            f" peak RSS {_rss_mib():.0f} MiB (before the burst {before:.0f} MiB)"
        )


if __name__ == "__main__":
    main()
