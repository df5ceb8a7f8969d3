"""The query test tables on every backend: the same items in a folder store and in
PostgreSQL, the same queries, the same ids. The folder store selects from its entries
with its SQLite text index (`Query.select`); PostgreSQL answers in SQL
(`io.pg.query.search`), testing entry by entry only what SQL cannot say."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from monitor.cli import main
from monitor.config import DatabaseSettings
from monitor.core.query import NO_CONTEXT, Context, parse_query
from monitor.io.pg.connect import database
from monitor.io.pg.query import Compiler, search, stored_names
from monitor.io.pg.store import PgStore
from monitor.io.tinystore import TinyStore
from monitor.io.triage import Triage
from monitor.model import Actor, Item, TriageState
from tests.support import query_table, search_table
from tests.support.text_items import NOW, make

Ids = Callable[[str, Context], set[str]]

USER = "ana"


class Backends:
    """The same items in a folder store and in a database, asked the same queries."""

    def __init__(self, tmp_path: Path, pg_url: str, items: Sequence[Item], now: datetime) -> None:
        self.now = now
        self.url = pg_url
        self.tiny = TinyStore(tmp_path / "db")
        self.pg = PgStore(database(DatabaseSettings(url=pg_url)))
        self.tiny.write(items, [])
        self.pg.write(items, [])
        deadline = time.monotonic() + 30
        while (text := self.tiny.text_search()) is None:
            assert time.monotonic() < deadline, "the text index was never complete"
            time.sleep(0.02)
        self.fts = text
        self.words = self.pg.text_search()

    def close(self) -> None:
        self.tiny.close()
        self.pg.close()

    def folder(self, query: str, ctx: Context = NO_CONTEXT) -> set[str]:
        index = self.tiny.entry_index()
        ctx = Context(self.fts, ctx.triage, ctx.categories, ctx.stories)
        return {e.id for e in index.rows(parse_query(query).select(index, self.now, ctx))}

    def database(self, query: str, ctx: Context = NO_CONTEXT) -> set[str]:
        ctx = Context(self.words, ctx.triage, ctx.categories, ctx.stories)
        user = None if ctx.triage is None else USER
        with psycopg.connect(self.url, autocommit=True) as conn:
            return {e.id for e in search(conn, parse_query(query), self.now, ctx, user)}

    def differences(
        self, table: Sequence[tuple[str, set[str]]], ctx: Context = NO_CONTEXT
    ) -> list[tuple[str, set[str], set[str], set[str]]]:
        """The queries whose ids are not the table's on both backends."""
        out = []
        for query, want in table:
            got = self.folder(query, ctx), self.database(query, ctx)
            if got != (want, want):
                out.append((query, want, *got))
        return out


@pytest.fixture
def backends(tmp_path: Path, pg_url: str) -> Iterator[Callable[..., Backends]]:
    made: list[Backends] = []

    def make(items: Sequence[Item], now: datetime) -> Backends:
        made.append(Backends(tmp_path, pg_url, items, now))
        return made[-1]

    yield make
    for b in made:
        b.close()


def test_the_query_table(backends: Callable[..., Backends]) -> None:
    both = backends(list(query_table.ITEMS), query_table.NOW)
    table = [(q, set(ids)) for q, ids in query_table.MATCHES]
    assert both.differences(table) == []


def test_the_story_table(backends: Callable[..., Backends]) -> None:
    both = backends(list(query_table.ITEMS), query_table.NOW)
    with_stories = Context(stories=query_table.Stories())
    assert (
        both.differences([(q, set(ids)) for q, ids, _ in query_table.STORY_MATCHES], with_stories)
        == []
    )
    assert both.differences([(q, set(ids)) for q, _, ids in query_table.STORY_MATCHES]) == []


def test_the_search_command_table(backends: Callable[..., Backends]) -> None:
    both = backends(search_table.ITEMS, search_table.NOW)
    table = [(" ".join(argv), set(ids)) for argv, ids in search_table.QUERIES]
    assert both.differences(table) == []


