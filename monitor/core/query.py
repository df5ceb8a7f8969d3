"""The query language shared by the dashboard's filter line and `monitor search`. Pure.

    russie ukraine                  both words (AND is implicit; `AND` may be written)
    "vladimir putin"                an exact phrase: consecutive words, punctuation ignored
    kremlin OR moscou               either (`OR` in capitals; `or` is an ordinary word)
    NOT sport, -sport               without (`NOT` in capitals; `-` glued to what it negates)
    (russie OR ukraine) -sport      parentheses group
    actor:putin                     an actor name holds these words: "Vladimir Putin"
    actor:"Vladimir Putin"          field values may be quoted
    source:monde                    a source name contains this text: "Le Monde – International"
    lang:fr                         the item's language is fr (or fr-FR, fr_CA …)
    since:24h                       published within the last 90m, 24h, 7d, 2w, 1d12h …
    since:2016-11-14                published on or after that day
    after:2016-11-14                published on or after 2016-11-14 00:00 UTC
    before:2016-11-15               published before 2016-11-15 00:00 UTC (that day excluded)
    sanction*                       words that start so (a bare word does too; see below)
    iran NEAR/5 sanctions           both, at most 5 words apart, either order (NEAR: 10)
    title:putin  text:"a phrase"    the words in the title; in the summary or the full text
    author:dupont                   the author's name holds the word
    site:lemonde.fr                 the link is on that site (or a subdomain of it)
    category:politics               from a source of that category (config.toml)
    status:page                     how the text was obtained: page, feed, failed, off,
                                    pending, or why not: paywall, blocked, timeout …
    is:unread  is:read  is:starred  the analyst's triage
    is:new-angle                    later copies of a story marked seen, with a new angle
    story:ID                        the items of the story item ID is in (`core.stories`)
    is:story-lead                   the item that ran its story first (one a story)
    tag:sanctions  #sanctions       tagged so (case-insensitive)
    has:note  has:tag  has:text     annotated; tagged at all; with a full text

So `after:2016-11-14 before:2016-11-15` is exactly the 14th: days are UTC days, `after:`
includes its day and `before:` excludes its day, like a half-open range.

Precedence: NOT binds tightest, then AND, then OR: `a b OR c` is `(a b) OR c`, and
`NOT a b` is `(NOT a) b`.

Matching ignores case and accents (`etats-unis` finds « États-Unis », `coeur` finds
« cœur »). A bare word matches the start of a word of the entry's search text, so `russ`
finds « Russie » and « Russia »; a phrase matches whole consecutive words. Words are
separated by anything that is not a letter or digit, so `unis` finds « États-Unis » and
`ukraine` finds « l'Ukraine ». A bare word with inner punctuation (`etats-unis`, `l'ukraine`)
is its words in a row, the last one matched as a prefix. A term with no letters or digits
(`&`, `""`) is ignored. Words are matched against every word of the title, summary,
source names and full text through the store's text index (`TextSearch`, given in a
`Context`); with no text index, against `Entry.search` as `core.entries.search_text`
makes it (title, summary and source names: folded words separated by single spaces).

A malformed query raises `QueryError(message, position)`, `position` being the 0-based
index in the text where it went wrong (0 <= position <= len(text)). Nothing else is raised,
for any input. Unknown fields (`foo:bar`) are errors; quote them to search for the text.
A query over MAX_LENGTH characters or MAX_TERMS terms raises `QueryTooLong` (a
QueryError) before any work that grows with it.

Code combines queries as trees, never as text to parse again: `actor_query(name)` and
`source_query(name)` select what `actor:"name"` and `source:"name"` do, for any name (the
language cannot quote a name holding a quote); `a & b` (`Query.both(a, b, …)`) is the AND.
The parser and the syntax tree are in `core/query_syntax.py`; this module evaluates them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from monitor.core.fold import WORD, fold_indexed, fold_text
from monitor.core.index import EntryIndex, Ints, Mask
from monitor.core.query_syntax import (
    FIELDS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
    STORY_LEAD,
    And,
    Near,
    Node,
    Not,
    Or,
    QueryError,
    QueryTooLong,
    Term,
    actor_term,
    conjunction,
    highlights,
    is_text,
    parse,
    short_prefix,
    source_term,
    timed,
)
from monitor.core.query_terms import (
    Memo,
    actor_test,
    any_name,
    category_test,
    folded_title,
    language_test,
    moment,
    near_test,
    site_test,
    source_test,
    status_test,
    story_test,
    text_test,
    triage_test,
)
from monitor.model import Entry, TriageState

__all__ = [
    "FIELDS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_TERMS",
    "Context",
    "Query",
    "QueryError",
    "QueryTooLong",
    "StoryLookup",
    "actor_query",
    "filter_entries",
    "highlight_spans",
    "parse_query",
    "source_query",
]

# --- what a query is evaluated with ---------------------------------------------------------


class TextSearch(Protocol):
    """A whole-text index (the store's): every word of every item's title, summary, source
    names, author and full text."""

    def keys(self, node: Node) -> Ints | None:
        """The keys (`core.entries.doc_key`) of the items matching `node`, a node that
        `is_text`; None when the index cannot answer it (the caller then evaluates its
        parts one by one)."""
        ...


class StoryLookup(Protocol):
    """The stories of the recent items (`io.live_stories.LiveStories`): which story an
    item is in, by the story's id (its earliest item's id)."""

    def story_of(self, entry_id: str) -> str | None:
        """The id of the item's story; None: the item is in no story."""
        ...

    def members(self, entry_id: str) -> Collection[str]:
        """The ids of the items of the item's story (none: it is in no story)."""
        ...

    def followers(self) -> Collection[str]:
        """The ids of the items in a story that did not run it first (`pickup.ran_at`)."""
        ...


