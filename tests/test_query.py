"""The query language: parsing, matching, errors with positions, highlighting."""

from __future__ import annotations

import random
import unicodedata
from datetime import datetime, timedelta

import pytest

from monitor.core.fold import fold_text
from monitor.core.index import EntryIndex, Part
from monitor.core.query import (
    FIELDS,
    MAX_DEPTH,
    MAX_LENGTH,
    MAX_TERMS,
    Context,
    Query,
    QueryError,
    QueryTooLong,
    actor_query,
    filter_entries,
    highlight_spans,
    parse_query,
    source_query,
)
from monitor.model import Entry
from tests.support.query_table import ALL, MATCHES, NOW, STORY_MATCHES, A, B, Stories, entry


def found(query: str, now: datetime = NOW) -> str:
    q = parse_query(query)
    return "".join(e.id for e in ALL if q.matches(e, now))


@pytest.mark.parametrize(("query", "ids"), MATCHES)
def test_matches(query: str, ids: str) -> None:
    assert found(query) == ids
    assert "".join(e.id for e in filter_entries(ALL, parse_query(query), NOW)) == ids
    index = EntryIndex.build(ALL)
    assert "".join(e.id for e in index.rows(parse_query(query).select(index, NOW))) == ids


def test_now_moves_since_but_not_the_rest() -> None:
    q = parse_query("since:24h")
    assert q.matches(A, NOW)
    assert not q.matches(A, NOW + timedelta(days=1))
    assert q.matches(A, NOW)
    naive = NOW.replace(tzinfo=None)  # taken as UTC
    assert q.matches(A, naive) and parse_query("russie").matches(A, naive)


def test_empty_and_equality() -> None:
    for text in ("", "  ", "\t\n"):
        q = parse_query(text)
        assert q.empty and q.highlights() == () and q.predicate(NOW) is None
    assert not parse_query("russie").empty
    assert parse_query("russie") == Query("russie")
    assert hash(parse_query("a b")) == hash(Query("a b"))
    assert parse_query("a b") != parse_query("a  b")


def test_filter_keeps_order() -> None:
    rng = random.Random(3)
    entries = [
        entry(
            f"e{i}",
            rng.choice(("Russie", "Ukraine", "Paris")),
            published=NOW - timedelta(hours=rng.randrange(100)),
        )
        for i in range(200)
    ]
    q = parse_query("russie OR paris")
    kept = filter_entries(entries, q, NOW)
    assert kept == [e for e in entries if "Ukraine" not in e.title]
    assert filter_entries(entries, parse_query(""), NOW) == entries
    assert filter_entries(entries, parse_query(""), NOW) is not entries
    assert filter_entries([], q, NOW) == []


def test_long_queries_do_not_recurse_deeply() -> None:
    words = " ".join(f"w{i}" for i in range(MAX_TERMS - 1))
    assert not parse_query(words).matches(A, NOW)
    assert parse_query(words.replace(" ", " OR ") + " OR russie").matches(A, NOW)
    nested = "(" * MAX_DEPTH + "russie" + ")" * MAX_DEPTH
    assert parse_query(nested).matches(A, NOW)
    negated = "-(" * MAX_DEPTH + "russie" + ")" * MAX_DEPTH
    assert parse_query(negated).matches(A, NOW) is (MAX_DEPTH % 2 == 0)
    assert parse_query("NOT " * 1001 + "russie").matches(B, NOW)
    assert parse_query("-" * (MAX_LENGTH - 7) + "russie").matches(B, NOW)


