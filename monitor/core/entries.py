"""Items as the timeline and the filters see them: `Entry` (in `monitor.model`) and the
folded search text its queries match. Pure."""

from __future__ import annotations

from monitor.core.fold import folded_words
from monitor.model import Entry, Item

SEARCH_TEXT_CHARS = (
    1000  # characters of full text in an entry's search text: the lede, where names are
)


def search_text(item: Item) -> str:
    """The folded words filters match against: title, summary, sources, start of the text."""
    parts = [item.title, item.summary, " ".join(item.sources)]
    if item.text:
        parts.append(item.text[:SEARCH_TEXT_CHARS])
    return folded_words(" ".join(parts))


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
        annotated=item.annotated,
        text_status=item.text_status,
    )
