"""Words in PostgreSQL (`io.pg.search`): the same items in a folder store's SQLite index
and in the database, the same text questions, the same keys."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

from monitor.config import DatabaseSettings
from monitor.core.entries import doc_key
from monitor.core.query import TextSearch, parse_query
from monitor.core.query_syntax import And, Term
from monitor.io.pg.connect import database, release
from monitor.io.pg.search import (
    BODY_LIMIT,
    GAP,
    QUERY,
    PgSearch,
    Sql,
    condition,
    near,
    words_params,
)
from monitor.io.pg.store import PgStore
from monitor.io.tinystore import TinyStore
from monitor.model import Item
from tests.support.text_items import make

HARD = [
    make(
        1,
        "Les États-Unis et l'Élysée",
        summary="Le cœur du sommet, l’Ukraine.",
        author="Jean-Marie Dupont",
    ),
    # a title ending with « premier », a summary starting with « ministre »
    make(2, "Qui sera le premier", summary="ministre du budget ? Straße ﬁnancière, Æsir."),
    make(
        3,
        "Sanctions",
        summary="",
        text="Les sanctions contre l'Iran ont été votées hier soir à Bruxelles.",
    ),
    make(
        4, "L'Iran répond", summary="", text="Téhéran dénonce les nouvelles sanctions américaines."
    ),
    make(
        5, "Eu égard", summary="L'UE et l'Europe, aujourd'hui.", text="Le sud-coréen eu tout court."
    ),
    make(6, "Le premier ministre", summary="", text="Le premier ministre a parlé au ministre."),
    make(7, "Agence", summary="", sources=("Agence France-Presse", "Reuters"), author="Le Monde"),
]

QUERIES = [
    # accents, ligatures, apostrophes, hyphens
    ("etats-unis", [1]),
    ('"États-Unis"', [1]),
    ("unis", [1]),
    ("elysee", [1]),
    ("l'elysee", [1]),
    ("l’Élysée", [1]),
    ("coeur", [1]),
    ("cœur", [1]),
    ("strasse", [2]),
    ("financiere", [2]),
    ("aesir", [2]),
    ("sud-coreen", [5]),
    ('"sud coreen"', [5]),
    ("aujourd'hui", [5]),
    # prefixes, and words too short to be one
    ("sanct", [3, 4]),
    ('"sanction"', []),
    ("eu", [5]),
    ("ue", [5]),
    ("eur", [5]),
    ("ira", [3, 4]),
    # phrases never cross a column
    ('"premier ministre"', [6]),
    ('"qui sera le premier"', [2]),
    ('"le monde"', [1, 2, 3, 4, 5, 6, 7]),  # 1-6: their source; 7: its author
    ('"dupont le monde"', []),  # 1: its author, then its source
    # fields
    ("title:premier", [2, 6]),
    ("text:premier", [6]),
    ("author:dupont", [1]),
    ('author:"jean marie"', [1]),
    ("author:monde", [7]),
    ("title:iran", [4]),
    ("text:iran", [3]),
    ("france-presse", [7]),
    # NEAR: FTS5's, in either order, within one column
    ("sanctions NEAR/2 iran", [3]),
    ("iran NEAR/2 sanctions", [3]),
    ("sanctions NEAR/1 iran", []),
    ("iran NEAR/0 contre", []),  # « contre l'Iran »: one word between
    ("iran NEAR/1 contre", [3]),
    ("contre NEAR/1 iran", [3]),
    ("ete NEAR/0 ont", [3]),
    ('"contre l iran" NEAR/0 "l iran ont"', [3]),  # overlapping
    ("teheran NEAR sanctions", [4]),
    ("teheran NEAR/3 sanctions", [4]),
    ("teheran NEAR/2 sanctions", []),
    ("sanctions NEAR/150 bruxelles", [3]),
    ("bruxelles NEAR/9999 sanctions", [3]),
    ('"sanctions contre" NEAR/9999 "l iran ont"', [3]),  # overlapping, far
    ('"sanctions contre" NEAR/9999 "contre l"', [3]),
    ('"sanctions contre" NEAR/9999 "l contre"', []),
    ("(sanct NEAR/200 bruxel) OR elysee", [1, 3]),
    ("sanctions -(sanctions NEAR/500 hier)", [4]),
    ("qui NEAR/500 ministre", []),  # title and summary: two columns
    ("title:premier -(premier NEAR/300 parle)", [2]),
    ("premier NEAR/1 budget", []),
    ('"premier ministre" NEAR/0 "ministre a"', [6]),
    ('"le premier ministre" NEAR/0 premier', [6]),
    ('"le premier ministre" NEAR/5 "premier ministre a"', [6]),
    ('"premier ministre" NEAR/2 "au ministre"', [6]),
    ('"premier ministre" NEAR/1 "au ministre"', []),
    # AND, OR, NOT
    ("sanctions iran", [3, 4]),
    ("sanctions OR elysee", [1, 3, 4]),
    ("sanctions -hier", [4]),
    ("sanctions NOT (hier OR budget)", [4]),
    ("(iran OR etats) -title:sanctions", [1, 4]),
    ("-iran", None),
    ("iran OR -hier", None),
]


def put(tmp_path: Path, pg_url: str, items: list[Item]) -> Iterator[tuple[TextSearch, TextSearch]]:
    """The folder store's text index and the database's, over the same items."""
    tiny = TinyStore(tmp_path / "db")
    pg = PgStore(database(DatabaseSettings(url=pg_url)))
    try:
        tiny.write(items, [])
        pg.write(items, [])
        deadline = time.monotonic() + 30
        while (fts := tiny.text_search()) is None:
            assert time.monotonic() < deadline, "the text index was never complete"
            time.sleep(0.02)
        words = pg.text_search()
        assert isinstance(words, PgSearch)
        yield fts, words
    finally:
        tiny.close()
        pg.close()


def keyset(search: TextSearch, query: str) -> set[int] | None:
    tree = parse_query(query).tree
    assert tree is not None
    found = search.keys(tree)
    return None if found is None else set(found.tolist())


def test_the_database_answers_as_fts5(tmp_path: Path, pg_url: str) -> None:
    for fts, words in put(tmp_path, pg_url, HARD):
        wrong = []
        for query, expected in QUERIES:
            want = None if expected is None else {doc_key(HARD[n - 1].id) for n in expected}
            got = (keyset(fts, query), keyset(words, query))
            if got != (want, want):
                wrong.append((query, want, *got))
        assert wrong == []


_VOCAB = [
    "iran",
    "sanctions",
    "paris",
    "moscou",
    "premier",
    "ministre",
    "le",
    "la",
    "de",
    "etats",
    "unis",
    "kremlin",
]


def _random_text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice([*_VOCAB, "l'" + rng.choice(_VOCAB)]) for _ in range(n))


def _random_term(rng: random.Random) -> str:
    words = rng.sample(_VOCAB, rng.choice((1, 1, 2, 3)))
    if len(words) == 1 and rng.random() < 0.5:
        return words[0][: rng.randint(1, len(words[0]))]  # a prefix, maybe a short one
    return '"' + " ".join(words) + '"'


def _random_query(rng: random.Random) -> str:
    field = rng.choice(["", "", "", "title:", "text:", "author:"])
    parts = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if kind < 0.35:
            a, b = _random_term(rng), _random_term(rng)
            parts.append(f"{a} NEAR/{rng.choice((0, 1, 2, 5, GAP + 3))} {b}")
        elif kind < 0.5:
            parts.append(f"({_random_term(rng)} OR {field}{_random_term(rng)})")
        elif kind < 0.6 and parts:
            parts.append("-" + _random_term(rng))
        else:
            parts.append(field + _random_term(rng))
    return " ".join(parts)


def test_random_queries_over_random_items(tmp_path: Path, pg_url: str) -> None:
    rng = random.Random(18)
    items = [
        make(
            n,
            _random_text(rng, rng.randint(2, 8)),
            summary=_random_text(rng, rng.randint(0, 30)),
            text=_random_text(rng, rng.randint(0, 300)) if rng.random() < 0.7 else None,
            author=_random_text(rng, 2) if rng.random() < 0.3 else None,
        )
        for n in range(1, 80)
    ]
    for fts, words in put(tmp_path, pg_url, items):
        asked = hits = 0
        for _ in range(400):
            query = _random_query(rng)
            tree = parse_query(query).tree
            if tree is None or condition(tree) is None:
                continue
            asked += 1
            found = keyset(fts, query)
            assert keyset(words, query) == found, query
            hits += bool(found)
        assert asked > 300 and hits > 100


def test_near_is_one_alternative_per_offset() -> None:
    assert near(*_terms("a b"), 1) == (
        "(('b') <2> ('a')) | (('b') <1> ('a')) | (('a') <0> ('b')) | (('a') <1> ('b'))"
        " | (('a') <2> ('b'))"
    )
    tree = parse_query("a NEAR/1 b").tree
    assert tree is not None and condition(tree) == Sql(
        f"words @@ {QUERY}", (near(*_terms("a b"), 1),)
    )
    wide = parse_query(f"a NEAR/{GAP} b").tree  # as wide as the gap: the positions decide
    assert wide is not None
    found = condition(wide)
    assert found is not None and "monitor_near(" in found.text and GAP in found.params


def _terms(text: str) -> tuple[Term, Term]:
    tree = parse_query(text).tree
    assert isinstance(tree, And)
    a, b = tree.children
    assert isinstance(a, Term) and isinstance(b, Term)
    return a, b


def test_a_huge_body_is_cut_to_fit_a_tsvector(tmp_path: Path, pg_url: str) -> None:
    rng = random.Random(1)
    words = " ".join("".join(rng.choices("abcdefghij", k=3)) for _ in range(400_000))
    big = make(1, "Énorme", summary="", text=words + " zanzibar")
    assert len(words_params(big)[1]) <= BODY_LIMIT
    for _, search in put(tmp_path, pg_url, [big]):
        assert keyset(search, "enorme") == {doc_key(big.id)}
        assert keyset(search, "zanzibar") == set()  # past the limit


def test_a_failure_is_no_answer(pg_url: str) -> None:
    db = database(DatabaseSettings(url=pg_url))  # no tables: every question fails
    try:
        assert keyset(PgSearch(db), "iran") is None
    finally:
        release(db)
