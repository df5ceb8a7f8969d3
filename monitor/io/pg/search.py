"""Words in the database: each item's `tsvector` and the questions asked of it.

`items.words` holds the four columns the SQLite index holds (`io.fts.indexed_columns`:
folded words of the title, the summary and full text, the author, the source names),
parsed with the `simple` configuration over `unaccent` text, in the order title,
author, sources, body, each weighted so that a field can be asked for (`title:` A,
`text:` B, `author:` C, sources D). A gap of `GAP` empty positions between two columns
keeps a phrase, or a NEAR closer than `GAP`, inside one column, as FTS5 does.

`condition` says a text node (`core.query_syntax.is_text`) in SQL, answering exactly what
`io.fts.match_expression` answers: the same prefixes (`:*`, none for a word shorter than
`SHORT_PREFIX`), phrases with `<->`, and FTS5's NEAR (the two at most n words apart, in
either order, even overlapping, in one column) spelled out as `<k>` alternatives, or for
a NEAR of `GAP` words or more, asked of the positions by `monitor_near` (schema.SEARCH).

What PostgreSQL keeps less of than FTS5 (docs/search.md): positions past 16,383 count as
16,383 and a word keeps its first 256 positions, so phrases and NEAR deep in texts of
more than about 5,000 words may be missed there; a body is indexed up to `BODY_LIMIT`
characters, which keeps a tsvector under PostgreSQL's 1 MB.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import numpy as np
import psycopg

from monitor.core.index import Ints
from monitor.core.query_syntax import And, Near, Node, Not, Or, Term, short_prefix
from monitor.io.fts import indexed_columns, match_expression
from monitor.io.pg.connect import Database
from monitor.model import Item

log = logging.getLogger(__name__)

GAP = 100  # empty positions between two columns (schema.SEARCH, monitor_words)
BODY_LIMIT = 200_000  # characters of a body indexed: words of 2 letters fill 1 MB past ~300,000
WEIGHTS = {"title": "A", "text": "B", "author": "C"}  # sources: D

# The tsvector of the four columns of `indexed_columns`, in that order (`words_params`).
WORDS = "monitor_words(%s, %s, %s, %s)"
# What a `tsquery` text becomes: folded by unaccent as the words were, then parsed.
QUERY = "to_tsquery('simple', monitor_unaccent(%s))"


def words_params(item: Item) -> tuple[str, str, str, str]:
    """The parameters of `WORDS` for `item`."""
    title, body, author, sources = indexed_columns(item)
    if len(body) > BODY_LIMIT:
        body = body[:BODY_LIMIT].rsplit(" ", 1)[0]
    return title, body, author, sources


# --- the query language in tsquery's ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sql:
    """A condition over `items`, its values as parameters."""

    text: str
    params: tuple[object, ...] = ()


def condition(node: Node) -> Sql | None:
    """`node` as a condition over `items.words`; None exactly where FTS5 cannot say it
    (`io.fts.match_expression`: a NOT with nothing beside it)."""
    if match_expression(node) is None:
        return None
    return _condition(node)


def _condition(node: Node) -> Sql:
    if not _wide(node):
        return matching(_query(node))
    if isinstance(node, Near):  # the index finds both, their positions decide
        left, right = node.left, node.right
        both = matching(f"({_phrase(left, '')}) & ({_phrase(right, '')})")
        near = (list(left.words), prefixed(left), list(right.words), prefixed(right))
        return Sql(
            f"{both.text} AND monitor_near(words, %s, %s, %s, %s, %s)",
            (*both.params, *near, node.distance),
        )
    if isinstance(node, Not):
        inner = _condition(node.child)
        return Sql(f"NOT ({inner.text})", inner.params)
    assert isinstance(node, And | Or)
    parts = [_condition(c) for c in node.children]
    op = " OR " if isinstance(node, Or) else " AND "
    return Sql(op.join(f"({p.text})" for p in parts), tuple(v for p in parts for v in p.params))


def matching(text: str) -> Sql:
    """Whether `items.words` matches a `tsquery` text."""
    return Sql(f"words @@ {QUERY}", (text,))


def _wide(node: Node) -> bool:
    """Whether `node` holds a NEAR as wide as the gap between two columns: too wide for
    one `<k>` alternative per offset, it is asked of the positions (`monitor_near`)."""
    if isinstance(node, Near):
        return node.distance >= GAP
    if isinstance(node, Not):
        return _wide(node.child)
    if isinstance(node, Term):
        return False
    return any(_wide(c) for c in node.children)


def term_query(t: Term) -> str:
    """A word or phrase, in its field, as a `tsquery` text."""
    return _phrase(t, WEIGHTS.get(t.field, ""))


def _query(node: Node) -> str:
    if isinstance(node, Term):
        return term_query(node)
    if isinstance(node, Near):
        return near(node.left, node.right, node.distance)
    if isinstance(node, Not):
        return f"!({_query(node.child)})"
    if isinstance(node, Or):
        return " | ".join(f"({_query(c)})" for c in node.children)
    return " & ".join(f"({_query(c)})" for c in node.children)


def prefixed(t: Term) -> bool:
    """Whether the term's last word is matched as a prefix (`io.fts._phrase`)."""
    return t.kind == "word" and not short_prefix(t)


