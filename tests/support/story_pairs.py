"""The labelled story pairs of tests/gold/story_pairs.json, as the cross-language test
(`core.story_features`) sees them.

Each pair's items are made as monitor would (feed items parsed and normalized; fundus
articles as their title, lead and first two paragraphs), annotated for actors by the real
pipeline, and scored against the rarity of features among the items of the same corpus
feeds in the 72 hours before the later one (what a story index would hold then).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from msgspec import structs

from monitor.core.normalize import normalize_feed
from monitor.core.parse import parse_feed
from monitor.core.stories import WINDOW, item_members
from monitor.core.story_features import XLANG_WINDOW, Rarity, is_actor, same_event_score
from monitor.io.annotate import annotate_items
from monitor.model import Item, Source
from tests.support.gold import GOLD

PAIRS = GOLD / "story_pairs.json"
NOW = datetime(2027, 1, 1, tzinfo=UTC)  # after every item: none is dated in the future
Ref = dict[str, str]


@dataclass(frozen=True, slots=True)
class Scored:
    """One labelled pair and what the test makes of it."""

    a: Item
    b: Item
    same: bool  # the label
    about: str
    hours: float  # between the two items
    evidence: float
    similarity: float  # weighted Jaccard of their features
    shared: int  # features in common
    actors: int  # of them, actors
    weights: tuple[float, float, float]  # rarity: shared, of a's features, of b's
    decided: bool  # the test's decision, the time window included


def load() -> list[dict[str, object]]:
    return cast("list[dict[str, object]]", json.loads(PAIRS.read_text(encoding="utf-8"))["pairs"])


def _key(ref: Ref) -> str:
    return json.dumps(ref, sort_keys=True)


def _fundus(corpus: Path, ref: Ref) -> Item:
    entry = json.loads(
        (corpus / "articles" / "fundus" / "test_data" / ref["file"]).read_text(encoding="utf-8")
    )[ref["version"]]
    paragraphs = [p for s in entry["body"]["sections"] for p in s["paragraphs"]]
    lead = " ".join(entry["body"].get("summary") or [])
    when = datetime.fromisoformat(entry["publishing_date"])
    return Item(
        id=_key(ref),
        title=entry["title"],
        url=None,
        sources=(ref["file"],),
        published=when,
        published_raw=None,
        date_flag=None,
        language=ref["language"],
        summary=" ".join([lead, *paragraphs[:2]]).strip(),
        first_seen=when,
    )


def _feed_items(corpus: Path, name: str) -> list[tuple[str, Item]]:
    """A feed's items as monitor normalizes them, each with its entry's guid (or link),
    first seen when published."""
    feed = parse_feed((corpus / "feeds" / name).read_bytes())
    source = Source(name=name, url=f"https://gold.invalid/{name}", language="en")
    out = []
    for entry in feed.entries:
        for it in normalize_feed(replace(feed, entries=(entry,)), source, now=NOW):
            out.append(
                (entry.guid or entry.link or "", structs.replace(it, first_seen=it.published))
            )
    return out


def score(corpus: Path) -> list[Scored]:
    """Every labelled pair, scored."""
    raw = load()
    refs = {_key(r): r for p in raw for r in (cast(Ref, p["a"]), cast(Ref, p["b"]))}
    feeds = {r["feed"]: _feed_items(corpus, r["feed"]) for r in refs.values() if "feed" in r}
    gold: dict[str, Item] = {}
    for key, ref in refs.items():
        if "feed" in ref:  # the first entry of that guid: normalizing keeps the first
            gold[key] = next(it for guid, it in feeds[ref["feed"]] if guid == ref["guid"])
        else:
            gold[key] = _fundus(corpus, ref)
    times = [it.first_seen for k, it in gold.items() if "feed" in refs[k]]
    start, end = min(times) - WINDOW, max(times)
    ids = {it.id for it in gold.values()}
    others = [
        it
        for items in feeds.values()
        for _, it in items
        if start <= it.first_seen <= end and it.id not in ids
    ]
    everything = {it.id: it for it in annotate_items([*gold.values(), *others])}
    members = {m.id: m for m in item_members(list(everything.values()))}
    out: list[Scored] = []
    for p in raw:
        a, b = (everything[gold[_key(cast(Ref, p[k]))].id] for k in ("a", "b"))
        later = max(a.first_seen, b.first_seen)
        rarity = Rarity()  # of the items an index would hold when the later one comes
        for it in everything.values():
            if later - WINDOW <= it.first_seen <= later:
                rarity.count(it.id, members[it.id].features.tolist(), 1)
        fa, fb = members[a.id].features, members[b.id].features
        ok, evidence, similarity = same_event_score(rarity, fa, fb)
        common = set(fa.tolist()) & set(fb.tolist())
        w = rarity.weight
        hours = abs(a.first_seen - b.first_seen) / timedelta(hours=1)
        out.append(
            Scored(
                a=a,
                b=b,
                same=bool(p["same"]),
                about=str(p["about"]),
                hours=hours,
                evidence=evidence,
                similarity=similarity,
                shared=len(common),
                actors=sum(map(is_actor, common)),
                weights=(
                    sum(map(w, common)),
                    sum(map(w, fa.tolist())),
                    sum(map(w, fb.tolist())),
                ),
                decided=ok and hours <= XLANG_WINDOW / timedelta(hours=1),
            )
        )
    return out


def precision_recall(decided: list[bool], labels: list[bool]) -> tuple[float, float]:
    tp = sum(d and s for d, s in zip(decided, labels, strict=True))
    fp = sum(d and not s for d, s in zip(decided, labels, strict=True))
    fn = sum(s and not d for d, s in zip(decided, labels, strict=True))
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)
