"""One keystroke for all copies: a story marked seen marks its items seen, and its later
copies arrive seen unless they bring a new actor or a new quote (a "new angle"), in the
application core with a fake poll, after the restart, and per analyst; `core.angles`'
test on its own."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from msgspec.structs import replace

from monitor.config import Settings
from monitor.core.angles import Angle, Copy, Decision, later_copies, quote_key, seen_story
from monitor.io.events import TriageChanged
from monitor.io.session import Session
from monitor.io.triage import FILE, Triage
from monitor.model import Actor, Item, Quote, SeenStory
from tests.support.dashboard import FakePoll
from tests.support.events import Recorder
from tests.support.items import NOW, settings
from tests.support.memstore import MemoryStore
from tests.support.story_items import (
    MACRON,
    PUTIN,
    QUOTE,
    TITLE,
    TRUMP,
    begun_yesterday,
    copy,
    other,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def __call__(self) -> datetime:
        return self.at


def session_of(store: MemoryStore, sets: object, clock: Clock, seen: Recorder) -> Session:
    return Session(
        sets,  # type: ignore[arg-type]
        store,
        listener=seen,
        now=clock,
        poll=FakePoll(),
        annotate=False,
        text=False,
        views=True,
    )


async def marked(sets: Settings) -> tuple[MemoryStore, Clock, Session]:
    """A store of two copies of the story, and a session that marked it seen."""
    store = MemoryStore([copy(1, -60, "Le Monde", [PUTIN], [QUOTE]), copy(2, -50, "BBC World")])
    clock = Clock()
    session = session_of(store, sets, clock, Recorder())
    await session.load()
    await session.settle()
    assert await session.mark_story_seen("id000001") == "marked the story seen (2 items)"
    return store, clock, session


async def poll(session: Session, batch: Sequence[Item], clock: Clock, minutes: float) -> None:
    """A poll that stores `batch`, `minutes` after NOW, and what follows it."""
    clock.at = NOW + timedelta(minutes=minutes)
    assert isinstance(session.poll_fn, FakePoll)
    session.poll_fn.queue = list(batch)
    await session.poll()
    await session.settle()


def unread(session: Session) -> set[str]:
    return {e.id for e in session.entries if session.unread(e)}


async def view(session: Session, query: str) -> set[str]:
    session.set_filter(query)
    await session.settle()
    return {e.id for e in session.view.entries}


async def test_a_story_marked_seen_and_its_later_copies() -> None:
    sets = settings()
    begun_yesterday(sets.storage)
    first = copy(1, -60, "Le Monde", [PUTIN, TRUMP], [QUOTE])
    second = copy(2, -50, "BBC World", [PUTIN], [])
    store = MemoryStore([first, second, other(3, -40)])
    clock, seen = Clock(), Recorder()
    session = session_of(store, sets, clock, seen)
    await session.load()
    await session.settle()
    assert session.stories.story_of("id000002") == "id000001"
    assert unread(session) == {"id000001", "id000002", "id000003"}

    # the key is on the second copy: the whole story is marked, from its first item
    assert await session.mark_story_seen("id000002") == "marked the story seen (2 items)"
    assert unread(session) == {"id000003"}
    assert session.triage_state.stories == {"id000001"}
    assert seen.of(TriageChanged)[-1].ids == {"id000001", "id000002"}

    later = [
        copy(10, 5, "Der Spiegel"),  # nothing found in it: nothing new
        # the quote again, in other case and punctuation: not new
        copy(11, 6, "El País", [TRUMP], ["we are ready, to talk to the new administration!"]),
        copy(12, 7, "Le Monde", [PUTIN], ["Relations are unsatisfactory"]),  # a new quote
        copy(13, 8, "BBC World", [PUTIN, MACRON], []),  # a new actor
        copy(14, 9, "Der Spiegel", [MACRON], ["relations are unsatisfactory"]),  # both known now
        copy(15, 10, "El País", [], ["to talk to the new administration"]),  # part of a quote
        other(16, 11),  # another story
    ]
    await poll(session, later, clock, 12)
    assert {session.stories.story_of(i.id) for i in later[:-1]} == {"id000001"}
    assert unread(session) == {"id000003", "id000012", "id000013", "id000016"}
    assert session.triage_state.angles == {
        "id000012": "new quote",
        "id000013": "new actor Emmanuel Macron",
    }
    assert seen.of(TriageChanged)[-1].message == (
        "2 new angles on stories marked seen (is:new-angle)"
    )
    assert session.marks(next(e for e in session.entries if e.id == "id000013")) == (
        True,
        False,
        True,
    )
    assert await view(session, "is:new-angle") == {"id000012", "id000013"}
    assert await view(session, "is:new-angle OR is:starred lang:en") == {"id000012", "id000013"}
    await session.close()

    # a restart: the same store and triage file; the story is still marked, and knows
    # what its new angles brought
    again = session_of(store, sets, clock, Recorder())
    await again.load()
    await again.settle()
    assert again.triage_state.stories == {"id000001"}
    assert set(again.triage_state.angles) == {"id000012", "id000013"}
    await poll(
        again,
        [
            copy(20, 20, "Le Monde", [MACRON, PUTIN], ["Relations are unsatisfactory."]),
            copy(21, 21, "BBC World", [], [], title=TITLE + " and sanctions"),
            copy(22, 22, "Der Spiegel", [TRUMP], ["Sanctions will stay"]),
        ],
        clock,
        25,
    )
    assert again.triage_state.angles["id000022"] == "new quote"
    assert unread(again) == {"id000003", "id000012", "id000013", "id000016", "id000022"}

    # undone: the story's items unread again, its record and new angles forgotten
    said = await again.mark_story_seen("id000001", on=False)
    assert said == "marked the story unread (11 items)"
    assert not again.triage_state.stories and not again.triage_state.angles
    assert {"id000001", "id000010", "id000020"} <= unread(again)
    await poll(again, [copy(30, 30, "El País", [PUTIN], [QUOTE])], clock, 31)
    assert "id000030" in unread(again) and not again.triage_state.angles
    await again.close()


async def test_another_analysts_triage_is_unaffected() -> None:
    sets = settings()
    begun_yesterday(sets.storage)
    begun_yesterday(sets.storage, user="colleague")
    _, clock, session = await marked(sets)
    await poll(session, [copy(3, 5, "El País", [MACRON]), copy(4, 6, "Der Spiegel")], clock, 10)
    assert set(session.triage_state.angles) == {"id000003"}
    assert {"id000001", "id000002", "id000004"} <= session.triage_state.seen
    await session.close()

    colleague = Triage(sets.storage, user="colleague", now=lambda: NOW)
    state = colleague.state()
    assert not state.seen and not state.angles and not state.stories
    assert not colleague.seen_stories()
    colleague.close()
    mine = Triage(sets.storage, now=lambda: NOW)
    assert set(mine.seen_stories()) == {"id000001"}
    mine.close()


async def test_copies_are_judged_after_their_actors_and_quotes_are_found() -> None:
    """The poll stores the copies bare; annotation finds their actors and quotes after,
    and only then are they judged."""
    sets = settings()
    begun_yesterday(sets.storage)
    store, clock, session = await marked(sets)
    found = {
        "id000003": ((PUTIN,), (QUOTE,)),
        "id000004": ((PUTIN,), ("Sanctions will stay",)),
    }
    judged: list[str] = []  # copies judged before their annotation
    asked: list[str] = []

    async def annotate(
        ids: Sequence[str], *, stored: Callable[[int], Awaitable[None]] | None = None
    ) -> int:
        state = session.triage_state
        asked.extend(ids)
        judged.extend(i for i in ids if i in found and (i in state.seen or i in state.angles))
        changes = [(i, lambda it, i=i: _annotated(it, *found[i])) for i in ids if i in found]
        store.update(changes)
        if stored is not None:
            await stored(len(changes))
        return len(changes)

    session.annotate_fn = annotate
    session.annotate = True
    await poll(session, [copy(3, 5, "El País"), copy(4, 6, "Der Spiegel")], clock, 10)
    assert {"id000003", "id000004"} <= set(asked) and not judged
    assert "id000003" in session.triage_state.seen
    assert session.triage_state.angles == {"id000004": "new quote"}
    await session.close()


def _annotated(it: Item, actors: Sequence[Actor], quotes: Sequence[str]) -> Item:
    found = tuple(Quote("Vladimir Putin", q) for q in quotes)
    return replace(it, actors=tuple(actors), quotes=found, annotated=True)


def test_later_copies_on_their_own() -> None:
    story = seen_story("s", NOW, [copy(1, -60, "a", [PUTIN, TRUMP], [QUOTE])])
    assert story == SeenStory(
        "s", NOW, frozenset({"Vladimir Putin", "Donald Trump"}), frozenset({quote_key(QUOTE)})
    )
    at = NOW + timedelta(minutes=1)
    copies = [
        Copy("b", at, ("Emmanuel Macron",), ("« Nous sommes prêts »",)),
        Copy("a", at - timedelta(hours=1), ("Angela Merkel",), ()),  # there when it was marked
        Copy("c", at, ("Emmanuel Macron", "Donald Trump"), ("nous sommes PRETS",)),
        Copy("d", at, ("Angela Merkel", "Olaf Scholz"), ("ready to talk",)),
    ]
    decision = later_copies([(story, copies)])
    assert decision.seen == ("c",)
    assert [(a.id, a.story, a.why) for a in decision.angles] == [
        ("b", "s", "new actor Emmanuel Macron and a new quote"),
        ("d", "s", "new actors Angela Merkel, Olaf Scholz"),  # a part of a known quote
    ]
    (grown,) = decision.stories
    assert grown.actors == story.actors | {"Emmanuel Macron", "Angela Merkel", "Olaf Scholz"}
    assert grown.quotes == story.quotes | {"nous sommes prets"}
    assert later_copies([(story, [Copy("e", at, ("Donald Trump",), ())])]).stories == ()


async def test_a_copy_left_unjudged_is_judged_after_the_next_poll() -> None:
    """A copy stored but never judged (the process stopped first) is judged after the next
    poll, whatever that poll brought."""
    sets = settings()
    begun_yesterday(sets.storage)
    store, clock, session = await marked(sets)
    await session.close()

    store.write([copy(3, 5, "El País", [PUTIN]), copy(4, 6, "Der Spiegel", [MACRON])], [])
    again = session_of(store, sets, clock, Recorder())
    await again.load()
    await again.settle()
    assert {"id000003", "id000004"} <= unread(again)
    await poll(again, [other(5, 10)], clock, 12)
    assert "id000003" in again.triage_state.seen
    assert again.triage_state.angles == {"id000004": "new actor Emmanuel Macron"}
    assert unread(again) == {"id000004", "id000005"}
    await again.close()


def test_a_triage_file_from_before_stories_keeps_working(tmp_path: Path) -> None:
    """A file made before the stories and angles tables gets them when opened, and its
    rows stay; retention's `forget` drops the stories and angles of dropped items too."""
    db = sqlite3.connect(tmp_path / FILE)
    db.executescript(
        "CREATE TABLE users(user TEXT PRIMARY KEY, since TEXT NOT NULL);"
        "CREATE TABLE seen(user TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY(user, id))"
        " WITHOUT ROWID;"
    )
    db.execute("INSERT INTO users VALUES ('alice', ?)", (NOW.isoformat(),))
    db.execute("INSERT INTO seen VALUES ('alice', 'old')")
    db.commit()
    db.close()
    t = Triage(tmp_path, user="alice", now=lambda: NOW)
    assert t.state().seen == {"old"} and not t.state().stories and not t.seen_stories()
    story = SeenStory("s1", NOW, frozenset({"Vladimir Putin"}), frozenset({quote_key(QUOTE)}))
    assert t.mark_story(story, ["s1", "s2"]) == 2
    t.settle_copies(Decision(("s3",), (Angle("s4", "s1", "new quote"),), ()))
    state = t.state()
    assert state.stories == {"s1"} and state.angles == {"s4": "new quote"}
    assert state.seen == {"old", "s1", "s2", "s3"} and t.seen_stories() == {"s1": story}
    t.forget(["s1", "s4"])
    assert not t.state().stories and not t.state().angles and not t.seen_stories()
    t.close()
