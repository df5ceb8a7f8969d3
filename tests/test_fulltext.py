"""Whole-text search: every word of every article, through the store's text index."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.core.fold import folded_words
from monitor.core.index import EntryIndex
from monitor.core.query import Context, parse_query
from monitor.io.fts import FILE, TextIndex, match_expression
from monitor.io.tinystore import TinyStore
from monitor.model import Item, TriageState
from tests.support.shared import CORPUS, need_shared
from tests.support.text_items import NOW, make


def article_body() -> tuple[str, str]:
    """The longest French fundus article: its title and its paragraphs."""
    path = need_shared(CORPUS / "articles" / "fundus" / "test_data" / "fr")
    best: tuple[str, list[str]] = ("", [])
    for f in sorted(path.glob("*.json")):
        for record in json.loads(f.read_text()).values():
            body = record.get("body") or {}
            paras = [p for s in body.get("sections", []) for p in s.get("paragraphs", [])]
            if sum(map(len, paras)) > sum(map(len, best[1])):
                best = (record.get("title") or "", paras)
    return best[0], best[1]


def indexed(store: TinyStore, timeout: float = 30) -> Context:
    """The store's context once its text index covers every day."""
    deadline = time.monotonic() + timeout
    while (text := store.text_search()) is None:
        assert time.monotonic() < deadline, "the text index was never complete"
        time.sleep(0.02)
    return Context(text=text)


def ids(store: TinyStore, query: str, ctx: Context) -> list[str]:
    index = store.entry_index()
    return sorted(e.id for e in index.rows(parse_query(query).select(index, NOW, ctx)))


@pytest.fixture
def long_article() -> tuple[Item, str]:
    """An item whose full text is a long real article, and its last paragraph."""
    title, paras = article_body()
    assert len(paras) >= 4 and sum(map(len, paras)) > 3000, "a long article"
    return make(1, title, text="\n\n".join(paras)), paras[-1]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TinyStore]:
    s = TinyStore(tmp_path / "db")
    yield s
    s.close()


def only_in_last(paras: list[str]) -> str:
    """A word of the last paragraph found nowhere before it (nor in the title)."""
    before = set(folded_words(" ".join(paras[:-1])).split())
    for word in folded_words(paras[-1]).split():
        if len(word) >= 6 and word not in before:
            return word
    raise AssertionError("no word only in the last paragraph")


def test_a_word_a_phrase_and_near_in_the_last_paragraph(
    store: TinyStore, long_article: tuple[Item, str]
) -> None:
    item, last = long_article
    _, paras = article_body()
    other = make(2, "Rien à voir", text="Un autre texte, sans rapport. " * 40)
    store.write([item, other], [])
    ctx = indexed(store)
    word = only_in_last(paras)
    assert word not in " ".join(folded_words(p) for p in paras[:3])
    assert ids(store, word, ctx) == [item.id]
    assert ids(store, f'"{word}"', ctx) == [item.id]
    words = folded_words(last).split()
    i = words.index(word)
    pair = words[i : i + 2] if i + 1 < len(words) else words[i - 1 : i + 1]
    assert ids(store, f'"{" ".join(pair)}"', ctx) == [item.id]
    if i >= 4:
        assert ids(store, f'"{words[i - 4]}" NEAR/4 "{word}"', ctx) == [item.id]
        assert ids(store, f'"{word}" NEAR/4 "{words[i - 4]}"', ctx) == [item.id]  # either order
    first, far = folded_words(paras[0]).split()[0], word
    assert ids(store, f'"{first}" NEAR/2 "{far}"', ctx) == []
    # without the text index, only titles and summaries are searched
    assert ids(store, word, Context()) == []


def test_prefixes_and_star(store: TinyStore) -> None:
    store.write([make(1, "t", text="Les sanctions contre Moscou se durcissent.")], [])
    ctx = indexed(store)
    assert ids(store, "sanction", ctx) == ids(store, "sanction*", ctx) == [make(1, "t").id]
    assert ids(store, '"sanction"', ctx) == []  # quoted: the whole word
    assert ids(store, "durcis*", ctx) == [make(1, "t").id]


