"""Matches for the alert ledger's tests: one item's match of a watch, as the pass makes it."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.core.cluster import shingles
from monitor.io.ledger import Match
from monitor.model import AlertItem
from tests.support.items import item

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
WIRE = "the president said on monday that talks with the kremlin would go on next week"


def match(watch: str, n: int, source: str, text: str = WIRE, story: str | None = None) -> Match:
    """Item `n`'s match of `watch` (its title `text`), in the live story `story`."""
    it = item(n, text, sources=[source])
    return Match(
        watch=watch,
        key=it.id,
        item=AlertItem(it.id, it.title, it.url, it.sources, it.published),
        matched=("kremlin",),
        context=text,
        shingles=shingles(it),
        story=story,
    )