def _every_field() -> tuple[list[Item], TriageState, Context]:
    """test_fulltext.test_every_field's items and triage, with more of each."""
    items = [
        make(
            1,
            "Poutine reçoit Trump",
            text="Un long texte sur l'Ukraine et les sanctions.",
            author="Marie Dupont",
            text_status="page",
            actors=(Actor("Vladimir Putin", "person", 2), Actor("Donald Trump", "person", 1)),
        ),
        make(
            2,
            "L'Ukraine en une",
            url="https://www.bbc.co.uk/news/2",
            sources=("BBC",),
            text_status="failed",
            text_error="paywall",
            summary="Poutine",
            language="en_GB",
        ),
        make(
            3, "Sans texte", sources=("Le Monde", "Reuters"), actors=(Actor("Trump", "person", 1),)
        ),
        make(4, "Vieux", hours=40 * 24),
    ]
    a, b, c, _ = (it.id for it in items)
    triage = TriageState(
        starred=frozenset({a}),
        tags={"sanctions": frozenset({a, c}), "auto tag": frozenset({b})},
        tag_names={"sanctions": "Sanctions", "auto tag": "Auto Tag"},
        notes={b: "à suivre"},
        seen=frozenset({c}),
        since=NOW - timedelta(days=30),
        angles={b: "new actor X"},
    )
    return items, triage, Context(categories={"Le Monde": "presse francaise"}, triage=triage)


def _write_triage(url: str, triage: TriageState) -> None:
    """`triage` as the analyst USER's rows (the "auto tag" set by [[tags]])."""
    assert triage.since is not None
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO users VALUES (%s, %s)", (USER, triage.since))
        conn.execute("INSERT INTO users VALUES ('bob', %s)", (triage.since,))
        for item_id in triage.seen:
            conn.execute("INSERT INTO seen VALUES (%s, %s)", (USER, item_id))
        for item_id in triage.starred:
            conn.execute("INSERT INTO starred VALUES (%s, %s, now())", (USER, item_id))
        for key, ids in triage.tags.items():
            by = "auto" if key == "auto tag" else USER
            for item_id in ids:
                conn.execute(
                    "INSERT INTO tags VALUES (%s, %s, %s, %s, %s, now())",
                    ("" if by == "auto" else USER, item_id, key, triage.tag_names[key], by),
                )
        for item_id, note in triage.notes.items():
            conn.execute("INSERT INTO notes VALUES (%s, %s, %s, now())", (USER, item_id, note))
        for item_id, why in triage.angles.items():
            conn.execute(
                "INSERT INTO angles VALUES (%s, %s, %s, %s, now())", (USER, item_id, item_id, why)
            )
        # another analyst's triage is none of USER's
        for table in ("seen", "starred", "notes"):
            extra = ", now()" if table == "starred" else ", 'x', now()" if table == "notes" else ""
            for n in range(1, 5):
                conn.execute(f"INSERT INTO {table} VALUES ('bob', %s{extra})", (f"{n:020x}",))


def test_every_field(backends: Callable[..., Backends]) -> None:
    items, triage, ctx = _every_field()
    both = backends(items, NOW)
    _write_triage(both.url, triage)
    a, b, c, d = (it.id for it in items)
    table = [
        ("title:poutine", {a}),
        ("poutine", {a, b}),
        ("text:ukraine", {a}),
        ("title:ukraine", {b}),
        ("author:dupont", {a}),
        ('author:"marie dupont"', {a}),
        ("site:lemonde.fr", {a, c, d}),
        ("site:bbc.co.uk", {b}),
        ("site:bbc -poutine", set()),
        ('category:"presse française"', {a, c, d}),
        ("status:page", {a}),
        ("status:paywall", {b}),
        ("status:failed OR status:page", {a, b}),
        ("status:pending", {c, d}),
        ("-status:pending", {a, b}),
        ("is:starred", {a}),
        ("is:unread", {a, b}),
        ("is:read", {c, d}),
        ("-is:read", {a, b}),
        ("tag:SANCTIONS", {a, c}),
        ("#sanctions", {a, c}),
        ('tag:"auto tag"', {b}),
        ("has:note", {b}),
        ("has:tag -is:starred", {b, c}),
        ("has:text", {a}),
        ("is:new-angle", {b}),
        ("sanctions -tag:sanctions", set()),
        ("ukraine NOT title:ukraine", {a}),
        ("actor:trump", {a, c}),
        ('actor:"donald trump"', {a, c}),  # Trump: the surname of it
        ("actor:putin -actor:trump", set()),
        ("source:reuters", {c}),
        ("source:monde -source:reuters", {a, d}),
        ("lang:en", {b}),
        ("lang:en-gb", {b}),
        ("lang:fr since:2d", {a, c}),
        (f"before:{NOW - timedelta(days=20):%Y-%m-%d}", {d}),
        # a word too short for a prefix in the text: one in titles and summaries
        ("u", {b}),  # « une »
        ("un", {a, b}),  # a: the word in its text; b: « une »
        ("lo", set()),  # « long » in a's text only
        ("un OR numero", {a, b, c, d}),
        ("po", {a, b}),
        ("po NEAR/1 tr", {a}),
        ("po NEAR/0 tr", set()),
        ("-po", {c, d}),
        ("(po OR vi) -is:starred", {b, d}),
    ]
    wrong = both.differences(table, ctx)
    assert wrong == [], wrong


