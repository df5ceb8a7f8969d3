"""What the dashboard shows: the filter the analyst set, and the view it gives.

Pure: the index and the clock come in. Nothing here scans the entries: filters, counts
per source and per actor all come from the index."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.core.index import EntryIndex
from monitor.core.pickup import ran_at
from monitor.core.query import NO_CONTEXT, Context, Query, actor_query, parse_query, source_query
from monitor.core.trends import ActorStat, actor_stats
from monitor.model import Entry


@dataclass(frozen=True, slots=True)
class SourceRow:
    name: str
    shown: int  # items in the current view
    day: int  # items in the last 24 hours


@dataclass(frozen=True, slots=True)
class View:
    entries: list[Entry]  # the timeline
    sources: list[SourceRow]  # the sources pane
    actors: list[ActorStat] = field(default_factory=list)  # the actors pane


@dataclass(frozen=True, slots=True)
class Filter:
    """The analyst's filter: a query (typed, or a saved filter's), and the source and the
    actor picked in the side pane. Each narrows the one before."""

    text: str = ""  # as typed
    query: Query | None = None  # None: everything
    saved: str | None = None  # the key of the saved filter it came from
    source: str | None = None
    actor: str | None = None

    @property
    def words(self) -> tuple[str, ...]:
        """The words to highlight."""
        return self.query.highlights() if self.query is not None else ()

    @property
    def story(self) -> str | None:
        """The story a `story:ID` term asks for (`Query.story`): its items are shown in
        the order they ran, so that the one that ran it first leads."""
        return self.query.story() if self.query is not None else None

    def as_query(self) -> Query | None:
        """The filter with its picked source as one query (the digest's); the picked actor
        is left to the digest's own actor sections."""
        if self.source is None:
            return self.query
        return Query.both(self.query, source_query(self.source))


def parse_filter(text: str) -> Query | None:
    """The query typed in the filter line; None for none. Raises `QueryError`."""
    text = text.strip()
    query = parse_query(text) if text else None
    return None if query is None or query.empty else query


def compute_view(index: EntryIndex, flt: Filter, now: datetime, ctx: Context = NO_CONTEXT) -> View:
    """Filter, count per source (in the view, and in the last 24 h of the whole store) and
    per actor (in the view); then narrow to the picked source and actor."""
    base = flt.query.select(index, now, ctx) if flt.query is not None else index.every()
    shown = index.count_sources(base)
    day = index.count_sources(index.since(now - timedelta(hours=24)))
    names = sorted(shown, key=lambda n: (-shown[n], n.casefold()))
    picked = flt.source
    if picked is not None and picked not in shown:
        names.append(picked)
    view = base & index.source_rows(picked) if picked is not None else base
    actors = actor_stats(index, now, mask=base, together=False)
    if flt.actor is not None:
        view &= actor_query(flt.actor).select(index, now)
        if flt.actor not in {a.name for a in actors}:
            actors.append(ActorStat(flt.actor, 0, 0, 0, 0, (0,) * 24, 1.0))
    rows = [SourceRow(n, shown.get(n, 0), day.get(n, 0)) for n in names]
    entries = index.rows(view)
    if flt.story is not None:  # one story: how it spread, the first item on top
        entries.sort(key=lambda e: (ran_at(e), e.id))
    return View(entries, rows, actors)
