"""The query language as SQL over `items`: what `monitor search` asks the database, so
that a search loads the items it finds and not every entry.

Each node of a parsed query becomes two conditions (`Bounds`): every item the query
selects satisfies `upper`, and every item satisfying `lower` is selected. They are one
condition where SQL says the node exactly: words, phrases and NEAR (`items.words`,
`io.pg.search`), dates, `lang:`, `actor:`, `source:`, `category:`, `has:text`, the
analyst's triage (`is:`, `tag:`, `has:note`, `has:tag`, over the triage tables) and the
stories (`story:`, `is:story-lead`: the ids `Context.stories` gives). They differ where
SQL cannot say it: `site:` and `status:` (no column holds the link or the text's status),
and a word too short to be a prefix in the full text (it is one in titles and summaries,
which no column holds apart), alone or in a NEAR. The items between the two are tested
entry by entry (`Bounds.test`, the tests `core.query` runs on them), so that the answer
is always the one `Query.select` gives with a text index, on any store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec
import psycopg

from monitor.core.query import Context, Query, StoryLookup
from monitor.core.query_syntax import (
    STORY_LEAD,
    And,
    Near,
    Node,
    Not,
    Term,
    is_text,
    short_prefix,
)
from monitor.core.query_terms import (
    actor_test,
    moment,
    near_test,
    site_test,
    source_test,
    status_test,
    text_test,
)
from monitor.io.pg.entries import ENTRY
from monitor.io.pg.search import Sql, condition, matching, term_query, words_of
from monitor.io.pg.store import PgStore
from monitor.io.store import StoreError
from monitor.io.triage import AUTO
from monitor.model import Entry

TRUE = Sql("TRUE")
FALSE = Sql("FALSE")


# A test of one entry, given the values of the compiler's `columns` for its row.
Test = Callable[[Entry, Sequence[bool]], bool]


@dataclass(frozen=True, slots=True)
class Bounds:
    """Every item a node selects satisfies `upper`; every item satisfying `lower` is
    selected; `test` decides an item between the two (None: `lower` is `upper`, SQL says
    the node exactly)."""

    lower: Sql
    upper: Sql
    test: Test | None = None

    @property
    def exact(self) -> bool:
        return self.test is None


def _exactly(sql: Sql) -> Bounds:
    return Bounds(sql, sql)


def _not(a: Sql) -> Sql:
    if a == TRUE:
        return FALSE
    if a == FALSE:
        return TRUE
    return Sql(f"NOT ({a.text})", a.params)


def _join(parts: Sequence[Sql], op: str) -> Sql:
    absorbing, neutral = (FALSE, TRUE) if op == "AND" else (TRUE, FALSE)
    if absorbing in parts:
        return absorbing
    kept = [p for p in parts if p != neutral]
    if not kept:
        return neutral
    if len(kept) == 1:
        return kept[0]
    return Sql(
        f" {op} ".join(f"({p.text})" for p in kept), tuple(v for p in kept for v in p.params)
    )


# Names of every actor and every source stored (schema.SEARCH): `actor:` and `source:`
# test them with the very tests entries are tested with, then ask the GIN index.
Names = Callable[[str], Sequence[str]]


class Compiler:
    """Bounds of parsed queries at `now`, for the analyst `user` (None: no triage, as
    with `Context.triage` None: nothing starred or tagged, everything unread), with the
    categories and stories of a `Context`. `columns` are the conditions whose value, per
    row, the tests of the bounds read."""

    def __init__(
        self,
        names: Names,
        now: datetime,
        *,
        user: str | None = None,
        categories: Mapping[str, str] | None = None,
        stories: StoryLookup | None = None,
    ) -> None:
        self.names = names
        self.now = now
        self.user = user
        self.categories = categories or {}
        self.stories = stories
        self.columns: list[Sql] = []

    def bounds(self, node: Node) -> Bounds:
        if not isinstance(node, Term | Not) and is_text(node) and not short_prefix(node):
            found = condition(node)  # one question, as `core.query._select` asks it
            if found is not None:
                return _exactly(found)
        if isinstance(node, Term):
            return self.term(node)
        if isinstance(node, Near):  # with a short word: on titles and summaries only
            near = near_test(node)
            return Bounds(FALSE, matching(words_of(node.left, node.right)), lambda e, _: near(e))
        if isinstance(node, Not):
            inner = self.bounds(node.child)
            if inner.test is None:
                return _exactly(_not(inner.lower))
            return Bounds(_not(inner.upper), _not(inner.lower), _negated(inner.test))
        both = isinstance(node, And)
        parts = [self.bounds(c) for c in node.children]
        op = "AND" if both else "OR"
        lower, upper = _join([p.lower for p in parts], op), _join([p.upper for p in parts], op)
        if all(p.exact for p in parts):
            return _exactly(lower)
        tests = [self._test(p) for p in parts]
        if both:
            return Bounds(lower, upper, lambda e, v: all(t(e, v) for t in tests))
        return Bounds(lower, upper, lambda e, v: any(t(e, v) for t in tests))

    def _test(self, b: Bounds) -> Test:
        """The test of an item for `b`: its own, or the row's value of its condition."""
        if b.test is not None:
            return b.test
        if b.lower in (TRUE, FALSE):
            value = b.lower == TRUE
            return lambda e, v: value
        self.columns.append(b.lower)
        i = len(self.columns) - 1
        return lambda e, v: v[i]

    def term(self, t: Term) -> Bounds:
        kind = t.kind
        if kind in ("word", "phrase"):
            exact = term_query(t)
            if short_prefix(t) and not t.field:  # also a prefix in titles and summaries
                whole = self._test(_exactly(matching(exact)))
                prefix = text_test(t)
                return Bounds(
                    matching(exact),
                    matching(f"({exact}) | ({words_of(t)})"),
                    lambda e, v: whole(e, v) or prefix(e.search),
                )
            return _exactly(matching(exact))
        if kind in ("since", "after", "before"):
            op = "<" if kind == "before" else ">="
            return _exactly(Sql(f"published {op} %s", (moment(t, self.now),)))
        if kind == "lang":
            code = "lower(replace(language, '_', '-'))"
            return _exactly(Sql(f"{code} = %s OR {code} LIKE %s", (t.text, t.text + "-%")))
        if kind == "actor":
            test = actor_test(t)
            return _exactly(_any("actors", [n for n in self.names("actor") if test(n)]))
        if kind == "source":
            test = source_test(t)
            return _exactly(_any("sources", [n for n in self.names("source") if test(n)]))
        if kind == "category":
            wanted = [name for name, c in self.categories.items() if c == t.text]
            return _exactly(_any("sources", wanted))
        if kind == "has" and t.text == "text":
            return _exactly(Sql("has_text"))
        if kind == "story":  # as `core.query._select_term` finds them
            members = set(self.stories.members(t.text)) if self.stories is not None else set()
            return _exactly(Sql("id = ANY(%s)", (sorted(members or {t.text}),)))
        if kind == "is" and t.text == STORY_LEAD:
            if self.stories is None:
                return _exactly(TRUE)
            return _exactly(Sql("NOT id = ANY(%s)", (sorted(self.stories.followers()),)))
        if kind in ("is", "tag", "has"):
            return _exactly(self.triage(t))
        if kind == "site":
            on_site = site_test(t.text)
            return Bounds(FALSE, TRUE, lambda e, _: on_site(e.url))
        status = status_test(t.text)  # status:
        return Bounds(FALSE, TRUE, lambda e, _: status(e))

    def triage(self, t: Term) -> Sql:
        """`core.query_terms.triage_test` over the triage tables (`io.triage`'s)."""
        user = self.user
        if user is None:
            return TRUE if (t.kind, t.text) == ("is", "unread") else FALSE
        mine = 's."user" = %s'
        if t.kind == "is" and t.text in ("starred", "new-angle"):
            return _row_in("starred" if t.text == "starred" else "angles", mine, (user,))
        if t.kind == "is":  # TriageState.unread: not seen, and first seen since the start
            seen = _row_in("seen", mine, (user,))
            started = "items.first_seen < s.since::timestamptz"
            before = _row_in("users", f"{mine} AND {started}", (user,), by_id=False)
            unread = _not(_join([seen, before], "OR"))
            return unread if t.text == "unread" else _not(unread)
        everyone = f"({mine} OR s.by = %s)"  # auto-tags are everyone's
        if t.kind == "tag":
            return _row_in("tags", f"{everyone} AND s.key = %s", (user, AUTO, t.text))
        if t.text == "note":
            return _row_in("notes", mine, (user,))
        return _row_in("tags", everyone, (user, AUTO))


