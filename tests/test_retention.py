"""Retention in the store: `drop_before` at a day boundary, what it keeps, the text index,
readers following it, and a kill at every step of it."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.core.entries import doc_key
from monitor.core.query_syntax import parse
from monitor.io import fts
from monitor.io.tinystore import ENTRIES, INDEX, TEXTS, TinyStore, retention
from monitor.io.tinystore import ITEMS as ITEM_FILES
from monitor.model import Item
from tests.support.memstore import MemoryStore

REPO = Path(__file__).resolve().parents[1]
CUT = "2026-06-01"  # items published before this UTC day go


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make(name: str, published: str, word: str, text: str | None = None) -> Item:
    url = f"https://example.com/{name}"
    return Item(
        id=name,
        title=f"{word} title of {name}",
        url=url,
        sources=("a",),
        published=at(published),
        published_raw=None,
        date_flag=None,
        language="en",
        summary=f"summary of {name}",
        first_seen=at(published),
        keys=(f"u:{url}",),
        text=text,
    )


STORED = [
    make("last-second", "2026-05-31T23:59:59", "aardvark", text="the text of the last second"),
    make("first-second", "2026-06-01T00:00:00", "baobab", text="the text of the first second"),
    make("starred", "2026-05-10T12:00:00", "caracal", text="a starred text"),
    make("plain", "2026-05-10T13:00:00", "dugong", text="a plain text"),
    make("noted", "2026-04-02T08:00:00", "echidna"),
    make("old", "2026-04-02T09:00:00", "fossa", text="an old text"),
    make("recent", "2026-06-20T10:00:00", "gerenuk"),
]
KEEP = frozenset({"starred", "noted"})  # as Triage.protected() gives them
DROPPED = {"last-second", "plain", "old"}
LEFT = {it.id for it in STORED} - DROPPED


def ids(store: TinyStore) -> list[str]:
    return [it.id for it in store.items()]


def files(root: Path, sub: str) -> set[str]:
    return {p.name.split(".")[0] for p in (root / sub).iterdir() if not p.name.startswith(".")}


def indexed(store: TinyStore, timeout: float = 30) -> fts.TextIndex:
    """The store's text index, once it covers every day (the writer's repair at open
    done)."""
    store._indexer.wait(timeout)
    deadline = time.monotonic() + timeout
    while (found := store.text_search()) is None:
        assert time.monotonic() < deadline, "the text index was never complete"
        time.sleep(0.02)
    assert isinstance(found, fts.TextIndex)
    return found


def finds(index: fts.TextIndex, word: str) -> set[int]:
    node = parse(word)
    assert node is not None
    keys = index.keys(node)
    assert keys is not None
    return set(keys.tolist())


def check(store: TinyStore) -> None:
    """The store after the drop: what is left, each once, whole, in every view."""
    assert sorted(ids(store)) == sorted(LEFT)
    assert Counter(ids(store)) == Counter(LEFT)
    assert store.count() == len(LEFT)
    assert sorted(e.id for e in store.entries()) == sorted(LEFT)
    assert sorted(e.id for e in store.entry_index().entries) == sorted(LEFT)
    for name in DROPPED:
        assert store.get(name) is None
    starred = store.get("starred")
    assert starred is not None and starred.text == "a starred text"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.db"
    with TinyStore(path) as store:
        store.write(STORED, [])
    return path


def test_drop_before_a_day_boundary(root: Path) -> None:
    with TinyStore(root) as store:
        assert store.drop_before(CUT, KEEP) == 3
        check(store)
        size = (root / INDEX).stat().st_size
        assert store.drop_before(CUT, KEEP) == 0  # nothing more: nothing written
        assert (root / INDEX).stat().st_size == size
    # the day of the last second, wholly dropped, is gone; the kept items' days remain
    assert files(root, ITEM_FILES) == {"2026-04-02", "2026-05-10", "2026-06-01", "2026-06-20"}
    assert files(root, TEXTS) == {"2026-04-02", "2026-05-10", "2026-06-01"}
    assert files(root, ENTRIES) == files(root, ITEM_FILES)
    text = (root / TEXTS / "2026-05-10.json").read_text(encoding="utf-8")
    assert "a starred text" in text and "a plain text" not in text
    assert "an old text" not in (root / TEXTS / "2026-04-02.json").read_text(encoding="utf-8")
    assert '{"drop":"plain"}' in (root / INDEX).read_text(encoding="utf-8")
    with TinyStore(root, readonly=True) as reader:
        check(reader)
    with TinyStore(root) as store:
        check(store)
        assert store.write([STORED[3]], []) == ["new"]  # a feed that lists it again
        assert store.get("plain") is not None


def test_keeps_everything_kept(root: Path) -> None:
    everything = frozenset(it.id for it in STORED)
    with TinyStore(root) as store:
        assert store.drop_before(CUT, everything) == 0
        assert store.count() == len(STORED)
        assert store.drop_before("2026-01-01", frozenset()) == 0  # nothing that old


def test_the_text_index_follows(root: Path) -> None:
    with TinyStore(root) as store:
        index = indexed(store)
        assert finds(index, "dugong") == {doc_key("plain")}
        assert store.drop_before(CUT, KEEP) == 3
        index = indexed(store)
        for word in ("aardvark", "dugong", "fossa"):  # a removed day's, a rewritten day's
            assert finds(index, word) == set(), word
        assert finds(index, "caracal") == {doc_key("starred")}
        assert finds(index, "echidna") == {doc_key("noted")}
    with TinyStore(root) as store:  # the days as the index recorded them: nothing stale
        index = indexed(store)
        assert finds(index, "aardvark") == set() and finds(index, "baobab")


def test_the_text_index_repairs_itself_from_the_days(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the index missed the drop (it failed, or the writer died after the commit),
    the next writer finds the removed day gone and the rewritten days changed."""
    with TinyStore(root) as store:
        indexed(store)
        monkeypatch.setattr(fts.TextIndex, "drop", lambda self, ids: True)  # as if it died
        monkeypatch.setattr(fts.TextIndex, "restamp", lambda self, stamps: None)
        assert store.drop_before(CUT, KEEP) == 3
        assert finds(indexed(store), "dugong") == {doc_key("plain")}  # missed
    monkeypatch.undo()
    with TinyStore(root) as store:
        index = indexed(store)
        for word in ("aardvark", "dugong", "fossa"):
            assert finds(index, word) == set(), word
        assert finds(index, "caracal") == {doc_key("starred")}
    db = sqlite3.connect(root / fts.FILE)
    try:
        days = {row[0] for row in db.execute("SELECT day FROM days")}
        docs = {row[0] for row in db.execute("SELECT id FROM docs")}
    finally:
        db.close()
    assert "2026-05-31" not in days
    assert docs == LEFT


