"""Search in the database: the words each item is indexed by."""

from __future__ import annotations

from monitor.io.fts import indexed_columns
from monitor.model import Item

# title, body, author, sources: folded words, weighted so that a field can be asked for
WORDS = (
    "setweight(to_tsvector('simple', unaccent(%s)), 'A') || "
    "setweight(to_tsvector('simple', unaccent(%s)), 'B') || "
    "setweight(to_tsvector('simple', unaccent(%s)), 'C') || "
    "setweight(to_tsvector('simple', unaccent(%s)), 'D')"
)


def words_params(item: Item) -> tuple[str, str, str, str]:
    return indexed_columns(item)
