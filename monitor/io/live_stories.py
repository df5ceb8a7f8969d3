"""The stories of the dashboard's items, kept up to date as they arrive (`core.stories`):
each read of the store adds only the entries not yet seen, of the recent days, in a
worker thread; the article pane asks who ran the shown item's story first, queries ask
which story an item is in (`story:`, `is:story-lead`), the digest and the alerts group
by them.

The stories are saved beside the store, or in its database (`io.story_file`, derived
data): at the first update the items saved keep their story (only the window's items
are shingled again, for the band buckets) and only the entries the file does not have
are matched, so a restart never matches the history again. The writer saves what each
update changed: new members, and the members of stories that merged (a merge gives the
absorbed story's items the earlier story's id). A reader (a read-only dashboard, a command)
reads the file, and matches in memory what the writer has not saved yet. A missing or
damaged file is made again from the recent entries, never fatal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from monitor.config import DatabaseSettings
from monitor.core.pickup import pickup_line, ran_at
from monitor.core.stories import WINDOW, Member, StoryIndex, entry_members
from monitor.core.story_features import EMPTY
from monitor.io.story_file import Row, StoryFile
from monitor.model import Entry

log = logging.getLogger(__name__)

RECENT = timedelta(days=7)  # entries older than this (first seen) are left out of stories
LINE_WAIT = 0.01  # seconds `line` waits for an update under way, on the dashboard's loop


class LiveStories:
    """A story index over entries, safe to read while a worker thread adds to it; saved
    in `folder` or the database (None: kept in memory only), written there by the
    `writer` only."""

    def __init__(
        self, folder: Path | DatabaseSettings | None = None, *, writer: bool = False
    ) -> None:
        self._index = StoryIndex()
        self._entries: dict[str, Entry] = {}
        self._lock = threading.Lock()  # the index and the entries
        self._updating = threading.Lock()  # one update at a time
        self._file = StoryFile(folder, writer=writer) if folder is not None else None
        self._writer = writer and folder is not None
        self._loaded = False  # the file was read (at the first update)
        self._saved: dict[str, str] = {}  # the writer's: item -> story, as in the file
        self._save_all = False  # the file was lost: write every membership again
        self._unfiled = False  # a reader's: items of the window restored without shingles
        self._followers: frozenset[str] | None = None  # `followers`, until the next change
        # items in stories the store no longer has (retention): their stories keep their
        # id until the next start (restored under the earliest item left), but no longer
        # show them, and the earliest item left leads them
        self._gone: set[str] = set()

    def update(self, entries: Sequence[Entry], now: datetime) -> int:
        """Add the entries not yet in a story (first seen within RECENT): those the file
        has go back into their saved story, the others are matched; then save what
        changed. `entries`: every stored one (those missing were dropped: retention).
        Returns how many were added."""
        with self._updating:
            with self._lock:
                known, seen = self._index, self._entries
                gone = seen.keys() - {e.id for e in entries}
                if gone != self._gone:
                    self._gone, self._followers = gone, None
                since = now - RECENT  # one subtraction, not one per entry
                recent = [e for e in entries if e.first_seen >= since]
                fresh = [e for e in recent if e.id not in known]
                # the newer reading of the entries already in: actors found, sources added
                newer = [e for e in recent if e.id in seen and seen[e.id] is not e]
                later = [e for e in newer if e.annotated and not seen[e.id].annotated]
            saved = self._read_saved(fresh, now)
            cutoff = now - WINDOW
            matched = entry_members([e for e in fresh if e.id not in saved])  # the slow part
            # a reader with nothing to match leaves the buckets empty until it has
            shingle = self._writer or bool(matched)
            placed = _members([e for e in fresh if e.id in saved], cutoff, shingle)
            late = self._late(cutoff) if matched and self._unfiled else []
            with self._lock:
                self._entries.update((e.id, e) for e in newer)
                self._entries.update((e.id, e) for e in fresh)
                self._index.restore(placed, saved)
                self._index.refile(late)
                self._index.add(matched)
                self._index.forget_before(cutoff)
                self._unfiled = (self._unfiled or not shingle) and not matched
                if fresh:
                    self._followers = None
            # a restored item's story id changes only when its saved one is gone (an
            # item retention dropped, or older than RECENT): saved again then
            moved = [m.id for m in placed if saved[m.id] not in known]
            touched = [m.id for m in matched] + moved + self.refeed(later)
            self._save(touched, now)
        return len(fresh)

    def refeed(self, entries: Sequence[Entry]) -> list[str]:
        """Entries already in a story whose actors came since they joined it (their
        `annotated` turned true): the entries kept are these, with their actors, and
        their features go to the index, where they may join a story in another language
        (`StoryIndex.refresh`). Returns the ids whose story may have changed (saved again
        when it did)."""
        if not entries:
            return []
        fed = entry_members(entries)
        with self._lock:
            self._entries.update((e.id, e) for e in entries)
            for member in fed:
                self._index.refresh(member)
            self._followers = None  # once features change, stories may merge
        return [e.id for e in entries]

    def story_of(self, entry_id: str) -> str | None:
        """The id of the entry's story (its earliest item's id); None: in no story yet."""
        with self._lock:
            return self._index.story_of(entry_id) if entry_id in self._index else None

    def members(self, entry_id: str) -> list[str]:
        """The ids of the items of the entry's story ([]: in no story yet)."""
        with self._lock:
            return self._index.members(entry_id) if entry_id in self._index else []

    def followers(self) -> frozenset[str]:
        """The ids of the items in a story that did not run it first (`pickup.ran_at`; for
        `is:story-lead`, so that the lead is the item the timeline marks "first"), made
        once per update that changed the stories."""
        with self._lock:
            if self._followers is None:
                gone, entries = self._gone, self._entries
                out: set[str] = set()
                for _, ids in self._index.groups():
                    if len(ids) == 1:  # most stories: their one item leads
                        continue
                    left = [entries[i] for i in ids if i not in gone and i in entries]
                    if left:
                        lead = min(left, key=_ran)
                        out.update(e.id for e in left if e is not lead)
                self._followers = frozenset(out)
            return self._followers

    def groups(self) -> dict[str, list[Entry]]:
        """Every story of the recent entries: its id and its entries, oldest first."""
        out: dict[str, list[Entry]] = {}
        with self._lock:
            entries, gone = self._entries, self._gone
            for sid, ids in self._index.groups():
                if len(ids) == 1:  # most stories: nothing to sort
                    entry = entries.get(ids[0])
                    if entry is not None and not (gone and entry.id in gone):
                        out[sid] = [entry]
                    continue
                found = [entries[i] for i in ids if i in entries and i not in gone]
                if found:
                    found.sort(key=_order)
                    out[sid] = found
        return out

    def line(self, entry_id: str, clock: Callable[[datetime], str]) -> str:
        """Who ran the entry's story first, and who followed (`pickup_line`); empty when
        no other source carries it, the entry is in no story yet, or a big update holds
        the stories now: the dashboard asks on the loop, as the cursor moves, and must not
        wait for it (it asks again after the update: `StoriesUpdated`)."""
        if not self._lock.acquire(timeout=LINE_WAIT):
            return ""
        try:
            if entry_id not in self._index:
                return ""
            ids = self._index.members(entry_id)
            entries = [self._entries[i] for i in ids if i in self._entries]
        finally:
            self._lock.release()
        return pickup_line(entries, entry_id, clock)

    def close(self) -> None:
        """Close the file, once an update under way is done (what is held stays)."""
        with self._updating:
            if self._file is not None:
                self._file.close()

    # -- the file -----------------------------------------------------------------------

    def _late(self, cutoff: datetime) -> list[Member]:
        """The window's items a reader restored without shingles, shingled now."""
        with self._lock:
            window = [e for e in self._entries.values() if e.first_seen >= cutoff]
        return entry_members(window)

    def _read_saved(self, fresh: Sequence[Entry], now: datetime) -> dict[str, str]:
        """The saved story of each fresh entry that has one: the whole file at the first
        update; then, for a reader, what the writer saved since."""
        file = self._file
        if file is None or not fresh:
            self._loaded = True
            return {}
        if self._loaded:
            return {} if self._writer else file.stories_of([e.id for e in fresh])
        self._loaded = True
        saved = file.load(now - RECENT)
        if saved is None:
            if file.missing and self._writer:  # a reader matches, and waits for the writer
                log.warning("no stories file: the stories of %d items are made again", len(fresh))
            return {}
        if self._writer:
            self._saved = dict(saved)
        return saved

    def _save(self, ids: Collection[str], now: datetime) -> None:
        """The writer: save the memberships that differ from the file's, among the
        stories of `ids` (every story after the file was lost)."""
        if not self._writer or self._file is None or not (ids or self._save_all):
            return
        with self._lock:
            index, entries = self._index, self._entries
            if self._save_all:
                stories = index.stories()
            else:
                stories = {}
                for i in ids:
                    story = index.story_of(i)
                    if story not in stories:
                        stories[story] = index.members(i)
            saved = self._saved
            rows: list[Row] = [
                (i, story, entries[i].first_seen)
                for story, members in stories.items()
                for i in members
                if saved.get(i) != story and i in entries
            ]
        if not rows and not self._save_all:
            return
        if self._file.save(rows, now - RECENT):
            self._saved.update((i, story) for i, story, _ in rows)
            self._save_all = False
        else:  # the file is gone: it is written whole next time
            self._saved, self._save_all = {}, True


def read_stories(
    folder: Path | DatabaseSettings, entries: Sequence[Entry], now: datetime
) -> LiveStories:
    """For a command that only reads the store: the stories the writer saved in `folder`
    (or the database), and those of the recent entries it has not saved yet, matched
    here."""
    stories = LiveStories(folder)
    try:
        stories.update(entries, now)
    finally:
        stories.close()  # what is read stays in memory
    return stories


def _members(entries: Sequence[Entry], cutoff: datetime, shingle: bool) -> list[Member]:
    """Entries going back into their saved stories: shingled only when new items may still
    join them through the buckets (within the window), and ones are to be matched."""
    if not shingle:
        return [Member(e.id, e.first_seen, EMPTY) for e in entries]
    window = [e for e in entries if e.first_seen >= cutoff]
    # outside the buckets a member's language and features are never read
    bare = [Member(e.id, e.first_seen, EMPTY) for e in entries if e.first_seen < cutoff]
    return entry_members(window) + bare


def _ran(entry: Entry) -> tuple[datetime, str]:
    return ran_at(entry), entry.id


def _order(entry: Entry) -> tuple[datetime, str]:
    return entry.first_seen, entry.id