def test_the_search_command_on_postgresql(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    store = PgStore(database(DatabaseSettings(url=pg_url)))
    store.write(search_table.ITEMS, [])
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[storage]\nbackend = "postgresql"\nurl = "{pg_url}"\n', encoding="utf-8")
    triage = Triage(DatabaseSettings(url=pg_url), now=lambda: search_table.NOW - timedelta(days=30))
    triage.star(["id2", "id3"])
    triage.tag("Suivi", ["id3", "id5"])
    triage.mark_seen(["id3"])
    triage.close()
    table = [
        *search_table.QUERIES,
        (["is:starred"], ["id3", "id2"]),
        (["is:starred -tag:suivi"], ["id2"]),
        (["#suivi OR lang:en"], ["id4", "id3", "id2", "id5"]),
        (["is:unread since:24h"], ["id1", "id4"]),
        (["is:read OR kremlin"], ["id3", "id5"]),
    ]
    for argv, ids in table:
        code = main(["search", *argv, "--format", "jsonl", "--config", str(cfg)])
        out, err = capsys.readouterr()
        assert code == 0
        assert [json.loads(line)["id"] for line in out.splitlines()] == ids, argv
        assert ("nothing matches" in err) == (not ids)


def test_what_sql_says_exactly(pg_url: str) -> None:
    """Which terms SQL decides, and which it leaves to the entries."""
    store = PgStore(database(DatabaseSettings(url=pg_url)))
    try:
        with psycopg.connect(pg_url) as conn:
            where = Compiler(stored_names(conn), query_table.NOW, user=USER)
            for query, exact in [
                ("russie ukraine", True),
                ('"premier ministre" NEAR/3 iran', True),
                ("actor:putin OR source:monde lang:fr since:7d", True),
                ("is:unread tag:x has:note has:tag is:starred is:new-angle has:text", True),
                ("gu", False),
                ("title:gu", True),
                ("site:lemonde.fr", False),
                ("status:page", False),
                ("story:abc", True),
                ("is:story-lead", True),
                ("site:lemonde.fr OR title:x", False),
                ("-status:page", False),
                ("gu NEAR/2 etats", False),
            ]:
                tree = parse_query(query).tree
                assert tree is not None
                assert where.bounds(tree).exact == exact, query
    finally:
        store.close()


_TERMS = [
    "poutine", "po", "p", "ukraine", "uk", "un", "u", "texte", "sanctions", "sans",
    '"un long"', '"l ukraine"', "l'ukraine", "resume", "numero", "russ", "etats-unis", "coeur",
    "title:ukraine", "text:sanctions", "author:dupont", "title:po", "actor:putin", "actor:trump",
    'actor:"Vladimir Putin"', "source:monde", "source:bbc", "source:reuters", "lang:fr",
    "lang:en", "lang:en-gb", "since:2d", "since:24h", "before:2026-11-20", "site:lemonde.fr",
    "site:bbc", "status:page", "status:pending", "status:paywall", "is:starred", "is:unread",
    "is:read", "is:new-angle", "is:story-lead", "tag:sanctions", "has:note", "has:tag",
    "has:text", "story:A", "story:C", 'category:"presse francaise"',
    "(po NEAR/2 trump)", "(ukraine NEAR/3 sanctions)", '("long texte" NEAR/1 ukraine)',
    "(u NEAR/5 en)",
]  # fmt: skip


def _random_full_query(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth < 3 and roll < 0.3:
        op = rng.choice((" ", " OR ", " AND "))
        return (
            "("
            + op.join(_random_full_query(rng, depth + 1) for _ in range(rng.randrange(2, 4)))
            + ")"
        )
    if roll < 0.4:
        return "-" + _random_full_query(rng, depth + 1)
    return rng.choice(_TERMS)


def test_random_queries_of_every_kind(backends: Callable[..., Backends]) -> None:
    items, triage, ctx = _every_field()
    stories = query_table.Stories()
    both = backends([*items, *query_table.ITEMS], NOW)
    _write_triage(both.url, triage)
    ctx = Context(triage=triage, categories=ctx.categories, stories=stories)
    rng = random.Random(18)
    hits = 0
    for _ in range(300):
        query = _random_full_query(rng)
        folder = both.folder(query, ctx)
        assert both.database(query, ctx) == folder, query
        hits += 0 < len(folder) < len(items) + 3
    assert hits > 100
