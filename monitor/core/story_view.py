"""The rows of the dashboard's Stories view, and the score both it and `monitor stories`
rank stories by. Pure: the stories (`io.live_stories.LiveStories.groups`) and the clock
come in.

One row per story: its headline (the digest's lead rule, `core.digest.story_lead`), how
many items and sources carry it and in which languages, when it was first seen and last
updated, how fast it grows (items of the last hour, and per hour over 24 hours for a
sparkline) and its top actors. The score is one sentence a user can check by hand
(SCORE_WORDS): sources, growth, then recency as a decay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from monitor.core.digest import story_lead
from monitor.core.index import entry_mentions
from monitor.model import Entry

HOUR = timedelta(hours=1)
HOURS = 24  # the sparkline's hours, the newest last
HALF_LIFE_HOURS = 24  # a quiet story's score halves in this time
GROWTH_WEIGHT = 2  # an item of the last hour counts as much as two sources
TOP_ACTORS = 3  # actors named per row
SCORE_SHORT = "score: sources + 2 × items of the last hour, halved per quiet day"
SCORE_WORDS = (
    "score = sources + 2 × items of the last hour, halved for every 24 hours since"
    " the story's last item"
)


def story_score(sources: int, growth_1h: int, quiet_hours: float) -> float:
    """SCORE_WORDS: what many outlets run and what grows now first, fading as it goes
    quiet (`quiet_hours` since its last item), so that yesterday's big story falls below
    today's."""
    fade = 0.5 ** (max(0.0, quiet_hours) / HALF_LIFE_HOURS)
    return float((sources + GROWTH_WEIGHT * growth_1h) * fade)


def quiet_hours(last_seen: datetime, now: datetime) -> float:
    """Hours from a story's last item to `now`."""
    return (now - last_seen).total_seconds() / 3600


def growth(times: Iterable[datetime], now: datetime) -> int:
    """How many of `times` (first seen) fall in the hour before `now` (or after it: a
    clock a little ahead is new, not old)."""
    return sum(1 for t in times if now - t < HOUR)


def hour_counts(times: Iterable[datetime], now: datetime) -> tuple[int, ...]:
    """Items per hour over the HOURS before `now`, the oldest hour first; the last one
    is the `growth` hour."""
    counts = [0] * HOURS
    for t in times:
        ago = int(max(0.0, (now - t) / HOUR))
        if ago < HOURS:
            counts[HOURS - 1 - ago] += 1
    return tuple(counts)


class RankedStory(NamedTuple):
    """A story as the ranking needs it; `summarize` makes the rest of its row, for the
    rows on screen only (100,000 items are tens of thousands of stories). A named tuple
    whose first fields are the order of the rows, so that a list of them sorts as they
    are, with no key function: at 100,000 items that is a third of the ranking's time."""

    minus_score: float  # -score: the highest first
    minus_last: float  # -(the last item's time, a timestamp): then the latest update
    id: str  # the story's: its earliest item's id (unique: the order stops here)
    entries: Sequence[Entry]  # oldest first
    sources: int
    growth_1h: int  # items first seen in the last hour

    @property
    def score(self) -> float:
        """`story_score`."""
        return -self.minus_score

    @property
    def last_seen(self) -> datetime:
        return self.entries[-1].first_seen

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.entries]


@dataclass(frozen=True, slots=True)
class StorySummary:
    """One row of the Stories view. Titles, sources and actors are feed text: gate them."""

    story: RankedStory
    lead: Entry  # its headline's item (`story_lead`)
    sources: tuple[str, ...]  # in the order they ran it
    languages: tuple[str, ...]  # sorted
    first_seen: datetime
    hourly: tuple[int, ...]  # items first seen per hour of the last 24, oldest first
    actors: tuple[str, ...]  # the most mentioned first, at most TOP_ACTORS


def rank_stories(groups: Mapping[str, Sequence[Entry]], now: datetime) -> list[RankedStory]:
    """Every story (id -> its entries, oldest first), the highest score first, then the
    latest update, then the id."""
    now_stamp = now.timestamp()
    recent = now - HOUR
    rows: list[RankedStory] = []
    add = rows.append
    score = story_score
    make = tuple.__new__  # a RankedStory without the Python-level __new__ of a named tuple
    for sid, entries in groups.items():
        if not entries:
            continue
        last = entries[-1].first_seen  # oldest first: the last is the latest
        if len(entries) == 1:  # most stories: one item, fast
            sources = len(entries[0].sources)
            grown = 1 if last > recent else 0
        else:
            sources = len({s for e in entries for s in e.sources})
            grown = 0
            for e in reversed(entries):
                if e.first_seen <= recent:
                    break
                grown += 1
        stamp = last.timestamp()
        minus = -score(sources, grown, (now_stamp - stamp) / 3600)
        add(make(RankedStory, (minus, -stamp, sid, entries, sources, grown)))
    rows.sort()
    return rows


def summarize(story: RankedStory, now: datetime) -> StorySummary:
    """The rest of a story's row: headline, sources in order, languages, first seen,
    the hourly counts and the top actors."""
    entries = story.entries
    times = [e.first_seen for e in entries]
    return StorySummary(
        story,
        story_lead(entries),
        tuple(dict.fromkeys(s for e in entries for s in e.sources)),
        tuple(sorted({e.language for e in entries if e.language})),
        min(times),
        hour_counts(times, now),
        top_actors(entries),
    )


def top_actors(entries: Iterable[Entry], limit: int = TOP_ACTORS) -> tuple[str, ...]:
    """The actors the entries mention most (mentions added up), ties by name."""
    counts: dict[str, int] = {}
    for e in entries:
        for name, n in zip(e.actors, entry_mentions(e), strict=True):
            counts[name] = counts.get(name, 0) + max(n, 1)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(name for name, _ in ranked[:limit])


# -- the timeline of one story ------------------------------------------------------------


def story_filter(story_id: str) -> str:
    """The filter that shows one story's items (the query term `story:ID`)."""
    return f"story:{story_id}"