def test_short_words_are_prefixes_in_titles_only(store: TinyStore) -> None:
    a = make(1, "L'Europe inquiète", text="Un texte sur l'Europe.")
    b = make(2, "Autre", text="Europe encore, et eu tout court.")
    store.write([a, b], [])
    ctx = indexed(store)
    assert ids(store, "eu", ctx) == [a.id, b.id]  # a: its title; b: the word itself
    assert ids(store, "eur", ctx) == [a.id, b.id]
    assert ids(store, "eu inquiete", ctx) == [a.id]


def test_every_field(store: TinyStore) -> None:
    a = make(
        1,
        "Poutine reçoit Trump",
        text="Un long texte sur l'Ukraine et les sanctions.",
        author="Marie Dupont",
        text_status="page",
    )
    b = make(
        2,
        "L'Ukraine en une",
        url="https://www.bbc.co.uk/news/2",
        sources=("BBC",),
        text_status="failed",
        text_error="paywall",
        summary="Poutine",
    )
    c = make(3, "Sans texte", sources=("Le Monde",))
    store.write([a, b, c], [])
    triage = TriageState(
        starred=frozenset({a.id}),
        tags={"sanctions": frozenset({a.id, c.id})},
        tag_names={"sanctions": "Sanctions"},
        notes={b.id: "à suivre"},
        seen=frozenset({c.id}),
    )
    text = indexed(store).text
    ctx = Context(text=text, triage=triage, categories={"Le Monde": "presse francaise"})
    assert ids(store, "title:poutine", ctx) == [a.id]
    assert ids(store, "poutine", ctx) == [a.id, b.id]  # b: in its summary
    assert ids(store, "text:ukraine", ctx) == [a.id]  # b has it in its title only
    assert ids(store, "title:ukraine", ctx) == [b.id]
    assert ids(store, "author:dupont", ctx) == [a.id]
    assert ids(store, 'author:"marie dupont"', ctx) == [a.id]
    assert ids(store, "site:lemonde.fr", ctx) == [a.id, c.id]
    assert ids(store, "site:bbc.co.uk", ctx) == [b.id]
    assert ids(store, "site:bbc", ctx) == [b.id]
    assert ids(store, 'category:"presse française"', ctx) == [a.id, c.id]
    assert ids(store, "status:page", ctx) == [a.id]
    assert ids(store, "status:paywall", ctx) == [b.id]
    assert ids(store, "status:failed", ctx) == [b.id]
    assert ids(store, "status:pending", ctx) == [c.id]
    assert ids(store, "is:starred", ctx) == [a.id]
    assert ids(store, "is:unread", ctx) == [a.id, b.id]
    assert ids(store, "is:read", ctx) == [c.id]
    assert ids(store, "tag:SANCTIONS", ctx) == [a.id, c.id]
    assert ids(store, "#sanctions", ctx) == [a.id, c.id]
    assert ids(store, "has:note", ctx) == [b.id]
    assert ids(store, "has:tag -is:starred", ctx) == [c.id]
    assert ids(store, "has:text", ctx) == [a.id]
    assert ids(store, "sanctions -tag:sanctions", ctx) == []
    assert ids(store, "ukraine NOT title:ukraine", ctx) == [a.id]


def test_queries_read_as_fts5() -> None:
    def expr(q: str) -> str | None:
        tree = parse_query(q)._tree
        assert tree is not None
        return match_expression(tree)

    assert expr("russ") == '"russ"*'
    assert expr('"vladimir putin"') == '"vladimir putin"'
    assert expr("etats-unis") == '"etats unis"*'
    assert expr("title:poutine") == 'title : "poutine"*'
    assert expr("iran NEAR/3 sanctions") == 'NEAR("iran"* "sanctions"*, 3)'
    assert expr('iran NEAR "oil"') == 'NEAR("iran"* "oil", 10)'
    assert expr("abc def -ghi") == '(("abc"*) AND ("def"*)) NOT (("ghi"*))'
    assert expr("abc OR def") == '("abc"*) OR ("def"*)'
    assert expr("eu") == '"eu"'  # short: a whole word in the text (a prefix in titles)
    assert expr("-abc") is None  # FTS5 has no NOT alone: answered by the mask