@pytest.mark.parametrize(("query", "with_stories", "without"), STORY_MATCHES)
def test_story_terms(query: str, with_stories: str, without: str) -> None:
    q = parse_query(query)
    assert q.uses_stories() and not q.uses_triage()
    index = EntryIndex.build(ALL)
    for ctx, ids in ((Context(stories=Stories()), with_stories), (Context(), without)):
        assert "".join(e.id for e in ALL if q.matches(e, NOW, ctx)) == ids
        assert "".join(e.id for e in index.rows(q.select(index, NOW, ctx))) == ids
    assert not parse_query("russie is:unread").uses_stories()
    assert parse_query("is:story-lead is:unread").uses_triage()


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "position", "words"),
    [
        ("(russie", 0, "never closed"),
        ("a (b (c)", 2, "never closed"),
        ("russie)", 6, "never opened"),
        ("(a) b)", 5, "never opened"),
        (")", 0, "never opened"),
        ("()", 0, "empty"),
        ("a ( ) b", 2, "empty"),
        ("russie OR", 7, "OR needs something after"),
        ("OR russie", 0, "OR needs something before"),
        ("russie OR OR ukraine", 7, "OR needs something after"),
        ("(russie OR)", 8, "OR needs something after"),
        ("(OR russie)", 1, "OR needs something before"),
        ("russie AND", 7, "AND needs something after"),
        ("AND russie", 0, "AND needs something before"),
        ("a OR AND b", 2, "OR needs something after"),
        ("NOT", 0, "NOT needs something after"),
        ("russie NOT", 7, "NOT needs something after"),
        ("russie NOT OR a", 7, "NOT needs something after"),
        ("(NOT)", 1, "NOT needs something after"),
        ("a -OR b", 2, "- needs something after"),
        ('"vladimir putin', 0, "quote is never closed"),
        ('russie "', 7, "quote is never closed"),
        ('actor:"Vladimir', 6, "quote is never closed"),
        ("foo:bar", 0, 'unknown field "foo:"'),
        ("russie Foo:bar", 7, 'unknown field "Foo:"'),
        ("https://example.com", 0, "unknown field"),
        ("actor:", 0, "actor: needs a value"),
        ('source:""', 0, "source: needs a value"),
        ("actor:!!", 6, "actor: needs a name"),
        ("lang:french", 5, "language code"),
        ("since:", 0, "since: needs a value"),
        ("since:3x", 6, "since: takes an age"),
        ("since:24", 6, "since: takes an age"),
        ("since:-1d", 6, "since: takes an age"),
        ("russie since:24hours", 13, "since: takes an age"),
        ("before:2016-02-30", 7, "no such day"),
        ("after:2016-13-01", 6, "no such day"),
        ("after:yesterday", 6, "takes a date"),
        ("before:16-11-14", 7, "takes a date"),
        ('before:"2016-11-14', 7, "quote is never closed"),
        ("story:", 0, "story: needs a value"),
        ('story:""', 0, "story: needs a value"),
        ("is:story", 3, "is: takes one of unread, read, starred, new-angle, story-lead"),
        ("is:lead", 3, "story-lead"),
        ("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1), MAX_DEPTH, "nested"),
    ],
)
def test_errors(query: str, position: int, words: str) -> None:
    with pytest.raises(QueryError) as exc:
        parse_query(query)
    assert exc.value.position == position, exc.value.message
    assert words in exc.value.message
    assert str(exc.value) == exc.value.message
    assert isinstance(exc.value, ValueError)


def test_unknown_field_lists_the_fields() -> None:
    with pytest.raises(QueryError) as exc:
        parse_query("colour:red")
    assert all(name in exc.value.message for name in FIELDS)
    assert parse_query('"colour:red"').matches(entry("x", "Colour: red"), NOW)
    assert parse_query("10:30").matches(entry("x", "à 10:30"), NOW)  # not a field name


_PIECES = [
    "(",
    ")",
    '"',
    "-",
    ":",
    " ",
    " ",
    "OR",
    "AND",
    "NOT",
    "or",
    "actor:",
    "source:",
    "lang:",
    "since:",
    "before:",
    "after:",
    "foo:",
    "24h",
    "7d",
    "2016-11-14",
    "2016-02-30",
    "fr",
    "russie",
    "États-Unis",
    "cœur",
    "Путин",
    "e\u0301",
    "\u0301",
    "ß",
    "ﬁ",
    "İ",
    "\t",
    "\n",
    "\x00",
    "\ud800",
    "𝔘",
    "\U0001e94a",
    "’",
    "«",
    "»",
    "_",
    "*",
    "\\",
]