@dataclass(frozen=True, slots=True)
class Context:
    """What a query needs besides the entries: the whole-text index (None: words match
    `Entry.search` only), the analyst's triage (None: nothing is starred, tagged or read),
    the category of each source (folded, by source name) and the stories (None: each
    item is a story of its own)."""

    text: TextSearch | None = None
    triage: TriageState | None = None
    categories: Mapping[str, str] = field(default_factory=dict)
    stories: StoryLookup | None = None


NO_CONTEXT = Context()


# --- compiling to closures -----------------------------------------------------------------

_Pred = Callable[[Entry], bool]
_COST = {"since": 0, "before": 0, "after": 0, "lang": 1, "source": 2, "actor": 2}


def _cost(node: Node) -> tuple[int, int]:
    """Cheap tests first in an AND; among words, the longest (likely the rarest) first."""
    if isinstance(node, Term):
        return _COST.get(node.kind, 3), -len(node.text)
    return 4, 0


def _compile(node: Node, now: datetime, ctx: Context) -> _Pred:
    if isinstance(node, Term):
        return _compile_term(node, now, ctx)
    if isinstance(node, Near):
        return near_test(node)
    if isinstance(node, Not):
        inner = _compile(node.child, now, ctx)
        return lambda e: not inner(e)
    both = isinstance(node, And)
    children = sorted(node.children, key=_cost) if both else node.children
    return _join([_compile(c, now, ctx) for c in children], _both if both else _either)


def _join(preds: list[_Pred], pair: Callable[[_Pred, _Pred], _Pred]) -> _Pred:
    """Pairs of pairs, in order: no loop per entry, and calls only log(n) deep."""
    if len(preds) == 1:
        return preds[0]
    half = len(preds) // 2
    return pair(_join(preds[:half], pair), _join(preds[half:], pair))


def _both(a: _Pred, b: _Pred) -> _Pred:
    return lambda e: a(e) and b(e)


def _either(a: _Pred, b: _Pred) -> _Pred:
    return lambda e: a(e) or b(e)


