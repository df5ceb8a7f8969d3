"""Item identity merges: what happens when an item is seen again, in the same or another feed."""

from __future__ import annotations

from msgspec.structs import replace

from monitor.model import Item


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return a + tuple(x for x in b if x not in a)


def with_annotations(item: Item, annotated: Item) -> Item:
    """`item` with the actors, quotes, mentions and dates of `annotated`, when those were
    found in the very title, summary and text that `item` has; else `item` unchanged."""
    if not annotated.annotated or (item.title, item.summary, item.text) != (
        annotated.title,
        annotated.summary,
        annotated.text,
    ):
        return item
    return replace(
        item,
        actors=annotated.actors,
        quotes=annotated.quotes,
        mentions=annotated.mentions,
        dates=annotated.dates,
        annotated=True,
        annotator=annotated.annotator,
    )


def merge(old: Item, new: Item) -> Item | None:
    """Fold a freshly parsed `new` into the stored `old`. None when nothing changed.

    The stored item keeps its id, first-seen time, any full text and what its article
    page gave; sources and
    identity keys are united. Feed fields (title, summary, date, author) follow the
    item's first source only: another feed carrying the same article adds itself to
    `sources` but never rewrites them, so two feeds cannot flip an item back and forth
    on every poll. A date that is only a first-seen stand-in never replaces a real one.
    """
    own = bool(new.sources) and bool(old.sources) and new.sources[0] == old.sources[0]
    published, raw, flag = old.published, old.published_raw, old.date_flag
    if new.date_flag is None and (
        old.date_flag is not None or (own and new.published != old.published)
    ):
        published, raw, flag = new.published, new.published_raw, None
    elif new.date_flag == "invalid" and old.date_flag == "missing":
        raw, flag = new.published_raw, "invalid"
    text = (old.text, old.text_status, old.text_error, old.text_detail)
    if old.text is None and new.text is not None:  # the feed now carries the whole article
        text = (new.text, new.text_status, None, None)
    elif old.text_status is None and new.text_status == "off":
        text = (None, "off", None, None)
    merged = replace(
        old,
        title=(new.title if own else old.title) or old.title or new.title,
        url=old.url or new.url,
        sources=_union(old.sources, new.sources),
        keys=_union(old.keys, new.keys),
        published=published,
        published_raw=raw,
        date_flag=flag,
        language=old.language or new.language,
        summary=(new.summary if own else old.summary) or old.summary or new.summary,
        author=(new.author if own else old.author) or old.author or new.author,
        text=text[0],
        text_status=text[1],
        text_error=text[2],
        text_detail=text[3],
    )
    if (
        not old.annotated
        or old.annotator < new.annotator
        or (merged.title, merged.summary, merged.text) != (old.title, old.summary, old.text)
    ):
        # An annotation stands until its text changes or a newer annotation comes: found
        # again in another poll's batch (other items confirm other headline names), it
        # could differ a little, and every poll would rewrite the item.
        merged = with_annotations(merged, new)
    if merged == old:
        return None
    return replace(merged, updated_at=new.first_seen)
