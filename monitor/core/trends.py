"""Actors over time, from timeline entries: counts, a 24-hour series, co-occurrence, rising.

Pure: entries (newest first, as the store gives them) and `now` come in. A count is a
number of items mentioning the actor. Names that `names.merge_names` finds to be one
actor across documents are counted as one, under the name it shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.core.names import merge_names
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


def rising_score(day: int, before: int, days: int = BASELINE_DAYS) -> float:
    """(last 24 h + 1) / (daily average before + 1): 1 is steady, above 1 rising."""
    return (day + 1) / (before / days + 1)


def actor_stats(entries: Sequence[Entry], now: datetime, *, limit: int = 200) -> list[ActorStat]:
    """The `limit` most mentioned actors of `entries`, most mentioned first."""
    raw: Counter[str] = Counter()
    for e in entries:
        raw.update(e.actors)
    if not raw:
        return []
    shown_as = merge_names(raw)
    shown: Counter[str] = Counter()
    for name, n in raw.items():
        shown[shown_as[name]] += n
    top = [name for name, _ in sorted(shown.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]]
    wanted = set(top)
    hour: Counter[str] = Counter()
    day: Counter[str] = Counter()
    week: Counter[str] = Counter()
    series: dict[str, list[int]] = {name: [0] * HOURS for name in top}
    together: dict[str, Counter[str]] = {name: Counter() for name in top}
    for e in entries:
        names = {shown_as[n] for n in e.actors}
        here = names & wanted
        if not here:
            continue
        for name in here:
            together[name].update(names - {name})
        age = now - e.published
        if age < timedelta(0) or age >= timedelta(days=7):
            continue
        week.update(here)
        if age < timedelta(hours=HOURS):
            day.update(here)
            slot = HOURS - 1 - int(age.total_seconds() // 3600)
            for name in here:
                series[name][slot] += 1
            if age < timedelta(hours=1):
                hour.update(here)
    return [
        ActorStat(
            name=name,
            shown=shown[name],
            hour=hour[name],
            day=day[name],
            week=week[name],
            series=tuple(series[name]),
            rising=rising_score(day[name], week[name] - day[name]),
            together=tuple(n for n, _ in together[name].most_common(WITH)),
        )
        for name in top
    ]
