"""Actor names across documents and languages: one spelling per name, and merging.

The Europe Media Monitor's idea: transliterate to Latin, fold, and make common spelling
variants one, so that 'Зеленский', 'Zelensky' and 'Selenskyj' are the same name.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import lru_cache

from anyascii import anyascii
from msgspec.structs import replace as with_fields

from monitor.model import Actor, ActorKind, Entry, Item

_TRANSLIT = (
    ("sch", "sh"),
    ("tch", "ch"),
    ("tsch", "ch"),
    ("dj", "j"),
    ("kh", "h"),
    ("ph", "f"),
    ("ck", "k"),
    ("ou", "u"),
    ("w", "v"),
    ("y", "i"),
    ("j", "i"),
    ("z", "s"),
    ("c", "k"),
    ("q", "k"),
    ("x", "ks"),
)


def _translit_token(tok: str) -> str:
    for a, b in _TRANSLIT:
        tok = tok.replace(a, b)
    out: list[str] = []
    for ch in tok:
        if not out or out[-1] != ch:
            out.append(ch)
    tok = "".join(out)
    if len(tok) > 3 and tok.endswith("e"):
        tok = tok[:-1]
    return tok


def name_tokens(name: str) -> tuple[str, ...]:
    """A name's words in one spelling across languages and scripts (the Europe Media
    Monitor's idea): transliterated to Latin, folded, common spelling variants made one.
    'Зеленский', 'Zelensky', 'Zelenskyy' and 'Selenskyj' all give ('selenski',)."""
    ascii_name = anyascii(unicodedata.normalize("NFC", name)).lower()
    return tuple(_translit_token(t) for t in re.findall(r"[a-z0-9]+", ascii_name))


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """`name_tokens` joined: equal keys are the same actor."""
    return " ".join(name_tokens(name))


def merge_names(counts: Mapping[str, int]) -> dict[str, str]:
    """Group names seen across documents: every name -> the name shown for its group.

    Names with the same `name_key` are one actor; a one-word name joins the one
    multi-word name ending with it ('Zelensky' -> 'Volodymyr Zelensky'), but not when
    two names end with it (two people sharing a surname stay apart). The name shown is
    the group's most frequent spelling."""
    groups: dict[str, list[str]] = {}
    for name in counts:
        groups.setdefault(name_key(name), []).append(name)
    surnames: dict[str, set[str]] = {}
    for key in groups:
        parts = key.split(" ")
        if len(parts) >= 2:
            surnames.setdefault(parts[-1], set()).add(key)
    target = {key: key for key in groups}
    for key in groups:
        if " " not in key and len(surnames.get(key, ())) == 1:
            target[key] = next(iter(surnames[key]))
    members: dict[str, list[str]] = {}
    for key, names in groups.items():
        members.setdefault(target[key], []).extend(names)
    out: dict[str, str] = {}
    for names in members.values():
        multi = [n for n in names if " " in n.strip()] or names
        shown = max(multi, key=lambda n: (counts[n], _accents(n), n))
        for n in names:
            out[n] = shown
    return out


_KIND_ORDER: dict[ActorKind, int] = {"person": 2, "organisation": 1, "place": 0}

Settled = Mapping[str, tuple[str, ActorKind | None]]  # name -> (spelling, kind or unknown)


def settle_names(
    seen: Iterable[tuple[str, ActorKind | None, int]],
    fixed: Mapping[str, ActorKind] | None = None,
) -> dict[str, tuple[str, ActorKind | None]]:
    """One spelling and one kind per actor, from every (name, kind, weight) seen across
    items: names with the same `name_key` are one actor ('Orban', 'Orbán'). It is
    spelt as in `fixed` (the gazetteer's names) when one of its spellings is there, else
    as written most (then with the most accents); its kind is `fixed`'s, else the one
    most of the weight supports (None when no kind was seen: entries of older files).
    Returns every name seen -> (spelling, kind)."""
    spellings: dict[str, Counter[str]] = {}
    kinds: dict[str, Counter[ActorKind]] = {}
    for name, seen_kind, weight in seen:
        key = name_key(name)
        spellings.setdefault(key, Counter())[name] += weight
        if seen_kind is not None:
            kinds.setdefault(key, Counter())[seen_kind] += weight
    fixed = fixed or {}
    out: dict[str, tuple[str, ActorKind | None]] = {}
    for key, written in spellings.items():
        sure = sorted(n for n in written if n in fixed)
        kind: ActorKind | None
        if sure:
            shown, kind = sure[0], fixed[sure[0]]
        else:
            shown = max(written, key=lambda n: (written[n], _accents(n), n))
            kind = _most(kinds[key]) if key in kinds else None
        for name in written:
            out[name] = (shown, kind)
    return out


def _most(votes: Counter[ActorKind]) -> ActorKind:
    return max(votes, key=lambda k: (votes[k], _KIND_ORDER[k]))


def _accents(name: str) -> int:
    return sum(1 for c in name if not c.isascii())


def entry_names(entries: Iterable[Entry]) -> dict[str, tuple[str, ActorKind | None]]:
    """`settle_names` over the actors of `entries` (from the store's index, so that
    nothing but the entries is read)."""
    return settle_names(
        (
            name,
            e.kinds[n] if n < len(e.kinds) else None,
            e.mentions[n] if n < len(e.mentions) else 1,
        )
        for e in entries
        for n, name in enumerate(e.actors)
    )


def apply_names(item: Item, names: Settled) -> Item:
    """`item` with its actors spelt and kinded as `names` says, in its actors, mentions
    and quotes (names it does not hold are kept as they are)."""

    def settled(a: Actor) -> tuple[str, ActorKind]:
        shown, kind = names.get(a.name, (a.name, a.kind))
        return shown, kind or a.kind

    if all(settled(a) == (a.name, a.kind) for a in item.actors):
        return item
    counts: dict[str, int] = {}
    kinds: dict[str, ActorKind] = {}
    for a in item.actors:
        shown, kind = settled(a)
        counts[shown] = counts.get(shown, 0) + a.mentions
        kinds[shown] = kind
    ranked = sorted(counts, key=lambda n: -counts[n])  # stable: first named first
    actors = tuple(Actor(n, kinds[n], counts[n]) for n in ranked)

    def spelt(name: str) -> str:
        return names.get(name, (name, None))[0]

    mentions = tuple(replace(m, actor=spelt(m.actor)) for m in item.mentions)
    quotes = tuple(replace(q, actor=spelt(q.actor)) for q in item.quotes)
    return with_fields(item, actors=actors, mentions=mentions, quotes=quotes)


def settle_items(items: Sequence[Item], fixed: Mapping[str, ActorKind] | None = None) -> list[Item]:
    """`items` with their actors spelt and kinded alike (`settle_names` over all of them)."""
    names = settle_names(
        ((a.name, a.kind, max(a.mentions, 1)) for it in items for a in it.actors), fixed
    )
    return [apply_names(it, names) for it in items]
