"""Actors: the founding example end to end, canonicalization rules, quotes, dates, languages."""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config import load
from monitor.core.actors import annotate_fields
from monitor.core.fold import fold_indexed, fold_text
from monitor.core.gazetteer import build_gazetteer, match_gazetteer
from monitor.core.names import merge_names, name_key
from monitor.core.textdates import find_dates
from monitor.io.annotate import (
    _unneeded,
    _upstream,
    annotate_items,
    detect_language,
    gazetteer,
    model,
)
from monitor.io.backends import open_store
from monitor.io.poller import poll_once
from monitor.model import ActorSpec, Item
from tests.support.servers import FeedServer, static

PUBLISHED = datetime(2016, 11, 14, 19, 30, tzinfo=UTC)  # a Monday evening


def _item(text: str, lang: str | None, title: str = "", summary: str = "") -> Item:
    return Item(
        id="x",
        title=title,
        url=None,
        sources=("test",),
        published=PUBLISHED,
        published_raw=None,
        date_flag=None,
        language=lang,
        summary=summary,
        first_seen=PUBLISHED,
        text=text,
    )


def _feed(text: str) -> bytes:
    paras = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Le Quotidien</title><link>http://example.org/</link><language>fr</language>
<item><title>Poutine et Trump veulent normaliser les relations russo-américaines</title>
<link>http://example.org/poutine-trump</link>
<guid>poutine-trump</guid>
<pubDate>Mon, 14 Nov 2016 19:30:00 +0000</pubDate>
<description>Entretien téléphonique entre le président russe et le président élu.</description>
<content:encoded><![CDATA[{paras}]]></content:encoded>
</item></channel></rss>""".encode()


@contextlib.contextmanager
def _seed_feed(seed: Path, tmp_path: Path, name: str) -> Iterator[Path]:
    """A loopback server with the seed article as one French feed item, and a config.toml
    (source `name`, the store in tmp_path) polling it; the server lives while in use."""
    text = (seed / "article-fr-trump-poutine.txt").read_text(encoding="utf-8")
    with FeedServer() as srv:
        srv.route("/feed.xml", static(_feed(text)))
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            f'[storage]\npath = "store"\n\n[[sources]]\nname = "{name}"\n'
            f'url = "{srv.url("/feed.xml")}"\n',
            encoding="utf-8",
        )
        yield cfg


def test_founding_example_end_to_end(seed: Path, tmp_path: Path) -> None:
    """The seed article published as a French feed item, polled and stored like any other."""
    with _seed_feed(seed, tmp_path, "Le Quotidien") as cfg:
        settings = load(cfg)
        store = open_store(settings.storage)
        try:
            asyncio.run(poll_once(settings, store))
            (item,) = list(store.items())
        finally:
            store.close()
    got = item.to_json()
    assert {(a["name"], a["kind"]) for a in got["actors"]} == {
        ("Vladimir Putin", "person"),
        ("Donald Trump", "person"),
        ("Hillary Clinton", "person"),
        ("Russia", "place"),
        ("United States", "place"),
        ("New York", "place"),
        ("Kremlin", "organisation"),  # the Russian presidency: see monitor/data/gazetteer.toml
        ("France", "place"),  # from « l'ambassadeur de France », trimmed of « de »
    }
    counts = {a["name"]: a["mentions"] for a in got["actors"]}
    assert counts["Vladimir Putin"] == 5 and counts["Donald Trump"] == 5
    assert counts["Russia"] == 6 and counts["United States"] == 4
    assert got["quotes"] == [
        {
            "actor": "Vladimir Putin",
            "text": "prêt à nouer un dialogue avec la nouvelle administration sur un pied "
            "d'égalité, selon un principe de respect mutuel et sans que l'un interfère dans "
            "les affaires intérieures de l'autre",
        },
        {
            "actor": "Donald Trump",
            "text": "relations fortes et durables avec la Russie et avec le peuple russe",
        },
    ]
    fields = {"title": item.title, "summary": item.summary, "text": item.text or ""}
    surfaces = {(m.actor, fields[m.field][m.start : m.end]) for m in item.mentions}
    assert ("Vladimir Putin", "Vladimir Poutine") in surfaces
    assert ("Vladimir Putin", "Poutine") in surfaces  # the title
    assert ("Kremlin", "Kremlin") in surfaces
    assert ("France", "France") in surfaces
    shown = {s for _, s in surfaces}
    assert not shown & {"C’", "A", "Etat", "de France", "Américains", "IIs"}
    assert [(d.text, d.date) for d in item.dates] == [
        ("ce lundi", "2016-11-14"),
        ("ce lundi", "2016-11-14"),
    ]
    assert json.loads(json.dumps(got))["actors"] == got["actors"]


def test_the_dashboard_poll_annotates_in_its_parse_worker(seed: Path, tmp_path: Path) -> None:
    """With the dashboard's parse pool, the model loads in the worker process, never in the
    process that runs the UI."""
    with _seed_feed(seed, tmp_path, "Q") as cfg:
        code = (
            "import asyncio, sys\nfrom pathlib import Path\n"
            "from monitor.config import load\n"
            "from monitor.io.loops import parse_pool\nfrom monitor.io.poller import poll_once\n"
            "from monitor.io.backends import open_store\n"
            f"settings = load(Path({str(cfg)!r}))\n"
            "store = open_store(settings.storage)\n"
            "pool = parse_pool()\n"
            "asyncio.run(poll_once(settings, store, executor=pool))\n"
            "pool.shutdown()\n"
            "(item,) = store.items()\n"
            "print(sorted(a.name for a in item.actors))\n"
            "print('spacy' in sys.modules, 'thinc' in sys.modules)\n"
        )
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
        )
    assert run.returncode == 0, run.stderr
    actors, loaded = run.stdout.strip().splitlines()
    assert "Vladimir Putin" in actors and "Hillary Clinton" in actors  # NER ran
    assert loaded == "False False"


GAZ = build_gazetteer(
    [
        ActorSpec("Jean-Luc Mélenchon", ("Mélenchon", "JLM"), "person"),
        ActorSpec("United States", ("US", "États-Unis", "США"), "place"),
        ActorSpec("Russia", ("Russie", "Россия"), "place"),
        ActorSpec("Vladimir Putin", ("Poutine", "Путин"), "person"),
    ],
    generic=["etat"],
    leading=["de", "le", "la", "l"],
)


def _names(text: str) -> list[str]:
    return [spec.name for _, _, spec in match_gazetteer(text, GAZ)]


def test_gazetteer_matching_ignores_case_and_accents_and_is_word_bounded() -> None:
    assert _names("Jean-Luc MELENCHON et melenchon") == ["Jean-Luc Mélenchon"]  # lower: no
    assert _names("Mélenchonistes et Mélenchon") == ["Jean-Luc Mélenchon"]
    assert _names("les Etats-Unis, les États-Unis") == ["United States", "United States"]
    assert _names("the US said; tell us") == ["United States"]  # 'us' is not US
    assert _names("JLM a parlé, jlm non") == ["Jean-Luc Mélenchon"]


def test_russian_case_forms_match() -> None:
    assert _names("Путина поддержали в России, а Путину ответили США") == [
        "Vladimir Putin",
        "Russia",
        "Vladimir Putin",
        "United States",
    ]


def test_offsets_point_at_the_surface_form() -> None:
    text = "Hier, à l’Élysée, les États-Unis et la Russie."
    for a, b, spec in match_gazetteer(text, GAZ):
        assert text[a:b] in ("États-Unis", "Russie"), spec


def test_within_document_linking_and_noise() -> None:
    text = (
        "Hillary Clinton a rencontré Bill Clinton. Plus tard, Clinton a parlé. "
        "Le sénateur John Fetterman a répondu. Fetterman a ajouté que l'Etat doit agir."
    )
    (item,) = annotate_items([_item(text, "fr")])
    names = {a.name for a in item.actors}
    assert {"Hillary Clinton", "Bill Clinton", "John Fetterman"} <= names
    counts = {a.name: a.mentions for a in item.actors}
    assert counts["Hillary Clinton"] == counts["Bill Clinton"] == 1  # "Clinton" is either
    assert "Fetterman" not in names  # linked to the full name
    assert "Etat" not in names and "l'Etat" not in names
    fetterman = next(a for a in item.actors if a.name == "John Fetterman")
    assert fetterman.mentions == 2


@pytest.mark.parametrize(
    ("text", "kept", "dropped"),
    [
        (
            "Réunis au Maroc pour la COP22, les représentants de 200 pays négocient.",
            {"Morocco"},
            {"Réunis"},
        ),
    ],
)
def test_a_participle_opening_a_sentence_is_not_a_name(
    text: str, kept: set[str], dropped: set[str]
) -> None:
    (item,) = annotate_items([_item(text, "fr")])
    names = {a.name for a in item.actors}
    assert kept <= names
    assert not names & dropped


def test_which_opening_words_are_participles() -> None:
    text = (
        "Le sommet s'ouvre. Interrogés par l'AFP, des diplomates restent prudents. "
        "Lomé accueille le sommet. Tunis, la capitale, attend. Élus en 2016, ils siègent."
    )

    def spans(*words: str) -> dict[str, list[tuple[int, int, str]]]:
        at = [(text.index(w), text.index(w) + len(w), "LOC") for w in words]
        return {"text": at}

    found = annotate_fields(
        [("text", text)], spans("Interrogés", "Lomé", "Tunis", "Élus"), gazetteer()
    )
    names = {a.name for a in found.actors}
    assert {"Lomé", "Tunis"} <= names  # no preposition after them
    assert not names & {"Interrogés", "Élus"}


def test_user_actors_win_and_match_word_bounded() -> None:
    specs = [ActorSpec("Équipe de France", ("les Bleus",), "organisation")]
    (item,) = annotate_items(
        [_item("Les Bleus ont gagné. Les Bleuets aussi.", "fr")], user_actors=specs
    )
    assert [(a.name, a.mentions) for a in item.actors] == [("Équipe de France", 1)]


def test_quotes_patterns_in_english() -> None:
    text = (
        'Senator John Fetterman said: the bill will pass this week. "We have the votes to '
        'pass it," said Chuck Schumer. According to Mitch McConnell, "this is a bad bill for '
        'America".'
    )
    (item,) = annotate_items([_item(text, "en")])
    quotes = {(q.actor, q.text) for q in item.quotes}
    assert quotes == {
        ("John Fetterman", "the bill will pass this week."),
        ("Chuck Schumer", "We have the votes to pass it"),
        ("Mitch McConnell", "this is a bad bill for America"),
    }


def test_relative_dates_against_publication() -> None:
    got = find_dates(
        "Hier, il a parlé. Mardi prochain il votera. Ce lundi, rien.", "text", "fr", PUBLISHED
    )
    assert [(d.text, d.date) for d in got] == [
        ("Hier", "2016-11-13"),
        ("Mardi prochain", "2016-11-15"),
        ("Ce lundi", "2016-11-14"),
    ]
    en = find_dates("He spoke on Monday and will vote tomorrow.", "text", "en", PUBLISHED)
    assert [(d.text, d.date) for d in en] == [
        ("on Monday", "2016-11-07"),
        ("tomorrow", "2016-11-15"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "plain ascii",
        "Les États-Unis, l’Élysée et la Russie",
        "Путина поддержали в России",
        "Straße, œuvre, ﬁn, İstanbul, e\u0301te\u0301, 𝔸𝕓 😀 x\u0301, ½ ²",
        "\u0301 a\u0301\u0302b",
    ],
)
def test_fold_indexed_maps_each_folded_character_back(text: str) -> None:
    want, where = [], []  # the plain way: character by character
    for i, c in enumerate(text):
        f = fold_text(c)
        want.append(f)
        where.extend([i] * len(f))
    got, got_where = fold_indexed(text)
    assert got == "".join(want)
    assert (got_where or list(range(len(got)))) == where


def test_ner_loads_only_what_it_listens_to() -> None:
    listener = {"model": {"tok2vec": {"@architectures": "spacy.Tok2VecListener.v1"}}}
    assert _upstream(listener, ["tok2vec", "ner"]) == ["tok2vec"]
    named = {"model": {"tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "upstream": "t"}}}
    assert _upstream(named, ["t", "ner"]) == ["t"]
    own = {"model": {"tok2vec": {"@architectures": "spacy.Tok2Vec.v2", "embed": {}}}}
    assert _upstream(own, ["tok2vec", "ner"]) == []
    # the small French pipeline's NER has its own tok2vec: the shared one is not loaded
    assert "tok2vec" in _unneeded("fr_core_news_md") and "ner" not in _unneeded("fr_core_news_md")
    nlp = model("fr")
    assert nlp is not None and nlp.pipe_names == ["ner"]


def test_names_merge_across_languages_but_not_shared_surnames() -> None:
    assert name_key("Зеленский") == name_key("Zelensky") == name_key("Selenskyj")
    assert name_key("Volodymyr Zelenskyy") == name_key("Volodymyr Zelensky")
    merged = merge_names(
        {
            "Volodymyr Zelensky": 5,
            "Volodymyr Zelenskyy": 2,
            "Zelensky": 3,
            "Hillary Clinton": 2,
            "Bill Clinton": 2,
            "Clinton": 4,
        }
    )
    assert merged["Volodymyr Zelenskyy"] == merged["Zelensky"] == "Volodymyr Zelensky"
    assert merged["Clinton"] == "Clinton"  # shared surname: left alone
    assert merged["Bill Clinton"] == "Bill Clinton" != merged["Hillary Clinton"]


STORY = {
    "fr": "Vladimir Poutine a appelé Donald Trump. Le Kremlin a confirmé l'entretien entre "
    "la Russie et les États-Unis, inquiets de l'élargissement de l'OTAN.",
    "en": "Vladimir Putin called Donald Trump. The Kremlin confirmed the talks between Russia "
    "and the United States, worried about NATO enlargement.",
    "de": "Wladimir Putin hat Donald Trump angerufen. Der Kreml bestätigte das Gespräch "
    "zwischen Russland und den Vereinigten Staaten, besorgt über die Erweiterung der NATO.",
    "ru": "Владимир Путин позвонил Дональду Трампу. Кремль подтвердил разговор между Россией "
    "и США, обеспокоенными расширением НАТО.",
}


@pytest.mark.parametrize("declared", [True, False])
def test_the_same_story_in_four_languages_gives_the_same_actors(declared: bool) -> None:
    items = [_item(t, lang if declared else None) for lang, t in STORY.items()]
    annotated = annotate_items(items)
    expected = {
        "Vladimir Putin",
        "Donald Trump",
        "Kremlin",
        "Russia",
        "United States",
        "NATO",
    }
    for lang, item in zip(STORY, annotated, strict=True):
        assert {a.name for a in item.actors} == expected, lang
        assert item.language == lang


def test_language_detection() -> None:
    assert detect_language("Le président a parlé de son souhait de nouer des relations") == "fr"
    assert detect_language("The president spoke about his wish to build relations") == "en"
    assert detect_language("Trump") is None


@pytest.mark.anyio
async def test_the_dashboard_shows_new_items_then_their_actors(seed: Path, tmp_path: Path) -> None:
    """The real app and poller: items are stored, then annotated in the parse worker, and
    the actors pane fills."""
    from monitor.tui.app import MonitorApp
    from tests.support.dashboard import screen_text, settle

    with _seed_feed(seed, tmp_path, "Q") as cfg:
        settings = load(cfg)
        store = open_store(settings.storage)
        try:
            app = MonitorApp(settings, store)
            # wide enough for the timeline's actors column
            async with app.run_test(size=(200, 50)) as pilot:
                for _ in range(120):
                    await settle(pilot, 0.5)
                    if app.main.actors_pane.rows and not app.session.polling:
                        break
                names = [r.name for r in app.main.actors_pane.rows]
                assert "Vladimir Putin" in names and "Hillary Clinton" in names
                assert app.main.timeline.entries[0].actors[:2] == ("Russia", "Vladimir Putin")
                await settle(pilot)
                # the row drawn before the actors were found is drawn again with them
                assert "Russia, Vladimir" in screen_text(app)
            (item,) = list(store.items())
            assert item.annotated and item.quotes
        finally:
            store.close()
