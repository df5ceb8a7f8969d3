"""A stored record that is valid JSON but not an item (a bad field, no id) is set aside
with its reason; everything else in the store stays usable, from every command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.io.tinystore import ITEMS, QUARANTINE, TinyStore
from tests.support.store import item

DAY = "2026-11-25"


def damage(root: Path) -> None:
    """Three items of one day, then item 2 given a `published` no parser reads and a
    record without an id added: both still valid JSON."""
    with TinyStore(root) as s:
        s.write([item(1), item(2), item(3)], [])
    path = root / ITEMS / f"{DAY}.json"
    data = json.loads(path.read_text())
    docs = data["items"]
    for doc in docs.values():
        if doc["id"] == "id2":
            doc["published"] = "2025-06-03TX0:01:00+00:00"
    docs["99"] = {"title": "no id", "published": "2026-11-25T10:00:00+00:00"}
    path.write_text(json.dumps(data))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "db"


@pytest.mark.parametrize("readonly", [True, False])
def test_a_bad_record_is_set_aside_and_the_rest_is_read(root: Path, readonly: bool) -> None:
    damage(root)
    with TinyStore(root, readonly=readonly) as s:
        assert sorted(it.id for it in s.items()) == ["id1", "id3"]
        assert sorted(e.id for e in s.entry_index().entries) == ["id1", "id3"]
        assert s.get("id2") is None
        assert s.get("id1") is not None
        assert s.quarantined() == 2
    lines = (root / QUARANTINE).read_text().splitlines() if not readonly else []
    if not readonly:  # the writer keeps a copy of each, with why, once
        found = [json.loads(line) for line in lines]
        assert sorted(f["reason"].split(":")[0] for f in found) == ["bad record", "no id"]
        assert {f["file"] for f in found} == {f"{ITEMS}/{DAY}.json"}
        assert any(f["record"].get("title") == "no id" for f in found)
        with TinyStore(root) as s:
            list(s.items())
            assert s.quarantined() == 2
        assert (root / QUARANTINE).read_text().splitlines() == lines


def test_polling_the_item_again_replaces_its_bad_record(root: Path) -> None:
    damage(root)
    with TinyStore(root) as s:
        assert s.write([item(2)], []) == ["updated"]
        got = s.get("id2")
        assert got is not None and got.published == item(2).published
        assert sorted(e.id for e in s.entry_index().entries) == ["id1", "id2", "id3"]
        assert s.quarantined() == 1  # the record without an id is still there


def test_commands_read_around_a_bad_record(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(root)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[storage]\npath = "db"\n', encoding="utf-8")
    assert main(["export", "--config", str(cfg)]) == 0
    out, _ = capsys.readouterr()
    assert sorted(json.loads(line)["id"] for line in out.splitlines()) == ["id1", "id3"]
    assert main(["search", "title", "--config", str(cfg)]) == 0
    out, _ = capsys.readouterr()
    assert "title 1" in out and "title 3" in out
    assert main(["check", "--config", str(cfg)]) == 1
    out, _ = capsys.readouterr()
    assert "2 records set aside" in out


@pytest.mark.anyio
async def test_the_dashboard_starts_and_says_what_was_set_aside(root: Path) -> None:
    from datetime import UTC

    from monitor.tui.widgets.status_bar import status_text
    from tests.support.dashboard import make_app, screen_text, settle

    damage(root)
    store = TinyStore(root)
    app = make_app(store=store)  # type: ignore[arg-type]
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        status = status_text(app.session, "", UTC).plain
        assert ", 2 unreadable records set aside (monitor check)" in status
        assert "title 1" in screen_text(app)
    store.close()


def items_path(root: Path) -> Path:
    return root / ITEMS / f"{DAY}.json"


def three(root: Path) -> None:
    with TinyStore(root) as s:
        s.write([item(1, text="one"), item(2), item(3)], [])


def test_a_truncated_day_file_keeps_its_intact_records(root: Path) -> None:
    three(root)
    raw = items_path(root).read_bytes()
    cut = raw.index(b'"id3"')  # inside the third record: the file ends there
    items_path(root).write_bytes(raw[:cut])
    with TinyStore(root) as s:
        assert sorted(it.id for it in s.items()) == ["id1", "id2", "id3"]
        one = s.get("id1")
        assert one is not None and one.summary == "summary 1" and one.text == "one"
        three_ = s.get("id3")  # from the entry file: what the timeline showed of it
        assert three_ is not None and three_.title == "title 3" and three_.summary == ""
        assert three_.keys == item(3).keys  # from the id index: a new poll merges into it
        assert s.count() == 3
        [words] = s.damage()
        assert "2 read from it, 1 from the day's entry file), 0 lost" in words
        assert s.write([item(3)], []) == ["updated"]
    assert (root / ITEMS / f"{DAY}.json.corrupt").read_bytes() == raw[:cut]


def test_a_garbled_record_is_saved_from_the_entry_file_or_lost(root: Path) -> None:
    three(root)
    raw = bytearray(items_path(root).read_bytes())
    at = raw.index(b'"id2"')
    raw[at : at + 40] = b"\xff\x00garbage\x01" * 4  # inside the second record
    items_path(root).write_bytes(bytes(raw))
    (root / "entries" / f"{DAY}.msgpack").unlink()  # and no entry file to help
    with TinyStore(root) as s:
        assert sorted(it.id for it in s.items()) == ["id1", "id3"]
        assert s.count() == 2  # id2 is forgotten: it returns as new when polled again
        assert (
            "2 items saved (2 read from it, 0 from the day's entry file), 1 lost" in (s.damage()[0])
        )
        assert s.write([item(2)], []) == ["new"]


@pytest.mark.anyio
async def test_the_dashboard_says_a_day_file_was_salvaged(root: Path) -> None:
    from datetime import UTC

    from monitor.tui.widgets.status_bar import status_text
    from tests.support.dashboard import make_app, notes, settle

    three(root)
    items_path(root).write_bytes(items_path(root).read_bytes()[:-40])
    store = TinyStore(root)
    app = make_app(store=store)  # type: ignore[arg-type]
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        assert "1 damaged day file salvaged (monitor check)" in (
            status_text(app.session, "", UTC).plain
        )
        assert any(f"items/{DAY}.json was damaged" in n for n in notes(app))
    store.close()


def test_a_garbage_line_in_the_id_log_is_found_and_the_log_made_again(root: Path) -> None:
    from monitor.io.tinystore import INDEX

    with TinyStore(root) as s:
        for n in (1, 2, 3):
            s.write([item(n)], [])
    log = root / INDEX
    lines = log.read_bytes().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if b'"id2"' in line)
    lines[at] = b"\x00garbage{\n"  # a whole line, in the middle
    log.write_bytes(b"".join(lines))
    with TinyStore(root, readonly=True) as s:  # a reader makes it again in memory
        assert sorted(e.id for e in s.entry_index().entries) == ["id1", "id2", "id3"]
        assert s.get("id2") is not None and s.count() == 3
    with TinyStore(root) as s:  # the writer, on disk
        assert sorted(e.id for e in s.entry_index().entries) == ["id1", "id2", "id3"]
        assert s.count() == 3
        assert s.write([item(2)], []) == ["unchanged"]
    assert b"garbage" not in log.read_bytes()
    assert (root / f"{INDEX}.corrupt").exists()
    with TinyStore(root, readonly=True) as s:
        assert s.count() == 3


def _entry_file(root: Path) -> Path:
    return root / "entries" / f"{DAY}.msgpack"


def test_a_garbled_entry_file_under_a_valid_header_is_made_again(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import msgspec

    from monitor.core.index import decode_parts, encode_parts
    from monitor.io.tinystore.entries import EntryFile

    three(root)
    head = msgspec.msgpack.decode(_entry_file(root).read_bytes(), type=EntryFile)
    # a posting pointing past the part's rows, in a file without a digest (as older ones)
    [part] = decode_parts(head.index)
    rows = part.rows.copy()
    rows[0] = 60_000
    part.rows = rows
    bad = msgspec.structs.replace(head, index=msgspec.Raw(encode_parts([part])), check=b"")
    _entry_file(root).write_bytes(msgspec.msgpack.encode(bad))
    cfg = tmp_path / "config.toml"
    cfg.write_text('[storage]\npath = "db"\n', encoding="utf-8")
    assert main(["search", "title", "--config", str(cfg)]) == 0
    out, _ = capsys.readouterr()
    assert all(f"title {n}" in out for n in (1, 2, 3))
    assert main(["actors", "--config", str(cfg)]) == 0
    capsys.readouterr()
    # a byte of a title garbled: the digest finds it, the writer makes the file again
    raw = _entry_file(root).read_bytes()
    with TinyStore(root) as s:  # rewrites the file the reader found bad
        assert len(s.entry_index().entries) == 3
    raw = _entry_file(root).read_bytes()
    _entry_file(root).write_bytes(raw.replace(b"title 2", b"titlX 2"))
    with TinyStore(root, readonly=True) as s:
        assert sorted(e.title for e in s.entry_index().entries) == [
            "title 1",
            "title 2",
            "title 3",
        ]
    with TinyStore(root) as s:
        s.entry_index()
    assert b"titlX" not in _entry_file(root).read_bytes()


# --- a full disk ---------------------------------------------------------------------------

ENOSPC = OSError(28, "No space left on device")


def test_a_failed_append_leaves_no_torn_line(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from monitor.io.store import StoreError
    from monitor.io.tinystore import INDEX, idlog

    real = os.write
    calls = [0]

    def half_then_full(fd: int, data: bytes | memoryview) -> int:
        calls[0] += 1
        if calls[0] == 1:
            real(fd, bytes(data)[: len(data) // 2])
            raise ENOSPC
        return real(fd, data)

    with TinyStore(root) as s:
        s.write([item(1)], [])
        monkeypatch.setattr(idlog.os, "write", half_then_full)
        with pytest.raises(StoreError, match="No space left"):
            s.write([item(2)], [])
        assert s.write([item(3)], []) == ["new"]  # the disk has room again
        assert s.count() == 2
    monkeypatch.undo()
    import msgspec

    for line in (root / INDEX).read_bytes().splitlines():
        msgspec.json.decode(line)  # every line whole: none glued to a torn one
    with TinyStore(root, readonly=True) as s:
        assert sorted(e.id for e in s.entry_index().entries) == ["id1", "id3"]
        assert s.count() == 2


def test_a_store_that_could_not_recover_tries_again_at_the_next_write(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.io.store import StoreError
    from monitor.io.tinystore import days

    with TinyStore(root) as s:
        s.write([item(1)], [])
        real_flush = days.Table.flush
        real_recover = TinyStore._recover
        monkeypatch.setattr(days.Table, "flush", lambda *a: (_ for _ in ()).throw(ENOSPC))
        monkeypatch.setattr(TinyStore, "_recover", lambda self, **kw: False)
        with pytest.raises(StoreError):
            s.write([item(2)], [])
        with pytest.raises(StoreError, match="cannot recover yet"):
            s.write([item(2)], [])
        monkeypatch.setattr(days.Table, "flush", real_flush)
        monkeypatch.setattr(TinyStore, "_recover", real_recover)
        assert s.write([item(2)], []) == ["new"]  # room again: it recovers and writes
        assert s.count() == 2


def test_a_full_disk_at_open_costs_only_what_is_derived(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.io.tinystore import entries, lock

    three(root)
    (root / "entries" / f"{DAY}.msgpack").unlink()  # to be made again at open

    def full(*args: object, **kw: object) -> None:
        raise ENOSPC

    monkeypatch.setattr(lock, "write_atomic", full)  # owner.json
    monkeypatch.setattr(entries, "write_atomic", full)  # the entry file
    with TinyStore(root) as s:
        assert len(s.entry_index().entries) == 3


def test_a_store_that_cannot_be_written_opens_read_only_in_the_dashboard(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.io.backends import open_store
    from monitor.io.store import StoreUnwritable
    from monitor.io.tinystore import lock
    from monitor.tui.app import lock_notice

    three(root)

    def read_only_fs(self: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(lock.FileLock, "acquire", read_only_fs)
    with pytest.raises(StoreUnwritable) as raised:
        open_store(root)
    assert lock_notice(str(raised.value)) == (
        f"read-only: cannot lock store {root}: Read-only file system; polling disabled"
    )
    with TinyStore(root, readonly=True) as s:
        assert s.count() == 3


@pytest.mark.anyio
async def test_a_watch_reports_a_failed_write_and_keeps_going(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.io.session import Session
    from monitor.io.tinystore import days
    from tests.support.dashboard import FakePoll
    from tests.support.items import settings

    real_flush = days.Table.flush
    failed = [False]

    def flush_once_full(self: days.Table, keep: object) -> None:
        if not failed[0]:
            failed[0] = True
            raise ENOSPC
        real_flush(self, keep)  # type: ignore[arg-type]

    monkeypatch.setattr(days.Table, "flush", flush_once_full)
    ended: list[str | None] = []
    store = TinyStore(root)

    def listen(event: object) -> None:
        from monitor.io.events import PollEnded

        if isinstance(event, PollEnded):
            ended.append(event.failure)

    async def no_sleep(seconds: float) -> None:
        return None

    poll = FakePoll()

    real_call = poll.__call__

    async def each_pass_one(*args: object, **kw: object) -> object:
        poll.queue = [item(len(ended) + 1)]
        return await real_call(*args, **kw)  # type: ignore[arg-type]

    session = Session(
        settings(), store, listener=listen, poll=each_pass_one, sleep=no_sleep, text=False
    )
    try:
        await session.run(passes=3)
    finally:
        await session.close()
        store.close()
    assert ended[0] is not None and "No space left" in ended[0]
    assert ended[1:] == [None, None]
    with TinyStore(root, readonly=True) as s:
        assert sorted(e.id for e in s.entry_index().entries) == ["id2", "id3"]


# --- readers and a batch being written -------------------------------------------------------


def test_a_reader_sees_a_batch_whole_or_not_at_all(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from datetime import timedelta

    from monitor.io.tinystore import days
    from tests.support.store import T0

    with TinyStore(root) as s:
        s.write([item(1)], [])
    writer = TinyStore(root)
    reader = TinyStore(root, readonly=True)
    assert [e.id for e in reader.entry_index().entries] == ["id1"]
    reached, go = threading.Event(), threading.Event()
    real_flush = days.Day.flush
    flushed: list[str] = []

    def pause_after_the_first_day(self: days.Day, keep: object) -> None:
        real_flush(self, keep)  # type: ignore[arg-type]
        flushed.append(self.name)
        if len(flushed) == 1:
            reached.set()
            assert go.wait(10)

    monkeypatch.setattr(days.Day, "flush", pause_after_the_first_day)
    batch = [item(2), item(3, published=T0 - timedelta(days=1))]  # two days
    thread = threading.Thread(target=writer.write, args=(batch, []))
    thread.start()
    seen: list[list[str]] = []
    try:
        assert reached.wait(10)  # one day written, the other not yet
        looking = threading.Thread(
            target=lambda: seen.append(sorted(e.id for e in reader.entry_index().entries))
        )
        looking.start()
        looking.join(0.3)
        assert looking.is_alive()  # it waits for the commit rather than see half
        go.set()
        looking.join(10)
    finally:
        go.set()
        thread.join()
        writer.close()
    assert seen == [["id1", "id2", "id3"]]
    reader.close()


@pytest.mark.anyio
async def test_a_read_only_view_follows_the_writer_within_seconds(root: Path) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from monitor.io.session import READ_ONLY_EVERY, Session
    from monitor.model import SourceState
    from monitor.tui.widgets.status_bar import status_text
    from tests.support.items import settings

    polled = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
    state = SourceState(
        "a", "https://a.example/feed", last_attempt=polled, next_due=polled + timedelta(minutes=10)
    )
    writer = TinyStore(root)
    writer.write([item(1)], [state])
    reader = TinyStore(root, readonly=True)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 2:
            writer.write([item(2)], [])  # the writer's next batch

    session = Session(settings(), reader, read_only=True, sleep=sleep, text=False)
    try:
        await session.load()
        assert session.ids == {"id1"}
        status = status_text(session, "", UTC).plain
        assert "writer polled 09:30" in status
        run = asyncio.create_task(session.run())
        for _ in range(200):
            await asyncio.sleep(0.01)
            if "id2" in session.ids:
                break
        run.cancel()
        assert session.ids == {"id1", "id2"}
        assert set(slept) == {READ_ONLY_EVERY} and READ_ONLY_EVERY <= 5
        assert session.next_poll == polled + timedelta(minutes=10)
        assert "next 09:40" in status_text(session, "", UTC).plain
    finally:
        await session.close()
        reader.close()
        writer.close()


def test_a_damaged_text_file_keeps_its_intact_texts(root: Path) -> None:
    from monitor.io.tinystore import TEXTS

    with TinyStore(root) as s:
        s.write([item(n, text=f"text {n} " * 10) for n in (1, 2, 3)], [])
    path = root / TEXTS / f"{DAY}.json"
    raw = bytearray(path.read_bytes())
    at = raw.index(b'"id2"')
    raw[at : at + 30] = b"\xff\x00garbage\x01" * 3
    path.write_bytes(bytes(raw))
    with TinyStore(root) as s:
        texts = {n: (s.get(f"id{n}") or item(0)).text for n in (1, 2, 3)}
        assert texts == {1: "text 1 " * 10, 2: None, 3: "text 3 " * 10}
        assert f"{TEXTS}/{DAY}.json was damaged: 2 texts saved;" in s.damage()[0]
    assert (root / TEXTS / f"{DAY}.json.corrupt").exists()
