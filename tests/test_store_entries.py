"""TinyStore.entries(): the timeline's view of every item, kept in entry files beside the days."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from monitor.core import index as index_module
from monitor.core.entries import search_text
from monitor.core.index import EntryIndex, Part, decode_parts
from monitor.core.query import filter_entries, parse_query
from monitor.io.store import StoreError
from monitor.io.tinystore import ENTRIES, INDEX, ITEMS, TEXTS, TinyStore, files
from monitor.io.tinystore import entries as entries_module
from monitor.model import Actor, Entry, Item
from tests.support import writer as kill
from tests.support.store import T0, item

DAY = "2026-11-25"


def entry_file(root: Path, day: str = DAY) -> Path:
    return root / ENTRIES / f"{day}.msgpack"


def expected(it: Item) -> Entry:
    return Entry(
        id=it.id,
        published=it.published,
        title=it.title,
        sources=it.sources,
        language=it.language,
        date_flag=it.date_flag,
        first_seen=it.first_seen,
        url=it.url,
        has_text=bool(it.text),
        actors=tuple(a.name for a in sorted(it.actors, key=lambda a: -a.mentions)),
        mentions=tuple(max(a.mentions, 1) for a in sorted(it.actors, key=lambda a: -a.mentions)),
        search=search_text(it),
        kinds=tuple(a.kind for a in sorted(it.actors, key=lambda a: -a.mentions)),
    )


def ids(entries: list[Entry]) -> list[str]:
    return [e.id for e in entries]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "monitor.db"


@pytest.fixture
def store(root: Path) -> Iterator[TinyStore]:
    s = TinyStore(root)
    yield s
    s.close()


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the entries made from an item (by id) and the entry files read (by day)."""
    made: Counter[str] = Counter()
    real_entry, real_read = entries_module.entry_of, TinyStore._read_entries

    def entry_of(it: Item) -> Entry:
        made[it.id] += 1
        return real_entry(it)

    def read_entries(self: TinyStore, day: str, *sigs: tuple[int, int] | None) -> object:
        made[f"read {day}"] += 1
        return real_read(self, day, *sigs)

    monkeypatch.setattr(entries_module, "entry_of", entry_of)
    monkeypatch.setattr(TinyStore, "_read_entries", read_entries)
    return made


