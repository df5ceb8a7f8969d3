"""Actors in Title Case headlines, words opening sentences, towns, one spelling and one
kind per actor: the rules, each on a small text (the gold sets in test_gold.py measure
them on real feeds and articles)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from msgspec.structs import replace as with_fields

from monitor.core.actors import Annotation, annotate_fields
from monitor.core.backlog import unannotated
from monitor.core.dedupe import merge
from monitor.core.entries import entry_of
from monitor.core.headlines import casing, confirmed_run, title_case_feeds
from monitor.core.names import settle_items, settle_names
from monitor.io.annotate import annotate_items, annotate_stored, gazetteer, places
from monitor.io.backends import open_store
from monitor.model import ANNOTATOR, Actor, Item, Mention, Quote

WHEN = datetime(2026, 2, 17, 12, tzinfo=UTC)


def _item(title: str, summary: str, source: str = "feed", n: int = 0, lang: str = "en") -> Item:
    return Item(
        id=f"{n:016x}",
        title=title,
        url=None,
        sources=(source,),
        published=WHEN,
        published_raw=None,
        date_flag=None,
        language=lang,
        summary=summary,
        first_seen=WHEN,
    )


@pytest.mark.parametrize(
    ("title", "style"),
    [
        ("Trump Threatens Military Action Against Iran", "title"),
        ("Kim Jong Un Is Doing Everything He Can to Keep North Korea's Youth in Line", "title"),
        ("U.S. and Iran wrap up second round of nuclear talks", "sentence"),
        ("Poutine et Trump veulent normaliser les relations", "sentence"),
        ("TRUMP THREATENS MILITARY ACTION", "upper"),
        ("Donald Trump", "sentence"),  # too short to tell
    ],
)
def test_casing(title: str, style: str) -> None:
    assert casing(title) == style


def test_a_feed_that_writes_title_case_makes_all_its_headlines_suspect() -> None:
    titles = [
        ("wsj", "Trump Says Colombia Will Accept Deportees"),
        ("wsj", "Freed Israeli Hostages Still Had Shrapnel"),
        ("wsj", "Vanke Reports a loss"),
        ("cbs", "U.S. and Iran wrap up second round of nuclear talks"),
        ("cbs", "Belgium accuses U.S. envoy of disinformation"),
        ("cbs", "Team USA Wins Gold"),
    ]
    assert title_case_feeds(titles) == {"wsj"}


def test_confirmed_run_keeps_the_longest_run_the_other_text_writes_with_capitals() -> None:
    title = "Marco Rubio Stresses Trump Ties"
    summary = "The secretary of state, Marco Rubio, spoke on Monday."
    run = confirmed_run(title, 0, len(title), lambda key: False, [(summary, 0, 0)])
    assert run is not None and title[run[0] : run[1]] == "Marco Rubio"
    # one word opening a sentence of the other text proves nothing
    title2 = "Tributes Pour In"
    assert confirmed_run(title2, 0, 8, lambda key: False, [("Tributes poured in.", 0, 0)]) is None
    # a name found elsewhere confirms it
    assert confirmed_run(title2, 0, 8, lambda key: key == "tributes", []) == (0, 8)


def test_title_case_headline_fragments_are_cut_to_what_is_confirmed() -> None:
    title = "Marco Rubio Stresses Trump Ties in Munich Speech"
    summary = "Secretary of State Marco Rubio said Europe must change course."
    munich = title.index("Munich")
    spans = {"title": [(0, 26, "PERSON"), (munich, len(title), "ORG")]}
    ann = annotate_fields(
        [("title", title), ("summary", summary)], spans, gazetteer(), shaky={"title"}
    )
    names = {a.name for a in ann.actors}
    assert "Marco Rubio" in names and "Donald Trump" in names  # the gazetteer names Trump
    assert not any("Stresses" in n or "Speech" in n for n in names)
    # the same NER spans in a sentence-case title are trusted
    plain = annotate_fields([("title", title), ("summary", summary)], spans, gazetteer())
    assert "Marco Rubio Stresses Trump" in {a.name for a in plain.actors}


def test_a_name_in_a_headline_is_confirmed_by_other_items() -> None:
    items = [
        _item("Lindsey Vonn Discharged, Preparing to Leave Italy", "She crashed.", "time", 0),
        _item("Skier Lindsey Vonn leaves hospital", "Lindsey Vonn is out of hospital.", "ap", 1),
    ]
    first, _ = annotate_items(items)
    assert "Lindsey Vonn" in {a.name for a in first.actors}


def test_headline_words_are_not_actors_in_a_real_title_case_batch() -> None:
    items = [
        _item(
            "Leading China Property Developer Reports Huge Loss, in Sign of Widening Woes",
            "Troubles at Vanke raise questions about the continued spread of the crisis.",
            "wsj",
            0,
        ),
        _item(
            "Freed Israeli Hostages Still Had Shrapnel in Their Bodies",
            "Some of the women were held alone, an Israeli medical official said.",
            "wsj",
            1,
        ),
        _item(
            "Some Winter Olympians Face Extreme Fear on the Slopes",
            "Athletes in Milan say the pressure has never been higher.",
            "wsj",
            2,
        ),
    ]
    names = {a.name for it in annotate_items(items) for a in it.actors}
    assert not any(len(n.split()) >= 3 for n in names), names
    assert not names & {"Israeli", "Some Winter Olympians", "Leading China Property Developer"}
    assert "China" in names


@pytest.mark.parametrize(
    ("lang", "summary", "noise"),
    [
        ("fr", "Résumé Le président a parlé de la réforme des retraites à Paris.", "Résumé"),
        ("en", "Tributes poured in from politicians across the country.", "Tributes"),
        ("en", "Detectives are investigating a stabbing in the city centre.", "Detectives"),
    ],
)
def test_a_word_opening_a_summary_is_not_an_actor(lang: str, summary: str, noise: str) -> None:
    (item,) = annotate_items(
        [_item("Une nouvelle" if lang == "fr" else "News", summary, lang=lang)]
    )
    assert noise not in {a.name for a in item.actors}


def test_a_word_opening_a_sentence_stays_when_something_confirms_it() -> None:
    text = "Astana hosted the talks. Diplomats flew in from Lomé."
    spans = {"text": [(0, 6, "GPE"), (48, 52, "GPE")]}
    found = {a.name: a.kind for a in annotate_fields([("text", text)], spans, gazetteer()).actors}
    assert found == {"Astana": "place", "Lomé": "place"}  # Astana: a town GeoNames knows
    spans = {"text": [(0, 9, "ORG")]}
    text = "Amnestica said the camps were full. Later, Amnestica asked for access."
    found = {a.name for a in annotate_fields([("text", text)], spans, gazetteer()).actors}
    assert found == {"Amnestica"}  # written with a capital in the middle of a sentence


def test_towns_tagged_as_organisations_are_places() -> None:
    assert places().find("Soumy") == "city" and places().find("Kourakhové") == "town"
    assert places().find("Vladimir Putin") is None
    assert places().find("GOP") is None  # codes are not towns
    text = "Les frappes sur Soumy ont repris."
    found = annotate_fields([("text", text)], {"text": [(16, 21, "ORG")]}, gazetteer())
    assert [(a.name, a.kind) for a in found.actors] == [("Soumy", "place")]


@pytest.mark.parametrize(
    "name", ["Lunar New Year", "Winter Olympics", "Munich Security Conference"]
)
def test_events_are_not_actors(name: str) -> None:
    text = f"Crowds gathered for the {name} on Monday."
    start = text.index(name)
    found = annotate_fields(
        [("text", text)], {"text": [(start, start + len(name), "ORG")]}, gazetteer()
    )
    assert not found.actors


def test_spellings_of_one_name_are_one_actor_in_an_item() -> None:
    text = "Viktor Orbán met the press. Later Viktor Orban said he would stay."
    spans = {"text": [(0, 12, "PER"), (34, 46, "PER")]}
    ann = annotate_fields([("text", text)], spans, gazetteer())
    assert [(a.name, a.mentions) for a in ann.actors] == [("Viktor Orbán", 2)]
    assert {m.actor for m in ann.mentions} == {"Viktor Orbán"}


def test_settle_names_one_spelling_and_the_kind_most_evidence_supports() -> None:
    seen = [
        ("Alexey Navalny", "person", 3),
        ("Alexey Navalny", "organisation", 1),
        ("Viktor Orban", "person", 1),
        ("Viktor Orbán", "person", 1),
        ("Kremlin", "place", 5),
    ]
    out = settle_names(seen, {"Kremlin": "organisation"})
    assert out["Alexey Navalny"] == ("Alexey Navalny", "person")
    assert out["Viktor Orban"] == out["Viktor Orbán"] == ("Viktor Orbán", "person")
    assert out["Kremlin"] == ("Kremlin", "organisation")  # the gazetteer's kind


def test_settle_items_renames_actors_mentions_and_quotes() -> None:
    a = _item("Orban wins", "", n=0)
    b = _item("Orbán wins", "", n=1)
    a = a.__class__(
        **{
            **{f: getattr(a, f) for f in a.__struct_fields__},
            "actors": (Actor("Viktor Orban", "organisation", 1),),
            "mentions": (Mention("Viktor Orban", 0, 5, "title"),),
            "quotes": (Quote("Viktor Orban", "We won."),),
        }
    )
    b = b.__class__(
        **{
            **{f: getattr(b, f) for f in b.__struct_fields__},
            "actors": (Actor("Viktor Orbán", "person", 2),),
        }
    )
    first, second = settle_items([a, b])
    assert first.actors == (Actor("Viktor Orbán", "person", 1),)
    assert first.mentions[0].actor == first.quotes[0].actor == "Viktor Orbán"
    assert second.actors == (Actor("Viktor Orbán", "person", 2),)


def test_one_batch_gives_one_spelling_and_one_kind() -> None:
    items = [
        _item("Hungary votes", "Prime Minister Viktor Orbán spoke in Budapest.", n=0),
        _item("Budapest rally", "Critics of Viktor Orban marched in Budapest.", n=1),
    ]
    names = [
        {(a.name, a.kind) for a in it.actors if "Vik" in a.name} for it in annotate_items(items)
    ]
    assert names[0] == names[1] and len(names[0]) == 1


def test_older_annotations_are_done_again_and_current_ones_stand(tmp_path: Path) -> None:
    """A store annotated by an older version is annotated again by the catch-up; an item
    polled again with the same text keeps its current annotation."""
    title = "Marco Rubio Stresses Trump Ties in Munich Speech"
    old = with_fields(
        _item(title, "Secretary of State Marco Rubio spoke in Munich."),
        actors=(Actor("Marco Rubio Stresses Trump", "person", 1),),
        annotated=True,
        annotator=ANNOTATOR - 1,
    )
    assert not entry_of(old).annotated and entry_of(annotate_items([old])[0]).annotated
    store = open_store(tmp_path / "db")
    try:
        store.write([old], [])
        assert unannotated(store.entries()) == [old.id]
        assert asyncio.run(annotate_stored(store, [old.id], ())) == 1
        again = store.get(old.id)
        assert again is not None and again.annotator == ANNOTATOR
        assert "Marco Rubio Stresses Trump" not in {a.name for a in again.actors}
        assert unannotated(store.entries()) == []
        # the same text in another poll's batch: the stored annotation stands
        other = with_fields(again, actors=(), mentions=(), first_seen=WHEN)
        assert merge(again, with_fields(other, annotated=True, annotator=ANNOTATOR)) is None
    finally:
        store.close()


def test_an_acronym_in_brackets_is_the_name_spelt_out_before_it() -> None:
    text = (
        "Le texte crée la Commission nationale de contrôle des techniques de renseignement "
        "(CNCTR). Selon lui, la CNCTR rendra des avis."
    )
    second = text.rindex("CNCTR")
    ann = annotate_fields([("text", text)], {"text": [(second, second + 5, "ORG")]}, gazetteer())
    long = "Commission nationale de contrôle des techniques de renseignement"
    assert [(a.name, a.kind, a.mentions) for a in ann.actors] == [(long, "organisation", 2)]
    # words whose initials only happen to fit, or a thing rather than a name: left alone
    for text, acronym in [
        (
            "The report by the Netherlands Organisation for Applied Scientific Research (TNO) "
            "was published.",
            "TNO",
        ),
        ("Small modular reactors (SMR) are spreading. SMR designs are cheap.", "SMR"),
    ]:
        at = text.rindex(acronym)
        ann = annotate_fields(
            [("text", text)], {"text": [(at, at + len(acronym), "ORG")]}, gazetteer()
        )
        assert acronym in {a.name for a in ann.actors}
        assert not any(len(a.name.split()) > 2 for a in ann.actors)


def _ann(text: str, *spans: tuple[str, str]) -> Annotation:
    """`text` annotated with NER spans given as (words, label), each at its first place."""
    found = [(text.index(w), text.index(w) + len(w), label) for w, label in spans]
    return annotate_fields([("text", text)], {"text": found}, gazetteer())


def test_an_acronym_is_the_organisation_whose_name_it_abbreviates() -> None:
    # written out before it in brackets, in its own language: the name NER found there
    text = (
        "The report by the Netherlands Organisation for Applied Scientific Research (TNO) "
        "was published. TNO said more."
    )
    long = "Netherlands Organisation for Applied Scientific Research"
    ann = _ann(text, (long, "ORG"), ("TNO", "ORG"))
    assert [(a.name, a.mentions) for a in ann.actors] == [(long, 2)]
    # no brackets: the capitals of a name found in the item spell it
    text = "Workers at United Parcel Service rallied. UPS said it respects the union."
    ann = _ann(text, ("United Parcel Service", "ORG"), ("UPS", "ORG"))
    assert [(a.name, a.mentions) for a in ann.actors] == [("United Parcel Service", 2)]
    # the words of a name spelt out before its acronym are no name of their own
    text = "It hails from Teamsters for a Democratic Union (TDU), a movement."
    ann = _ann(text, ("Teamsters", "ORG"), ("Democratic Union", "ORG"))
    assert [a.name for a in ann.actors] == ["Teamsters for a Democratic Union"]


def test_common_nouns_written_in_capitals_are_no_actors() -> None:
    text = "Robotic process automation (RPA) and AI tools are cheap; bonds are a type of IOU."
    ann = _ann(text, ("RPA", "ORG"), ("AI", "ORG"), ("IOU", "ORG"))
    assert ann.actors == ()


def test_a_state_qualifying_a_town_or_a_party_tag_is_no_place() -> None:
    text = "A town hall in Windham, N.H., heard Mike Gallagher, R-Wis., and Ann Kuster."
    ann = _ann(
        text, ("Windham", "GPE"), ("N.H", "GPE"), ("Mike Gallagher", "PERSON"), ("Wis", "GPE")
    )
    assert {a.name: a.kind for a in ann.actors} == {"Windham": "place", "Mike Gallagher": "person"}


def test_a_dateline_names_its_town_as_a_town() -> None:
    text = "LA CROSSE, Wis. (AP) — After a summer of tumult, the path is clearer."
    ann = _ann(text, ("CROSSE", "ORG"), ("Wis", "GPE"))
    kinds = {a.name: a.kind for a in ann.actors}  # and the agency, which files it
    assert kinds == {"La Crosse": "place", "AP": "organisation"}
    assert [(m.start, m.end) for m in ann.mentions if m.actor == "La Crosse"] == [(0, 9)]
    # a gazetteer place there is named by the gazetteer
    ann = _ann("KYIV, Ukraine (AP) — Air raid sirens sounded.", ("KYIV", "GPE"))
    assert "Kyiv" in {a.name for a in ann.actors}


def test_an_office_or_an_article_around_a_name_says_it_is_no_person() -> None:
    text = "La série Alphonse Président est drôle. Si un Baron Noir n'a rien à envier, tant mieux."
    ann = _ann(text, ("Alphonse Président", "PER"), ("Baron Noir", "PER"))
    assert ann.actors == ()


@pytest.mark.parametrize(
    ("text", "span", "name"),
    [
        ("Skiers crowd the venues in Northern Italy this week.", "Northern Italy", "Italy"),
        ("Les usines de la Chine du Sud tournent au ralenti.", "Chine du Sud", "China"),
        ("Talks with North Korea stalled again.", "North Korea", "North Korea"),
        ("Voters in Northern Ireland went to the polls.", "Northern Ireland", "Northern Ireland"),
    ],
)
def test_a_point_of_the_compass_does_not_make_a_new_place(text: str, span: str, name: str) -> None:
    at = text.index(span)
    ann = annotate_fields([("text", text)], {"text": [(at, at + len(span), "LOC")]}, gazetteer())
    assert [a.name for a in ann.actors] == [name]


def test_a_long_name_before_a_known_acronym_is_the_gazetteer_actor() -> None:
    text = "The Organization of the Petroleum Exporting Countries (OPEC) met. OPEC will cut."
    span = "Organization of the Petroleum Exporting Countries"
    at = text.index(span)
    ann = annotate_fields([("text", text)], {"text": [(at, at + len(span), "ORG")]}, gazetteer())
    assert [(a.name, a.mentions) for a in ann.actors] == [("OPEC", 3)]


def test_a_word_opening_a_sentence_does_not_make_a_name_around_a_known_one() -> None:
    text = "Trump wrote on Monday. “Hopefully Iran will come to the table,” he said."
    span = "Hopefully Iran"
    at = text.index(span)
    ann = annotate_fields([("text", text)], {"text": [(at, at + len(span), "ORG")]}, gazetteer())
    assert "Iran" in {a.name for a in ann.actors} and span not in {a.name for a in ann.actors}


def test_headline_lines_inside_a_text_need_confirming_but_bylines_do_not() -> None:
    text = (
        "The talks will resume on Monday, officials said, and a deal could follow.\n\n"
        "Trump Says Talks Will Resume as Deal Could Follow\n\n"
        "Alexandre Hervaud, Jérémy Piette"
    )
    line = "Trump Says Talks"
    byline = "Alexandre Hervaud"
    spans = {
        "text": [
            (text.index(line), text.index(line) + len(line), "ORG"),
            (text.index(byline), text.index(byline) + len(byline), "PER"),
        ]
    }
    names = {a.name for a in annotate_fields([("text", text)], spans, gazetteer()).actors}
    assert "Trump Says Talks" not in names and "Donald Trump" in names
    assert byline in names


@pytest.mark.parametrize(
    ("span", "names"),
    [
        ("Google Search", {"Google"}),  # a product named after its maker: the maker
        ("Reuters Institute", {"Reuters Institute"}),  # a body of its own
    ],
)
def test_an_organisation_s_product_is_the_organisation(span: str, names: set[str]) -> None:
    text = f"The study relied on {span} data collected over a year."
    at = text.index(span)
    ann = annotate_fields([("text", text)], {"text": [(at, at + len(span), "ORG")]}, gazetteer())
    assert {a.name for a in ann.actors} == names
