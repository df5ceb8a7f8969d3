"""Names in Title Case headlines: four ways to read them, measured on the gold headlines.

Run: uv run python bench/headlines.py [--repeats 3]

The 45 English feed items of tests/gold/headlines.json (title and summary, 15 of them in
Title Case), annotated as one batch by `annotate_items` with each strategy:
- trust: NER's names in every headline as they come (monitor before this choice);
- verbs: a name is cut before the first word of a list of headline verbs ("Says",
  "Threatens"…) and a capitalised word opening the rest;
- truecase: Title Case headlines are put in sentence case before NER (a word keeps its
  capital when the summary, or another item, writes it so, when it is in capitals, or
  when no item writes it in lower case), and NER's names are trusted;
- confirm (monitor's): NER reads the headline as it is; a name in a Title Case headline
  (or one from a feed that writes most of its headlines so) keeps only the longest run of
  its words that the item's other text writes with capitals or that is a name found in
  another item, and the rest is dropped.
Prints precision and recall per kind, the share of distinct names that are headline
fragments (the aim: 2% at most), and the CPU milliseconds per item (median).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.core.headlines import casing  # noqa: E402
from monitor.io import annotate  # noqa: E402
from monitor.model import Item  # noqa: E402
from tests.support.gold import HEADLINES, KINDS, load, to_item  # noqa: E402
from tests.support.shared import CORPUS  # noqa: E402
from tests.test_gold import _by_kind, fragments  # noqa: E402

# What headlines say people and bodies do: the words a Title Case name runs on into.
VERBS = frozenset(
    """says say said tells told warns warned threatens threatened stresses urges urged
    vows vowed calls called faces faced backs backed slams blasts hits rejects rejected
    accuses accused denies denied wins won loses lost meets met signs signed seeks sought
    plans planned admits admitted claims claimed orders ordered announces announced
    launches launched pushes pushed takes took makes made gets got is are was were has
    have had will would could should may might can to""".split()  # noqa: SIM905
)
_WORD = re.compile(r"\S+")


def _truecase(title: str, lower: set[str], capital: set[str]) -> str:
    """`title` in sentence case, the same length: a word keeps its capital when it is in
    capitals, when other text writes it capitalised (`capital`), or when no text writes it
    in lower case (`lower`: then it is likely a name)."""
    out = list(title)
    for n, m in enumerate(_WORD.finditer(title)):
        word = m.group()
        letters = "".join(c for c in word if c.isalpha())
        if n == 0 or not letters or letters.isupper() or not word[:1].isupper():
            continue
        bare = letters.lower()
        if bare in capital or bare not in lower:
            continue
        out[m.start()] = title[m.start()].lower()
    return "".join(out)


def _vocabulary(items: Sequence[Item]) -> tuple[set[str], set[str]]:
    """Words written in lower case anywhere, and words capitalised inside a sentence."""
    lower: set[str] = set()
    capital: set[str] = set()
    for it in items:
        for text in (it.summary, it.text or "", it.title if casing(it.title) == "sentence" else ""):
            words = _WORD.findall(text)
            for i, w in enumerate(words):
                letters = "".join(c for c in w if c.isalpha())
                if not letters:
                    continue
                if letters.islower():
                    lower.add(letters)
                elif i > 0 and not words[i - 1].endswith((".", "!", "?", ":")):
                    capital.add(letters.lower())
    return lower, capital


@contextmanager
def strategy(name: str, items: Sequence[Item]) -> Iterator[None]:
    """Patch the annotation to read headlines the `name` way."""
    saved: dict[str, Any] = {
        "_shaky_titles": annotate._shaky_titles,
        "_parts": annotate._parts,
        "annotate_fields": annotate.annotate_fields,
    }
    if name != "confirm":
        annotate._shaky_titles = lambda its: [False] * len(its)  # type: ignore[assignment]
    if name == "truecase":
        lower, capital = _vocabulary(items)
        parts = saved["_parts"]

        def truecased(item: Item) -> Any:
            if casing(item.title) == "sentence":
                return parts(item)
            head = _truecase(item.title, lower, capital)
            return parts(Item(**{**_fields(item), "title": head}))

        annotate._parts = truecased  # type: ignore[assignment]
    if name == "verbs":
        fields_of = saved["annotate_fields"]

        def cut(fields: Any, spans: Any, gaz: Any, folds: Any = None, **kw: Any) -> Any:
            title = dict(fields).get("title", "")
            if title and casing(title) != "sentence":
                spans = {**spans, "title": [_cut(title, s) for s in spans.get("title", ())]}
            return fields_of(fields, spans, gaz, folds, **kw)

        annotate.annotate_fields = cut  # type: ignore[assignment]
    try:
        yield
    finally:
        for key, value in saved.items():
            setattr(annotate, key, value)


def _fields(item: Item) -> dict[str, Any]:
    return {f: getattr(item, f) for f in item.__struct_fields__}


def _cut(title: str, span: tuple[int, int, str]) -> tuple[int, int, str]:
    start, end, label = span
    for m in _WORD.finditer(title, start, end):
        if m.start() > start and m.group().lower().strip(",.:;") in VERBS:
            end = m.start()
            break
    return start, max(start + 1, len(title[start:end].rstrip()) + start), label


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    docs = load(HEADLINES)
    items = [to_item(CORPUS, d, n) for n, d in enumerate(docs)]
    annotate.model("en")
    annotate.annotate_items(items)  # warm
    title_case = sum(1 for it in items if casing(it.title) != "sentence")
    print(f"{len(items)} headline items, {title_case} in Title Case")
    header = "".join(f"{k[:6]:>12} P/R" for k in KINDS)
    print(f"{'strategy':10}{header}   fragments   ms/item")
    for name in ("trust", "verbs", "truecase", "confirm"):
        with strategy(name, items):
            run: Callable[[], list[Item]] = lambda: annotate.annotate_items(items)  # noqa: E731
            times = []
            out: list[Item] = []
            for _ in range(args.repeats):
                t = time.process_time()
                out = run()
                times.append(time.process_time() - t)
        figures = "".join("{:>10.3f}/{:.3f}".format(*_by_kind(docs, out, kind)) for kind in KINDS)
        share, names = fragments(docs, out)
        ms = statistics.median(times) / len(items) * 1000
        print(f"{name:10}{figures}   {share:8.1%}   {ms:7.2f}   {', '.join(names)[:120]}")


if __name__ == "__main__":
    main()
