"""The application core without a terminal: one pass, the queues after it, the schedule,
the filter and the view, as `monitor poll`, `poll --watch` and the dashboard drive it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from msgspec.structs import replace

from monitor.config import Settings
from monitor.core.query import QueryError
from monitor.io.events import (
    ActorsFound,
    Event,
    Loaded,
    PollEnded,
    PollStarted,
    Scheduled,
    SourcePolled,
    TextArrived,
    TextsDone,
    TextsQueued,
    ViewChanged,
)
from monitor.io.session import Session
from monitor.io.store import Store
from monitor.model import PollReport, Source
from tests.support.dashboard import FakePoll
from tests.support.events import Recorder
from tests.support.items import NOW, SOURCES, fixed_now, item, items, settings
from tests.support.memstore import MemoryStore
from tests.support.servers import FeedServer, static

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Le Quotidien</title><link>{base}/</link>
<item><title>Poutine et Trump veulent normaliser les relations</title>
<link>{base}/a/1</link><pubDate>Mon, 14 Nov 2016 18:05:00 +0100</pubDate>
<description>Vladimir Poutine et Donald Trump se sont entretenus par telephone.</description></item>
<item><title>Climat : la COP22 s'ouvre</title><link>{base}/a/2</link>
<pubDate>Mon, 14 Nov 2016 10:00:00 +0100</pubDate><description>A Marrakech.</description></item>
</channel></rss>"""

PAGE = """<html><head><title>Poutine et Trump</title></head><body><article>
<h1>Poutine et Trump veulent normaliser les relations</h1>
<p>{words}</p><p>Le Kremlin a indiqué que les deux présidents se parleront de nouveau.</p>
</article></body></html>"""


def feed_settings(srv: FeedServer, tmp_path: Path, *, full_text: bool = True) -> Settings:
    from monitor.config import load

    path = tmp_path / "config.toml"
    path.write_text(
        '[storage]\npath = "store"\n\n'
        f'[[sources]]\nname = "Le Quotidien"\nurl = "{srv.url("/feed.xml")}"\n'
        f'interval = "10m"\nfull_text = {"true" if full_text else "false"}\n\n'
        '[articles]\nrobots = false\ndelay = "0.01s"\n',
        encoding="utf-8",
    )
    return load(path)


async def test_one_pass_stores_annotates_and_fetches_the_texts(tmp_path: Path) -> None:
    """What `monitor poll` runs: the poll, the new items' actors, their article pages."""
    from monitor.io.backends import open_store

    words = " ".join(["Moscou"] * 60)
    with FeedServer() as srv:
        srv.route("/feed.xml", static(RSS.format(base=srv.base).encode()))
        for n in (1, 2):
            srv.route(
                f"/a/{n}",
                static(PAGE.format(words=words).encode(), content_type="text/html; charset=utf-8"),
            )
        sets = feed_settings(srv, tmp_path)
        store = open_store(sets.storage)
        seen = Recorder()
        try:
            session = Session(sets, store, listener=seen, progress=True)
            await session.load()
            report = await session.poll()
            await session.settle()
            await session.close()
            stored = {i.url: i for i in store.items()}
        finally:
            store.close()
    assert report is not None and report.new == 2
    kinds = [type(e) for e in seen.events]
    assert kinds.index(PollStarted) < kinds.index(SourcePolled) < kinds.index(PollEnded)
    assert kinds.index(PollEnded) < kinds.index(TextsQueued) < kinds.index(TextsDone)
    ended = seen.of(PollEnded)[0]
    assert isinstance(ended, PollEnded) and ended.fresh == 2 and ended.failure is None
    queued = seen.of(TextsQueued)[0]
    assert isinstance(queued, TextsQueued) and (queued.count, queued.backlog) == (2, 0)
    assert len(seen.of(TextArrived)) == 2
    assert all(i.annotated for i in stored.values())
    first = stored[srv.url("/a/1")]
    assert first.text_status == "page" and first.text is not None and "Kremlin" in first.text
    assert "Vladimir Putin" in {a.name for a in first.actors}
    assert not session.fetching and session.finding == 0


async def test_full_text_off_queues_no_page(tmp_path: Path) -> None:
    from monitor.io.backends import open_store

    with FeedServer() as srv:
        srv.route("/feed.xml", static(RSS.format(base=srv.base).encode()))
        sets = feed_settings(srv, tmp_path, full_text=False)
        store = open_store(sets.storage)
        seen = Recorder()
        try:
            session = Session(sets, store, listener=seen, annotate=False)
            await session.load()
            await session.poll()
            await session.settle()
            await session.close()
        finally:
            store.close()
        assert not srv.log("/a/1")
    assert not seen.of(TextsQueued) and not seen.of(ActorsFound)


def fake_session(count: int = 10, **kw: object) -> tuple[Session, FakePoll, MemoryStore, Recorder]:
    poll, store, seen = FakePoll(), MemoryStore(items(count)), Recorder()
    session = Session(
        settings(),
        store,
        listener=seen,
        now=fixed_now,
        poll=poll,
        annotate=False,
        text=False,
        **kw,  # type: ignore[arg-type]
    )
    return session, poll, store, seen


async def test_a_failing_poll_is_reported_and_the_store_read_again() -> None:
    session, poll, _, seen = fake_session(views=True)
    await session.load()
    poll.fail = RuntimeError("the network fell over")
    assert await session.poll() is None
    ended = seen.of(PollEnded)[-1]
    assert isinstance(ended, PollEnded) and ended.report is None
    assert ended.failure == "poll failed: RuntimeError: the network fell over"
    assert session.last_failure == ended.failure and not session.polling
    assert len(seen.of(Loaded)) == 2  # read again all the same
    poll.fail = None
    poll.queue = [item(900, "A later headline", minutes=1)]
    report = await session.poll()
    assert report is not None and session.last_failure is None
    assert "id000900" in session.ids


