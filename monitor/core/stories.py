"""Live stories: the items that tell the same story, kept up to date as items arrive. Pure.

The test is the digest's (`core.cluster`): word shingles of the title and the start of
the body, MinHash signatures cut into LSH bands, and an exact Jaccard similarity of at
least THRESHOLD. Here it is incremental: each item added is looked up in the band
buckets of the items already there (`core.story_bands`) and joins the story of every one
it tells the same story as, when that story was active within WINDOW of it. So a poll
costs its own items' signatures and lookups, never a pass over the history, and a story
that keeps growing stays one story. `forget_before` takes old items out of the buckets:
memory follows the window, not the history; their story memberships stay.

Shingles never match across languages: an item also joins an item in another language,
close in time, that names the same rare actors and numbers (`core.story_features`).
Items get their actors after they are first stored: `refresh` gives an item already in
its features then, and it may join a story across languages through them.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from monitor.core.cluster import (
    BODY_WORDS,
    item_words,
    same_story_arrays,
    shingle_arrays,
)
from monitor.core.digest import Story, make_story
from monitor.core.fold import folded_words
from monitor.core.pickup import ran_at
from monitor.core.query import StoryLookup
from monitor.core.story_bands import Bands, band_keys
from monitor.core.story_features import (
    EMPTY,
    MIN_SHARED,
    XLANG_WINDOW,
    Rarity,
    features,
    language_of,
)
from monitor.core.story_view import growth, quiet_hours, story_score
from monitor.model import Entry, Item

if TYPE_CHECKING:
    from monitor.core.cluster import Shingles
    from monitor.core.story_features import Features

WINDOW = timedelta(hours=72)  # a story takes in items this close to its last one
TITLE_WORDS = 20  # words of a title read before a summary's, from an entry
MEMBER_CHUNK = 1000  # entries made members at once (`entry_members`)
PER_STORY = 3  # members of one story compared with a new item: its copies are alike
XLANG_CHECK = 10  # items in other languages compared with a new one, most alike first
LOOKUPS = 100  # recent items read through an item's features, for a match across languages
COMMON = 0.1  # a feature more of the recent items carry is not read


@dataclass(frozen=True, slots=True, eq=False)
class Member:
    """One item as stories see it: its id, its time, its shingles (`cluster.shingles`, a
    sorted uint32 array), its language ("" unknown) and its features across languages
    (`story_features.features`, a sorted uint32 array: empty before its actors are known)."""

    id: str
    when: datetime
    shingles: Shingles
    language: str = ""
    features: Features = field(default_factory=lambda: EMPTY)

    def __post_init__(self) -> None:
        if not isinstance(self.shingles, np.ndarray):  # a set, as the digest has them
            found = np.array(sorted(set(self.shingles)), dtype=np.uint32)
            object.__setattr__(self, "shingles", found)


class StoryIndex:
    """Every item added, in one story each; a story's id is its earliest item's id."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}  # union-find over item ids
        self._first: dict[str, tuple[datetime, str]] = {}  # root -> earliest (when, id)
        self._last: dict[str, datetime] = {}  # root -> latest member's time
        self._members: dict[str, list[str]] = {}  # root -> its item ids
        self._recent: dict[str, Member] = {}  # members still in the buckets
        self._slot: dict[str, int] = {}  # recent member -> its slot in the bands
        self._at: dict[int, Member] = {}  # slot -> recent member
        self._next = 0  # the next slot
        self._bands = Bands()
        self._rarity: Rarity[int] = Rarity()  # the recent members' features, by slot
        self._languages: Counter[str] = Counter()  # of the recent members with features

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
        first = self._next
        self._next += len(new)
        full = [n for n, m in enumerate(new) if len(m.shingles)]
        keys = band_keys([new[n].shingles for n in full])
        mine, theirs = self._bands.add(keys, np.array(full, dtype=np.uint32) + np.uint32(first))
        at = 0
        for n, member in enumerate(new):
            slot = first + n
            self._start(member, slot)
            end = at
            while end < len(mine) and mine[end] == slot:
                end += 1
            self._join_alike(member, theirs[at:end])
            at = end
            self._join_across(member)
        return [self.story_of(m.id) for m in new]

    def refresh(self, member: Member) -> str | None:
        """Give an item already in its features and language as they are now (its actors
        came after it was added): it may join a story across languages through them. Its
        shingles stay those it was added with. Returns its story's id; None for an item
        not in the window any more (or never added), which is left as it is."""
        old = self._recent.get(member.id)
        if old is None:
            return None
        if old.language != member.language or not np.array_equal(old.features, member.features):
            self._count(old, -1)
            kept = Member(old.id, old.when, old.shingles, member.language, member.features)
            self._recent[old.id] = self._at[self._slot[old.id]] = kept
            self._count(kept, 1)
            self._join_across(kept)
        return self.story_of(member.id)

    def story_of(self, item_id: str) -> str:
        """The id of the story the item is in (KeyError for an item never added)."""
        return self._first[self._root(item_id)][1]

    def stories(self) -> dict[str, list[str]]:
        """Every story: its id and its items' ids, in the order they joined it."""
        return {story: list(ids) for story, ids in self.groups()}

    def groups(self) -> Iterator[tuple[str, list[str]]]:
        """Every story: its id and its items' ids, in the order they joined it (not the
        order they were added: cheaper than `stories`, for callers that sort them). The
        lists are the index's own: read them, before the index changes."""
        first = self._first
        for root, ids in self._members.items():
            yield first[root][1], ids

    def size(self, item_id: str) -> int:
        """How many items are in the item's story."""
        return len(self._members[self._root(item_id)])

    def members(self, item_id: str) -> list[str]:
        """The ids of the items of the item's story, in the order they joined."""
        return list(self._members[self._root(item_id)])

    def forget_before(self, moment: datetime) -> int:
        """Take the items older than `moment` out of the buckets (they stay in their
        stories; new items can no longer join through them). Returns how many."""
        old = [m for m in self._recent.values() if m.when < moment]
        for member in old:
            del self._recent[member.id]
            del self._at[self._slot[member.id]]
            self._count(member, -1)
        slots = [self._slot.pop(m.id) for m in old]
        self._bands.remove(np.array(slots, dtype=np.uint32))
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
            group = groups.get(stories[m.id])
            if group is None:  # most stories: one item, one list made
                groups[stories[m.id]] = [m]
            else:
                group.append(m)
        count = 0
        for story, group in groups.items():
            if len(group) == 1 and story not in parent:  # most stories: one item
                only = group[0]
                i = only.id
                parent[i], first[i], last[i], joined[i] = i, (only.when, i), only.when, [i]
                count += 1
                continue
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
        kept = [m for g in groups.values() for m in g if len(m.shingles)]
        if kept:  # a reader restores without shingles: nothing to sort
            self._file(sorted(kept, key=_when))
        return count

    def refile(self, members: Iterable[Member]) -> int:
        """Put items restored without shingles into the buckets after all (a reader
        that has items to match after all); returns how many."""
        late = [m for m in members if len(m.shingles) and m.id in self._parent]
        late = sorted((m for m in late if m.id not in self._recent), key=_when)
        self._file(late)
        return len(late)

    # -- inside -----------------------------------------------------------------------

    def _start(self, member: Member, slot: int) -> None:
        """The member in a story of its own, and in the window."""
        item_id = member.id
        self._parent[item_id] = item_id
        self._first[item_id] = (member.when, item_id)
        self._last[item_id] = member.when
        self._members[item_id] = [item_id]
        self._recent[item_id] = self._at[slot] = member
        self._slot[item_id] = slot
        self._count(member, 1)

    def _file(self, members: Sequence[Member]) -> None:
        """Put members already in their stories into the window and its buckets, where
        later items find them, comparing nothing."""
        if not members:
            return
        first = self._next
        self._next += len(members)
        for n, member in enumerate(members):
            self._recent[member.id] = self._at[first + n] = member
            self._slot[member.id] = first + n
            self._count(member, 1)
        slots = np.arange(first, first + len(members), dtype=np.uint32)
        self._bands.add(band_keys([m.shingles for m in members]), slots)

    def _count(self, member: Member, step: int) -> None:
        feats = member.features.tolist()
        self._rarity.count(self._slot[member.id], feats, step)
        if feats and member.language:
            self._languages[member.language] += step
            if self._languages[member.language] <= 0:
                del self._languages[member.language]

    def _join_alike(self, member: Member, candidates: Sequence[int]) -> None:
        """Join the stories of the candidates (slots, newest first) whose shingles say
        they tell the member's story, each story through at most PER_STORY of them."""
        tried: dict[str, int] = {}
        for slot in candidates:
            other = self._at[slot]
            root = self._root(other.id)
            if root == self._root(member.id) or tried.get(root, 0) >= PER_STORY:
                continue  # already joined, or enough of its members compared
            if abs(member.when - self._last[root]) > WINDOW:
                continue  # a story gone quiet: this is a new one
            tried[root] = tried.get(root, 0) + 1
            if same_story_arrays(member.shingles, other.shingles):
                self._union(member.id, other.id)

    def _join_across(self, member: Member) -> None:
        """Join the stories of recent items in other languages that its features say tell
        its story (`story_features.same_event_score`). They are found through its
        features, the rarest first: the items sharing at least MIN_SHARED of them, the
        most first, among the LOOKUPS recent items read, each feature's newest first (a
        big story's newest items are likely in it); a feature more than COMMON of the
        items carry is not read, it only counts in the score."""
        if not member.language or len(member.features) < MIN_SHARED:
            return
        if len(self._languages) < 2 and member.language in self._languages:
            return  # every recent item is in its language: nothing to look for
        common = max(MIN_SHARED, int(COMMON * self._rarity.items))
        having = self._rarity.having
        postings = [ids for f in member.features.tolist() if (ids := having.get(f)) is not None]
        postings.sort(key=len)
        read: list[Iterable[int]] = []
        left = LOOKUPS
        for ids in postings:  # the rarest first, then the newest of the commoner
            if len(ids) > common or left <= 0:
                break
            read.append(itertools.islice(reversed(ids.keys()), left))
            left -= len(ids)
        if len(read) < MIN_SHARED:
            return  # an item is counted once a feature: none can share MIN_SHARED
        found = Counter(itertools.chain.from_iterable(read))
        me = self._slot[member.id]
        decide = None
        tried = 0
        # the most shared first (a stable sort: then in the order found)
        for slot, shared in found.most_common():
            if shared < MIN_SHARED:
                break
            if slot == me:
                continue
            other = self._at[slot]
            if not other.language or other.language == member.language:
                continue
            if abs(other.when - member.when) > XLANG_WINDOW:
                continue
            if self._root(other.id) == self._root(member.id):
                continue
            if tried >= XLANG_CHECK:
                break
            tried += 1
            if decide is None:
                decide = self._rarity.judge(member.features)
            if decide(other.features)[0]:
                self._union(member.id, other.id)

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


