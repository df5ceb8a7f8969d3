"""Live stories: the items that tell the same story, kept up to date as items arrive. Pure.

The test is the digest's (`core.cluster`): word shingles of the title and the start of
the body, MinHash signatures cut into LSH bands, and an exact Jaccard similarity of at
least THRESHOLD. Here it is incremental: each item added is looked up in the band
buckets of the items already there and joins the story of every one it tells the same
story as, when that story was active within WINDOW of it. So a poll costs its own
items' signatures and lookups, never a pass over the history, and a story that keeps
growing stays one story. `forget_before` takes old items out of the buckets: memory
follows the window, not the history; their story memberships stay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from monitor.core.cluster import (
    BODY_WORDS,
    LSH_BANDS,
    NUM_PERM,
    same_story,
    shingles,
    signatures,
    word_shingles,
)
from monitor.core.digest import Story, make_story
from monitor.core.fold import folded_words
from monitor.core.query import StoryLookup
from monitor.core.story_view import growth, quiet_hours, story_score
from monitor.model import Entry, Item

WINDOW = timedelta(hours=72)  # a story takes in items this close to its last one
BUCKET_CHECK = 40  # members of one band bucket compared with a new item, newest first
TITLE_WORDS = 20  # words of a title read before a summary's, from an entry
PER_STORY = 3  # members of one story compared with a new item: its copies are alike
assert NUM_PERM // LSH_BANDS == 2 and LSH_BANDS <= 32  # `_band_keys` packs a band so


@dataclass(frozen=True, slots=True)
class Member:
    """One item as stories see it: its id, its time and its shingles (`cluster.shingles`)."""

    id: str
    when: datetime
    shingles: frozenset[int]


class StoryIndex:
    """Every item added, in one story each; a story's id is its earliest item's id."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}  # union-find over item ids
        self._first: dict[str, tuple[datetime, str]] = {}  # root -> earliest (when, id)
        self._last: dict[str, datetime] = {}  # root -> latest member's time
        self._members: dict[str, list[str]] = {}  # root -> its item ids
        self._recent: dict[str, Member] = {}  # members still in the buckets
        self._keys: dict[str, list[int]] = {}  # member -> its band keys
        # band key -> its member's id, or their ids oldest first when there are several
        self._buckets: dict[int, str | list[str]] = {}

    def __len__(self) -> int:
        return len(self._parent)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._parent

    def add(self, members: Iterable[Member]) -> list[str]:
        """Add items (those already in are skipped), oldest first; returns the ids of the
        stories they joined or started, in the order given."""
        new = sorted(
            {m.id: m for m in members if m.id not in self._parent}.values(),
            key=lambda m: (m.when, m.id),
        )
        keys = self._band_keys([m.shingles for m in new])
        for member, member_keys in zip(new, keys, strict=True):
            self._add(member, member_keys)
        return [self.story_of(m.id) for m in new]

    def story_of(self, item_id: str) -> str:
        """The id of the story the item is in (KeyError for an item never added)."""
        return self._first[self._root(item_id)][1]

    def stories(self) -> dict[str, list[str]]:
        """Every story: its id and its items' ids, in the order they were added."""
        out: dict[str, list[str]] = {}
        for item_id in self._parent:
            out.setdefault(self.story_of(item_id), []).append(item_id)
        return out

    def size(self, item_id: str) -> int:
        """How many items are in the item's story."""
        return len(self._members[self._root(item_id)])

    def members(self, item_id: str) -> list[str]:
        """The ids of the items of the item's story, in the order they joined."""
        return list(self._members[self._root(item_id)])

    def forget_before(self, moment: datetime) -> int:
        """Take the items older than `moment` out of the buckets (they stay in their
        stories; new items can no longer join through them). Returns how many."""
        old = [m.id for m in self._recent.values() if m.when < moment]
        for item_id in old:
            del self._recent[item_id]
            for key in self._keys.pop(item_id, ()):
                bucket = self._buckets.get(key)
                if bucket is None:
                    continue
                if isinstance(bucket, str) or len(bucket) == 1:
                    del self._buckets[key]
                else:
                    bucket.remove(item_id)
        return len(old)

    def restore(self, members: Iterable[Member], stories: Mapping[str, str]) -> int:
        """Put items back in the stories they were found in before (`stories`: item id ->
        story id, as saved), comparing nothing: items of one saved story are one story
        again, whatever a new matching would say (named by their earliest item). Items
        already in are skipped; those with shingles (give them for the window's items
        only) go into the buckets, so that new items can join them. Returns how many."""
        parent, first, last, joined = self._parent, self._first, self._last, self._members
        groups: dict[str, list[Member]] = {}
        for m in {m.id: m for m in members if m.id not in parent and m.id in stories}.values():
            groups.setdefault(stories[m.id], []).append(m)
        count = 0
        for story, group in groups.items():
            group.sort(key=_when)
            ids = [m.id for m in group]
            root = self._root(story) if story in parent else ids[0]
            if root == ids[0]:
                first[root], last[root], joined[root] = (group[0].when, root), group[0].when, []
            for i in ids:
                parent[i] = root
            first[root] = min(first[root], (group[0].when, ids[0]))
            last[root] = max(last[root], group[-1].when)
            joined[root] += ids
            count += len(ids)
        shingled = sorted((m for g in groups.values() for m in g if m.shingles), key=_when)
        for m, keys in zip(shingled, self._band_keys([m.shingles for m in shingled]), strict=True):
            self._file(m, keys)
        return count

    def refile(self, members: Iterable[Member]) -> int:
        """Put items restored without shingles into the buckets after all (a reader
        that has items to match after all); returns how many."""
        late = [m for m in members if m.shingles and m.id in self._parent]
        late = [m for m in late if m.id not in self._recent]
        for m, keys in zip(late, self._band_keys([m.shingles for m in late]), strict=True):
            self._file(m, keys)
        return len(late)

    # -- inside -----------------------------------------------------------------------

    def _add(self, member: Member, keys: list[int]) -> None:
        item_id = member.id
        self._parent[item_id] = item_id
        self._first[item_id] = (member.when, item_id)
        self._last[item_id] = member.when
        self._members[item_id] = [item_id]
        buckets = self._buckets
        candidates: set[str] = set()
        for key in keys:
            bucket = buckets.get(key)
            if bucket is None:
                continue
            if isinstance(bucket, str):
                candidates.add(bucket)
            else:
                candidates.update(bucket[-BUCKET_CHECK:])
        tried: dict[str, int] = {}
        for other in candidates:
            root = self._root(other)
            if root == self._root(item_id) or tried.get(root, 0) >= PER_STORY:
                continue  # already joined, or enough of its members compared
            if abs(member.when - self._last[root]) > WINDOW:
                continue  # a story gone quiet: this is a new one
            tried[root] = tried.get(root, 0) + 1
            if same_story(member.shingles, self._recent[other].shingles):
                self._union(item_id, other)
        self._file(member, keys)

    def _file(self, member: Member, keys: list[int]) -> None:
        """Put a member in the buckets of its band keys, where later items find it."""
        item_id, buckets = member.id, self._buckets
        self._recent[item_id] = member
        self._keys[item_id] = keys
        get = buckets.get
        for key in keys:
            bucket = get(key)
            if bucket is None:  # most buckets hold one member: no list for it
                buckets[key] = item_id
            elif isinstance(bucket, str):
                buckets[key] = [bucket, item_id]
            else:
                bucket.append(item_id)

    def _root(self, item_id: str) -> str:
        parent = self._parent
        while parent[item_id] != item_id:
            parent[item_id] = parent[parent[item_id]]
            item_id = parent[item_id]
        return item_id

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._root(a), self._root(b)
        if ra == rb:
            return
        if len(self._members[ra]) < len(self._members[rb]):
            ra, rb = rb, ra
        self._parent[rb] = ra
        self._first[ra] = min(self._first[ra], self._first.pop(rb))
        self._last[ra] = max(self._last[ra], self._last.pop(rb))
        self._members[ra] += self._members.pop(rb)

    @staticmethod
    def _band_keys(sets: Sequence[frozenset[int]]) -> list[list[int]]:
        """Each set's LSH band keys (its rows' values in a band, and the band's number);
        none for an empty set, which joins no story."""
        full = [i for i, s in enumerate(sets) if s]
        out: list[list[int]] = [[] for _ in sets]
        if not full:
            return out
        # two 32-bit rows a band: one 64-bit value, shifted to make room for the band
        bands = signatures([set(sets[i]) for i in full]).view(np.uint64).tolist()
        for row, i in zip(bands, full, strict=True):
            out[i] = [(value << 5) | band for band, value in enumerate(row)]
        return out


