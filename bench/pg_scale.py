"""PostgreSQL at scale: a million items, a poll written into them, searches, size on disk.

    uv run python bench/pg_scale.py [--items 1000000] [--text-chars 1500] [--url URL]
    uv run python bench/pg_scale.py --url URL --keep   # reuse a database built before

Without `--url` it starts a PostgreSQL server of its own in a temp folder (as the tests
do: Debian's initdb and pg_ctl, fsync off, which matters for the build only). Then:

1. Build: `--items` items (bench/store.py's generator: a title, a summary, a full text
   of `--text-chars` characters drawn with news-like word frequencies, 2 actors, 1,000
   items a day on the days before today, 60 sources) written through `PgStore.write` in
   polls of 25,000, the time of each printed as the history grows: whether a write's
   cost follows the poll or the history.
2. A poll: 25,000 new items dated today written into the full database (median of
   `--repeats`, new ids each time).
3. Searches: for each query kind of bench/query.py (their words are French and English
   news words; the generator's are English and made-up, so each kind is asked with a
   word of the generator of the same frequency class), the median and p95 of the whole
   query compiled to SQL (`monitor search`'s path) and of the text part alone
   (`TextSearch.keys`, the dashboard's path), with the number of matches.
4. Size on disk: the database, the items table and each index.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import bench.store as gen_store  # noqa: E402
from monitor.config import DatabaseSettings  # noqa: E402
from monitor.io.pg.connect import database  # noqa: E402
from monitor.io.pg.store import PgStore  # noqa: E402
from monitor.model import Item, SourceState  # noqa: E402

POLL = 25_000
PER_DAY = 1_000


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from tests.support.postgres import running_server

    with running_server() as made:
        yield made


def build(store: PgStore, size: int, today: datetime) -> list[tuple[int, float]]:
    """`size` items in polls of POLL; (items stored before, seconds) per poll."""
    gen = gen_store.Gen(seed=size + 7)
    store.write(
        [], [SourceState(f"News {n}", f"https://feeds.news{n}.example.com/rss") for n in range(60)]
    )
    times: list[tuple[int, float]] = []
    done, day = 0, 1
    while done < size:
        batch: list[Item] = []
        while len(batch) < min(POLL, size - done):
            n = min(PER_DAY, size - done - len(batch))
            base = today - timedelta(days=day)
            batch += [
                gen.item(f"h{day}-", k, base + timedelta(seconds=k * 86_000 // n), base)
                for k in range(n)
            ]
            day += 1
        t0 = time.perf_counter()
        store.write(batch, [])
        times.append((done, time.perf_counter() - t0))
        done += len(batch)
        print(
            f"  {done:>9,} items  last poll of {len(batch):,} written in {times[-1][1]:.1f} s",
            flush=True,
        )
    return times


def poll(store: PgStore, today: datetime, repeats: int) -> list[float]:
    gen = gen_store.Gen(seed=99)
    out = []
    for r in range(repeats):
        batch = [
            gen.item(f"p{r}-", k, today + timedelta(seconds=k * 3), today) for k in range(POLL)
        ]
        t0 = time.perf_counter()
        store.write(batch, [])
        out.append(time.perf_counter() - t0)
    return out


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    fn()  # warm: the pages in the server's cache
    times, got = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        got = fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, got


def sizes(store: PgStore) -> list[tuple[str, int]]:
    with store.db.connection() as conn:
        rows = conn.execute(
            "SELECT 'database', pg_database_size(current_database()) UNION ALL "
            "SELECT 'items (table, with TOAST)', pg_table_size('items') UNION ALL "
            "SELECT c.relname, pg_relation_size(c.oid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid IN ('items'::regclass, 'item_keys'::regclass) UNION ALL "
            "SELECT 'item_keys (table)', pg_table_size('item_keys')"
        ).fetchall()
    return [(str(name), int(size)) for name, size in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--text-chars", type=int, default=1_500)
    parser.add_argument("--repeats", type=int, default=3, help="polls written")
    parser.add_argument("--search-repeats", type=int, default=21)
    parser.add_argument("--url", help="an existing database (else a server of our own)")
    parser.add_argument("--keep", action="store_true", help="the database is built: skip 1")
    parser.add_argument("--no-poll", action="store_true", help="skip 2")
    args = parser.parse_args()
    gen_store.TEXT_CHARS = args.text_chars
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with server(args.url) as url:
        store = PgStore(database(DatabaseSettings(url=url)))
        try:
            if not args.keep:
                print(f"building {args.items:,} items ({args.text_chars} characters of text)")
                t0 = time.perf_counter()
                times = build(store, args.items, today)
                print(f"built in {time.perf_counter() - t0:.0f} s")
                with store.db.connection() as conn:
                    conn.execute("VACUUM ANALYZE items")
                first = statistics.median(t for _, t in times[:4])
                last = statistics.median(t for _, t in times[-4:])
                print(
                    f"a poll of {POLL:,} into the first 100k: {first:.1f} s; into the "
                    f"last 100k: {last:.1f} s"
                )
            count = store.count()
            print(f"\n{count:,} items stored")
            if not args.no_poll:
                writes = poll(store, today, args.repeats)
                print(
                    f"a poll of {POLL:,} new items into {count:,}: median "
                    f"{statistics.median(writes):.1f} s ({', '.join(f'{w:.1f}' for w in writes)})"
                )
            search(store, args.search_repeats)
            print("\nsize on disk")
            for name, size in sizes(store):
                print(f"  {name:<28} {size / 2**20:>10,.0f} MiB")
        finally:
            store.close()


# bench/query.py's kinds, each asked with words of the generator's of the same frequency
# class (its texts are English news words and made-up ones, Zipf-distributed)
QUERIES = (
    ("two words", "government summit"),
    ("one word, prefix", "minist"),
    ("phrase", '"the government"'),
    ("actor OR word", 'actor:"European Union" OR budgets'),
    ("lang, since, word", "lang:en since:24h inflation"),
    ("word NOT word", "summit -energy"),
    ("hyphenated word", "central-bank"),
    ("source", "source:news"),
    ("rare word", "{rare}"),
    ("absent word", "zanzibar"),
    ("complex", "(summit OR budgets OR trade) lang:en -energy since:7d"),
    ("first letter typed", "g"),
    ("two letters typed", "go"),
    ("OR, a letter typed", "budgets OR t"),
)


def search(store: PgStore, repeats: int) -> None:
    """Each query kind, whole (compiled to SQL, `monitor search`'s path) and its text
    part alone (`TextSearch.keys`, what a dashboard asks the database)."""
    from monitor.core.query import Context, parse_query
    from monitor.io.pg.query import search_store

    rare = gen_store.vocabulary(random.Random(0))[40_000]
    text = store.text_search()
    ctx = Context(text=text)
    print(f"\nsearch, {repeats} runs each after one warm-up: median / p95 ms (matches)")
    print(f"  {'kind':<22} {'query':<46} {'whole query':>22} {'text part':>22}")
    for kind, raw in QUERIES:
        query = parse_query(raw.format(rare=rare))
        now = datetime.now(UTC)
        med, p95, found = timed(
            lambda q=query, t=now: search_store(store, q, t, ctx, None), repeats
        )
        whole = f"{med * 1e3:.0f} / {p95 * 1e3:.0f} ({len(found):,})"
        part = "-"
        node = _text_part(query.tree)
        if text is not None and node is not None:
            tmed, tp95, keys = timed(lambda n=node: text.keys(n), repeats)
            part = f"{tmed * 1e3:.0f} / {tp95 * 1e3:.0f} ({len(keys) if keys is not None else 0:,})"
        print(f"  {kind:<22} {raw.format(rare=rare):<46} {whole:>22} {part:>22}", flush=True)


def _text_part(node: Any) -> Any:
    """The first node of the query that the text index answers alone, if any."""
    from monitor.core.query_syntax import And, Near, Or, Term

    if isinstance(node, (Near, Term)) and (
        not isinstance(node, Term) or node.kind in ("word", "phrase")
    ):
        return node
    if isinstance(node, (And, Or)):
        for child in node.children:
            found = _text_part(child)
            if found is not None:
                return found
    return None


if __name__ == "__main__":
    main()
