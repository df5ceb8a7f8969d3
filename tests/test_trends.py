"""Actors over time from entries: counts per window, the 24-hour series, co-occurrence, rising."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from msgspec.structs import replace

from monitor.core.query import filter_entries, parse_query
from monitor.core.trends import actor_stats, rising_score
from monitor.model import Entry

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _entry(n: int, hours: float, *actors: str) -> Entry:
    return Entry(
        id=f"e{n}",
        published=NOW - timedelta(hours=hours),
        title=f"t{n}",
        sources=("s",),
        language="en",
        date_flag=None,
        first_seen=NOW,
        actors=actors,
    )


def test_counts_series_together_and_rising() -> None:
    entries = [
        _entry(0, 0.5, "Vladimir Putin", "Donald Trump"),
        _entry(1, 2.5, "Vladimir Putin"),
        _entry(2, 23.5, "Vladimir Putin", "Kremlin"),
        _entry(3, 30, "Donald Trump"),
        _entry(4, 50, "Donald Trump"),
        _entry(5, 24 * 8, "Donald Trump"),  # older than a week: counted in the view only
    ]
    stats = {s.name: s for s in actor_stats(entries, NOW)}
    putin, trump = stats["Vladimir Putin"], stats["Donald Trump"]
    assert [s.name for s in actor_stats(entries, NOW)][:2] == ["Donald Trump", "Vladimir Putin"]
    assert (putin.shown, putin.hour, putin.day, putin.week) == (3, 1, 3, 3)
    assert (trump.shown, trump.hour, trump.day, trump.week) == (4, 1, 1, 3)
    assert len(putin.series) == 24
    assert putin.series[23] == 1 and putin.series[21] == 1 and putin.series[0] == 1
    assert sum(putin.series) == 3
    assert putin.together == ("Donald Trump", "Kremlin")
    assert putin.rising == rising_score(3, 0) == 4.0
    assert trump.rising == rising_score(1, 2) < putin.rising


def test_spellings_of_one_name_count_as_one_actor() -> None:
    entries = [
        _entry(0, 1, "Volodymyr Zelensky"),
        _entry(1, 2, "Volodymyr Zelenskyy"),
        _entry(2, 3, "Zelensky"),
        _entry(3, 4, "Volodymyr Zelensky"),
    ]
    stats = actor_stats(entries, NOW)
    assert [(s.name, s.shown, s.day) for s in stats] == [("Volodymyr Zelensky", 4, 4)]


def test_actor_filter_matches_other_spellings() -> None:
    entries = [
        _entry(0, 1, "Volodymyr Zelenskyy"),
        _entry(1, 2, "Zelensky"),
        _entry(2, 3, "Donald Trump"),
    ]
    got = filter_entries(entries, parse_query('actor:"Volodymyr Zelensky"'), NOW)
    assert [e.id for e in got] == ["e0", "e1"]
    got = filter_entries(entries, parse_query("actor:trump"), NOW)
    assert [e.id for e in got] == ["e2"]


def test_no_actors() -> None:
    assert actor_stats([_entry(0, 1)], NOW) == []


def test_mentions_add_up_how_often_the_items_name_the_actor() -> None:
    entries = [
        replace(_entry(0, 0.5, "Vladimir Putin", "Donald Trump"), mentions=(4, 1)),
        replace(_entry(1, 2.5, "Vladimir Putin", "Poutine"), mentions=(2, 3)),  # one actor
        replace(_entry(2, 30, "Vladimir Putin"), mentions=(1,)),
        _entry(3, 24 * 8, "Vladimir Putin"),  # no counts kept: once
    ]
    stats = {s.name: s for s in actor_stats(entries, NOW)}
    putin = stats["Vladimir Putin"]
    assert (putin.shown, putin.hour, putin.day, putin.week) == (4, 1, 2, 3)
    assert putin.mentions == (11, 4, 9, 10)
    assert stats["Donald Trump"].mentions == (1, 1, 1, 1)
