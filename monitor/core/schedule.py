"""When to poll a source next. Pure arithmetic: the caller passes `now` and any randomness.

All datetimes are timezone-aware; naive ones are read as UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from monitor.model import Source, SourceState

MAX_RETRY_AFTER = timedelta(hours=24)  # a Retry-After never holds a source longer
MIN_BACKOFF = 60.0  # seconds: the first retry after a failure waits at least this
BACKOFF_CAP = 6 * 3600.0  # seconds: backoff doubling stops here (unless the interval is longer)
JITTER = 0.2  # backoff delays vary by ±20%
DUE_GRACE = timedelta(seconds=30)  # a run a few seconds early (cron, timers) still counts
MIN_POLL_DELAY = 30.0  # seconds: a long-running poller waits at least this between passes

_SECONDS = re.compile(r"[0-9]+")


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """The moment a Retry-After header points to: delta-seconds or an HTTP-date.

    Capped at now + 24 h; a date in the past gives `now`; anything unreadable, or a
    negative number, gives None.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    now = _aware(now)
    limit = now + MAX_RETRY_AFTER
    if _SECONDS.fullmatch(value):
        seconds = int(value)
        if seconds >= MAX_RETRY_AFTER.total_seconds():
            return limit
        return now + timedelta(seconds=seconds)
    if value[0] in "+-" or value[0].isdigit():
        return None  # "-5", "1.5", "120s": not delta-seconds, not a date either
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    when = _aware(when)
    return min(max(when, now), limit)


def backoff_delay(failures: int, base: float, *, rand: float) -> float:
    """Seconds to wait after the `failures`-th consecutive failure (1 for the first).

    Starts at max(base, 60 s), doubles with each failure up to 6 h (or `base`, if the
    source's interval is longer: a failing source is never polled more often than a
    healthy one), then varies by ±20% using `rand` in [0, 1). Never infinite: a failing
    source keeps being retried.
    """
    start = max(base, MIN_BACKOFF)
    cap = max(BACKOFF_CAP, start)
    steps = min(max(failures, 1) - 1, 64)
    delay = min(start * 2.0**steps, cap)
    rand = min(max(rand, 0.0), 1.0)
    return delay * (1.0 + JITTER * (2.0 * rand - 1.0))


def next_due(
    interval: float,
    now: datetime,
    *,
    failures: int = 0,
    retry_after: datetime | None = None,
    rand: float = 0.5,
) -> datetime:
    """When a source should be polled next, after a poll that ended at `now`.

    `failures` is the consecutive-failure count including this poll: 0 after a success
    or a 304, which waits the plain `interval`; otherwise `backoff_delay`. A later
    `retry_after` moment wins over either.
    """
    now = _aware(now)
    if failures <= 0:
        due = now + timedelta(seconds=max(interval, 0.0))
    else:
        due = now + timedelta(seconds=backoff_delay(failures, interval, rand=rand))
    if retry_after is not None:
        due = max(due, _aware(retry_after))
    return due


def is_due(
    state: SourceState | None, now: datetime, *, force: bool = False
) -> tuple[bool, str | None]:
    """Whether to poll a source now, and if not, why. No state yet: due.

    `force` (poll everything) skips the wait for the regular interval, but still
    honours a Retry-After and the backoff after failures.
    """
    if state is None:
        return True, None
    now = _aware(now)
    if state.retry_after is not None and now < _aware(state.retry_after):
        return False, f"Retry-After until {_clock(state.retry_after, now)}"
    if state.next_due is None or now + DUE_GRACE >= _aware(state.next_due):
        return True, None
    if state.failures > 0:
        plural = "failure" if state.failures == 1 else "failures"
        when = _clock(state.next_due, now)
        return False, f"backing off after {state.failures} {plural} until {when}"
    if force:
        return True, None
    return False, f"not due until {_clock(state.next_due, now)}"


def next_poll_delay(
    sources: Sequence[Source], states: Mapping[str, SourceState], now: datetime
) -> float | None:
    """Seconds until a long-running poller's next pass: the earliest due source, at
    least 30 s, at most the smallest interval. None when no source is enabled."""
    enabled = [s for s in sources if s.enabled]
    if not enabled:
        return None
    smallest = min(s.interval for s in enabled)
    due = []
    for s in enabled:
        st = states.get(s.name)
        due.append(_aware(st.next_due) if st is not None and st.next_due is not None else now)
    wait = (min(due) - _aware(now)).total_seconds()
    return max(MIN_POLL_DELAY, min(wait, smallest))


def writer_polls(states: Mapping[str, SourceState]) -> tuple[datetime | None, datetime | None]:
    """What a read-only view can tell of the writer's schedule from the stored source
    states: its last poll (the latest attempt) and its next (the earliest due time)."""
    last = [_aware(s.last_attempt) for s in states.values() if s.last_attempt is not None]
    due = [_aware(s.next_due) for s in states.values() if s.next_due is not None]
    return (max(last) if last else None), (min(due) if due else None)


def _aware(d: datetime) -> datetime:
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d


def _clock(when: datetime, now: datetime) -> str:
    """`when` in UTC, rounded up to the minute; the date too unless it is `now`'s day."""
    when = _aware(when).astimezone(UTC)
    if when.second or when.microsecond:
        when = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
    same_day = when.date() == _aware(now).astimezone(UTC).date()
    return when.strftime("%H:%M UTC" if same_day else "%Y-%m-%d %H:%M UTC")