def _random_query(rng: random.Random) -> str:
    out = []
    for _ in range(rng.randrange(0, 14)):
        r = rng.random()
        if r < 0.7:
            out.append(rng.choice(_PIECES))
        elif r < 0.9:
            out.append(chr(rng.randrange(0x20, 0x250)))
        else:
            out.append(chr(rng.randrange(0, 0x110000)))
    return "".join(out)


def test_random_input_raises_only_query_error() -> None:
    rng = random.Random(20261125)
    entries = [*ALL, entry("D", "", "", sources=(), language=None)]
    index = EntryIndex.build(entries)
    parsed = failed = 0
    for _ in range(20_000):
        text = _random_query(rng)
        try:
            q = parse_query(text)
        except QueryError as exc:
            failed += 1
            assert 0 <= exc.position <= len(text), (text, exc.position)
            assert exc.message
            continue
        parsed += 1
        assert index.rows(q.select(index, NOW)) == filter_entries(entries, q, NOW), text
        for e in entries:
            q.matches(e, NOW)
        for e in entries[:2]:
            for a, b in highlight_spans(e.title, q.highlights()):
                assert 0 <= a < b <= len(e.title)
    assert parsed > 1000 and failed > 1000  # both sides were exercised


# --- folding and search text --------------------------------------------------------------------


def _reference_fold(s: str) -> str:
    decomposed = unicodedata.normalize("NFKD", s.casefold())
    out = "".join(c for c in decomposed if not unicodedata.combining(c))
    for letter, plain in (
        ("œ", "oe"),
        ("æ", "ae"),
        ("ø", "o"),
        ("ł", "l"),
        ("đ", "d"),
        ("ð", "d"),
        ("þ", "th"),
        ("ı", "i"),
    ):
        out = out.replace(letter, plain)
    return out


def test_fold() -> None:
    assert fold_text("États-Unis") == "etats-unis"
    assert fold_text("Œuvre, cœur, Ærø") == "oeuvre, coeur, aero"
    assert fold_text("Straße ﬁn İstanbul") == "strasse fin istanbul"
    assert fold_text("Путин, Йошкар-Ола") == "путин, иошкар-ола"
    assert fold_text("e\u0301te\u0301") == "ete"
    assert fold_text("ASCII Only") == "ascii only"
    rng = random.Random(7)
    for _ in range(3000):
        s = "".join(chr(rng.randrange(0, 0x2FFFF)) for _ in range(rng.randrange(12)))
        assert fold_text(s) == _reference_fold(s), repr(s)


def test_search_text_is_words_and_single_spaces() -> None:
    e = entry(
        "x",
        "Les États-Unis, l’Ukraine : « cœur »",
        "Vladimir  Poutine\n(Moscou)",
        sources=("L'Équipe",),
    )
    assert e.search == "les etats unis l ukraine coeur vladimir poutine moscou l equipe"


# --- highlighting --------------------------------------------------------------------------------


def _marked(text: str, query: str) -> list[str]:
    return [text[a:b] for a, b in highlight_spans(text, parse_query(query).highlights())]


@pytest.mark.parametrize(
    ("text", "query", "marked"),
    [
        ("Les États-Unis et l’Ukraine", "etats", ["États"]),
        ("Les États-Unis et l’Ukraine", "etats-unis", ["États-Unis"]),
        ("Les États-Unis et l’Ukraine", '"etats unis"', ["États-Unis"]),
        ("Les États-Unis et l’Ukraine", "unis ukraine", ["Unis", "Ukraine"]),
        ("Les États-Unis et l’Ukraine", "l'ukraine", ["l’Ukraine"]),
        ("Les États-Unis et l’Ukraine", "etats etats-unis", ["États-Unis"]),
        ("Les E\u0301tats-Unis", "etats", ["E\u0301tats"]),
        ("un cafe\u0301 noir", "cafe", ["cafe\u0301"]),
        ("un cafe\u0301 noir", '"cafe noir"', ["cafe\u0301 noir"]),
        ("Le cœur du Straße", "coeur strasse", ["cœur", "Straße"]),
        ("Russie, Russia, prussien", "russ", ["Russie", "Russia"]),
        ("Vladimir Putin's visit", '"vladimir putin"', ["Vladimir Putin"]),
        ("Vladimir\n  Putin", '"vladimir putin"', ["Vladimir\n  Putin"]),
        ("Vladimir Putinism", '"vladimir putin"', []),
        ("Путин и Россия", "путин росс", ["Путин", "Россия"]),
        ("Macron and Putin", "actor:putin -macron", ["Putin"]),
        ("no match here", "russie", []),
        ("", "russie", []),
    ],
)
def test_highlight_spans(text: str, query: str, marked: list[str]) -> None:
    assert _marked(text, query) == marked


