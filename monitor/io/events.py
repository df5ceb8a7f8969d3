"""What the application core reports, as typed events. `monitor poll`, `monitor poll
--watch` and the dashboard each show them their own way; none of them decides anything.

Events are delivered on the core's event loop, in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # kept light: the command line imports this before anything heavy
    from monitor.core.view import View
    from monitor.io.digest import ScheduleRun
    from monitor.model import Alert, Item, PollReport, SourceResult


@dataclass(frozen=True, slots=True)
class Loaded:
    """The store was read again: entries, index and source states are current."""

    fresh: frozenset[str]  # ids that were not there at the last read (empty on the first)
    first: bool


@dataclass(frozen=True, slots=True)
class ViewChanged:
    view: View


@dataclass(frozen=True, slots=True)
class PollStarted:
    only: frozenset[str]  # the sources asked for (empty: every due source)


@dataclass(frozen=True, slots=True)
class SourcePolled:
    """One source of a running poll is done (only with `Session(progress=True)`)."""

    done: int
    total: int
    result: SourceResult


@dataclass(frozen=True, slots=True)
class PollEnded:
    report: PollReport | None  # None when the poll itself failed
    failure: str | None  # why it failed, in words
    fresh: int  # items new to the store


@dataclass(frozen=True, slots=True)
class Scheduled:
    """When the next poll is due (None: no enabled source)."""

    next_poll: datetime | None


@dataclass(frozen=True, slots=True)
class ActorsFound:
    """Items got their actors, quotes and dates; `left` are still waiting."""

    done: int
    left: int
    backlog: bool  # stored earlier without them, not new in this poll


@dataclass(frozen=True, slots=True)
class TextsQueued:
    count: int  # pages queued now
    backlog: int  # of them, items left pending by earlier polls
    skipped: bool = False  # not queued: article texts are off (--no-text)


@dataclass(frozen=True, slots=True)
class TextArrived:
    """An item's article text (or the reason it has none) is stored."""

    item: Item
    done: int  # of `total` in its batch
    total: int


@dataclass(frozen=True, slots=True)
class TextsDone:
    """A batch of pages ended; `fetching` are still under way."""

    fetched: int
    failed: dict[str, int]  # reason -> items
    fetching: int


@dataclass(frozen=True, slots=True)
class DigestWritten:
    run: ScheduleRun


@dataclass(frozen=True, slots=True)
class Dropped:
    """Retention ([storage] keep) ran: `count` items published before the UTC day
    `before` were dropped; `kept` older ones stay (starred, tagged by hand, annotated)."""

    count: int
    before: date
    kept: int


@dataclass(frozen=True, slots=True)
class TriageChanged:
    """The analyst's triage changed (stars, tags, notes, what was seen), here, by another
    dashboard, or by auto-tags: `Session.triage_state` is current."""

    ids: frozenset[str]  # the items it changed
    message: str  # what changed, in words ("" when nothing needs saying: a row seen)
    auto: dict[str, int] = field(default_factory=dict)  # auto-tag -> items it tagged now


@dataclass(frozen=True, slots=True)
class AlertRaised:
    """Watches fired: `alerts` are new (one per story), recorded in the ledger with their
    deliveries pending; `joined` are earlier alerts that copies of their story joined."""

    alerts: tuple[Alert, ...]
    joined: tuple[Alert, ...] = ()


@dataclass(frozen=True, slots=True)
class ChannelNotice:
    """An alert channel started failing (`ok` False: when it retries is in `message`),
    gave up, or delivered again after failures (`ok` True). Said once per change, not
    once per retry; every failure is in the ledger (`monitor alerts`)."""

    channel: str
    message: str
    ok: bool


@dataclass(frozen=True, slots=True)
class StoriesUpdated:
    """The stories were brought up to date with a read of the store (`io.live_stories`):
    `added` entries joined or started a story (0: none, but a view of them may redraw)."""

    added: int


@dataclass(frozen=True, slots=True)
class Problem:
    """A step failed; it is logged and said, and the rest goes on."""

    what: str
    message: str


Event = (
    Loaded
    | ViewChanged
    | PollStarted
    | SourcePolled
    | PollEnded
    | Scheduled
    | ActorsFound
    | TextsQueued
    | TextArrived
    | TextsDone
    | DigestWritten
    | Dropped
    | TriageChanged
    | AlertRaised
    | ChannelNotice
    | StoriesUpdated
    | Problem
)
Listener = Callable[[Event], None]
