"""The `Store` protocol, as every backend keeps it: the same tests on the TinyDB folder
and on PostgreSQL (a real server on 127.0.0.1; skipped, saying why, without one)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from monitor.config import DatabaseSettings
from monitor.core.entries import entry_of
from monitor.io.store import Store, StoreError
from monitor.model import Actor, Item, Quote, SourceState
from tests.support.store import T0, item

Opener = Callable[..., Store]


@pytest.fixture(params=["tinydb", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """`opener(readonly=False)`: a new store object on one backend's same store."""
    opened: list[Store] = []
    if request.param == "tinydb":
        from monitor.io.tinystore import TinyStore

        def make(readonly: bool = False) -> Store:
            store = TinyStore(tmp_path / "monitor.db", readonly=readonly)
            opened.append(store)
            return store
    else:
        from monitor.io.pg.connect import database
        from monitor.io.pg.store import PgStore

        settings = DatabaseSettings(url=request.getfixturevalue("pg_url"))

        def make(readonly: bool = False) -> Store:
            store = PgStore(database(settings), readonly=readonly)
            opened.append(store)
            return store

    yield make
    for store in reversed(opened):
        store.close()


@pytest.fixture
def store(opener: Opener) -> Store:
    return opener()


def ids(store: Store, **kw: datetime) -> list[str]:
    return [it.id for it in store.items(**kw)]


FULL = Item(
    id="full",
    title="A full item",
    url="https://example.com/full",
    sources=("a", "b"),
    published=T0,
    published_raw="Wed, 25 Nov 2026 10:00:00 GMT",
    date_flag=None,
    language="fr",
    summary="résumé",
    first_seen=T0 + timedelta(minutes=5),
    keys=("g:feed|1", "u:https://example.com/full"),
    author="Jane",
    text="the whole article",
    updated_at=T0 + timedelta(hours=1),
    actors=(Actor("Jane", "person", 2),),
    quotes=(Quote("Jane", "hello"),),
    annotated=True,
    page_published=T0 - timedelta(hours=1),
)


def test_round_trip_items_and_states(opener: Opener) -> None:
    other = item(2, published=T0 - timedelta(days=3))
    state = SourceState(
        "a",
        "https://example.com/feed",
        etag='"x"',
        last_success=T0,
        failures=2,
        feed_problems=("bad date",),
        next_due=T0 + timedelta(minutes=15),
    )
    writer = opener()
    assert writer.write([FULL, other], [state]) == ["new", "new"]
    assert writer.count() == 2
    assert writer.get("full") == FULL
    for store in (writer, opener(readonly=True)):
        assert store.count() == 2
        assert list(store.items()) == [FULL, other]
        assert store.get("full") == FULL
        assert store.get("nope") is None
        assert store.states() == {"a": state}
        assert [e.id for e in store.entries()] == ["full", "id2"]
        assert store.entries()[0] == entry_of(FULL)


def test_states_upsert_by_name(store: Store) -> None:
    a, b = SourceState("a", "https://a"), SourceState("b", "https://b")
    store.write([], [a, b])
    a2 = SourceState("a", "https://a", etag="e1", failures=1)
    store.write([], [a2])
    assert store.states() == {"a": a2, "b": b}


def test_merge_on_rewrite(store: Store) -> None:
    assert store.write([item(1, source="a")], []) == ["new"]
    assert store.write([item(1, source="b")], []) == ["updated"]
    assert store.write([item(1, source="b")], []) == ["unchanged"]
    assert store.write([item(1, source="a", title="new title")], []) == ["updated"]
    got = store.get("id1")
    assert got is not None
    assert got.sources == ("a", "b")
    assert got.title == "new title"
    assert got.updated_at == T0
    assert store.count() == 1


def test_same_article_two_sources_in_one_batch(store: Store) -> None:
    out = store.write([item(1, source="a"), item(1, source="b"), item(2)], [])
    assert out == ["new", "updated", "new"]
    assert store.count() == 2
    stored = [it for it in store.items() if it.id == "id1"]
    assert len(stored) == 1
    assert stored[0].sources == ("a", "b")


def test_identity_by_any_key(store: Store) -> None:
    store.write([item(1, keys=("g:feed|1", "u:https://example.com/x"))], [])
    again = item(9, source="b", keys=("g:other|9", "u:https://example.com/x"))
    assert store.write([again], []) == ["updated"]
    assert store.count() == 1
    got = store.get("id1")
    assert got is not None
    assert got.sources == ("a", "b")
    assert set(got.keys) == {"g:feed|1", "u:https://example.com/x", "g:other|9"}
    third = item(7, source="c", keys=("g:other|9",))  # the key learnt from the second feed
    assert store.write([third], []) == ["updated"]
    assert store.count() == 1
    assert [e.id for e in store.entries()] == ["id1"]


def test_a_retry_never_duplicates(store: Store) -> None:
    batch = [item(n) for n in range(20)]
    assert store.write(batch, []) == ["new"] * 20
    assert store.write(batch, []) == ["unchanged"] * 20  # a poll written again after a crash
    assert store.count() == 20
    assert len(store.entries()) == 20