def _operand(word: str, prefix: bool, weights: str) -> str:
    """One word: folded words hold only letters, digits and `_`: nothing to escape."""
    marks = ("*" if prefix else "") + weights
    return f"'{word}':{marks}" if marks else f"'{word}'"


def _phrase(t: Term, weights: str, prefix: bool | None = None) -> str:
    last = len(t.words) - 1
    pre = prefixed(t) if prefix is None else prefix
    return " <-> ".join(_operand(w, pre and i == last, weights) for i, w in enumerate(t.words))


def near(left: Term, right: Term, distance: int) -> str:
    """FTS5's NEAR: with the left term starting at i (a words long) and the right one at
    j (b words), `j - i` runs from `-(distance + b)` to `distance + a` (fts5_expr.c,
    fts5ExprNearIsMatch). One alternative per offset; closer than `GAP`, in one column."""
    offsets = range(-(distance + len(right.words)), distance + len(left.words) + 1)
    return " | ".join(f"({_at(left, right, offset, '')})" for offset in offsets)


def _at(left: Term, right: Term, offset: int, weight: str) -> str:
    """`right` starting `offset` words after `left` starts."""
    a, b = len(left.words), len(right.words)
    if offset >= a - 1:  # right begins at or after left's last word
        return f"({_phrase(left, weight)}) <{offset - a + 1}> ({_phrase(right, weight)})"
    if offset <= 1 - b:  # left begins at or after right's last word
        return f"({_phrase(right, weight)}) <{-offset - b + 1}> ({_phrase(left, weight)})"
    # they overlap inside: every position the two share must hold both words
    start = min(0, offset)
    slots: list[list[str]] = [[] for _ in range(max(a, offset + b) - start)]
    for term, at in ((left, 0), (right, offset)):
        last = len(term.words) - 1
        for k, word in enumerate(term.words):
            slots[at + k - start].append(_operand(word, prefixed(term) and k == last, weight))
    return " <-> ".join("(" + " <0> ".join(s) + ")" for s in slots)


def words_of(*terms: Term) -> str:
    """Every word of `terms` anywhere, the last of a bare word as a prefix however short:
    what any text holding the terms holds, for a condition that narrows without deciding."""
    return " & ".join(
        _operand(w, t.kind == "word" and i == len(t.words) - 1, "")
        for t in terms
        for i, w in enumerate(t.words)
    )


# --- answering --------------------------------------------------------------------------------


class PgSearch:
    """`core.query.TextSearch` over `items.words`: the doc keys of the matching items
    (published on `since` or after, the days a windowed store holds: the others' keys
    would be read for nothing). A failure is logged and answered with None (the caller
    falls back), never raised."""

    def __init__(self, db: Database, since: date | None = None) -> None:
        self.db = db
        self.since = since

    def keys(self, node: Node) -> Ints | None:
        where = condition(node)
        if where is None:
            return None
        days, params = (
            ("", where.params)
            if self.since is None
            else (" AND day >= %s", [*where.params, self.since])
        )
        try:
            with self.db.connection() as conn:
                row = conn.execute(
                    f"SELECT array_agg(doc) FROM items WHERE {where.text}{days}", params
                ).fetchone()
        except psycopg.Error as exc:
            log.warning("text search in %s failed: %s", self.db.name, exc)
            return None
        return np.array(row[0] if row and row[0] else [], dtype=np.int64)
