"""Items for the whole-text search's tests, on any store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.model import Item

NOW = datetime.now(UTC).replace(microsecond=0)


def make(n: int, title: str, *, text: str | None = None, hours: float = 1, **kw: object) -> Item:
    when = NOW - timedelta(hours=hours)
    fields: dict[str, object] = {
        "id": f"{n:020x}",
        "title": title,
        "url": f"https://www.lemonde.fr/international/{n}",
        "sources": ("Le Monde",),
        "published": when,
        "published_raw": None,
        "date_flag": None,
        "language": "fr",
        "summary": f"résumé numéro {n}",
        "first_seen": when,
        "keys": (f"u:https://example.com/{n}",),
        "text": text,
    }
    fields.update(kw)
    return Item(**fields)  # type: ignore[arg-type]
