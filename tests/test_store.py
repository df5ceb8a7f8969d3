"""TinyStore: day partitions, the writer lock and recovery from bad files (what every
backend does, identity merges among it, is in test_store_contract.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from monitor.io.backends import open_store
from monitor.io.store import StoreError, StoreLocked
from monitor.io.tinystore import (
    CACHE_DAYS,
    INDEX,
    ITEMS,
    META,
    OWNER,
    TEXTS,
    TinyStore,
    days,
    files,
)
from monitor.model import SourceState
from tests.support.store import T0, item

REPO = Path(__file__).resolve().parents[1]


def ids(store: TinyStore, **kw: datetime) -> list[str]:
    return [it.id for it in store.items(**kw)]


def day_file(root: Path, day: str, sub: str = ITEMS) -> Path:
    return root / sub / f"{day}.json"


def stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_ino, st.st_mtime_ns


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "monitor.db"


@pytest.fixture
def store(root: Path) -> Iterator[TinyStore]:
    s = TinyStore(root)
    yield s
    s.close()


# --- round trip and merges ---------------------------------------------------------------


def test_text_kept_apart_and_merged_back(root: Path, store: TinyStore) -> None:
    store.write([item(1, text="full text")], [])
    stored = json.loads(day_file(root, "2026-11-25").read_text())
    assert "full text" not in json.dumps(stored)
    assert "full text" in day_file(root, "2026-11-25", TEXTS).read_text()
    assert [it.text for it in store.items()] == ["full text"]
    # text arriving later for a stored item
    store.write([item(2)], [])
    assert store.write([item(2, text="later")], []) == ["updated"]
    got = store.get("id2")
    assert got is not None
    assert got.text == "later"


# --- days --------------------------------------------------------------------------------


def test_days_are_files(root: Path, store: TinyStore) -> None:
    store.write([item(1), item(2, published=T0 - timedelta(days=1))], [])
    assert sorted(p.name for p in (root / ITEMS).iterdir()) == [
        "2026-11-24.json",
        "2026-11-25.json",
    ]
    assert (root / INDEX).exists()
    assert json.loads((root / META).read_text())["info"] == {"1": {"schema": 1}}


def test_untouched_days_are_not_rewritten(root: Path, store: TinyStore) -> None:
    old, new = "2026-11-20", "2026-11-25"
    store.write([item(1, published=T0 - timedelta(days=5), text="x"), item(2)], [])
    before_old = stamp(day_file(root, old)), stamp(day_file(root, old, TEXTS))
    before_new = stamp(day_file(root, new))
    store.write([item(3)], [])
    assert (stamp(day_file(root, old)), stamp(day_file(root, old, TEXTS))) == before_old
    assert stamp(day_file(root, new)) != before_new


def test_unchanged_write_writes_nothing(root: Path, store: TinyStore) -> None:
    state = SourceState("a", "https://a", etag="1")
    store.write([item(1), item(2, published=T0 - timedelta(days=1))], [state])
    files = [p for p in root.rglob("*") if p.is_file()]
    before = {p: (stamp(p), p.stat().st_size) for p in files}
    assert store.write([item(1), item(2, published=T0 - timedelta(days=1))], [state]) == [
        "unchanged",
        "unchanged",
    ]
    assert {p: (stamp(p), p.stat().st_size) for p in files} == before
    assert sorted(p for p in root.rglob("*") if p.is_file()) == sorted(files)


def test_item_moves_when_its_date_changes(root: Path, store: TinyStore) -> None:
    seen = T0 - timedelta(days=3)
    undated = item(1, published=seen, date_flag="missing", seen=seen)
    assert store.write([undated], []) == ["new"]
    # seen again later, still undated: found through the index, nothing changes
    later = item(1, published=T0, date_flag="missing", seen=T0)
    assert store.write([later], []) == ["unchanged"]
    # now with a real date in another day
    dated = item(1, published=T0 - timedelta(days=1), seen=T0)
    assert store.write([dated], []) == ["updated"]
    got = store.get("id1")
    assert got is not None
    assert got.published == T0 - timedelta(days=1)
    assert got.date_flag is None
    assert ids(store) == ["id1"]
    assert store.count() == 1
    with TinyStore(root, readonly=True) as reader:
        assert ids(reader) == ["id1"]
    # the copy left in the old day is removed the next time that day is written
    old_day = day_file(root, "2026-11-22")
    assert "id1" in old_day.read_text()
    store.write([item(2, published=seen)], [])
    assert "id1" not in old_day.read_text()
    assert ids(store) == ["id1", "id2"]


def test_move_within_one_batch(store: TinyStore) -> None:
    a = item(1, published=T0, date_flag="missing")
    b = item(1, published=T0 - timedelta(days=2), source="b")
    assert store.write([a, b], []) == ["new", "updated"]
    assert ids(store) == ["id1"]
    got = store.get("id1")
    assert got is not None
    assert got.published == T0 - timedelta(days=2)


def test_recent_days_stay_in_memory(store: TinyStore) -> None:
    for d in range(CACHE_DAYS + 4):
        store.write([item(d, published=T0 - timedelta(days=d))], [])
    assert len(store._days) <= CACHE_DAYS
    assert "2026-11-25" not in store._days
    assert store.count() == CACHE_DAYS + 4


def test_a_poll_reads_each_day_it_touches_once(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spread = CACHE_DAYS + 1  # more days than the cache holds, listed round and round
    batch = [item(n, published=T0 - timedelta(days=n % spread), title=f"t{n}") for n in range(90)]
    with TinyStore(root) as s:
        s.write(batch, [])
    loads: Counter[str] = Counter()
    real = files.FileStorage._load

    def counted(self: files.FileStorage) -> object:
        loads[f"{self.path.parent.name}/{self.path.name}"] += 1
        return real(self)

    monkeypatch.setattr(files.FileStorage, "_load", counted)
    with TinyStore(root) as s:
        loads.clear()
        assert s.write(batch, []) == ["unchanged"] * 90  # a re-poll: nothing new
    assert loads and max(loads.values()) == 1, loads


# --- lock and modes ------------------------------------------------------------------------


_TRY_OPEN = """
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from monitor.io.store import StoreLocked
from monitor.io.tinystore import TinyStore

