"""Search in PostgreSQL: how long does `monitor search` take for each query kind?

    uv run python bench/pg_search.py [--items 100000] [--repeats 9] [--url URL]

Writes the items of `bench/query.py` (titles, summaries, sources, actors over 90 days)
into a PostgreSQL store (`--url`, an empty database; without it a temporary server on
127.0.0.1, as the tests start one), 25,000 per write, and prints the time per write and
the size of `items` with its indexes. Then, for each query kind of `bench/query.py`, how
the SQL answers it (`exact`: SQL alone; `+entries`: SQL narrows, the entries it leaves are
tested one by one), the median and 95th percentile of `io.pg.query.search` (what `monitor
search` does: rows matched, decoded, sorted), and the matches, checked to be those of
`Query.select` over the same entries in memory.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator

import psycopg

from bench.query import NOW, QUERIES, make_items
from monitor.config import DatabaseSettings
from monitor.core.entries import entry_of
from monitor.core.index import EntryIndex
from monitor.core.query import Context, parse_query
from monitor.io.pg.connect import database
from monitor.io.pg.query import Compiler, search, stored_names
from monitor.io.pg.store import PgStore

POLL = 25_000  # items per write: a large poll


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    if url is not None:
        yield url
        return
    from tests.support.postgres import running_server

    with running_server() as started:
        yield started


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--url", help="an empty database (default: a temporary server)")
    args = ap.parse_args()

    items = make_items(args.items)
    with server(args.url) as url:
        store = PgStore(database(DatabaseSettings(url=url)))
        writes = []
        for start in range(0, len(items), POLL):
            t = time.perf_counter()
            store.write(items[start : start + POLL], [])
            writes.append(time.perf_counter() - t)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE items")
            row = conn.execute("SELECT pg_total_relation_size('items')").fetchone()
            size = row[0] / 1e6 if row else 0.0
        print(
            f"{len(items):,} items: {statistics.median(writes):.1f} s per write of {POLL:,}"
            f" (median of {len(writes)}), items and indexes {size:.0f} MB\n"
        )
        index = EntryIndex.build(
            sorted(map(entry_of, items), key=lambda e: -e.published.timestamp())
        )
        ctx = Context(text=store.text_search())
        print(
            f"{'query kind':<20} {'query':<52} {'SQL':>8} {'p50 ms':>8} {'p95 ms':>8} {'matches':>8}"
        )
        with psycopg.connect(url, autocommit=True) as conn:
            where = Compiler(stored_names(conn), NOW)
            for kind, text in QUERIES:
                query = parse_query(text)
                assert query.tree is not None
                how = "exact" if where.bounds(query.tree).exact else "+entries"
                times, found = [], []
                for _ in range(args.repeats):
                    t = time.perf_counter()
                    found = search(conn, query, NOW, ctx, None)
                    times.append(time.perf_counter() - t)
                want = len(index.rows(query.select(index, NOW)))
                assert len(found) == want, (text, len(found), want)
                print(
                    f"{kind:<20} {text:<52} {how:>8} {percentile(times, 0.5):>8.1f}"
                    f" {percentile(times, 0.95):>8.1f} {len(found):>8,}"
                )
        store.close()


if __name__ == "__main__":
    main()
