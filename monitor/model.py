"""Plain data shared by every layer: frozen dataclasses, no behaviour beyond (de)serialization."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import msgspec

SCHEMA_VERSION = 1
# The version of what annotation (core.actors) finds. Raise it when a change finds other
# actors in the same text: stored items annotated by an older version are annotated again,
# newest first, by the catch-up after each poll (`core.backlog.unannotated`).
ANNOTATOR = 2

DateFlag = Literal["missing", "invalid"]
ActorKind = Literal["person", "organisation", "place"]
ErrorKind = Literal[
    "dns",
    "tls",
    "connect",
    "timeout",
    "http",
    "too_large",
    "encoding",
    "redirect",
    "parse",
    "refused",
    "other",
]
Outcome = Literal["new", "updated", "unchanged"]
# Where an item's full text stands: None = not tried yet (pending when the source wants it),
# "page" / "feed" = text from the article page / from the feed, "failed" = see text_error,
# "off" = the source does not fetch article pages.
TextStatus = Literal["page", "feed", "failed", "off"]
# Why there is no page text: a page problem, or an ErrorKind from the fetch.
PageProblem = Literal["paywall", "consent", "blocked", "empty", "not_found", "robots", "not_html"]
ResultStatus = Literal["ok", "not_modified", "error", "skipped"]


@dataclass(frozen=True, slots=True)
class Source:
    """One configured feed."""

    name: str
    url: str
    language: str | None = None
    interval: float = 900.0  # seconds
    enabled: bool = True
    full_text: bool = True
    allow_private_links: bool = False
    category: str | None = None


@dataclass(frozen=True, slots=True)
class ActorSpec:
    """A user-declared actor from config.toml."""

    name: str
    aliases: tuple[str, ...] = ()
    kind: ActorKind = "person"


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One feed entry as the parser saw it, before normalization. Strings may hold HTML."""

    guid: str | None = None
    link: str | None = None
    title: str | None = None
    summary: str | None = None
    content: str | None = None
    published_raw: str | None = None  # the string from the feed, verbatim
    published_iso: str | None = None  # what the parser made of it, if anything
    author: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """The result of parsing one response body. Never raised: problems are listed."""

    kind: str  # rss | atom | rdf | json | unknown
    title: str | None = None
    link: str | None = None
    language: str | None = None
    entries: tuple[RawEntry, ...] = ()
    problems: tuple[str, ...] = ()
    fatal: bool = False  # nothing could be recovered


@dataclass(frozen=True, slots=True)
class Mention:
    """One occurrence of an actor in an item's text."""

    actor: str
    start: int
    end: int
    field: str = "text"  # title | summary | text


@dataclass(frozen=True, slots=True)
class DateRef:
    """A relative date in an item's text (« hier », "on Monday") and the day it means."""

    text: str
    date: str  # ISO day, e.g. 2016-11-14
    start: int
    end: int
    field: str = "text"


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    kind: ActorKind
    mentions: int = 0


@dataclass(frozen=True, slots=True)
class Quote:
    actor: str
    text: str


