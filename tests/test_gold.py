"""Measured quality: precision and recall of canonical actors on a hand-annotated gold set.

tests/gold/actors.json names passages of real articles in ../shared/corpus (never copied
here) and their person, organisation and place actors. The floors below are the figures
reached, rounded down: a change that lowers one fails here.
`uv run pytest tests/test_gold.py -s` prints the table.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.core.names import name_key
from monitor.io.annotate import annotate_items
from monitor.model import Item

GOLD = Path(__file__).parent / "gold" / "actors.json"
KINDS = ("person", "organisation", "place")
# (language, kind): (precision, recall) floors
FLOORS = {
    ("fr", "person"): (0.91, 1.00),
    ("fr", "organisation"): (0.80, 0.64),
    ("fr", "place"): (0.87, 0.83),
    ("en", "person"): (0.96, 0.91),
    ("en", "organisation"): (0.71, 0.63),
    ("en", "place"): (0.83, 0.83),
}


def _passage(corpus: Path, doc: dict[str, object]) -> str:
    path = corpus / "articles" / "fundus" / "test_data" / str(doc["file"])
    entry = json.loads(path.read_text(encoding="utf-8"))[str(doc["version"])]
    paras = [p for s in entry["body"]["sections"] for p in s["paragraphs"]]
    start, end = doc["paragraphs"]  # type: ignore[misc]
    return "\n\n".join(paras[start:end])


def _same(predicted: str, gold: str) -> bool:
    """One actor: the same key, or a lone surname of the gold name (cross-document rule)."""
    p, g = name_key(predicted), name_key(gold)
    return p == g or (" " not in p and g.split(" ")[-1] == p)


def score(pairs: list[tuple[list[str], list[str]]]) -> tuple[float, float]:
    """Micro precision and recall over (predicted names, gold names) per document."""
    tp = fp = fn = 0
    for predicted, gold in pairs:
        matched = {g for g in gold for p in predicted if _same(p, g)}
        tp += len(matched)
        fn += len(gold) - len(matched)
        fp += sum(1 for p in predicted if not any(_same(p, g) for g in gold))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def test_score_counts_surnames_and_spelling_variants() -> None:
    assert score([(["Volodymyr Zelenskyy", "Bowles"], ["Volodymyr Zelensky", "Holly Bowles"])]) == (
        1.0,
        1.0,
    )
    assert score([(["Paris", "Lyon"], ["Paris", "Nice"])]) == (0.5, 0.5)


@pytest.fixture(scope="module")
def results(request: pytest.FixtureRequest) -> dict[tuple[str, str], tuple[float, float]]:
    from tests.support.shared import CORPUS, need_shared

    corpus = need_shared(CORPUS)
    docs = json.loads(GOLD.read_text(encoding="utf-8"))["documents"]
    when = datetime(2024, 1, 1, tzinfo=UTC)
    items = [
        Item(
            id=str(n),
            title="",
            url=None,
            sources=("gold",),
            published=when,
            published_raw=None,
            date_flag=None,
            language=d["language"],
            summary="",
            first_seen=when,
            text=_passage(corpus, d),
        )
        for n, d in enumerate(docs)
    ]
    annotated = annotate_items(items)
    out = {}
    for lang in ("fr", "en"):
        for kind in KINDS:
            pairs = [
                ([a.name for a in item.actors if a.kind == kind], d[kind])
                for d, item in zip(docs, annotated, strict=True)
                if d["language"] == lang
            ]
            out[(lang, kind)] = score(pairs)
    return out


def test_gold_set_size() -> None:
    docs = json.loads(GOLD.read_text(encoding="utf-8"))["documents"]
    langs = [d["language"] for d in docs]
    assert len(docs) >= 30 and langs.count("fr") >= 15 and langs.count("en") >= 10
    assert all("text" not in d for d in docs)  # references only, never the article text


@pytest.mark.parametrize(("lang", "kind"), list(FLOORS))
def test_precision_and_recall_floors(
    results: dict[tuple[str, str], tuple[float, float]], lang: str, kind: str
) -> None:
    precision, recall = results[(lang, kind)]
    print(f"\n{lang} {kind:13} precision {precision:.3f} recall {recall:.3f}")
    floor_p, floor_r = FLOORS[(lang, kind)]
    assert precision >= floor_p and recall >= floor_r, (precision, recall)
