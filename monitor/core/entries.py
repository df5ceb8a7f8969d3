"""Items as the timeline and the filters see them: `Entry` (in `monitor.model`), the
folded search text its queries match, and the key a text index knows it by. Pure."""

from __future__ import annotations

import hashlib

from monitor.core.fold import folded_words
from monitor.model import ANNOTATOR, Entry, Item

_KEY_BITS = 60  # keys fit a signed 64-bit integer: SQLite rowids, numpy int64


def search_text(item: Item) -> str:
    """The folded words filters match against when there is no text index: title,
    summary and source names. The full text is only in the store's text index: kept in
    every entry, it would cost the dashboard about 5 KB of memory per item."""
    return folded_words(" ".join([item.title, item.summary, " ".join(item.sources)]))


def doc_key(item_id: str) -> int:
    """The integer a text index knows an item by: the last 60 bits of its id (ids are
    hex digests), or of a digest of any other id. Two items share a key once in about
    10^12 pairs; the later one then stands for both in the text index."""
    try:
        if len(item_id) >= 15:
            return int(item_id[-15:], 16)
    except ValueError:
        pass
    digest = hashlib.blake2b(item_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> (64 - _KEY_BITS)


def entry_of(item: Item) -> Entry:
    """The timeline's and the filters' view of an item."""
    ranked = sorted(item.actors, key=lambda a: -a.mentions)
    return Entry(
        id=item.id,
        published=item.published,
        title=item.title,
        sources=item.sources,
        language=item.language,
        date_flag=item.date_flag,
        first_seen=item.first_seen,
        url=item.url,
        has_text=bool(item.text),
        actors=tuple(a.name for a in ranked),
        mentions=tuple(max(a.mentions, 1) for a in ranked),
        search=search_text(item),
        annotated=item.annotated and item.annotator >= ANNOTATOR,
        text_status=item.text_status,
        text_error=item.text_error,
        kinds=tuple(a.kind for a in ranked),
    )