def test_highlights_leave_out_negated_terms_and_fields() -> None:
    q = parse_query(
        'russ "Vladimir Putin" -sport NOT (tour OR -paris) actor:Zelensky lang:fr source:bbc since:1d États-Unis russ'
    )
    assert q.highlights() == ("russ", "vladimir putin", "paris", "zelensky", "etats-unis")


def test_highlight_spans_are_sorted_and_merged() -> None:
    text = "Russie Russie, États-Unis"
    assert highlight_spans(text, ("etats-unis", "russie", "etats", "russie etats")) == [
        (0, 6),
        (7, 25),
    ]
    assert highlight_spans(text, ()) == []
    assert highlight_spans(text, ("", "!!")) == []


# --- the index answers as the scan does ---------------------------------------------------------

_VOCAB = [
    "russie",
    "russia",
    "russe",
    "ukraine",
    "kremlin",
    "kiev",
    "kyiv",
    "earth",
    "earthquake",
    "earthquakes",
    "paris",
    "putin",
    "poutine",
    "etats",
    "unis",
    "l",
    "envoye",
    "americain",
    "de",
    "la",
    "le",
    "a",
    "g",
    "ga",
    "gaz",
    "gaza",
    "tariffs",
    "tar",
    "internationalisation",
    "internationalisations",
    "anticonstitutionnellement",
    "путин",
    "путина",
    "зеленский",
    "北京",
    "x1",
    "2016",
    "a1b2c3d4e5f6g7h8i9",
]
_ACTORS = ("Vladimir Putin", "Donald Trump", "Trump", "Kremlin", "Volodymyr Zelensky", "Путин")
_SOURCES = ("Le Monde – International", "BBC News", "L'Équipe", "Reuters")


def _random_entries(rng: random.Random, n: int) -> list[Entry]:
    out = []
    for i in range(n):
        title = " ".join(rng.choices(_VOCAB, k=rng.randrange(0, 12)))
        out.append(
            entry(
                f"e{i}",
                title,
                " ".join(rng.choices(_VOCAB, k=rng.randrange(0, 6))),
                sources=tuple(rng.sample(_SOURCES, rng.randrange(0, 3))),
                language=rng.choice((None, "fr", "en", "en-GB", "ru", "fr_CA")),
                actors=tuple(rng.sample(_ACTORS, rng.randrange(0, 4))),
                published=NOW - timedelta(minutes=rng.randrange(0, 60 * 24 * 30)),
            )
        )
    out.sort(key=lambda e: e.published, reverse=True)
    return out


