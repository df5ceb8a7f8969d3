"""Stories saved beside the store, or in its database (`io/story_file.py`,
`io/live_stories.py`): a restart keeps each item's story without matching again, a
damaged file is made again, a read-only reader sees the writer's stories, merges are
saved, two writers' saves are upserts."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from msgspec.structs import replace as changed

from monitor.core.entries import entry_of
from monitor.io.events import StoriesUpdated
from monitor.io.live_stories import LiveStories, read_stories
from monitor.io.session import Session
from monitor.io.story_file import FILE, StoryFile
from monitor.model import Item
from tests.support.dashboard import FakePoll, quiet_session
from tests.support.events import Recorder
from tests.support.items import NOW, item, settings
from tests.support.memstore import MemoryStore
from tests.support.sides import Where, kept_in, where

__all__ = ["where"]  # the fixture

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def words(start: int, count: int) -> str:
    """`count` made-up words, distinct from those of any other `start`."""
    return " ".join(f"w{start + i}x{(start + i) * 7 % 13}" for i in range(count))


def copy(n: int, body: str, source: str, minutes: float) -> Item:
    return item(n, f"Title {body[:40]}", summary=body, sources=[source], minutes=minutes)


STORY = words(0, 40)
OTHER = words(1000, 40)


def session(store: MemoryStore, where: Where, seen: Recorder | None = None, **kw: Any) -> Session:
    return quiet_session(kept_in(settings(), where), store, listener=seen, **kw)


async def loaded(s: Session) -> Session:
    await s.load()
    await s.stories_ready()
    return s


async def test_a_restart_keeps_each_items_story_without_matching_again(where: Where) -> None:
    """Two copies make one story; the second copy is then edited in the store so that a
    matching from scratch would set it apart. After a restart it keeps its story: the
    file's memberships are used, not a new matching."""
    a, b = copy(1, STORY, "Wire A", 30), copy(2, STORY, "Wire B", 20)
    seen = Recorder()
    first = await loaded(session(MemoryStore([a, b]), where, seen))
    assert first.stories.story_of(b.id) == a.id
    assert seen.of(StoriesUpdated) == [StoriesUpdated(2)]
    await first.close()

    edited = changed(b, title="Something else", summary=OTHER)
    store = MemoryStore([a, edited])
    fresh = LiveStories()  # no file: what a matching from scratch says
    fresh.update(store.entries(), NOW)
    assert fresh.story_of(edited.id) == edited.id
    again = await loaded(session(store, where))
    assert again.stories.story_of(edited.id) == a.id
    assert again.stories.groups()[a.id] == [entry_of(a), entry_of(edited)]
    await again.close()