t0 = time.monotonic()
try:
    TinyStore(Path(sys.argv[2]), readonly=sys.argv[3] == "ro").close()
except StoreLocked as exc:
    print(f"{time.monotonic() - t0:.3f}")
    print(exc)
else:
    print("opened")
"""


def _try_open(root: Path, mode: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _TRY_OPEN, str(REPO), str(root), mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return proc.stdout.splitlines()


def test_second_writer_is_refused_at_once(root: Path, store: TinyStore) -> None:
    store.write([item(1)], [])
    seconds, message = _try_open(root, "rw")
    assert float(seconds) < 1.0
    assert f"store {root} is in use by pid {os.getpid()} (" in message
    assert "since " in message and message.endswith(" UTC)")
    # readers never need the lock
    assert _try_open(root, "ro") == ["opened"]
    # in the same process too
    with pytest.raises(StoreLocked, match=f"pid {os.getpid()}"):
        TinyStore(root)


def test_close_releases_the_lock(root: Path) -> None:
    TinyStore(root).close()
    assert not (root / OWNER).exists()
    assert _try_open(root, "rw") == ["opened"]
    TinyStore(root).close()


def test_readonly_refuses_writes_and_follows_the_writer(root: Path, store: TinyStore) -> None:
    store.write([item(1)], [SourceState("a", "https://a")])
    with TinyStore(root, readonly=True) as reader:
        with pytest.raises(StoreError, match="read-only"):
            reader.write([item(2)], [])
        assert reader.count() == 1
        store.write([item(2), item(1, source="b")], [SourceState("b", "https://b")])
        assert reader.count() == 2
        assert ids(reader) == ["id2", "id1"]
        got = reader.get("id1")
        assert got is not None
        assert got.sources == ("a", "b")
        assert set(reader.states()) == {"a", "b"}


def test_readonly_of_a_missing_store_is_empty(tmp_path: Path) -> None:
    with TinyStore(tmp_path / "nothing", readonly=True) as reader:
        assert reader.count() == 0
        assert list(reader.items()) == []
        assert reader.states() == {}
    assert not (tmp_path / "nothing").exists()


def test_open_store_and_closed_store(root: Path) -> None:
    s = open_store(root)
    assert isinstance(s, TinyStore)
    s.close()
    s.close()  # twice is fine
    with pytest.raises(StoreError, match="closed"):
        s.count()


def test_refuses_a_folder_that_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a monitor store"):
        TinyStore(tmp_path)
    with pytest.raises(StoreError, match="not a directory"):
        TinyStore(tmp_path / "notes.txt")


def test_newer_schema_is_refused(root: Path) -> None:
    TinyStore(root).close()
    meta = json.loads((root / META).read_text())
    meta["info"]["1"]["schema"] = 2
    (root / META).write_text(json.dumps(meta))
    for readonly in (False, True):
        with pytest.raises(StoreError, match="schema 2"):
            TinyStore(root, readonly=readonly)
    # the refused writer left the lock free
    assert not (root / OWNER).exists()


# --- recovery ------------------------------------------------------------------------------


def test_torn_index_line_is_ignored(root: Path) -> None:
    with TinyStore(root) as s:
        s.write([item(1), item(2)], [])
    with open(root / INDEX, "ab") as f:
        f.write(b'{"id":"id3","day":"2026-1')
    with TinyStore(root, readonly=True) as reader:
        assert reader.count() == 2
    with TinyStore(root) as s:
        assert s.count() == 2
        assert (root / INDEX).read_bytes().endswith(b"\n")
        assert s.write([item(3)], []) == ["new"]
    with TinyStore(root) as s:
        assert s.count() == 3
        assert sorted(ids(s)) == ["id1", "id2", "id3"]


def test_index_entry_without_its_item_reinserts_once(root: Path) -> None:
    with TinyStore(root) as s:
        s.write([item(1)], [])
    # a committed index entry for an item its day does not hold
    line = {"id": "id5", "day": "2026-11-20", "keys": ["u:https://example.com/5"]}
    with open(root / INDEX, "a") as f:
        f.write(json.dumps(line) + "\n" + json.dumps({"commit": "now"}) + "\n")
    with TinyStore(root) as s:
        assert s.count() == 2  # the index believes in it
        assert s.get("id5") is None
        assert s.write([item(5)], []) == ["new"]
        assert s.write([item(5, source="b")], []) == ["updated"]
        assert Counter(ids(s)) == {"id1": 1, "id5": 1}
        assert s.count() == 2
    with TinyStore(root) as s:
        assert Counter(ids(s)) == {"id1": 1, "id5": 1}
        got = s.get("id5")
        assert got is not None
        assert got.sources == ("a", "b")


def test_stale_index_key_to_another_id(root: Path) -> None:
    with TinyStore(root) as s:
        s.write([item(1)], [])
    line = {"id": "ghost", "day": "2026-11-25", "keys": ["u:https://example.com/7"]}
    with open(root / INDEX, "a") as f:
        f.write(json.dumps(line) + "\n" + json.dumps({"commit": "now"}) + "\n")
    with TinyStore(root) as s:
        assert s.write([item(7)], []) == ["new"]
        assert s.count() == 2
        assert s.get("ghost") is None
    with TinyStore(root) as s:
        assert s.count() == 2
        assert sorted(ids(s)) == ["id1", "id7"]


def test_unfinished_batch_is_undone_at_open(root: Path) -> None:
    """What a crash after the index append and before the day files leaves behind."""
    with TinyStore(root) as s:
        s.write([item(1, published=T0 - timedelta(days=1))], [])
    lines = [
        {"id": "id2", "day": "2026-11-25", "keys": ["u:https://example.com/2"]},  # new item
        {"id": "id1", "day": "2026-11-25", "keys": []},  # a move
    ]
    with open(root / INDEX, "a") as f:
        f.write("".join(json.dumps(x) + "\n" for x in lines))
    with TinyStore(root, readonly=True) as reader:
        assert reader.count() == 1
        assert ids(reader) == ["id1"]
    with TinyStore(root) as s:
        assert s.count() == 1
        assert ids(s) == ["id1"]
        got = s.get("id1")
        assert got is not None
        assert got.published == T0 - timedelta(days=1)
        assert s.write([item(2)], []) == ["new"]
    with TinyStore(root) as s:
        assert sorted(ids(s)) == ["id1", "id2"]
        assert s.count() == 2


def test_corrupt_day_file_does_not_block_opening(root: Path) -> None:
    with TinyStore(root) as s:
        s.write([item(1), item(2, published=T0 - timedelta(days=1), text="t")], [])
    day_file(root, "2026-11-25").write_text('{"items": {"1": {"id": "id1", "ti')
    day_file(root, "2026-11-24", TEXTS).write_text("garbage")
    stray = root / ITEMS / ".2026-11-25.json.4242.tmp"
    stray.write_text("half a file")
    with TinyStore(root, readonly=True) as reader:
        assert ids(reader) == ["id2"]  # skipped, left as it is
    assert day_file(root, "2026-11-25").exists()
    with TinyStore(root) as s:
        assert not stray.exists()
        assert ids(s) == ["id1", "id2"]  # id1 saved from the day's entry file
        got = s.get("id2")
        assert got is not None and got.text is None
        assert (root / ITEMS / "2026-11-25.json.corrupt").exists()
        assert (root / TEXTS / "2026-11-24.json.corrupt").exists()
        assert s.count() == 2
        assert s.write([item(1)], []) == ["updated"]  # the entry's copy, merged
    with TinyStore(root) as s:
        assert sorted(ids(s)) == ["id1", "id2"]
        assert s.count() == 2


def test_corrupt_meta_does_not_block_opening(root: Path) -> None:
    with TinyStore(root) as s:
        s.write([item(1)], [SourceState("a", "https://a")])
    (root / META).write_text("{")
    with TinyStore(root, readonly=True) as reader:
        assert reader.states() == {}
        assert reader.count() == 1
    with TinyStore(root) as s:
        assert s.states() == {}
        assert s.count() == 1
    assert json.loads((root / META).read_text())["info"] == {"1": {"schema": 1}}


def test_missing_index_is_rebuilt(root: Path) -> None:
    with TinyStore(root) as s:
        s.write([item(n, published=T0 - timedelta(days=n % 3)) for n in range(6)], [])
    (root / INDEX).unlink()
    with TinyStore(root) as s:
        assert s.count() == 6
        assert s.get("id4") is not None
        assert s.write([item(4, source="b")], []) == ["updated"]
        assert Counter(ids(s)) == {f"id{n}": 1 for n in range(6)}


def test_failed_write_leaves_a_usable_store(
    root: Path, store: TinyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.write([item(1)], [SourceState("a", "https://a")])
    real = files.write_atomic

    def full_disk(path: Path, data: bytes, **kw: bool) -> None:
        if path.parent.name == ITEMS:
            raise OSError(28, "No space left on device")
        real(path, data, **kw)

    monkeypatch.setattr(files, "write_atomic", full_disk)
    with pytest.raises(StoreError, match="No space left"):
        store.write([item(2), item(1, source="b")], [SourceState("a", "https://a", etag="2")])
    monkeypatch.setattr(files, "write_atomic", real)
    assert store.count() == 1
    assert store.get("id2") is None
    got = store.get("id1")
    assert got is not None and got.sources == ("a",)
    assert store.states()["a"].etag is None
    assert store.write([item(2), item(1, source="b")], []) == ["new", "updated"]
    assert Counter(ids(store)) == {"id1": 1, "id2": 1}


def test_reader_during_an_unfinished_write(
    root: Path, store: TinyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader that opens between the writer's index append and its commit line."""
    store.write([item(1)], [])
    appended, resume = threading.Event(), threading.Event()
    real = days.Day.flush

    def slow_flush(self: days.Day, keep: Callable[[str], bool]) -> None:
        appended.set()
        resume.wait(10)
        real(self, keep)

    monkeypatch.setattr(days.Day, "flush", slow_flush)
    writer = threading.Thread(target=store.write, args=([item(2), item(3)], []))
    writer.start()
    try:
        assert appended.wait(10)
        with TinyStore(root, readonly=True) as reader:
            assert reader.count() == 1  # not written yet: undone in the reader's view
            resume.set()
            writer.join(10)
            assert reader.count() == 3  # the commit line confirms them
            assert reader.get("id3") is not None
            assert sorted(ids(reader)) == ["id1", "id2", "id3"]
    finally:
        resume.set()
        writer.join(10)


def test_lock_message_ignores_a_dead_owner(root: Path, store: TinyStore) -> None:
    code = "import os; print(os.getpid())"
    dead = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    owner = {"pid": int(dead.stdout), "argv": ["monitor", "poll"], "since": T0.isoformat()}
    (root / OWNER).write_text(json.dumps(owner))
    with pytest.raises(StoreLocked, match="in use by another process"):
        TinyStore(root)


@pytest.mark.parametrize("n", [0, 1, 6, 7, 8, 20])
def test_tables_are_encoded_in_chunks_as_in_one_call(n: int) -> None:
    from monitor.io.tinystore.files import encode_tables

    data = {
        "items": {str(i): {"id": f"é{i}", "keys": ("u:x", ["y"]), "n": None} for i in range(n)},
        "other": {},
    }
    assert encode_tables(data, chunk=7) == msgspec.json.encode(data)
    assert encode_tables({}) == b"{}"
