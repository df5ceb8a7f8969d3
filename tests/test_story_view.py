"""The Stories view's rows (`core.story_view`): one score for the view and `monitor
stories`, the hourly counts behind the sparkline, growth, the headline rule, and the
rows as the widget draws them at every width."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from msgspec.structs import replace

from monitor.core.cluster import shingles
from monitor.core.digest import make_story
from monitor.core.entries import entry_of
from monitor.core.index import EntryIndex
from monitor.core.query import Context, parse_query
from monitor.core.stories import story_rows
from monitor.core.story_view import (
    HOURS,
    growth,
    hour_counts,
    rank_stories,
    story_filter,
    story_score,
    summarize,
)
from monitor.core.view import Filter, compute_view
from monitor.io.live_stories import LiveStories
from monitor.model import Entry, Item
from monitor.tui.widgets.story_list import header_line, langs_text, story_layout, story_row
from tests.support.items import item
from tests.support.shared import SEED, need_shared

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def entry(
    n: int,
    *,
    minutes: float,
    sources: tuple[str, ...] = ("A",),
    language: str = "en",
    actors: tuple[tuple[str, int], ...] = (),
    title: str | None = None,
) -> Entry:
    when = NOW - timedelta(minutes=minutes)
    return Entry(
        id=f"e{n}",
        published=when,
        title=title or f"Title {n}",
        sources=sources,
        language=language,
        date_flag=None,
        first_seen=when,
        actors=tuple(a for a, _ in actors),
        mentions=tuple(m for _, m in actors),
    )


def test_the_score_is_sources_plus_twice_the_last_hour_halved_each_quiet_day() -> None:
    assert story_score(3, 0, 0.0) == 3.0
    assert story_score(3, 2, 0.0) == 7.0  # growing now: two sources' worth an item
    assert story_score(4, 0, 24.0) == 2.0  # a day quiet: half
    assert story_score(4, 0, 48.0) == 1.0
    assert story_score(2, 0, -1.0) == 2.0  # a clock a little ahead does not raise it


def test_rows_rank_by_score_then_the_latest_update() -> None:
    groups = {
        "big": [entry(1, minutes=300, sources=("A",)), entry(2, minutes=290, sources=("B", "C"))],
        "growing": [entry(3, minutes=50), entry(4, minutes=20, sources=("B",))],
        "old": [entry(5, minutes=60 * 30, sources=("A", "B", "C", "D"))],
        "quiet": [entry(6, minutes=200)],
        "later": [entry(7, minutes=100)],
    }
    rows = rank_stories(groups, NOW)
    assert [r.id for r in rows] == ["growing", "big", "old", "later", "quiet"]
    growing, big, old = rows[0], rows[1], rows[2]
    assert (growing.sources, growing.growth_1h) == (2, 2)
    assert growing.score == story_score(2, 2, 20 / 60)
    assert (big.sources, big.growth_1h, big.last_seen) == (3, 0, NOW - timedelta(minutes=290))
    assert old.score == pytest.approx(4 * 0.5 ** (30 / 24))
    assert rows[3].score > rows[4].score  # one source each: the more recent first


def test_hour_counts_and_growth() -> None:
    times = [NOW - timedelta(minutes=m) for m in (1, 59, 61, 130, 60 * 23 + 59, 60 * 24 + 1)]
    counts = hour_counts(times, NOW)
    assert len(counts) == HOURS
    assert counts[-1] == 2 == growth(times, NOW)  # the last hour
    assert counts[-2] == 1 and counts[-3] == 1  # 61 min, 130 min ago
    assert counts[0] == 1  # 23 h 59 min ago; a day and a minute ago is out
    assert sum(counts) == 5
    assert growth([NOW + timedelta(minutes=2)], NOW) == 1  # ahead of the clock: new


def test_the_headline_is_the_digest_lead_most_sources_then_earliest() -> None:
    entries = [
        entry(1, minutes=90, sources=("A",), language="fr", actors=(("Putin", 1),)),
        entry(2, minutes=80, sources=("B", "C"), actors=(("Trump", 3), ("Putin", 1))),
        entry(3, minutes=30, sources=("D", "E"), language="de", actors=(("Kremlin", 1),)),
    ]
    ranked = rank_stories({"e1": entries}, NOW)[0]
    row = summarize(ranked, NOW)
    assert row.lead.id == "e2"  # two sources, before e3's two
    assert row.sources == ("A", "B", "C", "D", "E")  # in the order they ran it
    assert row.languages == ("de", "en", "fr")
    assert row.first_seen == NOW - timedelta(minutes=90)
    assert row.actors == ("Trump", "Putin", "Kremlin")  # by mentions, then name
    assert row.hourly[-1] == 1 and row.hourly[-2] == 2
    # the digest's rule, on the same items
    items = [
        replace(item(n, sources=e.sources, minutes=(NOW - e.first_seen).total_seconds() / 60))
        for n, e in enumerate(entries, 1)
    ]
    assert make_story(items).title == items[1].title


def test_monitor_stories_uses_the_same_score() -> None:
    text = "les négociateurs veulent traduire l'accord de Paris en règles concrètes malgré tout"
    items = [
        replace(item(1, "Accord de Paris", minutes=30, sources=("A",)), text=text),
        replace(item(2, "Accord de Paris", minutes=10, sources=("B",)), text=text),
    ]
    now = items[1].first_seen  # both in the last hour, the last one now
    (row,) = story_rows(items, now)
    assert len(row.story.items) == 2
    assert row.score == story_score(2, 2, 0.0) == 6.0


def test_the_story_filter_term() -> None:
    assert story_filter("abc123") == "story:abc123"
    assert parse_query("story:abc123").story() == "abc123"
    assert parse_query('lang:fr story:"abc123"').story() == "abc123"
    assert parse_query("-story:abc123").story() is None
    assert parse_query("story:a OR story:b").story() is None
    assert parse_query("storyline").story() is None


class OneStory:
    """Every item in one story, e1's (`core.query.StoryLookup`)."""

    def story_of(self, entry_id: str) -> str | None:
        return "e1"

    def members(self, entry_id: str) -> list[str]:
        return ["e1", "e2", "e3"]

    def followers(self) -> frozenset[str]:
        return frozenset({"e1", "e3"})