class Item(msgspec.Struct, frozen=True, gc=False):
    """A normalized news item. Identity is `id`; `keys` are every key that resolves to it.

    Untracked by the garbage collector, as `Entry`: a poll of 25,000 new items holds them
    until they are stored, and each full collection meanwhile would walk them all (no
    field can make a cycle: values, and tuples of the frozen types above)."""

    id: str
    title: str
    url: str | None
    sources: tuple[str, ...]
    published: datetime  # aware, UTC
    published_raw: str | None
    date_flag: DateFlag | None
    language: str | None
    summary: str
    first_seen: datetime  # aware, UTC
    keys: tuple[str, ...] = ()
    author: str | None = None
    text: str | None = None
    updated_at: datetime | None = None  # last time the stored copy changed
    actors: tuple[Actor, ...] = ()
    quotes: tuple[Quote, ...] = ()
    mentions: tuple[Mention, ...] = ()
    dates: tuple[DateRef, ...] = ()
    annotated: bool = False  # actors, quotes, mentions and dates were looked for
    annotator: int = ANNOTATOR  # the version of the annotation that found them
    schema: int = SCHEMA_VERSION
    text_status: TextStatus | None = None
    text_error: str | None = None  # a PageProblem or an ErrorKind, when text_status is "failed"
    text_detail: str | None = None  # the same in words
    site_name: str | None = None  # from the article page
    page_published: datetime | None = None  # the page's own publication date, aware UTC

    def to_json(self) -> dict[str, Any]:
        """The public item JSON (export, search, digest). A contract: extend, never rename."""
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "sources": list(self.sources),
            "published": self.published.isoformat(),
            "published_raw": self.published_raw,
            "date_flag": self.date_flag,
            "language": self.language,
            "summary": self.summary,
            "text": self.text,
            "actors": [
                {"name": a.name, "kind": a.kind, "mentions": a.mentions} for a in self.actors
            ],
            "quotes": [{"actor": q.actor, "text": q.text} for q in self.quotes],
            "author": self.author,
            "first_seen": self.first_seen.isoformat(),
            "text_status": self.text_status,
            "text_error": self.text_error,
            "text_detail": self.text_detail,
            "site_name": self.site_name,
            "page_published": self.page_published.isoformat() if self.page_published else None,
        }

    def to_record(self) -> dict[str, Any]:
        """The stored form: the public JSON plus what the store needs."""
        rec = self.to_json()
        rec["keys"] = list(self.keys)
        rec["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        rec["mentions"] = [[m.actor, m.start, m.end, m.field] for m in self.mentions]
        rec["dates"] = [[d.text, d.date, d.start, d.end, d.field] for d in self.dates]
        rec["annotated"] = self.annotated
        rec["annotator"] = self.annotator
        rec["schema"] = self.schema
        return rec

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Item:
        updated = rec.get("updated_at")
        return cls(
            id=rec["id"],
            title=rec["title"],
            url=rec.get("url"),
            sources=tuple(rec.get("sources", ())),
            published=datetime.fromisoformat(rec["published"]),
            published_raw=rec.get("published_raw"),
            date_flag=rec.get("date_flag"),
            language=rec.get("language"),
            summary=rec.get("summary", ""),
            first_seen=datetime.fromisoformat(rec["first_seen"]),
            keys=tuple(rec.get("keys", ())),
            author=rec.get("author"),
            text=rec.get("text"),
            updated_at=datetime.fromisoformat(updated) if updated else None,
            actors=tuple(
                Actor(a["name"], a["kind"], a.get("mentions", 0)) for a in rec.get("actors", ())
            ),
            quotes=tuple(Quote(q["actor"], q["text"]) for q in rec.get("quotes", ())),
            mentions=tuple(Mention(*m) for m in rec.get("mentions", ())),
            dates=tuple(DateRef(*d) for d in rec.get("dates", ())),
            annotated=rec.get("annotated", False),
            annotator=rec.get("annotator", 1),  # stored before versions: the first
            schema=rec.get("schema", SCHEMA_VERSION),
            text_status=rec.get("text_status"),
            text_error=rec.get("text_error"),
            text_detail=rec.get("text_detail"),
            site_name=rec.get("site_name"),
            page_published=_when(rec.get("page_published")),
        )


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True, slots=True)
class PageText:
    """What one article page gave: its main text and metadata, or the problem that stopped it."""

    text: str | None = None
    problem: PageProblem | None = None
    detail: str | None = None  # the problem in words
    title: str | None = None
    author: str | None = None
    published: datetime | None = None  # aware UTC
    published_raw: str | None = None
    language: str | None = None
    site_name: str | None = None


