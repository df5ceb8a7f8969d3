"""Who ran a story first: when each item ran, when each source first ran the story, and
the article pane's line that says so. Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from monitor.model import Entry, Item

LATER_SHOWN = 4  # later sources named in the pickup line


def ran_at(item: Entry | Item) -> datetime:
    """When its source ran an item: its publication time when that is plausible (its date
    found and sound, and not after monitor first saw it), else when monitor first saw it.
    Items that arrive in one poll (the first, or the one after a night) are so told apart:
    who ran a story first is who published it first."""
    if item.date_flag is None and item.published <= item.first_seen:
        return item.published
    return item.first_seen


def first_runs(runs: Iterable[tuple[Sequence[str], datetime]]) -> dict[str, datetime]:
    """When each source first ran a story, from its items' (sources, time) pairs."""
    firsts: dict[str, datetime] = {}
    for sources, when in runs:
        for source in sources:
            if source not in firsts or when < firsts[source]:
                firsts[source] = when
    return firsts


def pickup_line(entries: Sequence[Entry], shown: str, clock: Callable[[datetime], str]) -> str:
    """Who ran the story of `shown` first and when the others followed, for the article
    pane: "also in 2 sources; first: Agence Alpha 10:04 (+12 min Le Quotidien, +40 min
    Evening Globe)". Empty when no other source carries it. Plain text: gate it."""
    runs = sorted(((e.sources, ran_at(e)) for e in entries), key=lambda run: run[1])
    firsts = first_runs(runs)  # a tie: the item's own first source first
    mine = next((e for e in entries if e.id == shown), None)
    others = [s for s in firsts if mine is None or s not in mine.sources]
    if not others:
        return ""
    order = sorted(firsts, key=firsts.__getitem__)
    lead = order[0]
    start = firsts[lead]
    later = [f"+{lead_time((firsts[s] - start).total_seconds())} {s}" for s in order[1:]]
    shown_later = ", ".join(later[:LATER_SHOWN]) + (", …" if len(later) > LATER_SHOWN else "")
    tail = f" ({shown_later})" if later else ""
    n = len(others)
    return f"also in {n} source{'s' if n != 1 else ''}; first: {lead} {clock(start)}{tail}"


def lead_time(seconds: float) -> str:
    """How long after the first a source ran the story: "12 min" under two hours, then
    "8 h" under two days, then "3 d"."""
    minutes = round(seconds / 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = round(seconds / 3600)
    return f"{hours} h" if hours < 48 else f"{round(seconds / 86400)} d"