def test_text_arrives_later(store: Store) -> None:
    store.write([item(2)], [])
    assert store.write([item(2, text="later")], []) == ["updated"]
    got = store.get("id2")
    assert got is not None and got.text == "later"
    assert store.entries()[0].has_text


def test_items_since_until(store: Store) -> None:
    times = [T0 - timedelta(days=d, hours=h) for d in range(5) for h in (0, 6)]
    store.write([item(n, published=t) for n, t in enumerate(times)], [])
    assert ids(store) == [f"id{n}" for n in range(len(times))]  # newest first
    since, until = T0 - timedelta(days=2, hours=3), T0 - timedelta(hours=3)
    want = [f"id{n}" for n, t in enumerate(times) if since <= t < until]
    assert ids(store, since=since, until=until) == want
    assert ids(store, since=T0) == ["id0"]
    assert ids(store, until=T0 - timedelta(days=4)) == ["id9"]
    assert ids(store, since=T0 + timedelta(days=1)) == []


def test_item_moves_when_its_date_changes(opener: Opener) -> None:
    store = opener()
    seen = T0 - timedelta(days=3)
    assert store.write([item(1, published=seen, date_flag="missing", seen=seen)], []) == ["new"]
    later = item(1, published=T0, date_flag="missing", seen=T0)
    assert store.write([later], []) == ["unchanged"]
    dated = item(1, published=T0 - timedelta(days=1), seen=T0)
    assert store.write([dated], []) == ["updated"]
    got = store.get("id1")
    assert got is not None and got.published == T0 - timedelta(days=1)
    assert ids(store) == ["id1"]
    assert [e.published for e in store.entries()] == [T0 - timedelta(days=1)]
    assert ids(opener(readonly=True)) == ["id1"]


def test_entries_newest_first_and_a_snapshot(store: Store) -> None:
    store.write([item(n, published=T0 - timedelta(hours=n * 7)) for n in range(12)], [])
    entries = store.entries()
    assert [e.id for e in entries] == [f"id{n}" for n in range(12)]
    index = store.entry_index()
    assert index.entries == entries
    store.write([item(99, published=T0 + timedelta(hours=1))], [])
    assert len(entries) == 12  # the list handed out is not changed by a later write
    assert [e.id for e in store.entries()][:2] == ["id99", "id0"]


def test_update_sees_the_item_as_it_is_now(store: Store) -> None:
    store.write([item(1), item(2)], [])
    store.write([item(1, source="b")], [])  # a poll in between

    def add_text(it: Item) -> Item:
        return msgspec.structs.replace(it, text="page text", text_status="page")

    done = store.update([("id1", add_text), ("gone", add_text), ("id2", lambda it: it)])
    assert [it.id for it in done] == ["id1"]  # unknown ids and no-ops left out
    got = store.get("id1")
    assert got is not None
    assert got.sources == ("a", "b") and got.text == "page text"
    assert [e.has_text for e in store.entries() if e.id == "id1"] == [True]


def test_drop_before_keeps_what_is_protected(store: Store) -> None:
    store.write([item(n, published=T0 - timedelta(days=n)) for n in range(6)], [])
    assert store.drop_before((T0 - timedelta(days=2)).date().isoformat(), frozenset({"id4"})) == 2
    assert ids(store) == ["id0", "id1", "id2", "id4"]
    assert store.count() == 4
    assert [e.id for e in store.entries()] == ["id0", "id1", "id2", "id4"]
    # a dropped item seen again comes back as new
    assert store.write([item(5, published=T0 - timedelta(days=5))], []) == ["new"]


def test_a_reader_follows_the_writer(opener: Opener) -> None:
    writer = opener()
    writer.write([item(1)], [SourceState("a", "https://a")])
    reader = opener(readonly=True)
    with pytest.raises(StoreError, match="read-only"):
        reader.write([item(2)], [])
    assert [e.id for e in reader.entries()] == ["id1"]
    before = reader.version()
    writer.write([item(2, published=T0 + timedelta(hours=1)), item(1, source="b")], [])
    writer.drop_before(T0.date().isoformat(), frozenset())  # nothing older: drops none
    _wait(lambda: reader.version() != before)
    assert reader.count() == 2
    assert [e.id for e in reader.entries()] == ["id2", "id1"]
    assert reader.entries()[1].sources == ("a", "b")
    writer.drop_before((T0 + timedelta(days=1)).date().isoformat(), frozenset({"id2"}))
    assert [e.id for e in reader.entries()] == ["id2"]


def test_version_changes_with_each_commit(store: Store) -> None:
    before = store.version()
    store.write([item(1)], [])
    assert store.version() != before


def test_reindex_and_problems(store: Store) -> None:
    store.write([FULL, *(item(n) for n in range(5))], [])
    assert store.problems() == []
    seen: list[tuple[int, int]] = []
    assert store.reindex(lambda done, total: seen.append((done, total))) == 6
    assert seen and seen[-1][0] == seen[-1][1]  # steps: days or rows, all done
    assert store.count() == 6
    assert store.get("full") == FULL