def test_a_reader_follows_the_writer(root: Path) -> None:
    with TinyStore(root) as store, TinyStore(root, readonly=True) as reader:
        indexed(store)
        assert len(reader.entries()) == len(STORED)
        assert reader.get("plain") is not None
        assert store.drop_before(CUT, KEEP) == 3
        check(reader)
        assert reader.text_search() is not None
        assert finds(reader.text_search(), "dugong") == set()  # type: ignore[arg-type]


def test_a_reader_that_opens_during_a_drop(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that opens between the drop lines and the commit line sees the items
    still in their files, then follows the commit."""
    appended, resume = threading.Event(), threading.Event()
    real = retention._remove_days

    def slow(root: Path, days: Iterable[str]) -> None:
        appended.set()
        resume.wait(10)
        real(root, days)

    monkeypatch.setattr(retention, "_remove_days", slow)
    with TinyStore(root) as store:
        writer = threading.Thread(target=store.drop_before, args=(CUT, KEEP))
        writer.start()
        try:
            assert appended.wait(10)
            with TinyStore(root, readonly=True) as reader:
                assert reader.count() == len(STORED)  # not removed yet: undone in its view
                assert reader.get("plain") is not None
                resume.set()
                writer.join(10)
                check(reader)  # the commit line confirms the drops
        finally:
            resume.set()
            writer.join(10)


def test_an_unfinished_drop_is_undone_at_open(root: Path) -> None:
    """Drop lines with no commit and the day files untouched: the items are still there,
    so the drop is undone (the next pass drops them again)."""
    with open(root / INDEX, "a", encoding="utf-8") as f:
        f.write('{"drop":"plain"}\n{"drop":"old"}\n')
    with TinyStore(root, readonly=True) as reader:
        assert reader.count() == len(STORED)
        assert reader.get("plain") is not None
    with TinyStore(root) as store:
        assert store.count() == len(STORED)
        got = store.get("plain")
        assert got is not None and got.text == "a plain text"
        assert store.drop_before(CUT, KEEP) == 3
        check(store)


def test_memory_store_drops_the_same() -> None:
    store = MemoryStore(STORED)
    assert store.drop_before(CUT, KEEP) == 3
    assert sorted(e.id for e in store.entries()) == sorted(LEFT)


# --- a kill at every step ---------------------------------------------------------------------

CHILD = """
import os, signal, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from monitor.io import fts
from monitor.io.tinystore import TinyStore, entries, files, idlog, retention

root, kill_at = Path(sys.argv[2]), int(sys.argv[3])
steps = 0

def step():
    global steps
    steps += 1
    if steps == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

def after(owner, name):
    real = getattr(owner, name)
    def wrapped(*args, **kw):
        out = real(*args, **kw)
        step()
        return out
    setattr(owner, name, wrapped)

real_unlink = os.unlink
def unlink(path, *args, **kw):
    real_unlink(path, *args, **kw)
    if str(path).startswith(str(root)):
        step()
os.unlink = unlink
after(idlog.IdLog, "append")   # the drop lines, the commit line
after(retention, "fsync_dir")  # each folder of the removed days
after(files, "write_atomic")   # a rewritten day's items and text files
after(entries, "write_atomic") # its entry file
after(fts.TextIndex, "drop")
after(fts.TextIndex, "restamp")
store = TinyStore(root)
steps = 0  # opening writes too: count from the drop on
kept = frozenset(sys.argv[4].split(","))
print(store.drop_before(sys.argv[5], kept), steps, flush=True)
store.close()
"""


def run_child(root: Path, kill_at: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(REPO), str(root), str(kill_at), ",".join(KEEP), CUT],
        capture_output=True,
        text=True,
        timeout=60,
    )


def whole_or_absent(store: TinyStore) -> None:
    """Every item is stored whole (with its text) or not at all; kept ones are stored."""
    seen = ids(store)
    assert not [n for n, c in Counter(seen).items() if c > 1], seen
    assert store.count() == len(seen)
    assert sorted(e.id for e in store.entries()) == sorted(seen)
    assert set(seen) >= LEFT
    for it in STORED:
        got = store.get(it.id)
        assert (got is not None) == (it.id in seen), it.id
        if got is not None:
            assert got.text == it.text, it.id


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_kill_between_any_two_steps(root: Path, tmp_path: Path) -> None:
    whole = run_child(shutil.copytree(root, tmp_path / "count"), 10**6)
    assert whole.returncode == 0, whole.stderr
    dropped, steps = map(int, whole.stdout.split())
    assert dropped == 3 and steps >= 8
    for kill_at in range(1, steps + 1):
        copy = shutil.copytree(root, tmp_path / f"kill-{kill_at}")
        done = run_child(copy, kill_at)
        assert done.returncode == -signal.SIGKILL, (kill_at, done.stdout, done.stderr)
        with TinyStore(copy, readonly=True) as reader:  # before the writer's repair
            whole_or_absent(reader)
        with TinyStore(copy) as store:
            whole_or_absent(store)
            store.drop_before(CUT, KEEP)  # the next pass finishes the job
            check(store)
            index = indexed(store)
            assert not finds(index, "dugong") and not finds(index, "aardvark")
        with TinyStore(copy) as store:
            check(store)
        leftovers = {name for sub in (TEXTS, ENTRIES) for name in files(copy, sub)}
        assert leftovers <= files(copy, ITEM_FILES), (kill_at, leftovers)
        text = (copy / TEXTS / "2026-05-10.json").read_text(encoding="utf-8")
        assert "a plain text" not in text, kill_at
        assert not [p for p in os.listdir(copy) if p.endswith(".tmp")]