async def test_a_damaged_file_is_made_again_from_the_recent_items(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = copy(1, STORY, "Wire A", 30), copy(2, STORY, "Wire B", 20)
    (tmp_path / FILE).write_bytes(b"\x00garbage, not SQLite at all" * 100)
    c = copy(3, OTHER, "Wire C", 10)
    with caplog.at_level(logging.WARNING):
        s = await loaded(session(MemoryStore([a, b, c]), tmp_path))
    assert "making it again" in caplog.text
    assert s.stories.story_of(b.id) == a.id and s.stories.story_of(c.id) == c.id
    await s.close()
    saved = StoryFile(tmp_path, writer=False).load(NOW - (NOW - a.first_seen) * 2)
    assert saved == {a.id: a.id, b.id: a.id, c.id: c.id}


async def test_a_missing_file_is_made_again_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        s = await loaded(session(MemoryStore([copy(1, STORY, "Wire A", 30)]), tmp_path))
    await s.close()
    assert "no stories file" in caplog.text and (tmp_path / FILE).exists()


async def test_a_file_of_another_format_is_made_again(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / FILE)
    db.executescript(
        "CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT); INSERT INTO meta VALUES ('format', '0');"
    )
    db.commit()
    db.close()
    a, b = copy(1, STORY, "Wire A", 30), copy(2, STORY, "Wire B", 20)
    s = await loaded(session(MemoryStore([a, b]), tmp_path))
    await s.close()
    assert StoryFile(tmp_path, writer=False).load(a.first_seen) == {a.id: a.id, b.id: a.id}


async def test_a_read_only_reader_sees_the_writers_stories(where: Where) -> None:
    """The reader takes the writer's memberships (even one a new matching would not
    make) and matches in memory what the writer has not saved yet."""
    a, b = copy(1, STORY, "Wire A", 30), copy(2, STORY, "Wire B", 20)
    writer = await loaded(session(MemoryStore([a, b]), where))
    edited = changed(b, title="Something else", summary=OTHER)
    later = copy(3, STORY, "Wire C", 10)  # not saved by the writer (it has not read it)
    reader = await loaded(session(MemoryStore([a, edited, later]), where, read_only=True))
    assert reader.stories.story_of(edited.id) == a.id
    assert reader.stories.story_of(later.id) == a.id
    assert StoryFile(where, writer=False).stories_of([later.id]) == {}  # nothing written
    saved = read_stories(where, MemoryStore([a, edited]).entries(), NOW)
    assert saved.story_of(edited.id) == a.id
    # nothing to match at first: then a copy the writer has not saved joins all the same
    saved.update(MemoryStore([a, edited, later]).entries(), NOW)
    assert saved.story_of(later.id) == a.id
    await reader.close()
    await writer.close()


async def test_the_writer_saves_new_items_and_the_members_of_merged_stories(
    where: Where,
) -> None:
    """Two stories, then an item telling both: they merge under the earliest item's id,
    and the file says so for the absorbed story's items too."""
    left, right = words(0, 30), words(500, 30)
    a, b = copy(1, left, "Wire A", 50), copy(2, right, "Wire B", 40)
    a2, b2 = copy(3, left, "Wire C", 35), copy(4, right, "Wire D", 30)
    both = item(5, "Both", summary=f"{left} {right}", sources=["Wire E"], minutes=20)
    live = LiveStories(where, writer=True)
    live.update([entry_of(it) for it in (a, b, a2, b2)], NOW)
    file = StoryFile(where, writer=False)
    assert file.stories_of([b.id, b2.id]) == {b.id: b.id, b2.id: b.id}
    live.update([entry_of(it) for it in (a, b, a2, b2, both)], NOW)
    assert live.story_of(b2.id) == a.id
    got = file.stories_of([i.id for i in (a, b, a2, b2, both)])
    assert set(got.values()) == {a.id} and len(got) == 5
    live.close()


async def test_story_queries_in_the_dashboard(where: Where) -> None:
    a, b = copy(1, STORY, "Wire A", 30), copy(2, STORY, "Wire B", 20)
    c = copy(3, OTHER, "Wire C", 10)
    s = await loaded(session(MemoryStore([a, b, c]), where, views=True))
    s.set_filter(f"story:{b.id}")
    await s.settle()
    assert sorted(e.id for e in s.view.entries) == [a.id, b.id]
    s.set_filter("is:story-lead")
    await s.settle()
    assert sorted(e.id for e in s.view.entries) == [a.id, c.id]
    poll: FakePoll = s.poll_fn  # type: ignore[assignment]
    poll.queue = [copy(4, STORY, "Wire D", 5), copy(5, words(3000, 40), "Wire E", 4)]
    await s.poll()
    await s.settle()  # the view is made again once the new items are in their stories
    assert sorted(e.id for e in s.view.entries) == [a.id, c.id, "id000005"]
    await s.close()


def test_the_digest_groups_by_the_saved_stories(where: Where) -> None:
    """Two items the words keep apart but the saved stories join are one story of the
    digest; items in no story are clustered as before."""
    from monitor.core.digest import stories
    from monitor.io.digest import make_digest

    a, b = copy(1, STORY, "Wire A", 30), copy(2, OTHER, "Wire B", 20)
    c = copy(3, words(2000, 40), "Wire C", 10)
    file = StoryFile(where, writer=True)
    assert file.save([(a.id, a.id, a.first_seen), (b.id, a.id, b.first_seen)], a.first_seen)
    file.close()
    sets = kept_in(settings(), where)
    day = NOW.date()
    digest = make_digest(sets, MemoryStore([a, b, c]), day, UTC, "UTC", NOW)
    assert sorted(len(s.items) for s in digest.stories) == [1, 2]
    assert {it.id for s in digest.stories if len(s.items) == 2 for it in s.items} == {a.id, b.id}

    class Only:  # a and b in one story; the copies of c in none
        def story_of(self, entry_id: str) -> str | None:
            return a.id if entry_id in (a.id, b.id) else None

        def members(self, entry_id: str) -> list[str]:
            return [a.id, b.id] if self.story_of(entry_id) else []

        def followers(self) -> list[str]:
            return [b.id]

    c2 = copy(4, words(2000, 40), "Wire D", 5)
    found = stories([a, b, c, c2], Only())
    assert sorted(sorted(it.id for it in s.items) for s in found) == [[a.id, b.id], [c.id, c2.id]]
    assert len(stories([a, b, c, c2])) == 3  # without the stories: by the words alone


async def test_a_story_whose_first_item_was_dropped_is_saved_under_the_next(
    where: Where,
) -> None:
    """Retention dropped a story's earliest item: its other items stay one story, named
    by the earliest left, and the file follows."""
    a, b, c = (copy(n, STORY, f"Wire {n}", 40 - 10 * n) for n in (1, 2, 3))
    file = StoryFile(where, writer=True)
    assert file.save([(it.id, a.id, it.first_seen) for it in (a, b, c)], a.first_seen)
    file.close()
    s = await loaded(session(MemoryStore([b, c]), where))
    assert s.stories.story_of(c.id) == b.id
    await s.close()
    assert StoryFile(where, writer=False).stories_of([a.id, b.id, c.id]) == {
        a.id: a.id,
        b.id: b.id,
        c.id: b.id,
    }


async def test_items_retention_dropped_leave_their_story_led_by_the_earliest_left(
    where: Where,
) -> None:
    a, b, c = (copy(n, STORY, f"Wire {n}", 40 - 10 * n) for n in (1, 2, 3))
    live = LiveStories(where, writer=True)
    live.update([entry_of(it) for it in (a, b, c)], NOW)
    assert live.followers() == {b.id, c.id}
    live.update([entry_of(it) for it in (b, c)], NOW)  # a was dropped
    assert live.followers() == {c.id} and live.story_of(c.id) == a.id
    assert live.groups() == {a.id: [entry_of(b), entry_of(c)]}
    live.close()
