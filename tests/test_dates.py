"""Feed date strings -> UTC datetimes: fast paths, localized forms, relative forms, junk."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import pytest

from monitor.core.dates import parse_date, parse_iso_or_rfc822

# A Wednesday.
NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "language", "expected"),
    [
        ("lun., 14 nov. 2016 19:05:00 +0100", "fr", utc(2016, 11, 14, 18, 5)),
        ("lun., 14 nov. 2016 19:05 +0100", "fr", utc(2016, 11, 14, 18, 5)),
        ("Seg, 24 Set 2018", "pt", utc(2018, 9, 24)),
        ("Seg, 24 Set 2018 19:42:40 -0300", "pt", utc(2018, 9, 24, 22, 42, 40)),
        ("Seg, 24 Set 2018 19:42:40 -0300", "pt-BR", utc(2018, 9, 24, 22, 42, 40)),
        ("Di, 05 Mär 2019", "de", utc(2019, 3, 5)),
        ("Donnerstag, 7. März 2019, 10:00 Uhr", "de", utc(2019, 3, 7, 10)),
        ("mer, 16 nov 2022 00:38:15 +0100", "it", utc(2022, 11, 15, 23, 38, 15)),
        ("Mon, 14 Nov 2016 19:05:00 +0100", None, utc(2016, 11, 14, 18, 5)),
        ("Mon, 14 Nov 2016 19:05:00 +0100", "fr", utc(2016, 11, 14, 18, 5)),
        ("2016-11-14T18:05:00Z", None, utc(2016, 11, 14, 18, 5)),
        ("2016-11-14T19:05:00+01:00", "de", utc(2016, 11, 14, 18, 5)),
        # English forms the fast paths leave to dateparser
        ("Sat, Dec 16 2023 02:02:33 PM", "en", utc(2023, 12, 16, 14, 2, 33)),
        ("Sat, Dec 16 2023 02:02:33 PM", None, utc(2023, 12, 16, 14, 2, 33)),
        # unknown or unsupported language: guessed among the usual ones
        ("Seg, 24 Set 2018", None, utc(2018, 9, 24)),
        ("Di, 05 Mär 2019", "xx", utc(2019, 3, 5)),
        # relative to NOW
        ("hier", "fr", NOW - timedelta(days=1)),
        ("il y a 3 heures", "fr", NOW - timedelta(hours=3)),
        ("ce lundi", "fr", utc(2024, 5, 13)),
        ("ce mercredi", "fr", utc(2024, 5, 15)),
        ("14 nov.", "fr", utc(2023, 11, 14)),
    ],
)
def test_parse_date(raw: str, language: str | None, expected: datetime) -> None:
    assert parse_date(raw, language, now=NOW) == (expected, None)


def test_result_is_aware_utc() -> None:
    for raw, lang in [("Di, 05 Mär 2019", "de"), ("2016-11-14T19:05:00+01:00", None)]:
        dt, _ = parse_date(raw, lang, now=NOW)
        assert dt is not None
        assert dt.utcoffset() == timedelta(0)
        assert dt.tzinfo is UTC


def test_relative_base_is_now() -> None:
    later = NOW + timedelta(days=10)
    assert parse_date("hier", "fr", now=later) == (later - timedelta(days=1), None)
    assert parse_date("hier", "fr", now=NOW) == (NOW - timedelta(days=1), None)


def test_weekday_on_that_day_is_today() -> None:
    monday = datetime(2024, 5, 13, 18, 0, tzinfo=UTC)
    assert parse_date("ce lundi", "fr", now=monday) == (utc(2024, 5, 13), None)


def test_naive_now_is_utc() -> None:
    assert parse_date("hier", "fr", now=datetime(2024, 5, 15, 12)) == (
        NOW - timedelta(days=1),
        None,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mon, 14 Nov 2016 19:05:00 +0100", utc(2016, 11, 14, 18, 5)),
        ("Mon, 14 Nov 2016 19:05:00 GMT", utc(2016, 11, 14, 19, 5)),
        ("Mon, 14 Nov 2016 19:05:00 UT", utc(2016, 11, 14, 19, 5)),
        ("Mon, 14 Nov 2016 19:05:00 Z", utc(2016, 11, 14, 19, 5)),
        ("Mon, 14 Nov 2016 19:05:00 EST", utc(2016, 11, 15, 0, 5)),
        ("Mon, 14 Nov 2016 19:05:00 PDT", utc(2016, 11, 15, 2, 5)),
        ("Mon, 14 Nov 2016 19:05:00 CEST", utc(2016, 11, 14, 17, 5)),
        ("Mon, 14 Nov 2016 19:05:00", utc(2016, 11, 14, 19, 5)),
        ("Mon, 14 Nov 2016 19:05 +0100", utc(2016, 11, 14, 18, 5)),
        ("14 Nov 2016 19:05:00 -0000", utc(2016, 11, 14, 19, 5)),
        ("Mon, 14 Nov 16 19:05:00 GMT", utc(2016, 11, 14, 19, 5)),
        ("Wed, 14 Sept 2016 10:00:00 GMT", utc(2016, 9, 14, 10)),
        ("Mon,14 Nov 2016 19:05:00 +0100", utc(2016, 11, 14, 18, 5)),
        ("  Mon, 14 Nov 2016 19:05:00 +0100\n", utc(2016, 11, 14, 18, 5)),
        ("2016-11-14T18:05:00Z", utc(2016, 11, 14, 18, 5)),
        ("2016-11-14t18:05:00z", utc(2016, 11, 14, 18, 5)),
        ("2016-11-14T19:05:00+01:00", utc(2016, 11, 14, 18, 5)),
        ("2016-11-14T19:05:00+0100", utc(2016, 11, 14, 18, 5)),
        ("2016-11-14T19:05:00+01", utc(2016, 11, 14, 18, 5)),
        ("2016-11-14T18:05:00.123456789Z", utc(2016, 11, 14, 18, 5, 0, 123456)),
        ("2016-11-14T18:05:00 UTC", utc(2016, 11, 14, 18, 5)),
        ("2016-11-14 18:05:00", utc(2016, 11, 14, 18, 5)),
        ("2016-11-14", utc(2016, 11, 14)),
        ("2016-11-14T24:00:00Z", utc(2016, 11, 15)),
    ],
)
def test_fast_paths(raw: str, expected: datetime) -> None:
    assert parse_iso_or_rfc822(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "Seg, 24 Set 2018",  # Portuguese month: not for the fast path
        "Sat, Dec 16 2023 02:02:33 PM",  # the zone slot holds "PM"
        "hier",
        "Mon, 31 Feb 2016 10:00:00 GMT",
        "2016-13-45",
        "not a date",
        "9" * 10_000,
    ],
)
def test_fast_paths_decline(raw: str) -> None:
    assert parse_iso_or_rfc822(raw) is None


@pytest.mark.parametrize("raw", [None, "", "   ", "not a date at all", "n/a", "TBD"])
def test_missing(raw: str | None) -> None:
    assert parse_date(raw, "en", now=NOW) == (None, "missing")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Thu, 01 Jan 1870 00:00:00 GMT", utc(1870, 1, 1)),
        ("0001-01-01T00:00:00Z", utc(1, 1, 1)),
        ("2099-01-01T00:00:00Z", utc(2099, 1, 1)),
        ((NOW + timedelta(days=2)).isoformat(), NOW + timedelta(days=2)),
    ],
)
def test_impossible_dates_are_invalid(raw: str, expected: datetime) -> None:
    assert parse_date(raw, None, now=NOW) == (expected, "invalid")


def test_near_future_and_old_archives_are_fine() -> None:
    soon = NOW + timedelta(hours=20)
    assert parse_date(soon.isoformat(), None, now=NOW) == (soon, None)
    assert parse_date("1901-06-01T00:00:00Z", None, now=NOW) == (utc(1901, 6, 1), None)


def _junk() -> list[str]:
    rng = random.Random(20240515)
    unicode_junk = "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(190))
    digits_junk = "".join(rng.choice("0123456789:-+ ,.TZ") for _ in range(190))
    return [
        "x" * 100_000,
        "9" * 10_000,
        "9" * 190,
        unicode_junk,
        unicode_junk * 500,
        digits_junk,
        "1 " * 95,
        "-1-" * 60,
        "\x00\x01\x02" * 50,
        "lun., " * 30,
        "\ud800 broken surrogate",
    ]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("raw", _junk(), ids=lambda s: f"len{len(s)}")
def test_junk_never_raises(raw: str) -> None:
    dt, flag = parse_date(raw, None, now=NOW)
    if len(raw) > 200:
        assert (dt, flag) == (None, "missing")  # capped before any parser runs
    else:
        assert flag in ("missing", "invalid", None)
        assert dt is None or dt.tzinfo is not None


def _fundus_dates(corpus: Path) -> list[str]:
    found: list[str] = []
    for path in sorted((corpus / "articles" / "fundus").rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            continue
        for version in data.values():
            if isinstance(version, dict) and isinstance(version.get("publishing_date"), str):
                found.append(version["publishing_date"])
    return found


def test_fundus_dates_round_trip(corpus: Path) -> None:
    """Every publishing_date of the fundus articles, as RFC 822 and as ISO 8601."""
    dates = _fundus_dates(corpus)
    assert len(dates) > 100
    now = datetime(2100, 1, 1, tzinfo=UTC)
    for s in dates:
        dt = datetime.fromisoformat(s)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        want = dt.astimezone(UTC)
        # RFC 822 has no fractions of a second
        rfc = format_datetime(dt)
        assert parse_date(rfc, None, now=now) == (want.replace(microsecond=0), None), rfc
        assert parse_iso_or_rfc822(rfc) == want.replace(microsecond=0), rfc
        assert parse_date(dt.isoformat(), None, now=now) == (want, None), dt.isoformat()
        assert parse_date(s, None, now=now) == (want, None), s
        # and the same instant written in another zone
        shifted = dt.astimezone(timezone(timedelta(hours=-5, minutes=-30)))
        assert parse_date(format_datetime(shifted), None, now=now)[0] == want.replace(microsecond=0)