class Entry(msgspec.Struct, frozen=True, gc=False):
    """An item as the timeline and filters see it: small, no full text.

    Not tracked by the garbage collector (`gc=False`; every field is a plain value, so
    there is no cycle to find): 100,000 entries would otherwise be walked by every full
    collection, a pause of the dashboard.

    `search` is the folded text that filters match words against when the store has no
    whole-text index: title, summary and source names, lower-cased without accents
    (`core.fold.fold_text`), words separated by single spaces. The full text is searched
    through the store's text index only (`core.query.TextSearch`).
    """

    id: str
    published: datetime  # aware, UTC
    title: str
    sources: tuple[str, ...]
    language: str | None
    date_flag: DateFlag | None
    first_seen: datetime  # aware, UTC
    url: str | None = None
    has_text: bool = False
    actors: tuple[str, ...] = ()  # canonical names, most mentioned first
    mentions: tuple[int, ...] = ()  # how often the item names each of `actors`
    search: str = ""
    annotated: bool = False  # Item.annotated, by the current annotation (`current`)
    text_status: TextStatus | None = None  # Item.text_status: None while the page is pending
    text_error: str | None = None  # Item.text_error: why there is no page text
    kinds: tuple[ActorKind, ...] = ()  # the kind of each of `actors` (empty in older files)


@dataclass(frozen=True, slots=True)
class SourceState:
    """Per-source HTTP cache state and health. Keyed by source name."""

    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_status: int | None = None
    last_error: ErrorKind | None = None
    last_error_detail: str | None = None
    failures: int = 0  # consecutive
    next_due: datetime | None = None  # earliest next fetch (interval, backoff or Retry-After)
    retry_after: datetime | None = None  # set by a 429/503 Retry-After; honoured even by --all
    item_count: int = 0
    feed_problems: tuple[str, ...] = ()
    moved_to: str | None = None  # a permanent redirect's target

    def to_record(self) -> dict[str, Any]:
        def iso(d: datetime | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "name": self.name,
            "url": self.url,
            "etag": self.etag,
            "last_modified": self.last_modified,
            "last_attempt": iso(self.last_attempt),
            "last_success": iso(self.last_success),
            "last_status": self.last_status,
            "last_error": self.last_error,
            "last_error_detail": self.last_error_detail,
            "failures": self.failures,
            "next_due": iso(self.next_due),
            "retry_after": iso(self.retry_after),
            "item_count": self.item_count,
            "feed_problems": list(self.feed_problems),
            "moved_to": self.moved_to,
            "schema": SCHEMA_VERSION,
        }

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> SourceState:
        def dt(key: str) -> datetime | None:
            v = rec.get(key)
            return datetime.fromisoformat(v) if v else None

        return cls(
            name=rec["name"],
            url=rec["url"],
            etag=rec.get("etag"),
            last_modified=rec.get("last_modified"),
            last_attempt=dt("last_attempt"),
            last_success=dt("last_success"),
            last_status=rec.get("last_status"),
            last_error=rec.get("last_error"),
            last_error_detail=rec.get("last_error_detail"),
            failures=rec.get("failures", 0),
            next_due=dt("next_due"),
            retry_after=dt("retry_after"),
            item_count=rec.get("item_count", 0),
            feed_problems=tuple(rec.get("feed_problems", ())),
            moved_to=rec.get("moved_to"),
        )


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one poll did for one source."""

    name: str
    status: ResultStatus
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    error: ErrorKind | None = None
    detail: str | None = None
    http_status: int | None = None
    seconds: float = 0.0


class TextJob(msgspec.Struct, frozen=True, gc=False):
    """One article page to fetch for an item's full text (untracked, as `Entry`)."""

    item_id: str
    url: str
    source: str  # the source's name
    feed_url: str  # links on this host may be private addresses (the user chose the host)
    allow_private: bool = False  # the source's allow_private_links


@dataclass(frozen=True, slots=True)
class PollReport:
    started: datetime
    finished: datetime
    results: tuple[SourceResult, ...] = field(default=())

    @property
    def new(self) -> int:
        return sum(r.new for r in self.results)

    @property
    def failed(self) -> tuple[SourceResult, ...]:
        return tuple(r for r in self.results if r.status == "error")