def test_a_closed_store_says_so(opener: Opener) -> None:
    store = opener()
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        store.count()


def test_writers_in_threads_never_duplicate(opener: Opener) -> None:
    """Two writers bringing the same articles at once (TinyDB: one store object shared by
    threads; PostgreSQL: two store objects, as two pollers are)."""
    first = opener()
    stores = [first, first] if type(first).__name__ == "TinyStore" else [first, opener()]
    batches = [[item(n, source=s) for n in range(50)] for s in ("a", "b")]
    threads = [
        threading.Thread(target=st.write, args=(batch, []))
        for st, batch in zip(stores, batches, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert first.count() == 50
    assert {it.sources for it in first.items()} in ({("a", "b")}, {("b", "a")})


def _wait(test: Callable[[], bool], seconds: float = 5.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


def test_a_window_holds_the_recent_days_only(pg_url: str) -> None:
    """`[storage] window`: a database store's entries are the items of the last days;
    the items themselves, and searches, are all there."""
    from datetime import UTC

    from monitor.io.pg.connect import database
    from monitor.io.pg.store import PgStore

    settings = DatabaseSettings(url=pg_url)
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    with PgStore(database(settings)) as writer:
        writer.write([item(n, published=today - timedelta(days=n)) for n in range(10)], [])
        with PgStore(database(settings), window=3 * 86400) as recent:
            assert [e.id for e in recent.entries()] == ["id0", "id1", "id2", "id3"]
            assert recent.count() == 10 and len(list(recent.items())) == 10
            writer.write(
                [item(20, published=today), item(21, published=today - timedelta(days=8))], []
            )
            assert [e.id for e in recent.entries()] == ["id20", "id0", "id1", "id2", "id3"]
            # the text index is asked for the window's days only; all of them without one
            from monitor.core.entries import doc_key
            from monitor.core.query import parse_query

            words = parse_query("title").tree
            text = recent.text_search()
            assert text is not None and words is not None
            found = text.keys(words)
            assert found is not None
            assert sorted(found) == sorted(doc_key(f"id{n}") for n in (20, 0, 1, 2, 3))
            every = writer.text_search()
            everything = every.keys(words) if every is not None else None
            assert everything is not None and len(everything) == 12


def test_a_days_index_is_made_once_for_every_process(pg_url: str) -> None:
    """The filters' index of a day, made by the first process that reads it, is taken
    by the next from the database while it still fits the day's items."""
    from monitor.core.query import parse_query
    from monitor.io.pg.connect import database
    from monitor.io.pg.store import PgStore

    settings = DatabaseSettings(url=pg_url)
    items = [item(n, published=T0 - timedelta(hours=5 * n)) for n in range(40)]

    def made(store: PgStore) -> set[str]:
        return {str(day) for day, bucket in store._entries._days.items() if bucket.made}

    with PgStore(database(settings)) as first:
        first.write(items, [])
        index = first.entry_index()
        days = {e.published.date().isoformat() for e in index.entries}
        assert len(days) == 9
        with PgStore(database(settings)) as second:
            second._entries.made_parts = lambda: []  # type: ignore[method-assign]  # keep `made`
            again = second.entry_index()
            assert made(second) == set()  # every day's index taken as saved
            assert again.entries == index.entries
            query = parse_query("title")
            found = again.rows(query.select(again, T0))
            assert len(found) == 40 and found == index.rows(query.select(index, T0))
        first.write([item(99, published=T0)], [])  # the day of T0 has one item more
        with PgStore(database(settings)) as third:
            third._entries.made_parts = lambda: []  # type: ignore[method-assign]
            third.entry_index()
            assert made(third) == {T0.date().isoformat()}  # made again: the saved one is stale


def test_records_that_do_not_decode_are_set_aside(pg_url: str) -> None:
    """`monitor check` on a database: a record or an entry that does not decode is
    said; `--repair` keeps the record aside and makes the entry again."""
    from monitor.io.pg.connect import database
    from monitor.io.pg.store import PgStore

    with PgStore(database(DatabaseSettings(url=pg_url))) as store:
        store.write([item(n) for n in range(4)], [])
        with store.db.connection() as conn:
            conn.execute("UPDATE items SET record = '\\x00ff'::bytea WHERE id = 'id1'")
            conn.execute("UPDATE items SET entry = '\\x00ff'::bytea WHERE id = 'id2'")
        assert store.problems() == [
            "1 stored items cannot be read (monitor check --repair sets them aside)",
            "1 entries cannot be read (monitor check --repair makes them again)",
        ]
        assert store.repair() == [
            "set aside 1 items that cannot be read (table quarantine)",
            "made the entries of 1 items again",
        ]
        assert store.problems() == []
        assert store.count() == 3 and store.get("id1") is None
        assert {e.id for e in store.entries()} == {"id0", "id2", "id3"}
        with store.db.connection() as conn:
            assert conn.execute("SELECT id FROM quarantine").fetchall() == [("id1",)]
