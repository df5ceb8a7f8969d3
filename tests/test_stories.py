"""Live stories (`core.stories`): items join the story they tell as they arrive, within a
window, incrementally, and as the digest's batch clustering would group them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from monitor.core.cluster import cluster, shingles
from monitor.core.stories import (
    WINDOW,
    Member,
    StoryIndex,
    entry_members,
    item_members,
)
from monitor.core.story_features import XLANG_WINDOW, numbers
from monitor.model import Actor, Entry, Item
from tests.support.shared import SEED, need_shared

T0 = datetime(2016, 11, 14, 18, 0, tzinfo=UTC)


def make(n: int, title: str, text: str, *, hours: float = 0, source: str = "a") -> Item:
    when = T0 + timedelta(hours=hours)
    return Item(
        id=f"id{n}",
        title=title,
        url=f"https://{source}.example/{n}",
        sources=(source,),
        published=when,
        published_raw=None,
        date_flag=None,
        language="fr",
        summary="",
        first_seen=when,
        text=text,
    )


def member(it: Item) -> Member:
    return item_members([it])[0]


CLIMATE = (
    "A Marrakech, les négociateurs de la COP22 veulent traduire l'accord de Paris en règles "
    "concrètes, malgré l'incertitude sur la position des États-Unis après l'élection."
)
QUAKE = (
    "Un séisme de magnitude 7,8 a frappé l'île du Sud de la Nouvelle-Zélande dans la nuit, "
    "faisant deux morts; l'alerte au tsunami a été levée dans la matinée."
)


def founding() -> str:
    return (need_shared(SEED) / "article-fr-trump-poutine.txt").read_text(encoding="utf-8")


def test_the_founding_story_in_three_feeds_is_one_story() -> None:
    text = founding()
    title = "Poutine et Trump veulent normaliser les relations entre Moscou et Washington"
    copies = [
        make(1, title, text, source="Le Quotidien"),
        make(2, title, text[: len(text) // 2], hours=0.2, source="Dépêches Monde"),
        make(3, "Trump et Poutine : vers un dégel", text, hours=0.5, source="Agence Alpha"),
    ]
    others = [make(4, "COP22", CLIMATE, hours=0.1), make(5, "Séisme", QUAKE, hours=0.3)]
    index = StoryIndex()
    index.add(member(it) for it in [*copies[:2], *others[:1]])  # one poll
    index.add(member(it) for it in [copies[2], others[1]])  # the next
    stories = index.stories()
    assert sorted(stories["id1"]) == ["id1", "id2", "id3"]
    assert index.story_of("id3") == "id1" and index.size("id2") == 3
    assert {k: v for k, v in stories.items() if k != "id1"} == {"id4": ["id4"], "id5": ["id5"]}


def test_polls_one_by_one_group_as_the_batch_clustering_does() -> None:
    text = founding()
    paragraphs = [p for p in text.split("\n") if len(p) > 200]
    items = [
        make(n, f"Dépêche {n % 4}", paragraphs[n % 4] + f" Mise à jour {n}.", hours=n / 10)
        for n in range(24)
    ]
    index = StoryIndex()
    for start in range(0, 24, 5):  # polls of five
        index.add(member(it) for it in items[start : start + 5])
    batch = sorted(sorted(f"id{i}" for i in g) for g in cluster(items))
    live = sorted(sorted(ids) for ids in index.stories().values())
    assert live == batch and len(live) == 4


def test_a_story_joins_within_its_window_and_keeps_growing() -> None:
    index = StoryIndex()
    step = WINDOW * 2 / 3  # each copy within the window of the one before
    index.add(
        [member(make(n, "Séisme", QUAKE, hours=n * step / timedelta(hours=1))) for n in range(4)]
    )
    assert len(index.stories()) == 1  # 4 copies over twice the window: one story
    late = make(9, "Séisme", QUAKE, hours=3 * step / timedelta(hours=1) + 73)
    [story] = index.add([member(late)])
    assert story == "id9"  # quiet for longer than the window: a new story


def test_old_items_leave_the_buckets_but_not_their_stories() -> None:
    index = StoryIndex()
    index.add([member(make(1, "COP22", CLIMATE)), member(make(2, "COP22", CLIMATE, hours=1))])
    assert index.forget_before(T0 + timedelta(hours=2)) == 2
    assert index.story_of("id2") == "id1"
    [story] = index.add([member(make(3, "COP22", CLIMATE, hours=3))])
    assert story == "id3"  # nothing left to join through
    assert len(index._bands) == 32 and set(index._recent) == {"id3"}  # only id3's 32 bands


def test_an_item_already_in_is_not_added_again_and_an_empty_one_stands_alone() -> None:
    index = StoryIndex()
    index.add([member(make(1, "Séisme", QUAKE))])
    assert index.add([member(make(1, "Séisme", QUAKE))]) == []
    empty = item_members([make(7, "", "")])[0]
    assert not len(empty.shingles)
    assert index.add([empty, dataclasses.replace(empty, id="id8")]) == ["id7", "id8"]
    assert len(index) == 3


def test_monitor_stories_ranks_and_says_who_ran_it_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from monitor.cli import main
    from monitor.io.tinystore import TinyStore
    from monitor.model import Actor

    now = datetime.now(UTC).replace(microsecond=0)
    text = founding()
    title = "Poutine et Trump veulent normaliser les relations"
    putin = (Actor("Vladimir Putin", "person", 3), Actor("Donald Trump", "person", 2))
    copies = [
        msgspec.structs.replace(
            make(n, title, text, source=source),
            first_seen=now - ago,
            published=now - ago,
            actors=putin,
        )
        for n, source, ago in [
            (1, "Agence Alpha", timedelta(hours=3)),
            (2, "Le Quotidien", timedelta(minutes=30)),
            (3, "Evening Globe", timedelta(minutes=10)),
        ]
    ]
    lone = msgspec.structs.replace(
        make(4, "Séisme", QUAKE), first_seen=now - timedelta(hours=2), published=now
    )
    three_days = now - timedelta(days=3)
    old = msgspec.structs.replace(
        make(5, "COP22", CLIMATE), first_seen=three_days, published=three_days
    )
    with TinyStore(tmp_path / "db") as s:
        s.write([*copies, lone, old], [])
    cfg = tmp_path / "config.toml"
    cfg.write_text('[storage]\npath = "db"\n', encoding="utf-8")
    assert main(["stories", "--format", "json", "--config", str(cfg)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == ["id1", "id4"]  # the last 24 h by default
    top = rows[0]
    assert top["items"] == 3 and top["first_source"] == "Agence Alpha"
    assert top["sources"] == ["Agence Alpha", "Le Quotidien", "Evening Globe"]
    assert top["growth_1h"] == 2 and top["actors"] == ["Vladimir Putin", "Donald Trump"]
    assert set(top) == {
        "id", "title", "items", "sources", "languages", "first_seen", "last_seen",
        "first_source", "growth_1h", "actors",
    }  # fmt: skip
    assert main(["stories", "--since", "7d", "--query", "cop22", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and "COP22" in out[1] and "(first: a)" in out[1]


def test_live_stories_follow_the_store_and_say_who_ran_it_first() -> None:
    from monitor.core.entries import entry_of
    from monitor.io.live_stories import LiveStories

    text = founding()
    title = "Poutine et Trump veulent normaliser les relations"
    copies = [
        msgspec.structs.replace(
            make(n, title, text, source=source, hours=minutes / 60), summary=text[:600]
        )
        for n, source, minutes in [
            (1, "Agence Alpha", 0),
            (2, "Le Quotidien", 12),
            (3, "Evening Globe", 40),
        ]
    ]
    lone = msgspec.structs.replace(make(4, "Séisme", QUAKE), summary=QUAKE)
    live = LiveStories()
    now = T0 + timedelta(hours=1)
    assert live.update([entry_of(it) for it in [copies[0], lone]], now) == 2
    assert live.line("id1", lambda m: f"{m:%H:%M}") == ""  # no other source yet
    entries = [entry_of(it) for it in [*copies, lone]]
    assert live.update(entries, now) == 2  # only the new ones
    line = live.line("id2", lambda m: f"{m:%H:%M}")
    assert line == (
        "also in 2 sources; first: Agence Alpha 18:00 (+12 min Le Quotidien, +40 min Evening Globe)"
    )
    assert live.line("id4", lambda m: f"{m:%H:%M}") == ""
    old = msgspec.structs.replace(make(9, title, text), summary=text[:600])
    assert live.update([entry_of(old)], now + timedelta(days=8)) == 0  # too old to follow


@pytest.mark.anyio
async def test_the_article_pane_says_who_ran_the_story_first() -> None:
    from monitor.core.entries import entry_of
    from tests.support.dashboard import make_app, settle
    from tests.support.items import NOW
    from tests.support.memstore import MemoryStore

    text = founding()
    title = "Poutine et Trump veulent normaliser les relations"
    copies = [
        msgspec.structs.replace(
            make(n, title, text, source=source),
            summary=text[:600],
            first_seen=NOW - timedelta(minutes=ago),
            published=NOW - timedelta(minutes=ago),
        )
        for n, source, ago in [(1, "Agence Alpha", 50), (2, "Le Quotidien", 38)]
    ]
    assert entry_of(copies[0]).search  # summaries are what entries compare
    app = make_app(store=MemoryStore(copies))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.article.show(  # type: ignore[attr-defined]
            entry_of(copies[1]), copies[1], tz=UTC
        )
        await settle(pilot)
        shown = app.screen.article.content.plain  # type: ignore[attr-defined]
        assert "also in 1 source; first: Agence Alpha 11:10 (+12 min Le Quotidien)" in shown


# -- across languages ------------------------------------------------------------------

PUTIN, RUSSIA = "Vladimir Putin", "Russia"


def annotated(
    n: int, title: str, summary: str, actors: list[str], *, language: str, hours: float = 0
) -> Entry:
    """An entry as the store has it once annotated: canonical actors, most named first."""
    from monitor.core.entries import entry_of

    it = msgspec.structs.replace(
        make(n, title, "", hours=hours, source=f"s{n}"),
        summary=summary,
        language=language,
        actors=tuple(Actor(a, "person", len(actors) - k) for k, a in enumerate(actors)),
    )
    return entry_of(it)


def news_of_the_day() -> list[Entry]:
    """A day of other news in English: most of it names Putin and Russia, as a day's news
    does, so that sharing them says little."""
    out = [
        annotated(100 + k, f"Dépêche {k}", f"Other news {k}.", [PUTIN, RUSSIA, f"Person {k}"],
                  language="en", hours=k / 10)
        for k in range(30)
    ]  # fmt: skip
    out += [
        annotated(200 + k, f"Brève {k}", f"More news {k}.", [f"Place {k}", f"Group {k}"],
                  language="en", hours=k / 10)
        for k in range(10)
    ]  # fmt: skip
    return out


CALL_FR = annotated(
    1,
    "Poutine et Trump veulent normaliser les relations entre Moscou et Washington",
    "Lors de leur premier entretien téléphonique, le président russe et le président élu "
    "américain ont évoqué les 200 ans de relations diplomatiques et une rencontre.",
    ["Vladimir Putin", "Donald Trump", "Russia", "United States", "Moscow", "Washington"],
    language="fr",
    hours=1,
)
CALL_EN = annotated(
    2,
    "Putin and Trump agree to normalise relations in first phone call",
    "The Kremlin said the Russian president and the US president-elect discussed the 200 "
    "years of diplomatic ties between Moscow and Washington and agreed to meet.",
    ["Vladimir Putin", "Donald Trump", "United States", "Russia", "Washington", "Moscow"],
    language="en",
    hours=2,
)
SOCHI_EN = annotated(
    3,
    "Putin hosts Erdogan in Sochi for talks on Syria",
    "Russia's president received the Turkish leader at his Black Sea residence.",
    ["Vladimir Putin", "Recep Tayyip Erdoğan", "Russia", "Turkey", "Sochi", "Syria"],
    language="en",
    hours=3,
)


def test_a_french_and_an_english_copy_of_one_event_are_one_story() -> None:
    index = StoryIndex()
    index.add(entry_members(news_of_the_day()))
    index.add(entry_members([CALL_FR]))
    [story] = index.add(entry_members([CALL_EN]))
    assert story == "id1" and sorted(index.members("id2")) == ["id1", "id2"]


def test_two_putin_stories_of_the_same_day_stay_apart() -> None:
    index = StoryIndex()
    index.add(entry_members(news_of_the_day()))
    index.add(entry_members([CALL_FR, SOCHI_EN]))
    assert index.story_of("id3") == "id3" and index.size("id1") == 1
    # sharing only Putin and Russia is not a story, even with a French copy alone
    only = annotated(4, "Poutine", "Le président russe.", [PUTIN, RUSSIA], language="fr", hours=4)
    [story] = index.add(entry_members([only]))
    assert story == "id4" and index.size("id3") == 1


def test_an_item_annotated_after_it_was_added_joins_across_languages_then() -> None:
    bare = [
        msgspec.structs.replace(e, actors=(), mentions=(), kinds=()) for e in (CALL_FR, CALL_EN)
    ]
    index = StoryIndex()
    index.add(entry_members(news_of_the_day()))
    assert index.add(entry_members(bare)) == ["id1", "id2"]  # no actors yet: apart
    assert index.refresh(entry_members([CALL_FR])[0]) == "id1" and index.size("id1") == 1
    assert index.refresh(entry_members([CALL_EN])[0]) == "id1"  # and now the pair is one story
    assert sorted(index.members("id1")) == ["id1", "id2"]
    gone = dataclasses.replace(entry_members([CALL_EN])[0], id="never added")
    assert index.refresh(gone) is None and "never added" not in index
    index.forget_before(T0 + timedelta(days=9))  # out of the window: refreshing changes nothing
    assert index.refresh(entry_members([SOCHI_EN])[0]) is None


def test_the_same_language_is_left_to_shingles_and_far_apart_is_not_one_story() -> None:
    index = StoryIndex()
    index.add(entry_members(news_of_the_day()))
    en_again = msgspec.structs.replace(CALL_FR, language="en")  # same features, no shingle
    index.add(entry_members([en_again, CALL_EN]))
    assert index.size("id1") == 1  # shingles decide within a language
    late = msgspec.structs.replace(
        CALL_EN, id="late", first_seen=CALL_FR.first_seen + XLANG_WINDOW * 2
    )
    index2 = StoryIndex()
    index2.add(entry_members(news_of_the_day()))
    index2.add(entry_members([CALL_FR, late]))
    assert index2.size("id1") == 1


def test_numbers_are_written_one_way() -> None:
    text = "1 200 morts, 1,200 dead, 1.200 Tote, 1200; 7,8 et 7.8; 12 % et 12%; en 2016, 3 blessés"
    assert numbers(text) == [
        "1200", "1200", "1200", "1200", "7.8", "7.8", "12", "12%", "12", "12%", "2016"
    ]  # fmt: skip
    assert numbers("w123 5G 10.5.2024") == []  # parts of words and dates are not numbers


def test_a_member_made_with_a_set_of_shingles_holds_them_as_an_array() -> None:
    it = make(1, "Séisme", QUAKE)
    from_set = Member("id1", T0, frozenset(shingles(it)))  # type: ignore[arg-type]
    assert from_set.shingles.tolist() == item_members([it])[0].shingles.tolist()
    index = StoryIndex()
    index.add([from_set, item_members([make(2, "Séisme", QUAKE, hours=1)])[0]])
    assert index.size("id1") == 2


def test_a_text_has_the_same_shingles_alone_or_in_a_batch() -> None:
    from monitor.core.cluster import shingle_arrays, word_shingles

    texts = [QUAKE.lower().split(), [], ["un"], ["deux", "mots"], CLIMATE.lower().split() * 2]
    batch = shingle_arrays(texts)
    for words, found in zip(texts, batch, strict=True):
        assert found.tolist() == sorted(word_shingles(words))  # sorted, distinct
        assert found.tolist() == shingle_arrays([words])[0].tolist()
    assert [len(a) for a in batch[1:4]] == [0, 1, 1]  # a short text: one shingle
    assert batch[2].tolist() != batch[3].tolist()


def test_bands_compare_a_new_item_with_the_newest_of_each_bucket_only() -> None:
    import numpy as np

    from monitor.core.story_bands import BUCKET_CHECK, Bands

    bands = Bands()
    same = np.arange(32, dtype=np.uint64).reshape(1, 32)  # every item in the same 32 buckets
    for slot in range(BUCKET_CHECK + 5):
        mine, theirs = bands.add(same, np.array([slot], dtype=np.uint32))
        assert set(mine) <= {slot} and theirs == list(
            range(slot - 1, max(-1, slot - 1 - BUCKET_CHECK), -1)
        )
    bands.remove(np.arange(10, dtype=np.uint32))
    mine, theirs = bands.add(same, np.array([99], dtype=np.uint32))
    assert theirs == list(range(BUCKET_CHECK + 4, 9, -1))  # the 35 left, newest first


def test_no_text_makes_no_shingles() -> None:
    from monitor.core.cluster import shingle_arrays
    from monitor.core.stories import entry_members

    assert shingle_arrays([]) == [] and entry_members([]) == []


def test_who_ran_it_first_goes_by_publication_when_a_poll_brings_them_together() -> None:
    """After a night, one poll brings every copy at once: their publication times say who
    ran the story first; a date in doubt, or one after the item was seen, does not."""
    from monitor.core.entries import entry_of
    from monitor.core.pickup import pickup_line, ran_at

    text = founding()
    seen = T0 + timedelta(hours=8)
    copies = [
        msgspec.structs.replace(
            make(n, "Poutine et Trump", text, source=source),
            first_seen=seen,
            published=T0 + timedelta(minutes=minutes),
            date_flag=flag,
        )
        for n, source, minutes, flag in [
            (1, "Le Quotidien", 40, None),
            (2, "Agence Alpha", 4, None),
            (3, "Evening Globe", 16, None),
            (4, "Tagesblick", 1, "missing"),  # the feed gave no date: when it was seen
            (5, "Nordic Review", 60 * 9, None),  # "published" after it was seen: doubtful
        ]
    ]
    entries = [entry_of(it) for it in copies]
    assert [ran_at(e) for e in entries[3:]] == [seen, seen]
    line = pickup_line(entries, "id1", lambda m: f"{m:%H:%M}")
    assert line.startswith("also in 4 sources; first: Agence Alpha 18:04 (+12 min Evening Globe")
    assert line.endswith("+36 min Le Quotidien, +8 h Tagesblick, +8 h Nordic Review)")


def test_the_pickup_line_does_not_wait_for_an_update_under_way() -> None:
    """The dashboard asks for it on its loop as the cursor moves: while a big update holds
    the stories, it is empty at once (and asked again after the update)."""
    from monitor.core.entries import entry_of
    from monitor.io.live_stories import LiveStories

    text = founding()
    copies = [
        msgspec.structs.replace(make(n, "Poutine et Trump", text, source=s), summary=text[:600])
        for n, s in [(1, "Agence Alpha"), (2, "Le Quotidien")]
    ]
    live = LiveStories()
    live.update([entry_of(it) for it in copies], T0 + timedelta(hours=1))
    clock = "{:%H:%M}".format
    with live._lock:  # as an update under way holds it
        assert live.line("id2", clock) == ""
    assert live.line("id2", clock).startswith("also in 1 source; first: ")


def test_the_story_lead_is_the_item_that_ran_it_first() -> None:
    """`is:story-lead` keeps the item the timeline marks "first": by publication when one
    poll brought every copy, not by which was stored first; asked of the index or entry
    by entry, the same."""
    from monitor.core.entries import entry_of
    from monitor.core.index import EntryIndex
    from monitor.core.query import Context, parse_query
    from monitor.io.live_stories import LiveStories

    text = founding()
    seen = T0 + timedelta(hours=8)
    copies = [
        msgspec.structs.replace(
            make(n, "Poutine et Trump", text, source=source),
            summary=text[:600],
            first_seen=seen,
            published=T0 + timedelta(minutes=minutes),
        )
        for n, source, minutes in [(1, "Le Quotidien", 40), (2, "Agence Alpha", 4)]
    ]
    entries = [entry_of(it) for it in copies]
    live = LiveStories()
    live.update(entries, seen)
    assert live.story_of("id2") == "id1"  # the story's id: the item stored first
    query, ctx = parse_query("is:story-lead"), Context(stories=live)
    pred = query.predicate(seen, ctx)
    assert pred is not None and [e.id for e in entries if pred(e)] == ["id2"]
    index = EntryIndex.build(entries)
    assert [e.id for e in index.rows(query.select(index, seen, ctx))] == ["id2"]
