"""The gazetteer: known actors by every name and alias, and where they are named in a text.

Matching ignores case and accents and is word-bounded; short all-capital aliases match
only in capitals; Russian case endings and a final -s match the base form. Pure: the
specs and noise lists come in as arguments (`monitor.io.annotate` loads them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from monitor.core.fold import fold_indexed, fold_text
from monitor.core.places import Places
from monitor.model import ActorSpec

Folded = tuple[str, list[int] | None]  # `fold_indexed` of a text
_WORD = re.compile(r"\w+")
CYRILLIC = re.compile("[\u0400-\u04ff]")
# Russian case endings, longest first: 'Путина', 'России', 'Кремле' match their base form.
# Folded like the text they are matched in (й -> и).
_RU_ENDINGS = sorted(
    {
        fold_text(e)
        for e in [
            "ами",
            "ями",
            "ого",
            "его",
            "ому",
            "ему",
            "ией",
            "ой",
            "ей",
            "ом",
            "ем",
            "ым",
            "им",
            "ах",
            "ях",
            "ию",
            "ия",
            "ии",
            "ие",
            "ью",
        ]
    }
    | set("аяуюеыиоьй"),
    key=len,
    reverse=True,
)


def _stem(token: str) -> str:
    """One form per word for matching: Russian case endings and a final -s dropped."""
    if not token.isascii() and CYRILLIC.search(token):
        for end in _RU_ENDINGS:
            if token.endswith(end) and len(token) - len(end) >= 3:
                return token[: -len(end)]
        return token
    if len(token) > 3 and token.endswith("s"):
        return token[:-1]
    return token


def _tokens(folded: str) -> list[tuple[str, int, int]]:
    return [(_stem(m.group()), m.start(), m.end()) for m in _WORD.finditer(folded)]


def alias_key(alias: str) -> tuple[str, ...]:
    return tuple(t for t, _, _ in _tokens(fold_text(alias)))


def letters_of(s: str) -> str:
    return "".join(c for c in s if c.isalpha())


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """Known actors by alias. Build it with `build_gazetteer`."""

    index: Mapping[tuple[str, ...], ActorSpec]
    exact: Mapping[tuple[str, ...], frozenset[str]]  # aliases that match only in capitals
    starts: Mapping[str, int] = field(default_factory=dict)  # first word -> longest alias
    generic: frozenset[str] = frozenset()
    leading: frozenset[str] = frozenset()
    titles: frozenset[str] = frozenset()
    articles: frozenset[str] = frozenset()
    by_name: Mapping[str, ActorSpec] = field(default_factory=dict)
    events: frozenset[str] = frozenset()  # last words of an event's name ("Olympics")
    directions: frozenset[str] = frozenset()  # "Northern" in "Northern Italy"
    organisation_words: frozenset[str] = frozenset()  # "Project": an organisation's name
    place_words: frozenset[str] = frozenset()  # "Strait": a place's name
    qualifiers: frozenset[str] = frozenset()  # "Wis." in "La Crosse, Wis." or "R-Wis."
    place_before: frozenset[str] = frozenset()  # "town" in "the party town Van Vieng"
    places: Places = field(default_factory=lambda: Places(np.zeros(0, dtype=np.uint64)))


def build_gazetteer(
    specs: Iterable[ActorSpec],
    *,
    generic: Iterable[str] = (),
    leading: Iterable[str] = (),
    titles: Iterable[str] = (),
    articles: Iterable[str] = (),
    events: Iterable[str] = (),
    directions: Iterable[str] = (),
    places: Places | None = None,
    organisation_words: Iterable[str] = (),
    place_words: Iterable[str] = (),
    qualifiers: Iterable[str] = (),
    place_before: Iterable[str] = (),
) -> Gazetteer:
    """Index every name and alias; an earlier spec wins an alias (put user actors first)."""
    index: dict[tuple[str, ...], ActorSpec] = {}
    exact: dict[tuple[str, ...], set[str]] = {}
    by_name: dict[str, ActorSpec] = {}
    for spec in specs:
        if spec.name in by_name:
            continue
        by_name[spec.name] = spec
        for alias in (spec.name, *spec.aliases):
            key = alias_key(alias)
            if not key:
                continue
            letters = letters_of(alias)
            if letters.isupper() and len(letters) <= 5:
                exact.setdefault(key, set()).add(letters)
            index.setdefault(key, spec)
    starts: dict[str, int] = {}
    for key in index:
        starts[key[0]] = max(starts.get(key[0], 0), len(key))
    return Gazetteer(
        index=index,
        exact={k: frozenset(v) for k, v in exact.items()},
        starts=starts,
        generic=frozenset(fold_text(g) for g in generic),
        leading=frozenset(fold_text(w) for w in leading),
        titles=frozenset(fold_text(w) for w in titles),
        articles=frozenset(fold_text(w) for w in articles),
        by_name=by_name,
        events=frozenset(fold_text(w) for w in events),
        directions=frozenset(fold_text(w) for w in directions),
        organisation_words=frozenset(fold_text(w) for w in organisation_words),
        place_words=frozenset(fold_text(w) for w in place_words),
        qualifiers=frozenset(fold_text(w) for w in qualifiers),
        place_before=frozenset(fold_text(w) for w in place_before),
        places=places if places is not None else Places(np.zeros(0, dtype=np.uint64)),
    )


def _caps_match(letters: str, caps: frozenset[str]) -> bool:
    """'US' only as US; 'OTAN' also as 'Otan' (four letters or more)."""
    return letters in caps or (len(letters) >= 4 and letters.upper() in caps and letters.istitle())


def match_gazetteer(
    text: str, gaz: Gazetteer, folded: Folded | None = None
) -> list[tuple[int, int, ActorSpec]]:
    """Non-overlapping alias matches in `text`, longest first, left to right. `folded`:
    `fold_indexed(text)` when the caller has it already."""
    folded_text, where = folded if folded is not None else fold_indexed(text)
    toks = _tokens(folded_text)
    out: list[tuple[int, int, ActorSpec]] = []
    i = 0
    while i < len(toks):
        hit = None
        for n in range(min(gaz.starts.get(toks[i][0], 0), len(toks) - i), 0, -1):
            key = tuple(t for t, _, _ in toks[i : i + n])
            spec = gaz.index.get(key)
            if spec is None:
                continue
            a, b = toks[i][1], toks[i + n - 1][2]
            if where is not None:
                a, b = where[a], where[b - 1] + 1
            surface = text[a:b]
            caps = gaz.exact.get(key)
            if caps is not None and not _caps_match(letters_of(surface), caps):
                continue
            if n == 1 and surface[:1].islower():
                continue  # 'chine' or 'xi' in running text: not the name
            hit = (a, b, spec, n)
            break
        if hit is None:
            i += 1
            continue
        out.append(hit[:3])
        i += hit[3]
    return out
