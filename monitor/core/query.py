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
(`&`, `""`) is ignored. Words are matched against `Entry.search` as `search_text` makes it:
folded words separated by single spaces.

A malformed query raises `QueryError(message, position)`, `position` being the 0-based
index in the text where it went wrong (0 <= position <= len(text)). Nothing else is raised,
for any input. Unknown fields (`foo:bar`) are errors; quote them to search for the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.core.index import EntryIndex, Mask
from monitor.core.names import name_key
from monitor.model import Entry, Item

SEARCH_TEXT_CHARS = (
    1000  # characters of full text in an entry's search text: the lede, where names are
)
FIELDS = ("actor", "source", "lang", "since", "before", "after")
MAX_DEPTH = 50  # nested parentheses
_DAWN = datetime.min.replace(tzinfo=UTC)

_PART = re.compile(r"\w+")

# --- folding --------------------------------------------------------------------------------

# Letters that do not decompose but that people type without their accent.
_LIGATURES = (
    ("œ", "oe"),
    ("æ", "ae"),
    ("ø", "o"),
    ("ł", "l"),
    ("đ", "d"),
    ("ð", "d"),
    ("þ", "th"),
    ("ı", "i"),
)
# Combining marks of the Basic Multilingual Plane: a bitmap class, fast to strip.
_MARKS = re.compile(
    "["
    + "".join(re.escape(chr(c)) for c in range(0x300, 0x10000) if unicodedata.combining(chr(c)))
    + "]+"
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def fold(s: str) -> str:
    """Lower case without accents, for matching: 'États-Unis' -> 'etats-unis', 'Cœur' -> 'coeur'."""
    if s.isascii():
        return s.lower()
    s = _MARKS.sub("", unicodedata.normalize("NFKD", s.casefold()))
    if s.isascii():
        return s
    if _ASTRAL.search(s):
        s = "".join(c for c in s if not unicodedata.combining(c))
    for letter, plain in _LIGATURES:
        if letter in s:
            s = s.replace(letter, plain)
    return s


_TOKEN_WORDS: dict[str, str] = {}  # a memo: news text repeats its words
_TOKEN_MEMO = 200_000


def folded_words(text: str) -> str:
    """`text`'s folded words separated by single spaces: 'États-Unis, l’Ukraine' ->
    'etats unis l ukraine'. Folding is per character, so it is done once per distinct
    space-separated token and remembered."""
    memo = _TOKEN_WORDS
    out = []
    for token in text.split():
        words = memo.get(token)
        if words is None:
            words = " ".join(_PART.findall(fold(token)))
            if len(memo) >= _TOKEN_MEMO:
                memo.clear()
            memo[token] = words
        if words:
            out.append(words)
    return " ".join(out)


def search_text(item: Item) -> str:
    """The folded words filters match against: title, summary, sources, start of the text."""
    parts = [item.title, item.summary, " ".join(item.sources)]
    if item.text:
        parts.append(item.text[:SEARCH_TEXT_CHARS])
    return folded_words(" ".join(parts))


# --- errors and the syntax tree ---------------------------------------------------------------


class QueryError(ValueError):
    """A malformed query: what is wrong, and where (0-based index into the query text)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True, slots=True)
class _Term:
    kind: str  # word | phrase | actor | source | lang | since | before | after
    words: tuple[str, ...] = ()  # folded words (word, phrase, actor)
    text: str = ""  # folded text (source, lang) or the highlight form (word, phrase)
    seconds: float | None = None  # since: a duration
    day: datetime = _DAWN  # since:, before:, after: a day's start


@dataclass(frozen=True, slots=True)
class _Not:
    child: _Node


@dataclass(frozen=True, slots=True)
class _And:
    children: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Or:
    children: tuple[_Node, ...]


_Node = _Term | _Not | _And | _Or


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # ( ) OR AND NOT term
    pos: int
    term: _Term | None = None  # None: a term with nothing to match


# --- lexing -----------------------------------------------------------------------------------

_FIELD = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_DURATION = re.compile(r"(?:\d{1,9}[smhdw])+")
_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_LANG = re.compile(r"[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*")
_STOP = frozenset(' ()"')


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
            if not value and i < n and text[i] == '"':
                end = text.find('"', i + 1)
                if end < 0:
                    raise QueryError("this quote is never closed", i)
                value, vpos = text[i + 1 : end], i + 1
                i = end + 1
            tokens.append(_Token("term", start, _field(name, value, start, vpos)))
    return tokens


def _word(raw: str) -> _Term | None:
    folded = fold(raw)
    words = tuple(_PART.findall(folded))
    if not words:
        return None
    trimmed = folded[folded.index(words[0]) : folded.rindex(words[-1]) + len(words[-1])]
    return _Term("word", words, "".join(trimmed.split()))


def _phrase(raw: str) -> _Term | None:
    words = tuple(_PART.findall(fold(raw)))
    return _Term("phrase", words, " ".join(words)) if words else None


def _field(name: str, value: str, pos: int, vpos: int) -> _Term:
    folded = " ".join(fold(value).split())
    if not folded:
        raise QueryError(f"{name}: needs a value", pos)
    if name == "actor":
        words = tuple(_PART.findall(folded))
        if not words:
            raise QueryError("actor: needs a name", vpos)
        return _Term("actor", words, " ".join(words))
    if name == "source":
        return _Term("source", text=folded)
    if name == "lang":
        if not _LANG.fullmatch(folded):
            raise QueryError("lang: takes a language code such as fr or en", vpos)
        return _Term("lang", text=folded.replace("_", "-"))
    if name == "since" and _DURATION.fullmatch(folded):
        seconds = sum(int(k) * _UNIT[u] for k, u in _DURATION_PART.findall(folded))
        return _Term("since", seconds=float(min(seconds, 10**15)))
    m = _DATE.fullmatch(folded)
    if m is None:
        if name == "since":
            raise QueryError("since: takes an age such as 90m, 24h, 7d or a date 2016-11-14", vpos)
        raise QueryError(f"{name}: takes a date such as 2016-11-14", vpos)
    try:
        day = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
    except ValueError:
        raise QueryError(f"{name}: there is no such day as {folded}", vpos) from None
    return _Term(name, day=day)


# --- parsing ------------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens; a term with nothing to match drops out (None)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _lex(text)
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i].kind if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        if self.i >= len(self.tokens):
            raise QueryError("the query ends too soon", len(self.text))
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> _Node | None:
        if not self.tokens:
            return None
        node = self.or_expr(0)
        if self.i < len(self.tokens):  # only a ')' stops the top level early
            raise QueryError("this parenthesis was never opened", self.tokens[self.i].pos)
        return node

    def or_expr(self, depth: int) -> _Node | None:
        if self.peek() == "OR":
            raise QueryError("OR needs something before it", self.take().pos)
        parts = [self.and_expr(depth)]
        while self.peek() == "OR":
            op = self.take()
            if self.peek() in (None, ")", "OR", "AND"):
                raise QueryError("OR needs something after it", op.pos)
            parts.append(self.and_expr(depth))
        kept = tuple(p for p in parts if p is not None)
        return None if not kept else kept[0] if len(kept) == 1 else _Or(kept)

    def and_expr(self, depth: int) -> _Node | None:
        parts = [self.unary(depth)]
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                op = self.take()
                if self.peek() in (None, ")", "OR", "AND"):
                    raise QueryError("AND needs something after it", op.pos)
            parts.append(self.unary(depth))
        kept = tuple(p for p in parts if p is not None)
        return None if not kept else kept[0] if len(kept) == 1 else _And(kept)

    def unary(self, depth: int) -> _Node | None:
        negated = False
        while self.peek() == "NOT":
            op = self.take()
            if self.peek() in (None, ")", "OR", "AND"):
                word = "-" if self.text[op.pos] == "-" else "NOT"
                raise QueryError(f"{word} needs something after it", op.pos)
            negated = not negated
        node = self.atom(depth)
        return _Not(node) if negated and node is not None else node

    def atom(self, depth: int) -> _Node | None:
        tok = self.take()
        if tok.kind == "term":
            return tok.term
        if tok.kind == ")":
            raise QueryError("this parenthesis was never opened", tok.pos)
        if tok.kind in ("OR", "AND"):
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


def _highlights(node: _Node | None, negated: bool, out: list[str]) -> None:
    if isinstance(node, _Term):
        if not negated and node.kind in ("word", "phrase", "actor") and node.text not in out:
            out.append(node.text)
    elif isinstance(node, _Not):
        _highlights(node.child, not negated, out)
    elif isinstance(node, _And | _Or):
        for child in node.children:
            _highlights(child, negated, out)


# --- compiling to closures -----------------------------------------------------------------

_Pred = Callable[[Entry], bool]
_COST = {"since": 0, "before": 0, "after": 0, "lang": 1, "source": 2, "actor": 2}


class _Memo(dict[Any, bool]):
    """Answers by key, computed on first sight: languages, sources and actors repeat."""

    def __init__(self, test: Callable[[Any], bool]) -> None:
        super().__init__()
        self.test = test

    def __missing__(self, key: Any) -> bool:
        hit = self[key] = self.test(key)
        return hit


def _cost(node: _Node) -> tuple[int, int]:
    """Cheap tests first in an AND; among words, the longest (likely the rarest) first."""
    if isinstance(node, _Term):
        return _COST.get(node.kind, 3), -len(node.text)
    return 4, 0


def _compile(node: _Node, now: datetime) -> _Pred:
    if isinstance(node, _Term):
        return _compile_term(node, now)
    if isinstance(node, _Not):
        inner = _compile(node.child, now)
        return lambda e: not inner(e)
    both = isinstance(node, _And)
    children = sorted(node.children, key=_cost) if both else node.children
    return _join([_compile(c, now) for c in children], _both if both else _either)


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


def _compile_term(t: _Term, now: datetime) -> _Pred:
    kind = t.kind
    if kind in ("word", "phrase"):
        # The search text is words separated by single spaces, so `in` decides it all;
        # the first test alone rejects most entries, and fast.
        w = " ".join(t.words)
        sw = " " + w
        if kind == "word":  # the start of a word
            if len(w) <= 2:  # short: found inside most texts, so `w in s` rejects nothing

                def short_word(e: Entry) -> bool:
                    s = e.search
                    return sw in s or s.startswith(w)

                return short_word

            def word(e: Entry) -> bool:
                s = e.search
                return w in s and (sw in s or s.startswith(w))

            return word
        ws, sws = w + " ", sw + " "

        def phrase(e: Entry) -> bool:
            s = e.search
            return w in s and (sws in s or s.startswith(ws) or s.endswith(sw) or s == w)

        return phrase
    if kind in ("since", "after", "before"):
        when = _when(t, now)
        if kind == "before":
            return lambda e: e.published < when
        return lambda e: e.published >= when
    if kind == "lang":
        langs = _Memo(_language(t.text))
        return lambda e: langs[e.language]
    if kind == "actor":
        actors = _Memo(_any_name(_actor_test(t)))
        return lambda e: actors[e.actors]
    sources = _Memo(_any_name(_source_test(t)))  # source
    return lambda e: sources[e.sources]


def _when(t: _Term, now: datetime) -> datetime:
    if t.seconds is None:
        return t.day
    try:
        return now - timedelta(seconds=t.seconds)
    except OverflowError:
        return _DAWN  # further back than any date


def _source_test(t: _Term) -> Callable[[str], bool]:
    """Whether a source name holds the text of `source:` term `t`, folded."""
    needle = t.text
    return lambda name: needle in " ".join(fold(name).split())


def _actor_test(t: _Term) -> Callable[[str], bool]:
    """Whether an actor name is the one of `actor:` term `t`: it holds the words, or it is
    the same name in another spelling, or the surname of it."""
    rx = re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, t.words)) + r"(?!\w)")
    key = name_key(t.text)
    first = t.words[0]

    def same_actor(name: str) -> bool:
        folded = fold(name)
        if first in folded and rx.search(folded) is not None:
            return True
        k = name_key(name)
        return k == key or key.endswith(" " + k)

    return same_actor


def _language(code: str) -> Callable[[str | None], bool]:
    def test(got: str | None) -> bool:
        if not got:
            return False
        got = got.lower().replace("_", "-")
        return got == code or got.startswith(code + "-")

    return test


def _any_name(test: Callable[[str], bool]) -> Callable[[tuple[str, ...]], bool]:
    return lambda names: any(test(n) for n in names)


# --- the public API -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A parsed query. `Query(text)` parses (and may raise QueryError), like `parse_query`."""

    text: str
    _tree: _Node | None = field(init=False, repr=False, compare=False)
    _words: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _timed: bool = field(init=False, repr=False, compare=False)
    _cache: list[tuple[datetime | None, _Pred]] = field(
        init=False, repr=False, compare=False, default_factory=list
    )

    def __post_init__(self) -> None:
        tree = _Parser(self.text).parse()
        words: list[str] = []
        _highlights(tree, False, words)
        object.__setattr__(self, "_tree", tree)
        object.__setattr__(self, "_words", tuple(words))
        object.__setattr__(self, "_timed", _timed(tree))

    @property
    def empty(self) -> bool:
        """True when the query has nothing to test: it matches every entry."""
        return self._tree is None

    def highlights(self) -> tuple[str, ...]:
        """Folded words and phrases worth highlighting (not the negated ones), for
        `highlight_spans`: a phrase holds spaces; a word matches as a prefix."""
        return self._words

    def predicate(self, now: datetime) -> Callable[[Entry], bool] | None:
        """The test for one entry at `now`, or None when the query is empty. Compiled once
        (once per `now` with since:AGE): cheaper than `matches` over many entries."""
        if self._tree is None:
            return None
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        key = now if self._timed else None
        cache = self._cache
        if cache and cache[0][0] == key:
            return cache[0][1]
        pred = _compile(self._tree, now)
        cache[:] = [(key, pred)]
        return pred

    def select(self, index: EntryIndex, now: datetime) -> Mask:
        """The rows of `index` this query matches at `now`, as a mask: the same answer as
        `predicate`, from the index instead of a scan (only phrases and words with inner
        punctuation test the entries the index leaves)."""
        if self._tree is None:
            return index.every()
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return _select(self._tree, index, now)

    def matches(self, entry: Entry, now: datetime) -> bool:
        pred = self.predicate(now)
        return pred is None or pred(entry)


def _select(node: _Node, index: EntryIndex, now: datetime) -> Mask:
    if isinstance(node, _Term):
        return _select_term(node, index, now)
    if isinstance(node, _Not):
        return ~_select(node.child, index, now)
    if isinstance(node, _And):
        children = sorted(node.children, key=_cost)
        mask = _select(children[0], index, now)
        for child in children[1:]:
            if not mask.any():
                break
            mask &= _select(child, index, now)
        return mask
    mask = _select(node.children[0], index, now)
    for child in node.children[1:]:
        mask |= _select(child, index, now)
    return mask


def _select_term(t: _Term, index: EntryIndex, now: datetime) -> Mask:
    kind = t.kind
    if kind in ("word", "phrase"):
        words = t.words
        mask, exact = index.word(words[-1], prefix=kind == "word")
        for w in words[:-1]:
            if not mask.any():
                break
            more, sure = index.word(w, prefix=False)
            mask &= more
            exact = exact and sure
        if len(words) > 1 or not exact:  # in a row, or long words: the entries decide
            mask = index.check(mask, _compile_term(t, now))
        return mask
    if kind in ("since", "after", "before"):
        when = _when(t, now)
        return ~index.since(when) if kind == "before" else index.since(when)
    if kind == "lang":
        return index.language_is(_language(t.text))
    names, test = (index.actors, _actor_test) if kind == "actor" else (index.sources, _source_test)
    found: Mask = index.memo((kind, t.text), lambda: index.named(names, test(t)))
    return found.copy()


def parse_query(text: str) -> Query:
    """Parse `text`; "" or white space gives an empty query that matches everything."""
    return Query(text)


def filter_entries(entries: Sequence[Entry], query: Query, now: datetime) -> list[Entry]:
    """The entries that match `query` at `now`, in their order."""
    pred = query.predicate(now)
    return list(entries) if pred is None else list(filter(pred, entries))


def _timed(node: _Node | None) -> bool:
    """Whether the answer depends on `now` (since:AGE)."""
    if isinstance(node, _Term):
        return node.seconds is not None
    if isinstance(node, _Not):
        return _timed(node.child)
    if isinstance(node, _And | _Or):
        return any(_timed(c) for c in node.children)
    return False


_FOLDS: dict[str, str] = {}  # a memo: each character's fold


def fold_indexed(text: str) -> tuple[str, list[int] | None]:
    """`text` folded character by character, with the index in `text` of each folded
    character; None when that is the same index (no character folds to none or to two, as
    in most French or Russian text). Each distinct character is folded once and the text
    translated with the table."""
    if text.isascii():
        return text.lower(), None
    memo = _FOLDS
    table: dict[int, str] = {}
    same = True
    for c in set(text):
        f = memo.get(c)
        if f is None:
            if len(memo) >= 65536:
                memo.clear()
            f = memo[c] = fold(c)
        table[ord(c)] = f
        same = same and len(f) == 1
    folded = text.translate(table)
    if same:
        return folded, None
    where = [i for i, c in enumerate(text) for _ in range(len(table[ord(c)]))]
    return folded, where


def highlight_spans(text: str, words: Sequence[str]) -> list[tuple[int, int]]:
    """Spans [start, end) of `text` whose folded form matches one of `words` (as given by
    `Query.highlights()`): a phrase (it holds a space) matches whole consecutive words; a
    word matches the start of a word and its span runs to the end of that word. Sorted,
    overlapping spans merged."""
    patterns = []
    for w in words:
        parts = _PART.findall(fold(w))
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
            while b < len(text) and not fold(text[b]):  # a trailing combining mark
                b += 1
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def entry_of(item: Item) -> Entry:
    """The timeline's and the filters' view of an item."""
    ranked = sorted(item.actors, key=lambda a: -a.mentions)
    return Entry(
        id=item.id,
        published=item.published,
        title=item.title,
        sources=item.sources,
        language=item.language,
        date_flag=item.date_flag,
        first_seen=item.first_seen,
        url=item.url,
        has_text=bool(item.text),
        actors=tuple(a.name for a in ranked),
        mentions=tuple(max(a.mentions, 1) for a in ranked),
        search=search_text(item),
        annotated=item.annotated,
        text_status=item.text_status,
    )
