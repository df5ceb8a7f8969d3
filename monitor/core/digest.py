"""The daily digest: one day's items as stories, actors, quotes and sections. Pure.

`build_digest` takes the items, the sources' health and the clock reading as
arguments; renderers in `core/digest_render.py` turn the result into JSON, Markdown
or HTML. The JSON schema is documented in docs/digest.md.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol, TypeVar

from monitor.core.cluster import cluster
from monitor.core.entries import entry_of
from monitor.core.index import EntryIndex
from monitor.core.names import settle_items
from monitor.core.query import NO_CONTEXT, Context, Query, QueryError, StoryLookup, parse_query
from monitor.model import ActorKind, Item, SourceState, TriageState

SCHEMA = 1  # the digest JSON's schema version (docs/digest.md)
STORY_ACTORS = 5  # actors listed per story


@dataclass(frozen=True, slots=True)
class Story:
    title: str
    url: str | None  # the representative item's link
    sources: tuple[str, ...]  # in the order they carried it
    first_seen: datetime
    languages: tuple[str, ...]
    actors: tuple[str, ...]  # most mentioned first
    items: tuple[Item, ...]  # by time


@dataclass(frozen=True, slots=True)
class DayActor:
    name: str
    kind: ActorKind
    mentions: int
    delta: int  # against the previous day
    new: bool  # not mentioned the previous day


@dataclass(frozen=True, slots=True)
class DayQuote:
    actor: str
    text: str
    item_id: str


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    query: str
    items: tuple[Item, ...]
    error: str | None = None  # the saved query does not parse


@dataclass(frozen=True, slots=True)
class Clipping:
    """An item the analyst starred or tagged (auto-tags count), with their note."""

    item: Item
    starred: bool
    tags: tuple[str, ...]  # as written, sorted
    note: str | None


@dataclass(frozen=True, slots=True)
class Digest:
    date: date
    timezone: str
    zone: tzinfo
    generated_at: datetime
    query: str | None
    sources: tuple[str, ...]  # the sources that carried the day's items
    configured: int  # sources in the configuration
    failed: tuple[tuple[str, str], ...]  # (source, what went wrong) that day
    stories: tuple[Story, ...]
    actors: tuple[DayActor, ...]
    quotes: tuple[DayQuote, ...]
    sections: tuple[Section, ...]
    items: tuple[Item, ...]  # by time
    has_actors: bool = field(default=False)  # whether any item of the day has actor data
    clippings: tuple[Clipping, ...] = ()  # by time


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of `day` in `zone`, in UTC (23 or 25 hours on DST days)."""
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def parse_day(text: str, now: datetime, zone: tzinfo) -> date:
    """'today', 'yesterday' or YYYY-MM-DD, read in `zone` at `now`. ValueError otherwise."""
    today = now.astimezone(zone).date()
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD, today or yesterday)") from None


