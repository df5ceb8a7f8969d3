"""Stories across languages: what a translated copy of an item keeps. Pure.

Shingles never match across languages, but a translation names the same actors (already
canonical across languages: « Poutine », "Putin" and « Путин » are one "Vladimir Putin")
and the same numbers. An item's features are those actors and the numbers of its title
and summary, written one way ("1 200", "1,200", "1.200" and "1200" are all 1200; "7,8"
is 7.8; years and percentages are kept). Two items in different languages, close in
time, tell one story when they share more than one feature, one of them an actor, and
the features they share are rare enough in the window (`Rarity`) not to be shared by
chance: "Putin" alone, or "Putin" and "Russia", is shared by half a day's news.
The thresholds were chosen on labelled pairs: docs/stories.md.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    Features = npt.NDArray[np.uint32]  # sorted distinct feature hashes (`features`)

XLANG_WINDOW = timedelta(hours=36)  # translated copies this close in time: see docs/stories.md
MIN_SHARED = 2  # features two items share, at least: one shared actor is not a story
EVIDENCE = 2.0  # nats of shared rarity beyond chance (`Rarity.evidence`): docs/stories.md
MIN_OVERLAP = 0.5  # of the rarity of the poorer item's features, shared: docs/stories.md
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
EMPTY: Features = np.zeros(0, dtype=np.uint32)
EMPTY.flags.writeable = False  # shared by every item without features


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
    """An item's features: its canonical actors and the numbers of its texts (title,
    summary), hashed into a sorted array of distinct uint32, actors' with the high bit."""
    found = {zlib.crc32(name.encode("utf-8", "surrogatepass")) | _ACTOR for name in actors}
    found.update(zlib.crc32(n.encode()) & _LOW for text in texts for n in numbers(text))
    if not found:
        return EMPTY
    return np.array(sorted(found), dtype=np.uint32)


def is_actor(feature: int) -> bool:
    return feature & _ACTOR != 0


class Rarity:
    """How many of the recent items carry each feature (their document frequency), kept
    as items come and go, and what sharing features is worth given it."""

    def __init__(self) -> None:
        self.df: dict[int, int] = {}
        self.items = 0  # the recent items counted, with features or not

    def count(self, feats: Sequence[int], step: int) -> None:
        """Count an item's features in (step 1) or out (step -1)."""
        self.items += step
        df = self.df
        for f in feats:
            n = df.get(f, 0) + step
            if n > 0:
                df[f] = n
            else:
                df.pop(f, None)

    def weight(self, feature: int) -> float:
        """A feature's rarity: log(N / df), at least 0 (N: the recent items)."""
        n = max(self.items, 1)
        return max(0.0, math.log(n / max(self.df.get(feature, 1), 1)))

    def evidence(self, shared: Iterable[int]) -> float:
        """How far sharing these features is from chance: the log of the number of recent
        items expected to share them all by chance, negated (features independent)."""
        return sum(self.weight(f) for f in shared) - math.log(max(self.items, 1))

    def same_event(self, a: Features, b: Features) -> bool:
        """Whether two items' features say they tell one story (`same_event_score`)."""
        return same_event_score(self, a, b)[0]


def same_event_score(rarity: Rarity, a: Features, b: Features) -> tuple[bool, float, float]:
    """The decision, the evidence and the overlap for two items' features: they share at
    least MIN_SHARED features, one an actor; the evidence reaches EVIDENCE; and the rarity
    they share is at least MIN_OVERLAP of the rarity of the item that has less."""
    if len(a) < MIN_SHARED or len(b) < MIN_SHARED:
        return False, 0.0, 0.0
    shared = np.intersect1d(a, b, assume_unique=True).tolist()
    if len(shared) < MIN_SHARED or not any(is_actor(f) for f in shared):
        return False, 0.0, 0.0
    weight = rarity.weight
    evidence = rarity.evidence(shared)
    poorer = min(sum(map(weight, a.tolist())), sum(map(weight, b.tolist())))
    overlap = sum(map(weight, shared)) / poorer if poorer > 0 else 0.0
    return evidence >= EVIDENCE and overlap >= MIN_OVERLAP, evidence, overlap


def language_of(code: str | None) -> str:
    """A language code's base, lower case: "fr-FR" -> "fr"; "" when unknown."""
    return (code or "").split("-")[0].split("_")[0].strip().lower()
