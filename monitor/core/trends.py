"""Actors over time, from timeline entries: counts, a 24-hour series, co-occurrence, rising.

Pure: entries (newest first, as the store gives them) and `now` come in. A count is a
number of items mentioning the actor; `mentions` adds up how often those items name it.
Names that `names.merge_names` finds to be one actor across documents are counted as
one, under the name it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from monitor.core.index import MICROSECOND, EntryIndex, Mask, micros
from monitor.model import Entry

HOURS = 24
WITH = 3  # co-occurring actors kept per actor
BASELINE_DAYS = 6  # the days before the last 24 h that make an actor's baseline


@dataclass(frozen=True, slots=True)
class ActorStat:
    name: str
    shown: int  # items in the given entries
    hour: int  # of those, published in the last hour
    day: int  # … 24 hours
    week: int  # … 7 days
    series: tuple[int, ...]  # items per hour over the last 24 h, oldest first
    rising: float  # last 24 h against the actor's daily average over the 6 days before
    together: tuple[str, ...] = ()  # the actors most often in the same items
    mentions: tuple[int, int, int, int] = (0, 0, 0, 0)  # times named: shown, 1 h, 24 h, 7 d


def rising_score(day: int, before: int, days: int = BASELINE_DAYS) -> float:
    """(last 24 h + 1) / (daily average before + 1): 1 is steady, above 1 rising."""
    return (day + 1) / (before / days + 1)


def actor_stats(
    entries: Sequence[Entry] | EntryIndex,
    now: datetime,
    *,
    limit: int = 200,
    mask: Mask | None = None,
    together: bool = True,
) -> list[ActorStat]:
    """The `limit` most mentioned actors of `entries`, most mentioned first. With an
    index, `mask` picks its rows (None: all); names are merged over the whole index.
    `together=False` leaves co-occurring actors out (they cost the most)."""
    index = entries if isinstance(entries, EntryIndex) else EntryIndex.build(entries)
    names, row, group, said = index.groups()
    if mask is not None:
        keep = mask[row]
        row, group, said = row[keep], group[keep], said[keep]
    if not len(group):
        return []
    size = len(names)
    shown = np.bincount(group, minlength=size)
    seen = np.flatnonzero(shown)
    rank = index.memo("name rank", lambda: _ranks(names))
    top = seen[np.lexsort((rank[seen], -shown[seen]))][:limit]
    slot_of = np.full(size, -1, np.int64)
    slot_of[top] = np.arange(len(top))
    mine = slot_of[group] >= 0
    t_row, t_slot, t_said = row[mine], slot_of[group[mine]], said[mine]
    age = micros(now) - index.published[t_row]
    n = len(top)

    def within(span: timedelta) -> Mask:
        return (age >= 0) & (age < span // MICROSECOND)

    def count(inside: Mask | slice) -> tuple[np.ndarray, np.ndarray]:
        """Items and mentions per top actor, among the pairs `inside` picks."""
        slots = t_slot[inside]
        said = np.bincount(slots, weights=t_said[inside], minlength=n).astype(np.int64)
        return np.bincount(slots, minlength=n), said

    recent = within(timedelta(hours=HOURS))
    _, total = count(slice(None))
    (hour, hour_said), (day, day_said), (week, week_said) = (
        count(within(timedelta(hours=1))),
        count(recent),
        count(within(timedelta(days=7))),
    )
    hour_slot = HOURS - 1 - age[recent] // (timedelta(hours=1) // MICROSECOND)
    series = np.bincount(t_slot[recent] * HOURS + hour_slot, minlength=n * HOURS).reshape(n, HOURS)
    stats = []
    for i, g in enumerate(top.tolist()):
        stats.append(
            ActorStat(
                name=names[g],
                shown=int(shown[g]),
                hour=int(hour[i]),
                day=int(day[i]),
                week=int(week[i]),
                series=tuple(series[i].tolist()),
                rising=rising_score(int(day[i]), int(week[i] - day[i])),
                together=_together(index, row, group, g, names, rank) if together else (),
                mentions=(
                    int(total[i]),
                    int(hour_said[i]),
                    int(day_said[i]),
                    int(week_said[i]),
                ),
            )
        )
    return stats


def _ranks(names: list[str]) -> np.ndarray:
    rank = np.empty(len(names), np.int64)
    rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
    return rank


def _together(
    index: EntryIndex,
    row: np.ndarray,
    group: np.ndarray,
    g: int,
    names: list[str],
    rank: np.ndarray,
) -> tuple[str, ...]:
    """The actors most often in the same rows as group `g` (most first, then by name)."""
    rows = np.zeros(index.size, np.bool_)
    rows[row[group == g]] = True
    near = np.bincount(group[rows[row]], minlength=len(names))
    near[g] = 0
    seen = np.flatnonzero(near)
    best = seen[np.lexsort((rank[seen], -near[seen]))][:WITH]
    return tuple(names[i] for i in best.tolist())