@dataclass(frozen=True, slots=True)
class TriageState:
    """One analyst's triage of a store at one moment: what they starred, tagged, annotated
    and saw. Tags are keyed by `tag_key` (case-folded); `tag_names` gives each key's
    spelling as first written. Items first seen before `since` (when the analyst's triage
    began) count as seen, so a store opened for the first time is not all unread."""

    starred: frozenset[str] = frozenset()
    tags: dict[str, frozenset[str]] = field(default_factory=dict)  # tag key -> ids
    tag_names: dict[str, str] = field(default_factory=dict)  # tag key -> name
    notes: dict[str, str] = field(default_factory=dict)  # id -> note
    seen: frozenset[str] = frozenset()
    since: datetime | None = None
    # later copies of a story marked seen that stayed unread, and why ("new actor X")
    angles: dict[str, str] = field(default_factory=dict)
    stories: frozenset[str] = frozenset()  # the stories marked seen (`SeenStory.id`)

    def unread(self, item_id: str, first_seen: datetime) -> bool:
        if item_id in self.seen:
            return False
        return self.since is None or first_seen >= self.since

    def tags_of(self, item_id: str) -> list[str]:
        """The item's tags, as written, sorted."""
        found = [self.tag_names.get(k, k) for k, ids in self.tags.items() if item_id in ids]
        return sorted(found, key=str.casefold)


@dataclass(frozen=True, slots=True)
class SeenStory:
    """A story the analyst marked seen, and what it said then: its later copies arrive
    seen unless they bring an actor or a quote not in it (`core.angles`). `id` is the
    story's id when marked (its earliest item's); stories merge, so its story now is the
    story of that item. `quotes` are folded (`core.angles.quote_key`)."""

    id: str
    at: datetime  # aware, UTC: when it was marked
    actors: frozenset[str] = frozenset()  # canonical names
    quotes: frozenset[str] = frozenset()


def tag_key(name: str) -> str:
    """How tags compare: case-insensitively, spaces trimmed and made single."""
    return " ".join(name.casefold().split())


@dataclass(frozen=True, slots=True)
class AlertItem:
    """One item of an alert: the first, or a copy of its story that joined later."""

    id: str
    title: str
    url: str | None
    sources: tuple[str, ...]
    published: datetime  # aware, UTC

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "sources": list(self.sources),
            "published": self.published.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class Alert:
    """A watch fired on a story: its first item, the copies that joined it, the words
    matched and a keyword-in-context line. `id` is the ledger's row (0: not recorded)."""

    watch: str
    story: str  # the story's key: the id of its first item (or the rule's key)
    title: str
    url: str | None
    items: tuple[AlertItem, ...]
    matched: tuple[str, ...]
    context: str
    at: datetime  # aware, UTC: when the alert was raised
    id: int = 0
    seen: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source that carried the story, in the order they came."""
        return tuple(dict.fromkeys(s for i in self.items for s in i.sources))

    @property
    def more(self) -> int:
        """Sources beyond the first item's: the "+N sources" of the alert."""
        first = set(self.items[0].sources) if self.items else set()
        return len([s for s in self.sources if s not in first])

    def to_json(self) -> dict[str, Any]:
        """The public alert JSON (`monitor alerts`, channels). A contract: extend, never
        rename."""
        return {
            "watch": self.watch,
            "story": self.story,
            "title": self.title,
            "url": self.url,
            "sources": list(self.sources),
            "items": [i.to_json() for i in self.items],
            "matched": list(self.matched),
            "context": self.context,
            "at": self.at.isoformat(),
            # the ledger's id: the same in every retry of a delivery, so a receiver can
            # drop the copy that a crash between sending and `mark_sent` sends again
            "id": self.id,
        }


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    """An alert channel's health, summed up from its deliveries in the ledger."""

    channel: str  # command | webhook | email
    last_success: datetime | None = None
    last_failure: datetime | None = None
    last_error: str | None = None  # the last failure's words; may quote a server's reply
    failures: int = 0  # consecutive: the tries that failed since the last success
    pending: int = 0  # deliveries waiting (due, or to be retried)
    next_try: datetime | None = None  # the earliest pending delivery
    given_up: int = 0  # deliveries that failed too often, or had no channel configured
