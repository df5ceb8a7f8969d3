"""Durations, moments and errors in words: shared by `monitor sources` and the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.core.humanize import ago, error_words, span
from monitor.model import SourceState

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
