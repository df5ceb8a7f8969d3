"""monitor.core.schedule: Retry-After, backoff, due checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from monitor.core.schedule import (
    BACKOFF_CAP,
    JITTER,
    MIN_BACKOFF,
    backoff_delay,
    is_due,
    next_due,
    parse_retry_after,
)
from monitor.model import SourceState

NOW = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
HOUR = 3600.0


def state(**kw: Any) -> SourceState:
    return SourceState(name="s", url="http://feed.example/rss", **kw)


# parse_retry_after


@pytest.mark.parametrize(
    ("value", "seconds"), [("0", 0), ("120", 120), (" 90 ", 90), ("86399", 86399)]
)
def test_retry_after_seconds(value: str, seconds: int) -> None:
    assert parse_retry_after(value, NOW) == NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["86400", "86401", "999999999999999999999999"])
def test_retry_after_seconds_capped_at_a_day(value: str) -> None:
    assert parse_retry_after(value, NOW) == NOW + timedelta(hours=24)


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 01 May 2024 10:30:00 GMT", NOW) == NOW + timedelta(minutes=30)


def test_retry_after_date_with_offset() -> None:
    got = parse_retry_after("Wed, 01 May 2024 12:30:00 +0200", NOW)
    assert got == NOW + timedelta(minutes=30)


def test_retry_after_date_capped_at_a_day() -> None:
    assert parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT", NOW) == NOW + timedelta(hours=24)


def test_retry_after_past_date_is_now() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == NOW


def test_retry_after_naive_now_read_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("60", naive) == NOW + timedelta(seconds=60)


def test_retry_after_keeps_callers_zone() -> None:
    paris = NOW.astimezone(timezone(timedelta(hours=2)))
    got = parse_retry_after("60", paris)
    assert got == NOW + timedelta(seconds=60)


@pytest.mark.parametrize(
    "value",
    [None, "", "   ", "-5", "-0", "1.5", "+30", "120s", "soon", "tomorrow", "Wed, 99 Foo", "١٢٠"],
)
def test_retry_after_garbage(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


# backoff_delay


def test_backoff_doubles_from_interval() -> None:
    delays = [backoff_delay(n, 900, rand=0.5) for n in range(1, 6)]
    assert delays == [900, 1800, 3600, 7200, 14400]


def test_backoff_starts_at_least_at_a_minute() -> None:
    assert backoff_delay(1, 5, rand=0.5) == MIN_BACKOFF
    assert backoff_delay(2, 0, rand=0.5) == 2 * MIN_BACKOFF


def test_backoff_capped_and_never_gives_up() -> None:
    for n in (8, 20, 100, 10_000):
        assert backoff_delay(n, 900, rand=0.5) == BACKOFF_CAP


def test_backoff_never_shorter_than_a_long_interval() -> None:
    day = 24 * HOUR
    assert backoff_delay(1, day, rand=0.5) == day
    assert backoff_delay(50, day, rand=0.5) == day


@pytest.mark.parametrize("failures", [1, 3, 30])
def test_backoff_jitter_bounds(failures: int) -> None:
    middle = backoff_delay(failures, 600, rand=0.5)
    low = backoff_delay(failures, 600, rand=0.0)
    high = backoff_delay(failures, 600, rand=0.999999)
    assert low == pytest.approx(middle * (1 - JITTER))
    assert high == pytest.approx(middle * (1 + JITTER), rel=1e-5)
    for i in range(100):
        assert low <= backoff_delay(failures, 600, rand=i / 100) < high


def test_backoff_out_of_range_inputs_clamped() -> None:
    assert backoff_delay(0, 900, rand=0.5) == 900
    assert backoff_delay(-3, 900, rand=0.5) == 900
    assert backoff_delay(1, 900, rand=7.0) == pytest.approx(900 * (1 + JITTER))
    assert backoff_delay(1, 900, rand=-1.0) == pytest.approx(900 * (1 - JITTER))


# next_due


def test_next_due_after_success_is_interval() -> None:
    assert next_due(900, NOW, rand=0.0) == NOW + timedelta(seconds=900)


def test_next_due_after_success_ignores_retry_jitter() -> None:
    assert next_due(900, NOW, rand=0.99) == NOW + timedelta(seconds=900)


def test_next_due_after_failure_backs_off() -> None:
    assert next_due(900, NOW, failures=3, rand=0.5) == NOW + timedelta(seconds=3600)


def test_next_due_honours_later_retry_after() -> None:
    later = NOW + timedelta(hours=2)
    assert next_due(900, NOW, failures=1, retry_after=later, rand=0.5) == later
    sooner = NOW + timedelta(seconds=10)
    assert next_due(900, NOW, failures=1, retry_after=sooner, rand=0.5) == NOW + timedelta(
        seconds=900
    )


# is_due


def test_never_polled_is_due() -> None:
    assert is_due(None, NOW) == (True, None)
    assert is_due(state(), NOW) == (True, None)


def test_due_when_time_has_come() -> None:
    assert is_due(state(next_due=NOW), NOW) == (True, None)
    assert is_due(state(next_due=NOW - timedelta(minutes=1)), NOW) == (True, None)


def test_interval_wait_skipped_and_forced() -> None:
    s = state(next_due=NOW + timedelta(minutes=12))
    assert is_due(s, NOW) == (False, "not due until 10:12 UTC")
    assert is_due(s, NOW, force=True) == (True, None)


def test_force_keeps_backoff() -> None:
    s = state(failures=3, next_due=NOW + timedelta(minutes=30))
    expected = (False, "backing off after 3 failures until 10:30 UTC")
    assert is_due(s, NOW) == expected
    assert is_due(s, NOW, force=True) == expected
    one = state(failures=1, next_due=NOW + timedelta(minutes=5))
    assert is_due(one, NOW, force=True) == (False, "backing off after 1 failure until 10:05 UTC")


def test_force_keeps_retry_after() -> None:
    s = state(failures=1, retry_after=NOW + timedelta(minutes=42), next_due=NOW)
    assert is_due(s, NOW, force=True) == (False, "Retry-After until 10:42 UTC")


def test_retry_after_over_is_due() -> None:
    s = state(failures=1, retry_after=NOW - timedelta(seconds=1), next_due=NOW)
    assert is_due(s, NOW, force=True) == (True, None)


def test_reason_rounds_up_and_names_other_days() -> None:
    s = state(next_due=NOW + timedelta(minutes=1, seconds=1))
    assert is_due(s, NOW) == (False, "not due until 10:02 UTC")
    tomorrow = state(retry_after=NOW + timedelta(hours=20))
    assert is_due(tomorrow, NOW) == (False, "Retry-After until 2024-05-02 06:00 UTC")


def test_reason_in_utc_whatever_the_zone() -> None:
    zone = timezone(timedelta(hours=-5))
    s = state(next_due=(NOW + timedelta(minutes=12)).astimezone(zone))
    assert is_due(s, NOW.astimezone(zone)) == (False, "not due until 10:12 UTC")


def test_round_trip_after_failures() -> None:
    due = next_due(900, NOW, failures=2, rand=0.5)
    s = state(failures=2, next_due=due)
    assert is_due(s, NOW + timedelta(minutes=29), force=True)[0] is False
    assert is_due(s, NOW + timedelta(minutes=30), force=True) == (True, None)


def test_due_a_little_early() -> None:
    """A cron job that fires a few seconds before the interval is up still polls."""
    from monitor.core.schedule import DUE_GRACE

    state = SourceState(name="s", url="https://x.org/f", next_due=NOW + timedelta(seconds=10))
    assert is_due(state, NOW) == (True, None)
    later = SourceState(name="s", url="https://x.org/f", next_due=NOW + DUE_GRACE * 3)
    assert is_due(later, NOW)[0] is False