def test_a_story_filter_shows_its_items_oldest_first() -> None:
    entries = [entry(n, minutes=m) for n, m in ((1, 10), (2, 50), (3, 30))]
    index = EntryIndex.build(sorted(entries, key=lambda e: e.published, reverse=True))
    text = story_filter("e2")
    shown = compute_view(index, Filter(text, parse_query(text)), NOW, Context(stories=OneStory()))
    assert [e.id for e in shown.entries] == ["e2", "e3", "e1"]  # in the order they ran
    plain = compute_view(index, Filter(), NOW).entries
    assert [e.id for e in plain] == ["e1", "e3", "e2"]  # newest first, as ever


@pytest.mark.parametrize("width", [40, 60, 77, 80, 100, 117, 120, 160, 198, 250])
def test_rows_and_header_fill_the_width(width: int) -> None:
    hostile = "Bad \x1b[31mred\x1b[0m [b]markup[/b] \u202eevil"
    entries = [  # oldest first
        entry(2, minutes=70, language="fr"),
        entry(1, minutes=5, title=hostile, sources=("A", "B"), actors=(("Putin", 2),)),
    ]
    row = summarize(rank_stories({"e2": entries}, NOW)[0], NOW)
    layout = story_layout(width)
    line = story_row(row, layout, today=date(2026, 12, 4), tz=UTC, unread=True)
    assert line.cell_len == width
    assert header_line(layout).cell_len == width
    assert "\x1b" not in line.plain and "\u202e" not in line.plain
    assert "[b]markup[/b]" in line.plain or width < 60  # literal, never markup
    assert layout.headline >= width * 0.45 - 1
    assert line.plain.startswith("•")
    assert " +1 " in line.plain  # one item in the last hour


def test_the_columns_that_make_way_on_a_narrow_row() -> None:
    wide, mid, narrow = story_layout(198), story_layout(117), story_layout(77)
    assert wide.actors and wide.first and wide.spark == 24
    assert not mid.actors and mid.first and mid.last and mid.spark == 12
    assert not narrow.first and narrow.spark == 8 and narrow.headline >= 35
    assert "24h" in header_line(narrow).plain and "score" in header_line(narrow).plain


def test_languages_fit_their_column() -> None:
    assert langs_text(("en", "fr"), 5) == "en fr"
    assert langs_text(("de", "en", "fr"), 5) == "de+2"
    assert langs_text(("de", "en", "fr"), 8) == "de en fr"
    assert langs_text((), 5) == ""


def _copy(n: int, title: str, text: str, source: str, minutes: float) -> Item:
    it = item(n, title, sources=(source,), minutes=minutes, language="fr")
    return replace(it, summary=text[:600], text=text)


def test_the_founding_story_in_three_feeds_is_one_row_with_three_sources() -> None:
    text = (need_shared(SEED) / "article-fr-trump-poutine.txt").read_text(encoding="utf-8")
    title = "Poutine et Trump veulent normaliser les relations entre Moscou et Washington"
    items = [
        _copy(1, title, text, "Le Quotidien", 50),
        _copy(2, title, text, "Dépêches Monde", 40),
        _copy(3, title, text, "Agence Alpha", 20),
        replace(item(4, "Séisme en Nouvelle-Zélande", minutes=30), summary="Un séisme."),
        replace(item(5, "COP22 à Marrakech", minutes=10), summary="Les négociateurs."),
    ]
    assert all(shingles(it) for it in items)
    now = items[0].first_seen + timedelta(minutes=50)
    stories = LiveStories()
    stories.update([entry_of(it) for it in items], now)
    rows = rank_stories(stories.groups(), now)
    top = rows[0]
    assert top.id == "id000001"
    assert (top.sources, len(top.entries)) == (3, 3)
    assert summarize(top, now).sources == ("Le Quotidien", "Dépêches Monde", "Agence Alpha")
    assert sorted(len(r.entries) for r in rows[1:]) == [1, 1]


def test_actor_mentions_add_up_across_the_story() -> None:
    a = entry(1, minutes=5, actors=(("Macron", 1), ("Scholz", 1)))
    b = entry(2, minutes=4, actors=(("Scholz", 2),))
    row = summarize(rank_stories({"e1": [a, b]}, NOW)[0], NOW)
    assert row.actors == ("Scholz", "Macron")
