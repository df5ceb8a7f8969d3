"""The storage seam. Everything the rest of monitor knows about storage is this protocol."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from monitor.core.index import EntryIndex
from monitor.core.query import TextSearch
from monitor.model import Entry, Item, Outcome, SourceState

Change = Callable[[Item], Item]  # a stored item -> its new version (the same id)


class StoreError(Exception):
    """The store cannot be opened or written."""


class StoreLocked(StoreError):
    """Another process holds the write lock. The message names it."""


class StoreUnwritable(StoreError):
    """The store can be read but not written here (a read-only file system, a full disk,
    no permission): a reader may still open it."""


class Store(Protocol):
    """A narrow store: one batched write per poll, reads by time range or id.

    `write` resolves identity itself: an incoming item whose keys match a stored
    item is merged into it (sources united, fields refreshed), never duplicated.
    """

    def states(self) -> dict[str, SourceState]:
        """Per-source cache state and health, by source name."""
        ...

    def write(self, items: Sequence[Item], states: Sequence[SourceState]) -> list[Outcome]:
        """Store one poll's results atomically per day. Returns one outcome per item."""
        ...

    def update(self, changes: Sequence[tuple[str, Change]]) -> list[Item]:
        """Apply each change to the stored item with that id, in one commit (unknown ids
        are skipped). Returns the changed items as stored. Used when an article's text
        arrives: the change sees the item as it is now, after any poll in between."""
        ...

    def drop_before(self, day: str, keep: frozenset[str]) -> int:
        """Retention: drop every item published before the UTC day `day` (YYYY-MM-DD)
        whose id is not in `keep`, atomically (a crash leaves each item either stored or
        dropped, never half). Returns how many were dropped."""
        ...

    def items(self, since: datetime | None = None, until: datetime | None = None) -> Iterator[Item]:
        """Items whose `published` is in [since, until), newest day first."""
        ...

    def entries(self) -> list[Entry]:
        """Every stored item as an Entry, newest `published` first. Cheap: no full text is
        read. The list is a snapshot: later writes do not change it."""
        ...

    def entry_index(self) -> EntryIndex:
        """`entries()` with their index (`core.index.EntryIndex`), so that filters and
        counts need not scan. A snapshot too."""
        ...

    def get(self, item_id: str) -> Item | None: ...

    def text_search(self) -> TextSearch | None:
        """The whole-text index, or None while there is none that covers the store (it is
        being made: queries then match titles and summaries only)."""
        ...

    def text_backlog(self) -> bool:
        """Whether the text index is still being made (`text_search` is None meanwhile);
        False for a store that has no text index at all."""
        ...

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Make every derived index again from the stored items (`progress(done, total)`
        per step); returns the number of items indexed. The writer only."""
        ...

    def count(self) -> int: ...

    def version(self) -> object:
        """A value that changes when a write is committed: readers compare it to know,
        cheaply, whether there is anything new to read."""
        ...

    def quarantined(self) -> int:
        """How many stored records could not be read and were set aside (their items are
        left out everywhere) since the store was opened and read."""
        ...

    def damage(self) -> list[str]:
        """The damaged files found since the store was opened and what was saved of each,
        and those kept aside earlier, in words, one line each (cheap: nothing is read for
        it). Not problems: what could be read was saved; the files stay for a person."""
        ...

    def problems(self) -> list[str]:
        """What cannot be read or is out of date, in words, one line each (records set
        aside, index lines that do not parse, derived files to make again); empty when all
        is well. Reads every stored item first."""
        ...

    def repair(self) -> list[str]:
        """The writer: quarantine what cannot be read (a copy kept first, never deleted
        silently) and make every derived file again; what was done, in words."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Follows(Protocol):
    """A store that hears at once of the commits of other processes (PostgreSQL's
    NOTIFY): long-running drivers read them then, not at their next poll."""

    def follow(self, callback: Callable[[int], None]) -> None:
        """Call `callback(commit)`, from another thread, after any process commits."""
        ...
