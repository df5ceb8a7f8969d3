"""`monitor search`'s test items and queries, for tests/test_search_cli.py and for every
store (tests/test_query_backends.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.model import Actor, Item

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def item(
    n: int, title: str, *, hours: float, source: str = "Le Monde – International", **kw: object
) -> Item:
    when = NOW - timedelta(hours=hours)
    fields: dict[str, object] = {
        "id": f"id{n}",
        "title": title,
        "url": f"https://example.com/{n}",
        "sources": (source,),
        "published": when,
        "published_raw": None,
        "date_flag": None,
        "language": "fr",
        "summary": f"résumé {n}",
        "first_seen": when,
        "keys": (f"u:https://example.com/{n}",),
    }
    fields.update(kw)
    return Item(**fields)  # type: ignore[arg-type]


ITEMS = [
    item(1, "Les États-Unis et la Russie", hours=1, actors=(Actor("Vladimir Putin", "person", 3),)),
    item(2, "Ukraine: talks stall", hours=30, source="BBC News – World", language="en"),
    item(3, "Le Tour de France repart", hours=5, source="L'Équipe"),
    item(4, "Russia\x1b[31m and \u202eUkraine", hours=2, source="BBC News – World", language="en"),
    item(5, "Moscou répond à Washington", hours=200, text="Le Kremlin a réagi. " * 50),
]


# arguments, the ids found, newest first (tests/test_query_backends.py: on every backend)
QUERIES = [
    (["actor:putin"], ["id1"]),
    (['actor:"Vladimir Putin"'], ["id1"]),
    (["source:bbc -ukraine"], []),
    (["source:monde"], ["id1", "id5"]),
    (["kremlin"], ["id5"]),  # from the start of the full text
    (["since:24h"], ["id1", "id4", "id3"]),
    (["since:24h lang:fr -tour"], ["id1"]),
    (["NOT", "since:24h"], ["id2", "id5"]),
    ([""], ["id1", "id4", "id3", "id2", "id5"]),
]