def _random_vocab_query(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth < 3 and roll < 0.25:
        op = rng.choice((" ", " OR ", " AND "))
        parts = [_random_vocab_query(rng, depth + 1) for _ in range(rng.randrange(2, 4))]
        return "(" + op.join(parts) + ")"
    if roll < 0.3:
        return rng.choice(("-", "NOT ")) + _random_vocab_query(rng, depth + 1)
    word = rng.choice(_VOCAB)
    kind = rng.random()
    if kind < 0.3:
        return word[: rng.randrange(1, len(word) + 1)]  # a prefix, as typed
    if kind < 0.45:
        return '"' + " ".join(rng.choices(_VOCAB, k=rng.randrange(1, 4))) + '"'
    if kind < 0.55:
        return "-".join(rng.choices(_VOCAB, k=2))
    if kind < 0.65:
        return "actor:" + rng.choice(("putin", '"Vladimir Putin"', "trump", "poutine", "kreml"))
    if kind < 0.72:
        return "source:" + rng.choice(("monde", "bbc", "equipe", "x"))
    if kind < 0.8:
        return "lang:" + rng.choice(("fr", "en", "en-gb", "ru", "fr-ca", "de"))
    if kind < 0.9:
        return rng.choice(("since:24h", "since:3d", "after:2026-11-20", "before:2026-11-10"))
    return word


def test_index_selects_what_the_scan_finds() -> None:
    rng = random.Random(11)
    entries = _random_entries(rng, 700)
    for parts in (EntryIndex.build(entries), EntryIndex(entries, [Part.build(entries)])):
        for _ in range(1500):
            q = parse_query(_random_vocab_query(rng))
            assert parts.rows(q.select(parts, NOW)) == filter_entries(entries, q, NOW), q.text


def test_index_part_round_trips_and_rejects_garbage() -> None:
    entries = _random_entries(random.Random(5), 300)
    part = Part.build(entries)
    again = Part.decode(part.encode())
    index, copy = EntryIndex(entries, [part]), EntryIndex(entries, [again])
    for text in ("russ", '"etats unis"', "actor:putin OR lang:ru", "-source:bbc gaz"):
        q = parse_query(text)
        assert (q.select(index, NOW) == q.select(copy, NOW)).all()
    for bad in (b"", b"\x93\x01", part.encode()[:-5]):
        with pytest.raises(ValueError):
            Part.decode(bad)
    with pytest.raises(ValueError):
        EntryIndex(entries[:-1], [part])
    empty = EntryIndex.build([])
    assert empty.rows(parse_query("russie OR -x").select(empty, NOW)) == []


# --- queries combined as trees --------------------------------------------------------------------


def _indexes(entries: list[Entry]) -> tuple[EntryIndex, ...]:
    return EntryIndex.build(entries), EntryIndex(entries, [Part.build(entries)])


def _same_selection(
    built: Query, parsed: Query, entries: list[Entry], indexes: tuple[EntryIndex, ...]
) -> None:
    """`built` selects what `parsed` does: entry by entry, by filter, and from the indexes."""
    want = filter_entries(entries, parsed, NOW)
    assert filter_entries(entries, built, NOW) == want, built.text
    assert [e for e in entries if built.matches(e, NOW)] == want, built.text
    for index in indexes:
        assert index.rows(built.select(index, NOW)) == want, built.text
    assert built.highlights() == parsed.highlights()
    assert built.empty == parsed.empty


_QUOTED = ('Dwayne "The Rock" Johnson', 'Radio "Libre" (Paris)')


def _entries_with_odd_names() -> list[Entry]:
    entries = _random_entries(random.Random(17), 400)
    odd = [
        entry("q1", "Le catcheur", actors=(_QUOTED[0],), sources=(_QUOTED[1],)),
        entry("q2", "The Rock", actors=("Dwayne Johnson",), sources=("Radio Libre",)),
        entry("q3", "Un tiret", actors=("—",), sources=("«»",)),
    ]
    return sorted(entries + odd, key=lambda e: e.published, reverse=True)


def test_actor_query_selects_what_the_actor_field_does() -> None:
    entries = _entries_with_odd_names()
    indexes = _indexes(entries)
    for name in (*_ACTORS, "putin", "Vladimir  PUTIN", "poutine", "kreml", _QUOTED[0]):
        parsed = parse_query('actor:"' + name.replace('"', " ") + '"')  # the field can't quote
        _same_selection(actor_query(name), parsed, entries, indexes)
    assert [e.id for e in filter_entries(entries, actor_query(_QUOTED[0]), NOW)] == ["q1"]


def test_source_query_selects_what_the_source_field_does() -> None:
    entries = _entries_with_odd_names()
    indexes = _indexes(entries)
    for name in (*_SOURCES, "monde", "BBC", "l'equipe", "  Le   Monde ", "x"):
        _same_selection(source_query(name), parse_query(f'source:"{name}"'), entries, indexes)


def test_names_the_language_cannot_quote() -> None:
    entries = _entries_with_odd_names()

    def ids(q: Query) -> list[str]:
        return [e.id for e in filter_entries(entries, q, NOW)]

    # a quote in a source name: the text reads alike but parses as something else
    assert ids(source_query(_QUOTED[1])) == ["q1"]
    assert ids(source_query('"Libre"')) == ["q1"]
    assert source_query(_QUOTED[1]).text == f'source:"{_QUOTED[1]}"'
    assert source_query(_QUOTED[1]) != parse_query(f'source:"{_QUOTED[1]}"')
    # names with no letters or digits: no field takes them; the node matches them whole
    for q in (actor_query("—"), source_query("«»")):
        assert ids(q) == ["q3"] and not q.empty and q.highlights() == ()
        for index in _indexes(entries):
            assert [e.id for e in index.rows(q.select(index, NOW))] == ["q3"]
    with pytest.raises(QueryError):
        parse_query('actor:"—"')


def test_conjunction_selects_what_the_parsed_and_does() -> None:
    rng = random.Random(23)
    entries = _random_entries(rng, 500)
    indexes = _indexes(entries)
    for _ in range(300):
        a, b = parse_query(_random_vocab_query(rng)), parse_query(_random_vocab_query(rng))
        parsed = parse_query(f"({a.text}) ({b.text})")
        _same_selection(Query.both(a, b), parsed, entries, indexes)
        _same_selection(a & b, parsed, entries, indexes)
    name, source = rng.choice(_ACTORS), rng.choice(_SOURCES)
    for text in ("russie OR ukraine", "-gaz", "since:3d paris", ""):
        q = parse_query(text)
        fields = f'actor:"{name}" source:"{source}"'
        parsed = parse_query(f"({text}) {fields}" if text else fields)
        _same_selection(q & actor_query(name) & source_query(source), parsed, entries, indexes)
        built = Query.both(None, q, source_query(source), actor_query(name))
        _same_selection(built, parsed, entries, indexes)


def test_conjunction_text_emptiness_and_time() -> None:
    russie = parse_query("russie OR ukraine")
    both = Query.both(russie, source_query("Le Monde"))
    assert both.text == '(russie OR ukraine) source:"Le Monde"'
    assert (
        both & actor_query("Putin")
    ).text == '(russie OR ukraine) source:"Le Monde" actor:"Putin"'
    assert both == parse_query('(russie OR ukraine) source:"Le Monde"')
    assert Query.both(russie, None) is russie and russie & parse_query(" ") is russie
    assert None & russie is russie
    for empty in (Query.both(), Query.both(None, None), Query.both(parse_query(""), None)):
        assert empty.empty and empty.text == "" and empty.predicate(NOW) is None
        assert empty.highlights() == ()
    recent = parse_query("since:24h") & actor_query("Vladimir Putin")
    assert recent.matches(A, NOW) and not recent.matches(A, NOW + timedelta(days=1))
    assert recent.matches(A, NOW)


def test_a_megabyte_query_is_refused_before_parsing() -> None:
    """A 1 MB query once took minutes of CPU: now refused at once, by the parser, so that
    the command line and the dashboard's filter line both say why."""
    text = "russie " * (1_000_000 // 7)
    with pytest.raises(QueryTooLong) as raised:
        parse_query(text)
    assert raised.value.message == f"the query is {len(text):,} characters long; at most 4,096"
    assert 0 <= raised.value.position <= len(text)
    assert isinstance(raised.value, QueryError)  # what every caller already catches


def test_the_length_limit() -> None:
    at_limit = ("a" * 63 + " ") * (MAX_LENGTH // 64) + "b" * (MAX_LENGTH % 64)
    assert len(at_limit) == MAX_LENGTH
    parse_query(at_limit)
    with pytest.raises(QueryTooLong):
        parse_query(at_limit + "c")


def test_the_terms_limit() -> None:
    terms = [f"w{n}" for n in range(MAX_TERMS)]
    parse_query(" OR ".join(terms))  # operators and parentheses are not terms
    parse_query("(" + " ".join(terms) + ")")
    over = " ".join([*terms, "lang:fr"])
    with pytest.raises(QueryTooLong) as raised:
        parse_query(over)
    assert raised.value.message == f"the query has {MAX_TERMS + 1} terms; at most {MAX_TERMS}"
    assert raised.value.position == over.index("lang:fr")  # the first term too many
