"""The query language shared by the dashboard and `monitor search`. Pure."""

from __future__ import annotations

import re
import unicodedata

from monitor.model import Item

SEARCH_TEXT_CHARS = 2000  # characters of the full text kept in an entry's search text
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")


def fold(s: str) -> str:
    """Lower case without accents, for matching: 'États-Unis' -> 'etats-unis'."""
    decomposed = unicodedata.normalize("NFKD", s.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_text(item: Item) -> str:
    """The folded words filters match against: title, summary, sources, start of the text."""
    parts = [item.title, item.summary, " ".join(item.sources)]
    if item.text:
        parts.append(item.text[:SEARCH_TEXT_CHARS])
    return " ".join(_WORD.findall(fold(" ".join(parts))))
