"""Folding text for matching: lower case without accents. Pure.

`fold_text` folds a string; `folded_words` folds a text into its words, as the search text
holds them; `fold_indexed` folds a text and keeps where each folded character came from,
to map matches back onto the original (highlights, actors, dates in the text).
"""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"\w+")  # a word of folded text: what queries and the search text match

# Letters that do not decompose but that people type without their accent.
_LIGATURES = (
    ("œ", "oe"),
    ("æ", "ae"),
    ("ø", "o"),
    ("ł", "l"),
    ("đ", "d"),
    ("ð", "d"),
    ("þ", "th"),
    ("ı", "i"),
)
# Combining marks of the Basic Multilingual Plane: a bitmap class, fast to strip.
_MARKS = re.compile(
    "["
    + "".join(re.escape(chr(c)) for c in range(0x300, 0x10000) if unicodedata.combining(chr(c)))
    + "]+"
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def fold_text(s: str) -> str:
    """Lower case without accents, for matching: 'États-Unis' -> 'etats-unis', 'Cœur' -> 'coeur'."""
    if s.isascii():
        return s.lower()
    s = _MARKS.sub("", unicodedata.normalize("NFKD", s.casefold()))
    if s.isascii():
        return s
    if _ASTRAL.search(s):
        s = "".join(c for c in s if not unicodedata.combining(c))
    for letter, plain in _LIGATURES:
        if letter in s:
            s = s.replace(letter, plain)
    return s


_TOKEN_WORDS: dict[str, str] = {}  # a memo: news text repeats its words
_TOKEN_MEMO = 200_000


def folded_words(text: str) -> str:
    """`text`'s folded words separated by single spaces: 'États-Unis, l’Ukraine' ->
    'etats unis l ukraine'. Folding is per character, so it is done once per distinct
    space-separated token and remembered."""
    memo = _TOKEN_WORDS
    out = []
    for token in text.split():
        words = memo.get(token)
        if words is None:
            words = " ".join(WORD.findall(fold_text(token)))
            if len(memo) >= _TOKEN_MEMO:
                memo.clear()
            memo[token] = words
        if words:
            out.append(words)
    return " ".join(out)


_FOLDS: dict[str, str] = {}  # a memo: each character's fold


def fold_indexed(text: str) -> tuple[str, list[int] | None]:
    """`text` folded character by character, with the index in `text` of each folded
    character; None when that is the same index (no character folds to none or to two, as
    in most French or Russian text). Each distinct character is folded once and the text
    translated with the table."""
    if text.isascii():
        return text.lower(), None
    memo = _FOLDS
    table: dict[int, str] = {}
    same = True
    for c in set(text):
        f = memo.get(c)
        if f is None:
            if len(memo) >= 65536:
                memo.clear()
            f = memo[c] = fold_text(c)
        table[ord(c)] = f
        same = same and len(f) == 1
    folded = text.translate(table)
    if same:
        return folded, None
    where = [i for i, c in enumerate(text) for _ in range(len(table[ord(c)]))]
    return folded, where