def _when(member: Member) -> tuple[datetime, str]:
    return member.when, member.id


def members(items: Iterable[tuple[str, datetime, Iterable[int]]]) -> list[Member]:
    """`Member`s from (id, time, shingles) triples."""
    return [Member(item_id, when, frozenset(s)) for item_id, when, s in items]


@dataclass(frozen=True, slots=True)
class StoryRow:
    """One story as `monitor stories` shows it: the digest's `Story` of its items (title,
    sources in the order they ran it, languages, top actors), its id, and what a live
    story adds. `score` ranks the rows as the dashboard's Stories view does
    (`core.story_view.story_score`: sources, growth in the last hour, recency)."""

    id: str  # its earliest item's
    story: Story
    last_seen: datetime
    first_source: str
    growth_1h: int  # items first seen in the hour before now
    score: float

    def to_json(self) -> dict[str, object]:
        """A contract: fields are added, never renamed."""
        s = self.story
        return {
            "id": self.id,
            "title": s.title,
            "items": len(s.items),
            "sources": list(s.sources),
            "languages": list(s.languages),
            "first_seen": s.first_seen.isoformat(),
            "last_seen": self.last_seen.isoformat(),
            "first_source": self.first_source,
            "growth_1h": self.growth_1h,
            "actors": list(s.actors),
        }