@pytest.mark.parametrize(
    "bad", ["NEAR b", "a NEAR", "a NEAR/3 b NEAR/3 c", "a NEAR actor:x", "-a NEAR b"]
)
def test_near_needs_two_words(bad: str) -> None:
    from monitor.core.query import QueryError

    with pytest.raises(QueryError):
        parse_query(bad)


def test_fields_without_a_text_index_fall_back() -> None:
    """No text index (a store being indexed): title and summary still answer."""
    entries = [
        make(1, "Poutine à Pékin", text="rien"),
        make(2, "Autre chose", summary="poutine ailleurs"),
    ]
    from monitor.core.entries import entry_of

    index = EntryIndex.build([entry_of(it) for it in entries])
    found = parse_query("title:poutine").select(index, NOW)
    assert [e.id for e in index.rows(found)] == [entries[0].id]
    found = parse_query("poutine NEAR/1 ailleurs").select(index, NOW)
    assert [e.id for e in index.rows(found)] == [entries[1].id]


def test_a_corrupt_index_is_made_again(tmp_path: Path) -> None:
    s = TinyStore(tmp_path / "db")
    s.write([make(1, "t", text="le mot caché est zanzibar")], [])
    assert ids(s, "zanzibar", indexed(s)) == [make(1, "t").id]
    s.close()
    (tmp_path / "db" / FILE).write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        (tmp_path / "db" / f"{FILE}{suffix}").unlink(missing_ok=True)
    reader = TinyStore(tmp_path / "db", readonly=True)
    assert reader.text_search() is None  # a reader falls back, never fails
    assert ids(reader, "zanzibar", Context()) == []
    s = TinyStore(tmp_path / "db")
    try:
        assert ids(s, "zanzibar", indexed(s)) == [make(1, "t").id]
        assert ids(reader, "zanzibar", Context(text=reader.text_search())) == [make(1, "t").id]
    finally:
        s.close()
        reader.close()


def test_a_missing_index_is_made_again_and_days_written_meanwhile_count(tmp_path: Path) -> None:
    s = TinyStore(tmp_path / "db")
    s.write(
        [make(n, "t", text=f"texte {n} avec le mot mot{n}", hours=24 * n) for n in range(1, 6)], []
    )
    s.close()
    (tmp_path / "db" / FILE).unlink()
    s = TinyStore(tmp_path / "db")
    try:
        s.write([make(9, "t", text="un nouveau mot9")], [])
        ctx = indexed(s)
        for n in (1, 3, 5, 9):
            assert ids(s, f"mot{n}", ctx) == [make(n, "t").id]
    finally:
        s.close()


def test_a_changed_text_leaves_no_old_words(store: TinyStore) -> None:
    store.write([make(1, "t", text="version alpha")], [])
    ctx = indexed(store)
    store.update(
        [(make(1, "t").id, lambda it: it.__class__(**{**_fields(it), "text": "version beta"}))]
    )
    assert ids(store, "alpha", ctx) == []
    assert ids(store, "beta", ctx) == [make(1, "t").id]


def _fields(it: Item) -> dict[str, object]:
    return {f: getattr(it, f) for f in it.__struct_fields__}


def test_reindex_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = TinyStore(tmp_path / "db")
    s.write([make(1, "t", text="le mot est quetzal")], [])
    s.close()
    (tmp_path / "db" / FILE).unlink()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[storage]\npath = "db"\n\n[[sources]]\nname = "Le Monde"\nurl = "https://example.com/rss"\n'
    )
    assert main(["reindex", "--config", str(cfg)]) == 0
    assert re.search(r"indexed 1 items in", capsys.readouterr().err)
    assert main(["search", "--config", str(cfg), "quetzal", "--format", "jsonl"]) == 0
    out = capsys.readouterr().out
    assert [json.loads(line)["id"] for line in out.splitlines()] == [make(1, "t").id]


def test_a_failing_index_never_stops_a_write(tmp_path: Path) -> None:
    s = TinyStore(tmp_path / "db")
    try:
        s.write([make(1, "t", text="un")], [])
        index = s._text
        assert isinstance(index, TextIndex)
        index.close()
        (tmp_path / "db" / FILE).write_bytes(b"garbage" * 1000)
        s.write([make(2, "t", text="deux")], [])  # the index fails: the write stands
        assert s.get(make(2, "t").id) is not None
    finally:
        s.close()