def _compile_term(t: Term, now: datetime, ctx: Context) -> _Pred:
    kind = t.kind
    if kind in ("word", "phrase"):
        test = text_test(t)
        if t.field == "title":
            return lambda e: test(folded_title(e))
        if t.field == "author":  # only the text index knows authors
            return lambda e: False
        return lambda e: test(e.search)
    if kind in ("since", "after", "before"):
        when = moment(t, now)
        if kind == "before":
            return lambda e: e.published < when
        return lambda e: e.published >= when
    if kind == "lang":
        langs = Memo(language_test(t.text))
        return lambda e: langs[e.language]
    if kind == "actor":
        actors = Memo(any_name(actor_test(t)))
        return lambda e: actors[e.actors]
    if kind == "source":
        sources = Memo(any_name(source_test(t)))
        return lambda e: sources[e.sources]
    if kind == "category":
        wanted = Memo(any_name(category_test(t, ctx.categories)))
        return lambda e: wanted[e.sources]
    if kind == "site":
        on_site = Memo(site_test(t.text))
        return lambda e: on_site[e.url]
    if kind == "status":
        return status_test(t.text)
    if kind == "story" or (kind == "is" and t.text == STORY_LEAD):
        return story_test(t, ctx.stories)
    return triage_test(t, ctx.triage or TriageState())


def _asks_triage(node: Node) -> bool:
    match node:
        case Term(kind="is", text=text):
            return text != STORY_LEAD
        case Term(kind="tag"):
            return True
        case Term(kind="has", text=text):
            return text in ("note", "tag")
        case Not(child):
            return _asks_triage(child)
        case And(children) | Or(children):
            return any(_asks_triage(c) for c in children)
    return False


def _story_asked(node: Node) -> str | None:
    match node:
        case Term(kind="story"):
            return node.text
        case And(children):
            return next((found for c in children if (found := _story_asked(c))), None)
    return None


def _asks_stories(node: Node) -> bool:
    match node:
        case Term(kind="story") | Term(kind="is", text="story-lead"):
            return True
        case Not(child):
            return _asks_stories(child)
        case And(children) | Or(children):
            return any(_asks_stories(c) for c in children)
    return False