def _any(column: str, names: list[str]) -> Sql:
    return Sql(f"{column} && %s::text[]", (names,)) if names else FALSE


def _row_in(table: str, where: str, params: tuple[object, ...], *, by_id: bool = True) -> Sql:
    """A row `s` of a triage table, of this item (`by_id`) or of none in particular."""
    item = "s.id = items.id AND " if by_id else ""
    return Sql(f"EXISTS (SELECT 1 FROM {table} s WHERE {item}{where})", params)


# --- searching ---------------------------------------------------------------------------------


def stored_names(conn: psycopg.Connection) -> Names:
    """Actor or source names as the database notes them, read once each."""
    read: dict[str, list[str]] = {}

    def names(kind: str) -> list[str]:
        if kind not in read:
            table = "actor_names" if kind == "actor" else "source_names"
            read[kind] = [r[0] for r in conn.execute(f"SELECT name FROM {table}")]
        return read[kind]

    return names


def search(
    conn: psycopg.Connection, query: Query, now: datetime, ctx: Context, user: str | None
) -> list[Entry]:
    """The entries `query` selects at `now`, newest first: what `query.select` selects
    from every entry with `ctx` (whose triage is `user`'s, whose text index is this
    database's). Only the rows within the bounds are read. Raises psycopg.Error."""
    where = Compiler(
        stored_names(conn), now, user=user, categories=ctx.categories, stories=ctx.stories
    )
    bounds = where.bounds(query.tree) if query.tree is not None else _exactly(TRUE)
    test = bounds.test
    sure = TRUE if test is None else bounds.lower
    values = [sure, *where.columns]
    sql = (
        f"SELECT entry, {', '.join(f'({v.text})' for v in values)} FROM items"
        f" WHERE {bounds.upper.text} ORDER BY published DESC, id"
    )
    params = [p for v in (*values, bounds.upper) for p in v.params]
    found: list[Entry] = []
    with conn.cursor(binary=True) as cur:
        for packed, certain, *row in cur.execute(sql, params):
            try:
                entry = ENTRY.decode(packed)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue  # as the store's entries leave it out
            if certain or (test is not None and test(entry, row)):
                found.append(entry)
    return found


def _negated(test: Test) -> Test:
    return lambda e, v: not test(e, v)


def search_store(
    store: PgStore, query: Query, now: datetime, ctx: Context, user: str | None
) -> list[Entry]:
    """`search` in the store's database; raises StoreError."""
    try:
        with store.db.connection() as conn:
            return search(conn, query, now, ctx, user)
    except psycopg.Error as exc:
        raise StoreError(f"search in {store.db.name}: {exc}".strip()) from exc
