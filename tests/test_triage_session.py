"""The analyst's triage in the application core, without a terminal: the actions and
their events, seen rows written in batches, another dashboard's triage read back, a
failing write said and not raised, and the auto-tags of a real pass."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from monitor.config import AutoTag
from monitor.io.events import Problem, TriageChanged, ViewChanged
from monitor.io.session import Session
from monitor.io.triage import Triage, TriageError
from tests.support.dashboard import FakePoll
from tests.support.events import Recorder
from tests.support.items import NOW, fixed_now, item, items, settings
from tests.support.memstore import MemoryStore
from tests.support.servers import FeedServer, static

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


def session_of(store: MemoryStore, seen: Recorder, **kw: object) -> Session:
    sets = kw.pop("settings", None) or settings()
    return Session(
        sets,  # type: ignore[arg-type]
        store,
        listener=seen,
        now=fixed_now,
        poll=FakePoll(),
        annotate=False,
        text=False,
        views=True,
        **kw,  # type: ignore[arg-type]
    )


async def test_star_tag_note_and_seen_change_the_view() -> None:
    seen = Recorder()
    session = session_of(MemoryStore(items(10)), seen)
    await session.load()
    assert session.triage is not None and session.triage_state.since == NOW

    assert await session.star(["id000001", "id000002"]) == "starred 2 items"
    event = seen.of(TriageChanged)[-1]
    assert isinstance(event, TriageChanged)
    assert event.ids == {"id000001", "id000002"} and event.message == "starred 2 items"
    assert session.marks(session.index.entries[1]) == (False, True, False)
    assert await session.star(["id000001"]) == "already starred"
    assert await session.star(["id000002"], on=False) == "unstarred 1 item"

    assert await session.tag(" Sanctions ", ["id000003", "id000004"]) == "tagged 2 items Sanctions"
    assert await session.tag("SANCTIONS", ["id000005"]) == "tagged 1 item Sanctions"
    assert await session.tag("sanctions", ["id000005"], on=False) == (
        "removed the tag Sanctions from 1 item"
    )
    assert await session.note("id000006", "check the figures") == "note saved"
    assert await session.note("id000006", "check the figures") == "note unchanged"

    for query, ids in [
        ("is:starred", {"id000001"}),
        ("tag:sanctions", {"id000003", "id000004"}),
        ("has:note", {"id000006"}),
        ("has:tag OR is:starred", {"id000001", "id000003", "id000004"}),
        ("is:unread", {"id000000"}),  # first seen as the triage began
    ]:
        session.set_filter(query)
        await session.settle()
        assert {e.id for e in session.view.entries} == ids, query
    assert session.unread_count == 1

    session.clear_filter()
    await session.settle()
    assert await session.mark_view_seen() == "marked 1 item seen"
    assert session.unread_count == 0
    assert isinstance(seen.events[-1], TriageChanged)
    assert isinstance(seen.events[-2], ViewChanged)  # the view first, then the event
    assert await session.note("id000006", "") == "note removed"
    await session.close()

    again = Triage(session.settings.storage, now=fixed_now)
    state = again.state()
    again.close()
    assert state.starred == {"id000001"} and state.tags["sanctions"] == {"id000003", "id000004"}
    assert state.seen == {"id000000"} and state.notes == {}


async def test_seen_under_a_resting_cursor_is_written_in_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("monitor.io.triage_actions.SEEN_FLUSH", 0.3)
    fresh = [item(100 + n, minutes=-n) for n in range(1, 5)]  # first seen after the triage began
    seen = Recorder()
    session = session_of(MemoryStore([*fresh, *items(3)]), seen)
    await session.load()
    assert session.triage is not None
    writes: list[list[str]] = []
    write = session.triage.mark_seen

    def recorded(ids: list[str], on: bool = True) -> int:
        writes.append(sorted(ids))
        return write(ids, on)

    session.triage.mark_seen = recorded  # type: ignore[method-assign]
    session.seen_after = 0.05
    by_id = {e.id: e for e in session.index.entries}
    assert session.unread_count == 5  # the four, and item 0

    session.rest(by_id["id000101"])
    session.rest(by_id["id000102"])  # moved on at once: 1 is not seen
    await asyncio.sleep(0.15)
    session.rest(by_id["id000103"])
    await asyncio.sleep(0.15)
    session.rest(None)
    assert [session.unread(by_id[f"id00010{n}"]) for n in (1, 2, 3, 4)] == [
        True,
        False,
        False,
        True,
    ]
    assert session.unread_count == 3
    assert writes == []  # not yet: the rows seen meanwhile go together
    rows = [e for e in seen.of(TriageChanged) if isinstance(e, TriageChanged)]
    assert [set(e.ids) for e in rows] == [{"id000102"}, {"id000103"}]
    assert all(e.message == "" for e in rows)  # nothing to say for a row seen
    await asyncio.sleep(0.5)
    await session.settle()
    assert writes == [["id000102", "id000103"]]
    session.rest(by_id["id000104"])
    await asyncio.sleep(0.1)
    await session.close()  # what is pending is written on the way out
    assert writes[-1] == ["id000104"]

    again = Session(session.settings, MemoryStore(fresh), now=fixed_now, poll=FakePoll())
    await again.load()  # a restart: seen stays seen
    assert {e.id for e in again.index.entries if again.unread(e)} == {"id000101"}
    await again.close()


async def test_another_dashboards_triage_shows_at_the_next_read() -> None:
    seen = Recorder()
    session = session_of(MemoryStore(items(5)), seen)
    await session.load()
    other = Triage(session.settings.storage, now=fixed_now)  # the same analyst, elsewhere
    other.star(["id000003"])
    other.tag("Iran", ["id000004"])
    other.close()
    assert not session.triage_state.starred
    await session.load()
    assert session.triage_state.starred == {"id000003"}
    assert session.triage_state.tags_of("id000004") == ["Iran"]
    session.set_filter("is:starred")
    await session.settle()
    assert [e.id for e in session.view.entries] == ["id000003"]
    await session.close()


async def test_a_failing_write_is_said_and_never_raised() -> None:
    seen = Recorder()
    session = session_of(MemoryStore(items(5)), seen)
    await session.load()
    assert session.triage is not None

    def broken(*args: object, **kw: object) -> int:
        raise TriageError("triage x/triage.sqlite: disk I/O error")

    session.triage.star = broken  # type: ignore[method-assign]
    session.triage.mark_seen = broken  # type: ignore[method-assign]
    assert await session.star(["id000001"]) is None
    problem = seen.of(Problem)[-1]
    assert isinstance(problem, Problem)
    assert problem.message == "starring failed: TriageError: triage x/triage.sqlite: disk I/O error"
    session.seen_after = 0.01
    session.rest(session.index.entries[0])
    await asyncio.sleep(0.05)
    await session.flush_seen()
    assert "saving what was seen failed" in seen.of(Problem)[-1].message  # type: ignore[attr-defined]
    await session.close()


async def test_without_a_triage_file_the_dashboard_goes_on(tmp_path: Path) -> None:
    blocked = tmp_path / "store"
    blocked.write_text("a file where the store folder should be")
    seen = Recorder()
    store = MemoryStore([*items(3), item(9, minutes=-5)])
    session = session_of(store, seen, settings=settings(storage=blocked))
    await session.load()
    await session.load()
    problems = [e for e in seen.of(Problem) if isinstance(e, Problem)]
    assert len(problems) == 1  # said once
    assert problems[0].message.startswith("stars, tags and notes are unavailable: triage")
    # what arrived since the session began is unread, as before there was a file
    assert [e.id for e in session.index.entries if session.unread(e)] == ["id000009", "id000000"]
    assert await session.star(["id000001"]) is None
    assert "starring failed" in seen.of(Problem)[-1].message  # type: ignore[attr-defined]
    await session.close()


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Le Quotidien</title><link>{base}/</link>
<item><title>Poutine et Trump veulent normaliser les relations</title>
<link>{base}/a/1</link><pubDate>Mon, 14 Nov 2016 18:05:00 +0100</pubDate>
<description>Vladimir Poutine et Donald Trump se sont entretenus par telephone.</description></item>
<item><title>Climat : la COP22 s'ouvre</title><link>{base}/a/2</link>
<pubDate>Mon, 14 Nov 2016 10:00:00 +0100</pubDate><description>A Marrakech.</description></item>
</channel></rss>"""