# --- the public API -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A query: its syntax tree, and the text it reads as. `Query(text)` parses (and may
    raise QueryError), like `parse_query`; `actor_query`, `source_query` and `&` (or
    `Query.both`) make queries from trees, without text to parse."""

    text: str
    _tree: Node | None = field(init=False, repr=False)  # compared: two trees may read alike
    _bare: bool = field(init=False, repr=False, compare=False)  # `text` needs no ( ) in an AND
    _words: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _timed: bool = field(init=False, repr=False, compare=False)
    _cache: list[tuple[tuple[datetime | None, int], Context, _Pred]] = field(
        init=False, repr=False, compare=False, default_factory=list
    )

    def __post_init__(self) -> None:
        self._settle(parse(self.text), bare=False)

    @classmethod
    def _of_tree(cls, tree: Node | None, text: str) -> Query:
        """A query of `tree`, read as `text`: nothing is parsed."""
        query = object.__new__(cls)
        object.__setattr__(query, "text", text)
        object.__setattr__(query, "_cache", [])
        query._settle(tree, bare=True)
        return query

    def _settle(self, tree: Node | None, bare: bool) -> None:
        object.__setattr__(self, "_tree", tree)
        object.__setattr__(self, "_bare", bare)
        object.__setattr__(self, "_words", highlights(tree))
        object.__setattr__(self, "_timed", timed(tree))

    @staticmethod
    def both(*queries: Query | None) -> Query:
        """The AND of `queries`, None and empty ones left out (none left: the empty query).
        Its text joins theirs, a parsed one's in parentheses: `(a OR b) source:"X"`."""
        kept = [q for q in queries if q is not None and not q.empty]
        if len(kept) == 1:
            return kept[0]
        text = " ".join(q.text if q._bare else f"({q.text})" for q in kept)
        return Query._of_tree(conjunction([q._tree for q in kept]), text)

    def __and__(self, other: Query | None) -> Query:
        return Query.both(self, other)

    def __rand__(self, other: Query | None) -> Query:
        return Query.both(other, self)

    @property
    def tree(self) -> Node | None:
        """The syntax tree (None: the empty query), for a backend that says it otherwise."""
        return self._tree

    @property
    def empty(self) -> bool:
        """True when the query has nothing to test: it matches every entry."""
        return self._tree is None

    def has_words(self) -> bool:
        """Whether the query asks for words (which the text index answers)."""
        return bool(self._words)

    def uses_triage(self) -> bool:
        """Whether the query asks about the analyst's triage (is:, tag:, has:note, has:tag),
        which its context must then hold."""
        return self._tree is not None and _asks_triage(self._tree)

    def uses_stories(self) -> bool:
        """Whether the query asks about stories (story:, is:story-lead), which its context
        must then hold."""
        return self._tree is not None and _asks_stories(self._tree)

    def story(self) -> str | None:
        """The story the query asks for (`story:ID`, alone or in an AND, not negated), as
        written; None when it asks for none."""
        return _story_asked(self._tree) if self._tree is not None else None

    def highlights(self) -> tuple[str, ...]:
        """Folded words and phrases worth highlighting (not the negated ones), for
        `highlight_spans`: a phrase holds spaces; a word matches as a prefix."""
        return self._words

    def predicate(self, now: datetime, ctx: Context = NO_CONTEXT) -> Callable[[Entry], bool] | None:
        """The test for one entry at `now`, or None when the query is empty. Words are
        matched against `Entry.search` (no full text: use `select` with a text index for
        that). Compiled once per `now` with since:AGE and per context: cheaper than
        `matches` over many entries."""
        if self._tree is None:
            return None
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        key = (now if self._timed else None, id(ctx))
        cache = self._cache
        if cache and cache[0][0] == key and cache[0][1] is ctx:
            return cache[0][2]
        pred = _compile(self._tree, now, ctx)
        cache[:] = [(key, ctx, pred)]
        return pred

    def select(self, index: EntryIndex, now: datetime, ctx: Context = NO_CONTEXT) -> Mask:
        """The rows of `index` this query matches at `now`, as a mask: words from the
        context's text index when there is one (else from the index's words of
        `Entry.search`), the rest from the index's columns; phrases and words with inner
        punctuation test only the entries the index leaves."""
        if self._tree is None:
            return index.every()
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return _select(self._tree, index, now, ctx)

    def matches(self, entry: Entry, now: datetime, ctx: Context = NO_CONTEXT) -> bool:
        pred = self.predicate(now, ctx)
        return pred is None or pred(entry)


def _select(node: Node, index: EntryIndex, now: datetime, ctx: Context) -> Mask:
    if (
        ctx.text is not None
        and not isinstance(node, Term | Not)
        and is_text(node)
        and not short_prefix(node)
    ):
        found = ctx.text.keys(node)  # a whole AND / OR / NEAR of words: one question
        if found is not None:
            return index.keyed(found)
    if isinstance(node, Term):
        return _select_term(node, index, now, ctx)
    if isinstance(node, Near):
        return index.check(index.every(), near_test(node))
    if isinstance(node, Not):
        return ~_select(node.child, index, now, ctx)
    if isinstance(node, And):
        children = sorted(node.children, key=_cost)
        mask = _select(children[0], index, now, ctx)
        for child in children[1:]:
            if not mask.any():
                break
            mask &= _select(child, index, now, ctx)
        return mask
    mask = _select(node.children[0], index, now, ctx)
    for child in node.children[1:]:
        mask |= _select(child, index, now, ctx)
    return mask