def story_rows(
    items: Sequence[Item], now: datetime, grouping: StoryLookup | None = None
) -> list[StoryRow]:
    """The stories of `items`, highest score first (then the most recently updated): by
    the live stories (`grouping`, as saved), matched here for the items in none."""
    groups: dict[str, list[str]] = {}
    loose = []
    for it in items:
        found = grouping.story_of(it.id) if grouping is not None else None
        if found is None:
            loose.append(it)
        else:
            groups.setdefault(found, []).append(it.id)
    index = StoryIndex()
    index.add(Member(it.id, it.first_seen, frozenset(shingles(it))) for it in loose)
    groups.update(index.stories())
    by_id = {it.id: it for it in items}
    rows: list[StoryRow] = []
    for story_id, ids in groups.items():
        story = make_story([by_id[i] for i in ids])
        first = min((by_id[i] for i in ids), key=lambda it: (it.first_seen, it.id))
        grown = growth((it.first_seen for it in story.items), now)
        last = max(it.first_seen for it in story.items)
        rows.append(
            StoryRow(
                id=story_id,
                story=story,
                last_seen=last,
                first_source=first.sources[0] if first.sources else "",
                growth_1h=grown,
                score=story_score(len(story.sources), grown, quiet_hours(last, now)),
            )
        )
    rows.sort(key=lambda r: (-r.score, -r.last_seen.timestamp(), r.id))
    return rows


def entry_member(entry: Entry) -> Member:
    """An entry as stories see it: the shingles of its title and summary, read from its
    folded search text without the source names at its end (`core.entries.search_text`),
    so that copies from different sources compare on what they say."""
    words = entry.search.split(" ")
    tail = folded_words(" ".join(entry.sources)).split()
    if tail and words[-len(tail) :] == tail:
        words = words[: -len(tail)]
    found = word_shingles([w for w in words[: BODY_WORDS + TITLE_WORDS] if w])
    return Member(entry.id, entry.first_seen, frozenset(found))


def pickup_line(entries: Sequence[Entry], shown: str, clock: Callable[[datetime], str]) -> str:
    """Who ran the story of `shown` first and when the others followed, for the article
    pane: "also in 2 sources; first: Agence Alpha 10:04 (+12 min Le Quotidien, +40 min
    Evening Globe)". Empty when no other source carries it. Plain text: gate it."""
    firsts: dict[str, datetime] = {}
    for e in sorted(entries, key=lambda e: (e.first_seen, e.id)):
        for source in e.sources:
            firsts.setdefault(source, e.first_seen)
    mine = next((e for e in entries if e.id == shown), None)
    others = [s for s in firsts if mine is None or s not in mine.sources]
    if not others:
        return ""
    order = sorted(firsts, key=lambda s: (firsts[s], s))
    lead = order[0]
    start = firsts[lead]
    later = [f"+{round((firsts[s] - start).total_seconds() / 60)} min {s}" for s in order[1:]]
    shown_later = ", ".join(later[:LATER_SHOWN]) + (", …" if len(later) > LATER_SHOWN else "")
    tail = f" ({shown_later})" if later else ""
    n = len(others)
    return f"also in {n} source{'s' if n != 1 else ''}; first: {lead} {clock(start)}{tail}"


LATER_SHOWN = 4  # later sources named in the pickup line
