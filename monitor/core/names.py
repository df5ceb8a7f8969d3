"""Actor names across documents and languages: one spelling per name, and merging.

The Europe Media Monitor's idea: transliterate to Latin, fold, and make common spelling
variants one, so that 'Зеленский', 'Zelensky' and 'Selenskyj' are the same name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

from anyascii import anyascii

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
        shown = max(multi, key=lambda n: (counts[n], n))
        for n in names:
            out[n] = shown
    return out
