"""Durations, moments and errors in words: shared by `monitor sources` and the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.core.humanize import EMPTY_HINT, ago, empty_reason, error_words, span
from monitor.model import Source, SourceState

NOW = datetime(2024, 11, 14, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0, "0s"), (59.9, "59s"), (90, "1m"), (7200, "2h"), (86400 * 3 + 5, "3d"), (-90, "1m")],
)
def test_span(seconds: float, words: str) -> None:
    assert span(seconds) == words


def test_ago() -> None:
    assert ago(None, NOW) == "never"
    assert ago(NOW - timedelta(minutes=5), NOW) == "5m ago"
    assert ago(NOW + timedelta(hours=2), NOW) == "in 2h"
    assert ago(NOW, NOW) == "0s ago"


def test_error_words() -> None:
    assert error_words(None) == ""
    assert error_words(SourceState("a", "u")) == ""
    http = SourceState(
        "a", "u", last_error="http", last_status=503, last_error_detail="Service Unavailable"
    )
    assert error_words(http) == "HTTP error 503: Service Unavailable"
    assert error_words(SourceState("a", "u", last_error="timeout")) == "timed out"


# --- why the timeline is empty ------------------------------------------------------------

SOURCES = (
    Source("Le Monde", "https://lemonde.example/rss"),
    Source("BBC World", "https://bbc.example/rss"),
    Source("Old", "https://old.example/rss", enabled=False),
)
FAILED = {
    "Le Monde": SourceState("Le Monde", "u", last_attempt=NOW, last_error="dns", failures=1),
    "BBC World": SourceState(
        "BBC World",
        "u",
        last_attempt=NOW,
        last_error="http",
        last_status=503,
        last_error_detail="Service Unavailable",
        failures=2,
    ),
}


def reason(**kwargs: object) -> list[str]:
    args: dict[str, object] = {
        "loaded": True,
        "polling": False,
        "sources": SOURCES,
        "states": {},
        "filtered": False,
    }
    return empty_reason(**(args | kwargs))  # type: ignore[arg-type]


def test_empty_reason_while_the_first_poll_runs() -> None:
    assert reason(polling=True) == ["polling 2 sources…"]  # the disabled one is not polled
    assert reason(loaded=False, polling=True) == ["reading the store…"]


def test_empty_reason_when_every_source_failed() -> None:
    assert reason(states=FAILED) == [
        "No items yet: all 2 sources failed. First error: Le Monde: host not found",
        EMPTY_HINT,
    ]
    assert "`monitor demo`" in EMPTY_HINT and "press s" in EMPTY_HINT
    one = reason(sources=SOURCES[1:2], states=FAILED)
    assert one[0] == (
        "No items yet: the source failed. "
        "First error: BBC World: HTTP error 503: Service Unavailable"
    )


def test_empty_reason_when_some_sources_failed() -> None:
    states = FAILED | {"Le Monde": SourceState("Le Monde", "u", last_attempt=NOW, last_success=NOW)}
    lines = reason(states=states)
    assert lines[0].startswith("No items yet: 1 of 2 sources failed")
    assert lines[0].endswith("First error: BBC World: HTTP error 503: Service Unavailable")
    assert lines[1] == EMPTY_HINT


def test_empty_reason_when_the_sources_answered_empty() -> None:
    ok = {s.name: SourceState(s.name, "u", last_attempt=NOW, last_success=NOW) for s in SOURCES}
    assert reason(states=ok) == ["No items yet: the 2 sources answered with no items.", EMPTY_HINT]


def test_empty_reason_before_any_poll() -> None:
    lines = reason()
    assert lines[0] == "No items yet: none of the 2 sources has been polled."
    assert "`monitor demo`" in lines[1]


def test_empty_reason_with_a_filter() -> None:
    # the filter hides everything, whatever the sources did
    assert reason(filtered=True, states=FAILED) == ["nothing matches the filter (Esc clears it)"]


def test_empty_reason_with_no_source_enabled() -> None:
    lines = reason(sources=SOURCES[2:])
    assert lines[0] == "No items yet: no source is enabled."
    assert "config.toml" in lines[1] and "`monitor demo`" in lines[1]
    assert reason(sources=()) == lines
