"""Items for the store's tests: `item(n)` published at T0 unless told otherwise."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.model import DateFlag, Item

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def item(
    n: int,
    *,
    source: str = "a",
    title: str | None = None,
    published: datetime = T0,
    text: str | None = None,
    keys: tuple[str, ...] | None = None,
    date_flag: DateFlag | None = None,
    seen: datetime = T0,
) -> Item:
    return Item(
        id=f"id{n}",
        title=title or f"title {n}",
        url=f"https://example.com/{n}",
        sources=(source,),
        published=published,
        published_raw=None,
        date_flag=date_flag,
        language="en",
        summary=f"summary {n}",
        first_seen=seen,
        keys=keys if keys is not None else (f"u:https://example.com/{n}",),
        text=text,
    )