def _when(member: Member) -> tuple[datetime, str]:
    return member.when, member.id


def item_members(items: Sequence[Item]) -> list[Member]:
    """Items as stories see them: their shingles (`cluster.shingles`, made for all at
    once), language, and features from their actors, title and summary."""
    found = shingle_arrays([item_words(it) for it in items])
    return [
        Member(
            it.id,
            it.first_seen,
            sh,
            language_of(it.language),
            features(
                [a.name for a in sorted(it.actors, key=lambda a: -a.mentions)],
                (it.title, it.summary),
            ),
        )
        for it, sh in zip(items, found, strict=True)
    ]


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
    index.add(item_members(loose))
    groups.update(index.stories())
    by_id = {it.id: it for it in items}
    rows: list[StoryRow] = []
    for story_id, ids in groups.items():
        story = make_story([by_id[i] for i in ids])
        first = min((by_id[i] for i in ids), key=lambda it: (ran_at(it), it.id))
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


def entry_members(entries: Sequence[Entry]) -> list[Member]:
    """Entries as stories see them: the shingles of their title and summary, read from
    their folded search text without the source names at its end (`core.entries.
    search_text`), so that copies from different sources compare on what they say; their
    language; and their features: their actors and the numbers of their title and
    summary (from the folded text, where "1,200" reads "1 200": `story_features.numbers`
    takes it for 1200). Made MEMBER_CHUNK entries at a time: a poll's words, one Python
    string each, would otherwise be held all at once (hundreds of MB for 25,000)."""
    tails: dict[tuple[str, ...], list[str]] = {}  # the same sources again and again
    out: list[Member] = []
    for start in range(0, len(entries), MEMBER_CHUNK):
        out += _entry_members(entries[start : start + MEMBER_CHUNK], tails)
    return out


def _entry_members(
    entries: Sequence[Entry], tails: dict[tuple[str, ...], list[str]]
) -> list[Member]:
    texts: list[list[str]] = []
    for entry in entries:
        words = entry.search.split(" ")
        tail = tails.get(entry.sources)
        if tail is None:
            tail = tails[entry.sources] = folded_words(" ".join(entry.sources)).split()
        if tail and words[-len(tail) :] == tail:
            words = words[: -len(tail)]
        texts.append([w for w in words[: BODY_WORDS + TITLE_WORDS] if w])
    found = shingle_arrays(texts)
    return [
        Member(
            e.id,
            e.first_seen,
            sh,
            language_of(e.language),
            features(e.actors, (e.title, " ".join(words))),
        )
        for e, sh, words in zip(entries, found, texts, strict=True)
    ]