async def test_read_only_never_polls() -> None:
    session, poll, _, _ = fake_session(read_only=True)
    await session.load()
    assert not session.poll_now()
    assert await session.poll() is None and poll.calls == []


async def test_poll_now_wakes_the_schedule() -> None:
    """The dashboard's `r`: the waiting schedule polls at once, then waits again."""
    session, poll, _, seen = fake_session()
    runner = asyncio.ensure_future(session.run(autopoll=False))
    try:
        for _ in range(100):
            if seen.of(Scheduled):
                break
            await asyncio.sleep(0.01)
        assert poll.calls == []  # no poll on its own
        assert session.poll_now(force=True, only={"Le Monde"})
        assert session.polling and not session.poll_now()  # one at a time
        for _ in range(100):
            if seen.of(PollEnded):
                break
            await asyncio.sleep(0.01)
        assert poll.calls == [(True, {"Le Monde"})]
        started = seen.of(PollStarted)[0]
        assert isinstance(started, PollStarted) and started.only == frozenset({"Le Monde"})
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await session.close()


async def test_the_schedule_follows_the_intervals() -> None:
    """`poll --watch` and the dashboard: poll, wait for the next due source, poll again."""
    clock = [NOW]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += timedelta(seconds=seconds)

    poll, store = FakePoll(), MemoryStore([])
    sets = settings(sources=SOURCES[:1])

    async def polled(settings: Settings, store: Store, **kw: object) -> PollReport:
        from monitor.core import schedule
        from monitor.model import SourceState

        src = settings.sources[0]
        poll.states = [
            SourceState(
                src.name,
                src.url,
                last_success=clock[0],
                next_due=schedule.next_due(src.interval, clock[0], failures=0, rand=0.5),
            )
        ]
        return await poll(settings, store, **kw)  # type: ignore[arg-type]

    session = Session(
        sets, store, now=lambda: clock[0], sleep=sleep, poll=polled, text=False, annotate=False
    )
    await session.run(passes=3)
    assert len(poll.calls) == 3 and len(slept) == 2
    assert all(540 <= s <= 660 for s in slept)  # 10 minutes, with the jitter


async def test_polls_that_end_meanwhile_join_one_waiting_turn() -> None:
    """After a poll: never more than one turn runs and one waits."""
    session, poll, _, _ = fake_session()
    await session.load()
    turns: list[list[str]] = []
    gate = asyncio.Event()

    async def annotate_new(fresh: list[str]) -> None:
        turns.append(fresh)
        await gate.wait()

    session.annotate = True
    session._annotate_new = annotate_new  # type: ignore[method-assign]
    for n in range(3):
        poll.queue = [item(800 + n, f"Poll {n}", minutes=1)]
        await session.poll()
        await asyncio.sleep(0)
    gate.set()
    await session.settle()
    assert turns == [["id000800"], ["id000801", "id000802"]]


async def test_filter_source_and_actor_narrow_the_view() -> None:
    session, _, _, seen = fake_session(40, views=True)
    await session.load()
    assert len(session.view.entries) == 40
    session.set_filter("headline number 3")
    await session.settle()
    assert {e.id for e in session.view.entries} >= {"id000003"}
    assert all("3" in e.title for e in session.view.entries)
    with pytest.raises(QueryError):
        session.set_filter("(unbalanced")
    assert session.filter.text == "headline number 3"  # unchanged
    session.clear_filter()
    session.pick_source("BBC World")
    await session.settle()
    assert session.view.entries and all("BBC World" in e.sources for e in session.view.entries)
    session.pick_source("BBC World")  # again: cleared
    await session.settle()
    assert len(session.view.entries) == 40
    assert isinstance(seen.events[-1], ViewChanged)


async def test_refetch_uses_the_one_rule_with_again() -> None:
    fetched: list[list[str]] = []

    class Pages:
        async def run(self, jobs: list[object], progress: object = None) -> object:
            fetched.append([j.item_id for j in jobs])  # type: ignore[attr-defined]
            from monitor.io.articles import TextReport

            return TextReport()

        async def aclose(self) -> None:
            pass

    old = replace(item(1), text_status="page", first_seen=NOW - timedelta(days=30))
    store = MemoryStore([old, replace(item(2), url="ftp://files.example/2")])
    session = Session(
        settings(),
        store,
        now=fixed_now,
        poll=FakePoll(),
        articles=Pages(),
        annotate=False,  # type: ignore[arg-type]
    )
    await session.load()
    assert await session.refetch(session.index.entries[0]) == "fetching the article text…"
    await session.settle()
    assert fetched == [["id000001"]]
    ftp = next(e for e in session.entries if e.id == "id000002")
    assert "cannot fetch" in await session.refetch(ftp)


async def test_a_failing_listener_never_stops_the_pass() -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("a bad listener")

    session = Session(
        settings(),
        MemoryStore(items(3)),
        now=fixed_now,
        poll=FakePoll(),
        listener=broken,
        annotate=False,
        text=False,
    )
    await session.load()
    assert await session.poll() is not None


def test_a_session_is_made_without_a_running_loop(tmp_path: Path) -> None:
    """The dashboard makes its session before its event loop runs."""
    sets = Settings(path=None, storage=tmp_path, sources=(Source("a", "https://a.example/"),))
    session = Session(sets, MemoryStore([]), poll=FakePoll())
    assert not session.polling and session.view.entries == []
