"""Live stories (`core.stories`): items join the story they tell as they arrive, within a
window, incrementally, and as the digest's batch clustering would group them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from monitor.core.cluster import cluster
from monitor.core.stories import WINDOW, Member, StoryIndex, item_members
from monitor.model import Item
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
    assert stories["id1"] == ["id1", "id2", "id3"]
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