def _select_term(t: Term, index: EntryIndex, now: datetime, ctx: Context) -> Mask:
    kind = t.kind
    if kind in ("word", "phrase"):
        if ctx.text is not None:
            keys = ctx.text.keys(t)
            if keys is not None:
                found = index.keyed(keys)
                if short_prefix(t) and not t.field:  # a prefix in titles and summaries
                    found |= _select_term(t, index, now, NO_CONTEXT)
                return found
        if t.field:
            return index.check(index.every(), _compile_term(t, now, ctx))
        words = t.words
        mask, exact = index.word(words[-1], prefix=kind == "word")
        for w in words[:-1]:
            if not mask.any():
                break
            more, sure = index.word(w, prefix=False)
            mask &= more
            exact = exact and sure
        if len(words) > 1 or not exact:  # in a row, or long words: the entries decide
            mask = index.check(mask, _compile_term(t, now, ctx))
        return mask
    if kind in ("since", "after", "before"):
        when = moment(t, now)
        return ~index.since(when) if kind == "before" else index.since(when)
    if kind == "lang":
        return index.language_is(language_test(t.text))
    if kind in ("actor", "source", "category"):
        names = index.actors if kind == "actor" else index.sources
        test = (
            actor_test(t)
            if kind == "actor"
            else source_test(t)
            if kind == "source"
            else category_test(t, ctx.categories)
        )
        if kind == "category":
            return index.named(names, test)
        named: Mask = index.memo((kind, t.text), lambda: index.named(names, test))
        return named.copy()
    if kind == "story":  # as `story_test` decides, by ids rather than entry by entry
        ids = set(ctx.stories.members(t.text)) if ctx.stories is not None else set()
        return index.ids_in(ids or {t.text})
    if kind == "is" and t.text == STORY_LEAD:
        if ctx.stories is None:
            return index.every()
        return ~index.ids_in(frozenset(ctx.stories.followers()))
    pred = _compile_term(t, now, ctx)
    if kind == "site":
        sites: Mask = index.memo(("site", t.text), lambda: index.check(index.every(), pred))
        return sites.copy()
    triage = ctx.triage or TriageState()
    if kind == "is" and t.text == "starred":
        return index.ids_in(triage.starred)
    if kind == "tag":
        return index.ids_in(triage.tags.get(t.text, frozenset()))
    return index.check(index.every(), pred)


def parse_query(text: str) -> Query:
    """Parse `text`; "" or white space gives an empty query that matches everything."""
    return Query(text)


def actor_query(name: str) -> Query:
    """What `actor:"name"` selects, for any name: quotes and all. A name with no letters
    or digits, which `actor:` cannot take, selects the actors of that very name."""
    return Query._of_tree(actor_term(name), f'actor:"{name}"')


def source_query(name: str) -> Query:
    """What `source:"name"` selects (the sources whose name holds it), for any name."""
    return Query._of_tree(source_term(name), f'source:"{name}"')


def filter_entries(entries: Sequence[Entry], query: Query, now: datetime) -> list[Entry]:
    """The entries that match `query` at `now`, in their order."""
    pred = query.predicate(now)
    return list(entries) if pred is None else list(filter(pred, entries))


def highlight_spans(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Spans [start, end) of `text` whose folded form matches one of `words` (as given by
    `Query.highlights()`): a phrase (it holds a space) matches whole consecutive words; a
    word matches the start of a word and its span runs to the end of that word. Sorted,
    overlapping spans merged."""
    patterns = []
    for w in words:
        parts = WORD.findall(fold_text(w))
        if parts:
            exact = any(c.isspace() for c in w.strip())
            body = r"\W+".join(re.escape(p) for p in parts)
            patterns.append(re.compile(r"(?<!\w)" + body + (r"(?!\w)" if exact else r"\w*")))
    if not patterns or not text:
        return []
    folded, where = fold_indexed(text)
    spans = sorted(m.span() for rx in patterns for m in rx.finditer(folded) if m.end() > m.start())
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if where is not None:
            a, b = where[a], where[b - 1] + 1
            while b < len(text) and not fold_text(text[b]):  # a trailing combining mark
                b += 1
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged
