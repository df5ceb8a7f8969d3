"""The query language's syntax: its tokens, the parser and the syntax tree. Pure.

The language is described in `monitor.core.query`, which evaluates the tree this module
makes. Terms hold folded text (`monitor.core.fold`), ready for matching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.core.fold import WORD, fold_text

FIELDS = (
    "actor",
    "source",
    "lang",
    "since",
    "before",
    "after",
    "title",
    "text",
    "author",
    "site",
    "category",
    "status",
    "is",
    "tag",
    "has",
    "story",
)
TEXT_FIELDS = ("title", "text", "author")  # words of one part of the item, not of all of it
STORY_LEAD = "story-lead"  # is:story-lead: the item that ran its story first
IS_VALUES = ("unread", "read", "starred", "new-angle", STORY_LEAD)
HAS_VALUES = ("note", "tag", "text")
# status: how the text was obtained (Item.text_status), why it was not (Item.text_error),
# or "pending" (not tried yet).
STATUS_VALUES = (
    "page",
    "feed",
    "failed",
    "off",
    "pending",
    "paywall",
    "consent",
    "blocked",
    "empty",
    "not_found",
    "robots",
    "not_html",
    "timeout",
    "http",
    "too_large",
    "dns",
    "connect",
    "tls",
)
NEAR_DEFAULT = 10  # words apart, for a bare NEAR
MAX_DEPTH = 50  # nested parentheses
# Parsing and evaluating cost grows with the query (a 1 MB one took minutes of CPU): a
# query is refused beyond these, which leave room for a watch naming a hundred actors.
MAX_LENGTH = 4096  # characters
MAX_TERMS = 128  # words, phrases and field:value terms
DAWN = datetime.min.replace(tzinfo=UTC)


class QueryError(ValueError):
    """A malformed query: what is wrong, and where (0-based index into the query text)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


class QueryTooLong(QueryError):
    """A query over MAX_LENGTH characters or MAX_TERMS terms: refused before it costs."""


# --- the syntax tree --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    # word | phrase | actor | source | lang | since | before | after | site | category |
    # status | is | tag | has | story
    kind: str
    words: tuple[str, ...] = ()  # folded words (word, phrase, actor)
    # folded text (actor, source, lang, …), the highlight form (word, phrase), or the item
    # id as written (story)
    text: str = ""
    seconds: float | None = None  # since: a duration
    day: datetime = DAWN  # since:, before:, after: a day's start
    field: str = ""  # word, phrase: "" for anywhere, or one of TEXT_FIELDS


@dataclass(frozen=True, slots=True)
class Near:
    """`a NEAR/5 b`: both terms (words or phrases) at most `distance` words apart, in
    either order."""

    left: Term
    right: Term
    distance: int


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


Node = Term | Near | Not | And | Or

TEXT_KINDS = ("word", "phrase")
SHORT_PREFIX = 3  # a bare word shorter than this is a whole word in the full text


def short_prefix(node: Node) -> bool:
    """Whether `node` holds a bare word too short to be a prefix in the full text (it is
    one in titles and summaries: `eu` finds « Europe » there, not in the text)."""
    if isinstance(node, Term):
        return node.kind == "word" and len(node.words[-1]) < SHORT_PREFIX
    if isinstance(node, Near):
        return short_prefix(node.left) or short_prefix(node.right)
    if isinstance(node, Not):
        return short_prefix(node.child)
    return any(short_prefix(c) for c in node.children)


def is_text(node: Node) -> bool:
    """Whether `node` tests only the item's words: words, phrases and NEAR, however joined."""
    if isinstance(node, Term):
        return node.kind in TEXT_KINDS
    if isinstance(node, Near):
        return True
    if isinstance(node, Not):
        return is_text(node.child)
    return all(is_text(c) for c in node.children)


def actor_term(name: str) -> Term:
    """The term of `actor:"name"`: the name's folded words. A name with no words (which
    `actor:` cannot take) keeps its folded text, to be matched whole."""
    words = tuple(WORD.findall(fold_text(name)))
    return Term("actor", words, " ".join(words) if words else " ".join(fold_text(name).split()))


def source_term(name: str) -> Term:
    """The term of `source:"name"`: the name folded, runs of spaces made one."""
    return Term("source", text=" ".join(fold_text(name).split()))


def conjunction(nodes: list[Node | None]) -> Node | None:
    """The AND of `nodes`, None (nothing to test) left out; nested ANDs made one."""
    children: list[Node] = []
    for node in nodes:
        if isinstance(node, And):
            children.extend(node.children)
        elif node is not None:
            children.append(node)
    if not children:
        return None
    return children[0] if len(children) == 1 else And(tuple(children))


def highlights(node: Node | None) -> tuple[str, ...]:
    """The folded words and phrases of the terms that are not negated, in order, once each."""
    out: list[str] = []
    _highlights(node, False, out)
    return tuple(out)


def _highlights(node: Node | None, negated: bool, out: list[str]) -> None:
    if isinstance(node, Term):
        if (
            not negated
            and node.kind in ("word", "phrase", "actor")
            and node.words
            and node.text not in out
        ):
            out.append(node.text)
    elif isinstance(node, Near):
        _highlights(node.left, negated, out)
        _highlights(node.right, negated, out)
    elif isinstance(node, Not):
        _highlights(node.child, not negated, out)
    elif isinstance(node, And | Or):
        for child in node.children:
            _highlights(child, negated, out)


def timed(node: Node | None) -> bool:
    """Whether the answer depends on `now` (since:AGE)."""
    if isinstance(node, Term):
        return node.seconds is not None
    if isinstance(node, Not):
        return timed(node.child)
    if isinstance(node, And | Or):
        return any(timed(c) for c in node.children)
    return False


# --- lexing -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # ( ) OR AND NOT NEAR term
    pos: int
    term: Term | None = None  # None: a term with nothing to match
    distance: int = 0  # NEAR


_FIELD = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_DURATION = re.compile(r"(?:\d{1,9}[smhdw])+")
_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_LANG = re.compile(r"[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*")
_STOP = frozenset(' ()"')
_NEAR = re.compile(r"NEAR(?:/(\d{1,4}))?")


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "()":
            tokens.append(_Token(c, i))
            i += 1
        elif c == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError("this quote is never closed", i)
            tokens.append(_Token("term", i, _phrase(text[i + 1 : end])))
            i = end + 1
        elif c == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != ")":
            tokens.append(_Token("NOT", i))
            i += 1
        else:
            start = i
            while i < n and text[i] not in _STOP and not text[i].isspace():
                i += 1
            run = text[start:i]
            if run in ("OR", "AND", "NOT"):
                tokens.append(_Token(run, start))
                continue
            near = _NEAR.fullmatch(run)
            if near is not None:
                distance = int(near.group(1)) if near.group(1) else NEAR_DEFAULT
                tokens.append(_Token("NEAR", start, distance=distance))
                continue
            if run.startswith("#") and len(run) > 1:  # FreshRSS's tag shorthand
                tokens.append(_Token("term", start, _field("tag", run[1:], start, start + 1)))
                continue
            m = _FIELD.fullmatch(run)
            if m is None:
                tokens.append(_Token("term", start, _word(run)))
                continue
            name, value, vpos = m.group(1).lower(), m.group(2), start + len(m.group(1)) + 1
            if name not in FIELDS:
                raise QueryError(
                    f'unknown field "{m.group(1)}:"; the fields are {", ".join(FIELDS)}'
                    f" (put it in quotes to search for the text)",
                    start,
                )
            quoted = False
            if not value and i < n and text[i] == '"':
                end = text.find('"', i + 1)
                if end < 0:
                    raise QueryError("this quote is never closed", i)
                value, vpos, quoted = text[i + 1 : end], i + 1, True
                i = end + 1
            tokens.append(_Token("term", start, _field(name, value, start, vpos, quoted)))
    return tokens


def _word(raw: str) -> Term | None:
    folded = fold_text(raw)
    words = tuple(WORD.findall(folded))
    if not words:
        return None
    trimmed = folded[folded.index(words[0]) : folded.rindex(words[-1]) + len(words[-1])]
    return Term("word", words, "".join(trimmed.split()))


def _phrase(raw: str) -> Term | None:
    words = tuple(WORD.findall(fold_text(raw)))
    return Term("phrase", words, " ".join(words)) if words else None


def _field(name: str, value: str, pos: int, vpos: int, quoted: bool = False) -> Term:
    folded = " ".join(fold_text(value).split())
    if not folded:
        raise QueryError(f"{name}: needs a value", pos)
    if name in TEXT_FIELDS:
        term = _phrase(value) if quoted else _word(value)
        if term is None:
            raise QueryError(f"{name}: needs a word", vpos)
        return Term(term.kind, term.words, term.text, field=name)
    if name in ("site", "category"):
        return Term(name, text=folded)
    if name == "story":  # an item id, as stored: not folded
        return Term("story", text=value.strip())
    if name == "tag":
        return Term("tag", text=" ".join(value.casefold().split()))
    for field_name, values in (("is", IS_VALUES), ("has", HAS_VALUES), ("status", STATUS_VALUES)):
        if name == field_name:
            if folded not in values:
                raise QueryError(f"{name}: takes one of {', '.join(values)}", vpos)
            return Term(name, text=folded)
    if name == "actor":
        term = actor_term(value)
        if not term.words:
            raise QueryError("actor: needs a name", vpos)
        return term
    if name == "source":
        return source_term(value)
    if name == "lang":
        if not _LANG.fullmatch(folded):
            raise QueryError("lang: takes a language code such as fr or en", vpos)
        return Term("lang", text=folded.replace("_", "-"))
    if name == "since" and _DURATION.fullmatch(folded):
        seconds = sum(int(k) * _UNIT[u] for k, u in _DURATION_PART.findall(folded))
        return Term("since", seconds=float(min(seconds, 10**15)))
    m = _DATE.fullmatch(folded)
    if m is None:
        if name == "since":
            raise QueryError("since: takes an age such as 90m, 24h, 7d or a date 2016-11-14", vpos)
        raise QueryError(f"{name}: takes a date such as 2016-11-14", vpos)
    try:
        day = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
    except ValueError:
        raise QueryError(f"{name}: there is no such day as {folded}", vpos) from None
    return Term(name, day=day)


# --- parsing ------------------------------------------------------------------------------------


def parse(text: str) -> Node | None:
    """The syntax tree of `text`; None when it has nothing to test. Raises QueryError."""
    if len(text) > MAX_LENGTH:  # before lexing, which would take its time
        raise QueryTooLong(
            f"the query is {len(text):,} characters long; at most {MAX_LENGTH:,}", MAX_LENGTH
        )
    return _Parser(text).parse()


class _Parser:
    """Recursive descent over the tokens; a term with nothing to match drops out (None)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _lex(text)
        self.i = 0
        terms = [t for t in self.tokens if t.kind == "term"]
        if len(terms) > MAX_TERMS:
            raise QueryTooLong(
                f"the query has {len(terms)} terms; at most {MAX_TERMS}", terms[MAX_TERMS].pos
            )

    def peek(self) -> str | None:
        return self.tokens[self.i].kind if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        if self.i >= len(self.tokens):
            raise QueryError("the query ends too soon", len(self.text))
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node | None:
        if not self.tokens:
            return None
        node = self.or_expr(0)
        if self.i < len(self.tokens):  # only a ')' stops the top level early
            raise QueryError("this parenthesis was never opened", self.tokens[self.i].pos)
        return node

    def or_expr(self, depth: int) -> Node | None:
        if self.peek() == "OR":
            raise QueryError("OR needs something before it", self.take().pos)
        parts = [self.and_expr(depth)]
        while self.peek() == "OR":
            op = self.take()
            if self.peek() in (None, ")", "OR", "AND", "NEAR"):
                raise QueryError("OR needs something after it", op.pos)
            parts.append(self.and_expr(depth))
        kept = tuple(p for p in parts if p is not None)
        return None if not kept else kept[0] if len(kept) == 1 else Or(kept)

    def and_expr(self, depth: int) -> Node | None:
        parts = [self.near(depth)]
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                op = self.take()
                if self.peek() in (None, ")", "OR", "AND", "NEAR"):
                    raise QueryError("AND needs something after it", op.pos)
            parts.append(self.near(depth))
        kept = tuple(p for p in parts if p is not None)
        return None if not kept else kept[0] if len(kept) == 1 else And(kept)

    def near(self, depth: int) -> Node | None:
        """A unary, or `word NEAR/n word`: NEAR binds tighter than AND, and joins two words
        or phrases."""
        if self.peek() == "NEAR":
            raise QueryError("NEAR needs a word before it", self.take().pos)
        start = self.tokens[self.i].pos if self.i < len(self.tokens) else len(self.text)
        left = self.unary(depth)
        if self.peek() != "NEAR":
            return left
        op = self.take()
        if self.peek() in (None, ")", "OR", "AND", "NEAR"):
            raise QueryError("NEAR needs a word after it", op.pos)
        right = self.unary(depth)
        if self.peek() == "NEAR":
            raise QueryError("NEAR joins two words or phrases, not more", self.take().pos)
        for side, where in ((left, start), (right, op.pos)):
            if not (isinstance(side, Term) and side.kind in TEXT_KINDS and not side.field):
                raise QueryError("NEAR joins two words or phrases", where)
        assert isinstance(left, Term) and isinstance(right, Term)
        return Near(left, right, op.distance)

    def unary(self, depth: int) -> Node | None:
        negated = False
        while self.peek() == "NOT":
            op = self.take()
            if self.peek() in (None, ")", "OR", "AND", "NEAR"):
                word = "-" if self.text[op.pos] == "-" else "NOT"
                raise QueryError(f"{word} needs something after it", op.pos)
            negated = not negated
        node = self.atom(depth)
        return Not(node) if negated and node is not None else node

    def atom(self, depth: int) -> Node | None:
        tok = self.take()
        if tok.kind == "term":
            return tok.term
        if tok.kind == ")":
            raise QueryError("this parenthesis was never opened", tok.pos)
        if tok.kind in ("OR", "AND", "NEAR"):
            raise QueryError(f"{tok.kind} needs something before it", tok.pos)
        # "("
        if depth >= MAX_DEPTH:
            raise QueryError(f"more than {MAX_DEPTH} nested parentheses", tok.pos)
        if self.peek() == ")":
            raise QueryError("empty parentheses", tok.pos)
        if self.peek() is None:
            raise QueryError("this parenthesis is never closed", tok.pos)
        node = self.or_expr(depth + 1)
        if self.peek() != ")":
            raise QueryError("this parenthesis is never closed", tok.pos)
        self.take()
        return node