def _at(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def scheduled_day(now: datetime, zone: tzinfo, at: str) -> date:
    """The day whose digest the latest scheduled run (daily at `at`, "HH:MM" in `zone`)
    writes: yesterday once today's time has come, else the day before yesterday. A run
    missed while nothing was running is caught up by writing this day when it is absent."""
    local = now.astimezone(zone)
    today = local.date()
    ran_today = local >= datetime.combine(today, _at(at), zone)
    return today - timedelta(days=1 if ran_today else 2)


def next_run(now: datetime, zone: tzinfo, at: str) -> datetime:
    """The next moment after `now` at `at` in `zone`."""
    local = now.astimezone(zone)
    moment = datetime.combine(local.date(), _at(at), zone)
    if moment <= local:
        moment = datetime.combine(local.date() + timedelta(days=1), _at(at), zone)
    return moment


def on_day(items: Iterable[Item], day: date, zone: tzinfo) -> list[Item]:
    start, end = day_bounds(day, zone)
    return [it for it in items if start <= it.published < end]


def matching(
    items: Sequence[Item], query: Query | None, now: datetime, ctx: Context = NO_CONTEXT
) -> list[Item]:
    """The items `query` matches, in their order: asked of an index of just these items,
    so that the context's text index finds words anywhere in their full text."""
    if query is None or query.empty or not items:
        return list(items)
    index = EntryIndex.build([entry_of(it) for it in items])
    mask = query.select(index, now, ctx)
    return [it for it, hit in zip(items, mask.tolist(), strict=True) if hit]


def failed_sources(
    states: Mapping[str, SourceState], names: Iterable[str], day: date, zone: tzinfo
) -> list[tuple[str, str]]:
    """Sources whose current run of failures reaches into `day`: failing now, last tried
    on or after the day's start, and not successful since before its end."""
    start, end = day_bounds(day, zone)
    out = []
    for name in names:
        st = states.get(name)
        if st is None or st.last_error is None or st.last_attempt is None:
            continue
        if st.last_attempt >= start and (st.last_success is None or st.last_success < end):
            detail = st.last_error_detail or ""
            out.append((name, f"{st.last_error}: {detail}" if detail else st.last_error))
    return out


def _sort_key(item: Item) -> tuple[datetime, str]:
    return item.published, item.id


def _sources(items: Iterable[Item]) -> list[str]:
    """Source names in the order the items carry them, each once."""
    return list(dict.fromkeys(s for it in items for s in it.sources))


class Carried(Protocol):
    """What the lead rule reads of an item (an `Item` or an `Entry`)."""

    @property
    def sources(self) -> tuple[str, ...]: ...

    @property
    def first_seen(self) -> datetime: ...


C = TypeVar("C", bound=Carried)


def story_lead(items: Sequence[C]) -> C:
    """The item that stands for a story (its headline): carried by the most sources,
    then the earliest; the first given among equals."""
    return max(items, key=lambda it: (len(it.sources), -it.first_seen.timestamp()))


def make_story(items: Sequence[Item]) -> Story:
    if len(items) == 1 and not items[0].actors:  # most stories: one item, fast
        it = items[0]
        langs = (it.language,) if it.language else ()
        return Story(
            it.title, it.url, tuple(dict.fromkeys(it.sources)), it.first_seen, langs, (), (it,)
        )
    ordered = sorted(items, key=_sort_key)
    lead = story_lead(ordered)
    mentions, _ = _mentions(ordered)
    top = sorted(mentions.items(), key=lambda kv: (-kv[1], kv[0]))[:STORY_ACTORS]
    return Story(
        title=lead.title,
        url=lead.url,
        sources=tuple(_sources(ordered)),
        first_seen=min(it.first_seen for it in ordered),
        languages=tuple(sorted({it.language for it in ordered if it.language})),
        actors=tuple(name for name, _ in top),
        items=tuple(ordered),
    )


def stories(items: Sequence[Item], grouping: StoryLookup | None = None) -> list[Story]:
    """The items' stories, ranked by number of sources, then the most recent first: by
    the live stories (`grouping`: the same clusters as the dashboard and the alerts),
    and clustered here for the items in none of them (all, without `grouping`)."""
    groups: dict[str, list[Item]] = {}
    loose: list[Item] = []
    for it in items:
        story = grouping.story_of(it.id) if grouping is not None else None
        if story is None:
            loose.append(it)
        else:
            groups.setdefault(story, []).append(it)
    found = [make_story(group) for group in groups.values()]
    found += [make_story([loose[i] for i in group]) for group in cluster(loose)]
    found.sort(key=lambda s: (-len(s.sources), -s.items[-1].published.timestamp(), s.title))
    return found


def _mentions(items: Iterable[Item]) -> tuple[Counter[str], dict[str, ActorKind]]:
    counts: Counter[str] = Counter()
    kinds: dict[str, ActorKind] = {}
    for it in items:
        for a in it.actors:
            counts[a.name] += max(a.mentions, 1)
            kinds.setdefault(a.name, a.kind)
    return counts, kinds


def day_actors(items: Sequence[Item], previous: Sequence[Item]) -> list[DayActor]:
    today, kinds = _mentions(items)
    before, _ = _mentions(previous)
    out = [
        DayActor(name, kinds[name], n, n - before.get(name, 0), name not in before)
        for name, n in today.items()
    ]
    out.sort(key=lambda a: (-a.mentions, a.name))
    return out


def day_quotes(items: Sequence[Item], actors: Sequence[DayActor]) -> list[DayQuote]:
    """Each distinct quote once, grouped by actor (most mentioned first), in time order."""
    rank = {a.name: n for n, a in enumerate(actors)}
    seen: set[tuple[str, str]] = set()
    out: list[DayQuote] = []
    for it in sorted(items, key=_sort_key):
        for q in it.quotes:
            key = (q.actor, " ".join(q.text.split()))
            if key not in seen:
                seen.add(key)
                out.append(DayQuote(q.actor, q.text, it.id))
    out.sort(key=lambda q: (rank.get(q.actor, len(rank)), q.actor))  # stable: time kept
    return out


def sections(
    items: Sequence[Item],
    filters: Sequence[tuple[str, str]],
    now: datetime,
    ctx: Context = NO_CONTEXT,
) -> list[Section]:
    """One section per saved filter (name, query), with the day's items it matches."""
    out = []
    for name, text in filters:
        try:
            query = parse_query(text)
        except QueryError as exc:
            out.append(Section(name, text, (), f"{exc.message} at {exc.position}"))
            continue
        out.append(Section(name, text, tuple(matching(items, query, now, ctx))))
    return out


def day_clippings(items: Iterable[Item], triage: TriageState | None) -> list[Clipping]:
    """The items starred or tagged in `triage`, in their order, with their tags and note."""
    if triage is None:
        return []
    out = []
    for it in items:
        starred, tags = it.id in triage.starred, triage.tags_of(it.id)
        if starred or tags:
            out.append(Clipping(it, starred, tuple(tags), triage.notes.get(it.id)))
    return out


def build_digest(
    items: Iterable[Item],
    *,
    day: date,
    zone: tzinfo,
    zone_name: str,
    generated_at: datetime,
    previous: Iterable[Item] = (),
    states: Mapping[str, SourceState] | None = None,
    source_names: Sequence[str] = (),
    filters: Sequence[tuple[str, str]] = (),
    query: Query | None = None,
    ctx: Context = NO_CONTEXT,
    triage: TriageState | None = None,
) -> Digest:
    """The digest of `day` in `zone`. `items` may hold other days' items (they are left
    out); `previous` holds the day before's, for the actors' changes; `query` restricts
    both; `filters` are the saved (name, query) pairs; `states` the sources' health;
    `triage` the analyst's, for the clippings."""
    today = sorted(matching(on_day(items, day, zone), query, generated_at, ctx), key=_sort_key)
    before = matching(on_day(previous, day - timedelta(days=1), zone), query, generated_at, ctx)
    settled = settle_items([*today, *before])  # one spelling and one kind per actor
    today, before = settled[: len(today)], settled[len(today) :]
    actors = day_actors(today, before)
    return Digest(
        date=day,
        timezone=zone_name,
        zone=zone,
        generated_at=generated_at,
        query=query.text if query is not None and not query.empty else None,
        sources=tuple(sorted(_sources(today))),
        configured=len(source_names),
        failed=tuple(failed_sources(states or {}, source_names, day, zone)),
        stories=tuple(stories(today, ctx.stories)),
        actors=tuple(actors),
        quotes=tuple(day_quotes(today, actors)),
        sections=tuple(sections(today, filters, generated_at, ctx)),
        items=tuple(today),
        has_actors=any(it.actors for it in today),
        clippings=tuple(day_clippings(today, triage)),
    )


def to_json(d: Digest) -> dict[str, Any]:
    """The digest's JSON (docs/digest.md). A contract: fields are added, never renamed."""
    made: dict[str, dict[str, Any]] = {}

    def item_json(it: Item) -> dict[str, Any]:  # an item is in a story, sections and items
        out = made.get(it.id)
        if out is None:
            out = made[it.id] = it.to_json()
        return out

    return {
        "schema": SCHEMA,
        "date": d.date.isoformat(),
        "timezone": d.timezone,
        "generated_at": d.generated_at.isoformat(),
        "query": d.query,
        "stats": {
            "items": len(d.items),
            "sources": len(d.sources),
            "configured_sources": d.configured,
            "stories": len(d.stories),
            "multi_source_stories": sum(1 for s in d.stories if len(s.sources) > 1),
            "source_names": list(d.sources),
            "failed_sources": [{"name": n, "error": e} for n, e in d.failed],
            "has_actors": d.has_actors,
            "clippings": len(d.clippings),
        },
        "stories": [
            {
                "title": s.title,
                "url": s.url,
                "sources": list(s.sources),
                "first_seen": s.first_seen.isoformat(),
                "languages": list(s.languages),
                "actors": list(s.actors),
                "items": [item_json(it) for it in s.items],
            }
            for s in d.stories
        ],
        "actors": [
            {"name": a.name, "kind": a.kind, "mentions": a.mentions, "delta": a.delta, "new": a.new}
            for a in d.actors
        ],
        "quotes": [{"actor": q.actor, "text": q.text, "item_id": q.item_id} for q in d.quotes],
        "sections": [
            {
                "name": s.name,
                "query": s.query,
                "error": s.error,
                "items": [item_json(it) for it in s.items],
            }
            for s in d.sections
        ],
        "items": [item_json(it) for it in d.items],
        "clippings": [
            {
                "starred": c.starred,
                "tags": list(c.tags),
                "note": c.note,
                "item": item_json(c.item),
            }
            for c in d.clippings
        ],
    }
