"""Stories across languages: what a translated copy of an item keeps. Pure.

Shingles never match across languages, but a translation names the same actors (already
canonical across languages: « Poutine », "Putin" and « Путин » are one "Vladimir Putin")
and the same numbers. An item's features are those actors and the numbers of its title
and summary, written one way ("1 200", "1,200", "1.200" and "1200" are all 1200; "7,8"
is 7.8; years and percentages are kept). Two items in different languages, close in
time, tell one story when they share more than one feature, one of them an actor, and
the features they share weigh enough against those they do not, each weighed by its
rarity in the window (`Rarity`): "Putin" or "Russia", named by half a day's news, weighs
little, so two Putin stories that share only those stay apart.
The thresholds were chosen on labelled pairs: docs/stories.md.
"""

from __future__ import annotations

import itertools
import math
import re
import zlib
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    Features = npt.NDArray[np.uint32]  # sorted distinct feature hashes (`features`)

XLANG_WINDOW = timedelta(hours=36)  # translated copies this close in time: see docs/stories.md
MIN_SHARED = 2  # features two items share, at least: one shared actor is not a story
EVIDENCE = 2.0  # nats of shared rarity beyond chance (`Rarity.evidence`): docs/stories.md
MIN_SIMILARITY = (
    0.4  # weighted Jaccard of two items' features (`same_event_score`): docs/stories.md
)
MAX_ACTORS = 8  # an item's most mentioned actors: a long text names many in passing
SMALL = 10  # integers below this are left out: written as words in one language, digits in another
_ACTOR = 0x8000_0000  # the high bit marks an actor's feature, clear for a number's
_LOW = 0x7FFF_FFFF

# a number: thousands in groups of three ("1 200", "1,200", "1.200", "1’200"), a decimal
# with one or two digits ("7,8", "7.8") or digits; then perhaps a percent sign
_NUMBER = re.compile(
    r"(?<![\w.,])(?:(\d{1,3}(?:[ \u00a0\u202f.,'’]\d{3})+)|(\d+)[.,](\d{1,2})|(\d+))"
    r"(?![\w]|[.,]\d)(\s?%)?"
)
_SEPARATORS = re.compile(r"[ \u00a0\u202f.,'’]")
_ACTOR_HASHES: dict[str, int] = {}  # a memo of actors' feature hashes
_MEMO = 100_000
EMPTY: Features = np.zeros(0, dtype=np.uint32)
EMPTY.flags.writeable = False  # shared by every item without features
K = TypeVar("K", bound=Hashable)  # how `Rarity` names an item


def numbers(text: str) -> list[str]:
    """The numbers of a text, each written one way: "1 200" -> "1200", "7,8" -> "7.8",
    "12 %" -> "12" and "12%". Integers below SMALL are left out."""
    out: list[str] = []
    for m in _NUMBER.finditer(text):
        grouped, whole, decimals, plain, percent = m.groups()
        if grouped:
            value = _SEPARATORS.sub("", grouped)
        elif whole is not None:
            value = f"{int(whole)}.{decimals.rstrip('0')}".rstrip(".")
        else:
            value = plain.lstrip("0") or "0"
            if len(value) < 3 and int(value) < SMALL:
                continue
        out.append(value)
        if percent:
            out.append(value + "%")
    return out


def features(actors: Iterable[str], texts: Iterable[str]) -> Features:
    """An item's features: its MAX_ACTORS first canonical actors (most mentioned first)
    and the numbers of its texts (title, summary), hashed into a sorted array of distinct
    uint32, actors' with the high bit."""
    memo = _ACTOR_HASHES
    found: set[int] = set()
    for name in itertools.islice(actors, MAX_ACTORS):
        h = memo.get(name)
        if h is None:  # news names the same actors again and again: hashed once
            h = zlib.crc32(name.encode("utf-8", "surrogatepass")) | _ACTOR
            if len(memo) >= _MEMO:
                memo.clear()
            memo[name] = h
        found.add(h)
    found.update(zlib.crc32(n.encode()) & _LOW for text in texts for n in numbers(text))
    if not found:
        return EMPTY
    return np.array(sorted(found), dtype=np.uint32)


def is_actor(feature: int) -> bool:
    return feature & _ACTOR != 0


class Rarity(Generic[K]):
    """The recent items that carry each feature, kept as items come and go: how rare a
    feature is (its document frequency), what sharing features is worth given it, and
    where to look for the items that share them. Items are named by a key: an id, or
    (`core.stories`) a slot number, an int, cheaper to count than a string."""

    def __init__(self) -> None:
        self.having: dict[int, dict[K, None]] = {}  # feature -> the items with it
        self.items = 0  # the recent items counted, with features or not

    def count(self, item_id: K, feats: Sequence[int], step: int) -> None:
        """Count an item's features in (step 1) or out (step -1)."""
        self.items += step
        having = self.having
        for f in feats:
            if step > 0:
                ids = having.get(f)
                if ids is None:  # no new dict made for a feature already held
                    having[f] = {item_id: None}
                else:
                    ids[item_id] = None
            else:
                ids = having[f]
                del ids[item_id]
                if not ids:
                    del having[f]

    def weight(self, feature: int) -> float:
        """A feature's rarity: log(N / df), N the recent items (0 for one they all carry)."""
        return math.log(max(self.items, 1) / max(len(self.having.get(feature, ())), 1))

    def judge(self, a: Features) -> Callable[[Features], tuple[bool, float, float]]:
        """`same_event_score` with `a` as one side, its weights reckoned once: for an item
        compared with several."""
        n = max(self.items, 1)
        having = self.having
        log = math.log
        mine = {f: log(n / max(len(having.get(f, ())), 1)) for f in a.tolist()}
        mine_total = sum(mine.values())
        chance = log(n)

        def decide(b: Features) -> tuple[bool, float, float]:
            theirs = b.tolist()
            shared = [f for f in theirs if f in mine]
            if len(shared) < MIN_SHARED or not any(f & _ACTOR for f in shared):
                return False, 0.0, 0.0
            common = sum(mine[f] for f in shared)
            total = sum(
                mine[f] if f in mine else log(n / max(len(having.get(f, ())), 1)) for f in theirs
            )
            evidence = common - chance
            either = mine_total + total - common
            similarity = common / either if either > 0 else 0.0
            return evidence >= EVIDENCE and similarity >= MIN_SIMILARITY, evidence, similarity

        return decide


def same_event_score(rarity: Rarity[K], a: Features, b: Features) -> tuple[bool, float, float]:
    """Whether two items' features say they tell one story, with the evidence and the
    similarity. They must share at least MIN_SHARED features, one an actor; the evidence,
    the log of how unlikely it is that a recent item shares them all by chance (the rarity
    of the shared features, less log N: features taken as independent), must reach
    EVIDENCE; and their weighted Jaccard similarity (the rarity they share over the rarity
    of either) must reach MIN_SIMILARITY."""
    return rarity.judge(a)(b)


def language_of(code: str | None) -> str:
    """A language code's base, lower case: "fr-FR" -> "fr"; "" when unknown."""
    return (code or "").split("-")[0].split("_")[0].strip().lower()