def spread(n: int, days: int = 3) -> list[Item]:
    """`n` items over `days` days before T0, several at the same moment."""
    return [
        item(k, published=T0 - timedelta(days=k % days, hours=k // 4), text=f"text {k}")
        for k in range(n)
    ]


# --- contents and order ------------------------------------------------------------------


def test_round_trip(root: Path) -> None:
    full = Item(
        id="full",
        title="Les États-Unis et l'Ukraine",
        url="https://example.com/full",
        sources=("a", "b"),
        published=T0,
        published_raw="Wed, 25 Nov 2026 10:00:00 GMT",
        date_flag=None,
        language="fr",
        summary="Un résumé",
        first_seen=T0 + timedelta(minutes=5),
        keys=("u:https://example.com/full",),
        text="Le texte entier " * 300,
        actors=(Actor("Kyiv", "place", 1), Actor("Zelensky", "person", 3)),
    )
    old = item(2, published=datetime(1850, 3, 1, 12, tzinfo=UTC), date_flag="invalid")
    bare = item(3, published=T0 - timedelta(days=2), date_flag="missing")
    want = [expected(full), expected(bare), expected(old)]
    assert want[0].actors == ("Zelensky", "Kyiv")
    assert want[0].has_text and not want[1].has_text
    with TinyStore(root) as s:
        s.write([full, old, bare], [])
        assert s.entries() == want
    assert entry_file(root).exists()
    for readonly in (False, True):
        with TinyStore(root, readonly=readonly) as s:
            got = s.entries()
            assert got == want
            assert got[0].published.tzinfo is not None
            assert len(got) == s.count()


def test_empty_and_missing_stores(tmp_path: Path) -> None:
    with TinyStore(tmp_path / "nothing", readonly=True) as s:
        assert s.entries() == []
    with TinyStore(tmp_path / "new") as s:
        assert s.entries() == []
        s.write([], [])
        assert s.entries() == []


def test_newest_first_like_items(store: TinyStore) -> None:
    batch = spread(24)
    store.write(batch, [])
    got = store.entries()
    assert ids(got) == [it.id for it in store.items()]
    assert got == sorted(got, key=lambda e: (e.published, e.id), reverse=True)
    assert len({e.published for e in got}) < len(got)  # ties are ordered by id


def test_entries_is_a_snapshot(store: TinyStore) -> None:
    store.write([item(1)], [])
    first = store.entries()
    first.clear()
    second = store.entries()
    assert ids(second) == ["id1"]
    store.write([item(2)], [])
    assert ids(second) == ["id1"]
    assert ids(store.entries()) == ["id2", "id1"]


def test_merge_across_sources_is_one_entry(store: TinyStore) -> None:
    store.write([item(1, source="a"), item(1, source="b")], [])
    assert [e.sources for e in store.entries()] == [("a", "b")]
    store.write([item(1, source="c"), item(1, source="a", title="a new title")], [])
    [entry] = store.entries()
    assert entry.sources == ("a", "b", "c")
    assert entry.title == "a new title"
    assert entry.search.startswith("a new title") and entry.search.endswith(" c")
    stored = store.get("id1")
    assert stored is not None and entry == expected(stored)


def test_moved_item_appears_once(root: Path, store: TinyStore) -> None:
    store.write([item(1), item(2, published=T0 - timedelta(days=1))], [])
    moved = item(1, published=T0 - timedelta(days=3))
    reader = TinyStore(root, readonly=True)
    assert ids(reader.entries()) == ["id1", "id2"]
    store.write([moved], [])
    for s in (store, reader):
        got = s.entries()
        assert ids(got) == ["id2", "id1"]
        assert got[1].published == moved.published
    reader.close()
    # the old copy is still in its day file and entry file until that day is rewritten
    assert "id1" in entry_file(root).read_bytes().decode("utf-8", "replace")
    store.close()
    for readonly in (False, True):
        with TinyStore(root, readonly=readonly) as s:
            assert ids(s.entries()) == ["id2", "id1"]


def test_moved_within_one_batch_and_back(store: TinyStore) -> None:
    store.write([item(1), item(1, published=T0 - timedelta(days=2))], [])
    assert [e.published for e in store.entries()] == [T0 - timedelta(days=2)]
    store.write([item(1, published=T0)], [])
    assert [e.published for e in store.entries()] == [T0]
    assert store.count() == len(store.entries()) == 1


# --- only what changed is made again -----------------------------------------------------


def test_a_write_remakes_only_what_it_touched(
    root: Path, store: TinyStore, built: Counter[str]
) -> None:
    store.write(spread(30, days=5), [])
    store.entries()
    other = entry_file(root, "2026-11-21")
    before = other.stat().st_mtime_ns
    built.clear()
    store.write([item(100), item(3, source="b")], [])  # a new item today, an update 3 days ago
    got = store.entries()
    assert built == Counter({"id100": 1, "id3": 1})  # nothing else made, no file read
    assert len(got) == 31
    assert other.stat().st_mtime_ns == before
    built.clear()
    assert store.entries() == got
    assert not built


def test_poll_process_reads_only_the_days_it_writes(root: Path, built: Counter[str]) -> None:
    with TinyStore(root) as s:
        s.write(spread(30, days=5), [])
    built.clear()
    with TinyStore(root) as s:  # like `monitor poll`: never asks for entries
        s.write([item(100)], [])
    assert built == Counter({"id100": 1, f"read {DAY}": 1})


def test_reader_reads_only_changed_days(root: Path, store: TinyStore, built: Counter[str]) -> None:
    store.write(spread(30, days=5), [])
    store.entries()
    built.clear()
    reader = TinyStore(root, readonly=True)
    assert len(reader.entries()) == 30
    assert not [k for k in built if not k.startswith("read")]  # all from the files
    built.clear()
    assert len(reader.entries()) == 30
    assert not built
    store.write([item(100, published=T0 - timedelta(days=2))], [])
    assert ids(reader.entries()) == ids(store.entries())
    assert built == Counter({"id100": 1, "read 2026-11-23": 1})
    reader.close()


def test_reader_sees_the_writers_commits(root: Path, store: TinyStore) -> None:
    reader = TinyStore(root, readonly=True)
    assert reader.entries() == []
    store.write([item(1)], [])
    assert ids(reader.entries()) == ["id1"]
    store.write([item(2, published=T0 + timedelta(hours=1)), item(1, source="b")], [])
    got = reader.entries()
    assert ids(got) == ["id2", "id1"]
    assert got[1].sources == ("a", "b")
    assert got == store.entries()
    reader.close()


def test_reader_keeps_its_view_while_a_write_is_under_way(
    root: Path, store: TinyStore, monkeypatch: pytest.MonkeyPatch, built: Counter[str]
) -> None:
    store.write([item(1), item(2)], [])
    reader = TinyStore(root, readonly=True)
    assert ids(reader.entries()) == ["id2", "id1"]
    reached, go = threading.Event(), threading.Event()
    real_save = TinyStore._save_entries

    def slow_save(self: TinyStore, day: str, entries: entries_module.DayEntries) -> None:
        reached.set()
        assert go.wait(10)
        real_save(self, day, entries)

    monkeypatch.setattr(TinyStore, "_save_entries", slow_save)
    writer = threading.Thread(target=store.write, args=([item(3)], []))
    writer.start()
    try:
        assert reached.wait(10)  # items and text of the day are written, its entries not yet
        built.clear()
        assert ids(reader.entries()) == ["id2", "id1"]  # the last complete view
        assert built == Counter({f"read {DAY}": 1})  # nothing made again
    finally:
        go.set()
        writer.join()
    assert ids(reader.entries()) == ["id3", "id2", "id1"]
    reader.close()


# --- entry files that do not match -------------------------------------------------------


def test_missing_entry_file_is_rebuilt(root: Path) -> None:
    with TinyStore(root) as s:
        s.write(spread(9), [])
        want = s.entries()
    entry_file(root).unlink()
    with TinyStore(root, readonly=True) as s:
        assert s.entries() == want
    assert not entry_file(root).exists()  # readers never write
    with TinyStore(root) as s:
        assert entry_file(root).exists()  # made at open
        assert s.entries() == want


def test_stale_entry_file_is_rebuilt(root: Path, built: Counter[str]) -> None:
    with TinyStore(root) as s:
        s.write([item(1)], [])
        old = entry_file(root).read_bytes()
        s.write([item(2), item(1, source="b")], [])
        want = s.entries()
    entry_file(root).write_bytes(old)  # newer than the day's files, but made from others
    built.clear()
    for readonly in (True, False):
        with TinyStore(root, readonly=readonly) as s:
            assert s.entries() == want
    assert built["id1"] == 2 and built["id2"] == 2  # the reader, then the writer made them
    assert entry_file(root).read_bytes() != old  # the writer saved them
    built.clear()
    with TinyStore(root, readonly=True) as s:
        assert s.entries() == want
    assert built == Counter({f"read {DAY}": 1})


def test_entry_file_older_than_its_day_is_rebuilt_at_open(root: Path) -> None:
    """A writer killed between a day's items and its entries."""
    with TinyStore(root) as s:
        s.write([item(1)], [])
        old = entry_file(root).read_bytes()
        s.write([item(2)], [])
        want = s.entries()
    entry_file(root).write_bytes(old)
    made = entry_file(root).stat().st_mtime_ns
    os.utime(root / ITEMS / f"{DAY}.json", ns=(made + 10**9, made + 10**9))
    with TinyStore(root) as s:
        assert entry_file(root).read_bytes() != old
        assert s.entries() == want


def test_corrupt_entry_file_is_rebuilt(root: Path) -> None:
    with TinyStore(root) as s:
        s.write(spread(9), [])
        want = s.entries()
    for junk in (b"", b"\x93\xa1x", b"not msgpack at all"):
        entry_file(root).write_bytes(junk)
        with TinyStore(root, readonly=True) as s:
            assert s.entries() == want
        with TinyStore(root) as s:
            assert s.entries() == want
        with TinyStore(root, readonly=True) as s:
            assert s.entries() == want


def test_entry_files_of_another_format_are_rebuilt(
    root: Path, monkeypatch: pytest.MonkeyPatch, built: Counter[str]
) -> None:
    with TinyStore(root) as s:
        s.write([item(1)], [])
        want = s.entries()
    monkeypatch.setattr(entries_module, "ENTRY_FORMAT", "another")
    built.clear()
    with TinyStore(root) as s:
        assert s.entries() == want
    assert built["id1"] == 1


def _same_answers(index: EntryIndex, entries: list[Entry]) -> None:
    assert index.entries == entries
    for text in ("title", "text", '"text 3"', "-title OR lang:fr", "source:a", "since:2d"):
        q = parse_query(text)
        assert index.rows(q.select(index, T0)) == filter_entries(entries, q, T0), text


def test_entry_index_is_the_entries_with_their_index(root: Path, store: TinyStore) -> None:
    store.write(spread(30, days=5), [])
    store.write([item(1, published=T0 - timedelta(days=9))], [])  # a moved item: one row
    reader = TinyStore(root, readonly=True)
    for s in (store, reader):
        index = s.entry_index()
        _same_answers(index, s.entries())
        assert ids(index.rows(parse_query("title").select(index, T0))).count("id1") == 1
    reader.close()


def test_entry_files_without_an_index_get_one(root: Path, built: Counter[str]) -> None:
    """Entry files written before indexes (4 fields), or with a broken index: the rows are
    kept (no item is made again) and the index is made from them, then saved."""
    with TinyStore(root) as s:
        s.write(spread(9, days=1), [])
        want = s.entries()
    head = entries_module._ENTRY_FILE.decode(entry_file(root).read_bytes())
    for index in (None, msgspec.Raw(b"\x93\x01\x02\x03"), msgspec.Raw(b"\xc4\x01x")):
        fields = [head.format, head.items, head.text, head.rows]
        entry_file(root).write_bytes(msgspec.msgpack.encode([*fields, index] if index else fields))
        built.clear()
        with TinyStore(root, readonly=True) as s:
            _same_answers(s.entry_index(), want)
        with TinyStore(root) as s:
            _same_answers(s.entry_index(), want)
        assert not [k for k in built if not k.startswith("read")]
        saved = entries_module._ENTRY_FILE.decode(entry_file(root).read_bytes())
        assert sum(p.size for p in decode_parts(saved.index)) == len(want)


def test_a_big_day_is_indexed_in_parts(
    root: Path, built: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day of more than `CHUNK` entries is saved as several parts, and an entry file of
    one part (as written before parts) is read as it is: no rows or index made again."""
    monkeypatch.setattr(index_module, "CHUNK", 4)
    with TinyStore(root) as s:
        s.write(spread(10, days=1), [])
        want = s.entries()
    head = entries_module._ENTRY_FILE.decode(entry_file(root).read_bytes())
    assert [p.size for p in decode_parts(head.index)] == [4, 4, 2]
    with TinyStore(root, readonly=True) as s:
        _same_answers(s.entry_index(), want)
    one = msgspec.Raw(Part.build(want).encode())
    entry_file(root).write_bytes(
        msgspec.msgpack.encode([head.format, head.items, head.text, head.rows, one])
    )
    built.clear()
    with TinyStore(root) as s:
        index = s.entry_index()
        _same_answers(index, want)
        assert [p.size for p in index.parts] == [10]
    assert not [k for k in built if not k.startswith("read")]
    assert entry_file(root).read_bytes().endswith(one)  # not written again


def test_store_without_entry_files(root: Path) -> None:
    """A store written before entry files existed."""
    with TinyStore(root) as s:
        s.write(spread(12, days=4), [])
        want = s.entries()
    for path in (root / ENTRIES).iterdir():
        path.unlink()
    (root / ENTRIES).rmdir()
    with TinyStore(root, readonly=True) as s:
        assert s.entries() == want
    assert not (root / ENTRIES).exists()
    with TinyStore(root) as s:
        assert len(list((root / ENTRIES).iterdir())) == 4
    with TinyStore(root, readonly=True) as s:
        assert s.entries() == want


def test_entries_follow_a_text_written_without_its_item(
    root: Path, store: TinyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that stopped between a day's text and its items."""
    store.write([item(1)], [])
    assert [e.has_text for e in store.entries()] == [False]
    real = files.write_atomic

    def no_items(path: Path, data: bytes, **kw: bool) -> None:
        if path.parent.name == ITEMS:
            raise OSError(28, "No space left on device")
        real(path, data, **kw)

    monkeypatch.setattr(files, "write_atomic", no_items)
    with pytest.raises(StoreError):
        store.write([item(1, text="the whole article")], [])
    monkeypatch.setattr(files, "write_atomic", real)
    assert (root / TEXTS / f"{DAY}.json").exists()
    for s in (store, TinyStore(root, readonly=True)):
        stored = s.get("id1")
        assert stored is not None
        [entry] = s.entries()
        assert entry.has_text == (stored.text is not None)
        assert entry == expected(stored)


def test_corrupt_items_file_drops_its_entries_until_the_writer_saves_them(root: Path) -> None:
    with TinyStore(root) as s:
        s.write([item(1), item(2, published=T0 - timedelta(days=1))], [])
    (root / ITEMS / f"{DAY}.json").write_text("{broken")
    with TinyStore(root, readonly=True) as s:
        assert ids(s.entries()) == ["id2"]
    with TinyStore(root) as s:  # id1 made again from the entry file
        assert ids(s.entries()) == ["id1", "id2"]
        assert len(s.entries()) == s.count()
        s.write([item(1)], [])
        assert ids(s.entries()) == ["id1", "id2"]
    (root / ITEMS / f"{DAY}.json").write_text("{broken")
    (root / ENTRIES / f"{DAY}.msgpack").unlink()
    with TinyStore(root) as s:  # nothing to save it from: forgotten, back when polled
        assert ids(s.entries()) == ["id2"]
        assert len(s.entries()) == s.count()
        s.write([item(1)], [])
        assert ids(s.entries()) == ["id1", "id2"]


# --- failures ----------------------------------------------------------------------------


def fail_once(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    real = getattr(TinyStore, name)

    def failing(self: TinyStore, *args: object) -> None:
        monkeypatch.setattr(TinyStore, name, real)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(TinyStore, name, failing)


def test_failed_entry_write_leaves_consistent_entries(
    root: Path, store: TinyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write([item(1)], [])
    assert ids(store.entries()) == ["id1"]
    fail_once(monkeypatch, "_save_entries")
    with pytest.raises(StoreError, match="No space"):
        store.write([item(2)], [])
    got = store.entries()
    assert ids(got) == [it.id for it in store.items()]
    store.write([item(3)], [])
    assert ids(store.entries()) == [it.id for it in store.items()]
    assert "id3" in ids(store.entries())
    store.close()
    with TinyStore(root, readonly=True) as s:
        assert ids(s.entries()) == [it.id for it in s.items()]


def test_index_reload_keeps_entries_right(root: Path, store: TinyStore) -> None:
    store.write([item(1), item(2, published=T0 - timedelta(days=1))], [])
    reader = TinyStore(root, readonly=True)
    assert ids(reader.entries()) == ["id1", "id2"]
    store.write([item(1, published=T0 - timedelta(days=2))], [])
    index = root / INDEX
    data = index.read_bytes()
    index.write_bytes(b"")  # shorter than the reader read: it loads it again, and with
    assert reader.count() == 2  # no line there, it indexes the day files itself
    index.write_bytes(data)
    assert ids(reader.entries()) == ["id2", "id1"]
    reader.close()


# --- kill -9 -----------------------------------------------------------------------------


def consistent(store: TinyStore) -> None:
    """Entries say what the day files say: one per item, each made from the stored item."""
    stored = list(store.items())
    assert store.entries() == [expected(it) for it in stored]


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_kill_while_writing_keeps_entries_true(tmp_path: Path) -> None:
    """Kills land between a day's items and its entries in about a third of the rounds."""
    root = tmp_path / "monitor.db"
    rng = random.Random(20261126)
    with TinyStore(root) as s:
        s.write([kill.make(f"base-{k}", k % 5, text="base text") for k in range(kill.BASELINE)], [])
    killed_in_writes = 0
    for r in range(12):
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                kill.CHILD,
                str(kill.REPO),
                str(root),
                str(r),
                "60",
                str(kill.BASELINE),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stderr is not None
        line = child.stdout.readline()
        assert line == "ready\n", child.stderr.read()
        seen = "".join(child.stdout.readline() for _ in range(rng.randint(0, 2)))
        time.sleep(rng.uniform(0, 0.15))  # after some batches: a slow machine still hits writes
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, err
        killed_in_writes += any(x.isdigit() for x in (seen + out).split())
        with TinyStore(root, readonly=True) as reader:
            consistent(reader)
        with TinyStore(root) as writer:
            consistent(writer)
    assert killed_in_writes >= 6