PAGE = """<html><head><title>{title}</title></head><body><article>
<h1>{title}</h1><p>{words}</p>
<p>Le porte-parole du Kremlin a indiqué que les discussions se poursuivront.</p>
</article></body></html>"""


async def test_auto_tags_in_the_pass(tmp_path: Path) -> None:
    """`[[tags]]` queries tag what a poll stores (after its actors are found: a query may
    name one), and again when an article's text arrives (a text can match)."""
    from monitor.config import load
    from monitor.io.backends import open_store

    words = " ".join(["Les deux dirigeants ont parlé longuement de la situation."] * 12)
    with FeedServer() as srv:
        srv.route("/feed.xml", static(RSS.format(base=srv.base).encode()))
        for n, title in ((1, "Poutine et Trump"), (2, "La COP22")):
            page = PAGE.format(title=title, words=words).encode()
            srv.route(f"/a/{n}", static(page, content_type="text/html; charset=utf-8"))
        path = tmp_path / "config.toml"
        path.write_text(
            '[storage]\npath = "store"\n\n'
            f'[[sources]]\nname = "Le Quotidien"\nurl = "{srv.url("/feed.xml")}"\n\n'
            '[articles]\nrobots = false\ndelay = "0.01s"\n\n'
            '[[tags]]\nname = "Russia"\nquery = \'actor:"Vladimir Putin"\'\n\n'
            '[[tags]]\nname = "Climate"\nquery = "climat OR cop22"\n\n'
            '[[tags]]\nname = "Kremlin"\nquery = "kremlin"\n',
            encoding="utf-8",
        )
        sets = load(path)
        store = open_store(sets.storage)
        deadline = time.monotonic() + 10
        while store.text_search() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)  # the writer's text index, made at open
        seen = Recorder()
        try:
            session = Session(sets, store, listener=seen)
            await session.load()
            await session.poll()
            await session.settle()
            await session.close()
            by_url = {i.url: i.id for i in store.items()}
        finally:
            store.close()
    first, second = by_url[srv.url("/a/1")], by_url[srv.url("/a/2")]
    triage = Triage(sets.storage, user="someone else")  # auto-tags are everyone's
    state = triage.state()
    triage.close()
    assert state.tags["russia"] == {first}
    assert state.tags["climate"] == {second}
    assert state.tags["kremlin"] == {first, second}  # only in the pages' text
    auto = [e.auto for e in seen.of(TriageChanged) if isinstance(e, TriageChanged)]
    assert auto[0] == {"Russia": 1, "Climate": 1}
    assert {"Kremlin": 2} in auto or {"Kremlin": 1} in auto


async def test_a_read_only_session_applies_no_auto_tags() -> None:
    sets = settings(tags=[AutoTag("Everything", "headline")])
    seen = Recorder()
    session = session_of(MemoryStore(items(3)), seen, settings=sets, read_only=True)
    await session.load()
    await session.auto_tag_ids(["id000001"])
    assert not session.triage_state.tags and not seen.of(TriageChanged)
    assert await session.star(["id000001"]) == "starred 1 item"  # triage itself works
    await session.close()

    writer = session_of(MemoryStore([]), seen, settings=sets)
    writer.poll_fn.queue = [item(5, minutes=-1)]  # type: ignore[attr-defined]
    await writer.load()
    await writer.poll()
    await writer.settle()
    assert writer.triage_state.tags == {"everything": {"id000005"}}
    await writer.close()


async def test_a_read_that_crosses_a_write_never_undoes_it() -> None:
    """A poll's read of the store, begun before a star and kept after it, is older."""
    session = session_of(MemoryStore(items(3)), Recorder())
    await session.load()
    assert session.triage is not None
    before = session.triage.snapshot()  # read, then a star lands
    await session.star(["id000001"])
    session.took_triage(before, None)
    assert session.triage_state.starred == {"id000001"}
    await session.close()
