"""Feed date strings -> aware UTC datetimes. Fast paths for ISO 8601 and RFC 822, dateparser after.

Pure: the current time is always a parameter. Never raises.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from monitor.model import DateFlag

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

MAX_DATE_CHARS = 200  # longer strings are not dates; dateparser never sees them
FUTURE_SLACK = timedelta(days=1)
MIN_YEAR = 1900
# Tried in this order when the feed's language is unknown or does not fit.
GUESS_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "ru", "nl")

_ISO_START = re.compile(r"\d{4}-?\d\d")
_ISO_TZ_NO_COLON = re.compile(r"([+-]\d\d)(\d\d)$")
_ISO_FRACTION = re.compile(r"\.(\d{7,})")
_ISO_HOUR_24 = re.compile(r"^(\d{4}-\d\d-\d\d)[T ]24:00(?::00(?:\.0+)?)?")
_ISO_ZONE_NAME = re.compile(r"\s*(?:UTC|GMT|Z)$", re.IGNORECASE)

# RFC 822 / 2822 with English month names: [weekday,] day month year [time] [zone].
_RFC822 = re.compile(
    r"(?:[^\W\d_]{2,12}\.?,?\s*)?"
    r"(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]{3,9})\.?\s+(?P<year>\d{2,4})"
    r"(?:\s+(?P<time>\d{1,2}:\d\d(?::\d\d)?))?"
    r"(?:\s*(?P<zone>[+-]\d{4}|[A-Za-z]{1,5}))?\s*"
)
_MONTHS = frozenset(
    {
        *("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov"),
        *("dec", "january", "february", "march", "april", "june", "july", "august"),
        *("september", "october", "november", "december"),
    }
)
# Zone names parsedate_to_datetime knows (RFC 822), and common ones it does not.
_ZONES = {
    "UT": "+0000",
    "UTC": "+0000",
    "GMT": "+0000",
    "Z": "+0000",
    "EST": "-0500",
    "EDT": "-0400",
    "CST": "-0600",
    "CDT": "-0500",
    "MST": "-0700",
    "MDT": "-0600",
    "PST": "-0800",
    "PDT": "-0700",
    "AST": "-0400",
    "ADT": "-0300",
    "AKST": "-0900",
    "AKDT": "-0800",
    "HST": "-1000",
    "WET": "+0000",
    "WEST": "+0100",
    "BST": "+0100",
    "CET": "+0100",
    "CEST": "+0200",
    "MET": "+0100",
    "MEST": "+0200",
    "EET": "+0200",
    "EEST": "+0300",
    "MSK": "+0300",
    "JST": "+0900",
    "KST": "+0900",
    "HKT": "+0800",
    "SGT": "+0800",
    "AEST": "+1000",
    "AEDT": "+1100",
    "ACST": "+0930",
    "AWST": "+0800",
    "NZST": "+1200",
    "NZDT": "+1300",
}
_LEADING_WEEKDAY = re.compile(r"^[^\W\d_]{2,12}\.?,\s*(?=\d)")
# "ce lundi", "cette semaine": a demonstrative before a weekday.
_DEMONSTRATIVE = re.compile(r"^(?:ce|cet|cette|este|esta|questo|diesen|dieser)\s+", re.IGNORECASE)
_SINGLE_WORD = re.compile(r"^[^\W\d_]{2,20}\.?$")

_BASE_SETTINGS: dict[str, Any] = {
    "TIMEZONE": "UTC",
    "RETURN_AS_TIMEZONE_AWARE": True,
    "PREFER_DATES_FROM": "past",
}
# A fixed base: absolute dates with day, month and year do not depend on it.
_FIXED_BASE = datetime(2000, 1, 1)


def parse_date(
    raw: str | None, language: str | None, *, now: datetime
) -> tuple[datetime | None, DateFlag | None]:
    """A feed date -> (aware UTC datetime or None, flag).

    The flag is None when the date is fine, "missing" when there is no usable
    string, and "invalid" when it parsed to an impossible instant (before 1900,
    or more than a day after `now`); the datetime is then returned as read.
    `language` (e.g. "fr", "pt-BR") helps dateparser with localized forms and
    relative ones ("hier") are taken relative to `now`.
    """
    try:
        if raw is None:
            return None, "missing"
        s = raw.strip()
        if not s or len(s) > MAX_DATE_CHARS:
            return None, "missing"
        now_utc = _as_utc(now)
        dt = parse_iso_or_rfc822(s)
        if dt is None:
            dt = _parse_slow(s, _primary(language), now_utc)
        if dt is None:
            return None, "missing"
        if dt.year < MIN_YEAR or dt > now_utc + FUTURE_SLACK:
            return dt, "invalid"
        return dt, None
    except Exception:
        return None, "missing"


def parse_iso_or_rfc822(s: str) -> datetime | None:
    """ISO 8601 or RFC 822 -> aware UTC datetime, or None. No dateparser; naive means UTC."""
    try:
        s = s.strip()
        if not s or len(s) > MAX_DATE_CHARS:
            return None
        if _ISO_START.match(s):
            return _parse_iso(s)
        return _parse_rfc822(s)
    except Exception:
        return None


def _parse_iso(s: str) -> datetime | None:
    s = s.upper() if ("t" in s or "z" in s) else s
    s = _ISO_ZONE_NAME.sub("+00:00", s) if s[-1].isalpha() else s
    s = _ISO_TZ_NO_COLON.sub(r"\1:\2", s)
    if "." in s:
        s = _ISO_FRACTION.sub(lambda m: "." + m.group(1)[:6], s, count=1)
    next_day = False
    m24 = _ISO_HOUR_24.match(s)
    if m24:
        s = m24.group(1) + "T00:00:00" + s[m24.end() :]
        next_day = True
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if next_day:
        dt += timedelta(days=1)
    return _as_utc(dt)


def _parse_rfc822(s: str) -> datetime | None:
    m = _RFC822.fullmatch(s)
    if m is None:
        return None
    month = m.group("month").lower()
    if month not in _MONTHS:
        return None
    zone = m.group("zone") or ""
    if zone and zone[0] not in "+-":
        zone = _ZONES.get(zone.upper(), "")
        if not zone:
            return None  # "PM", an unknown zone: leave it to dateparser
    time = m.group("time") or "00:00"
    try:
        dt = parsedate_to_datetime(f"{m.group('day')} {month[:3]} {m.group('year')} {time} {zone}")
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return _as_utc(dt)


def _as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def _primary(language: str | None) -> str | None:
    if not language:
        return None
    tag = language.strip().replace("_", "-").split("-", 1)[0].lower()
    return tag or None


# The slow path: dateparser, imported on first use.


def _parse_slow(s: str, language: str | None, now: datetime) -> datetime | None:
    s = _LEADING_WEEKDAY.sub("", s)
    langs = _languages(language)
    dt = _absolute(s, langs)
    if dt is None:
        dt = _relative(s, langs, now)
    return dt


@lru_cache(maxsize=64)
def _languages(language: str | None) -> tuple[tuple[str, ...], ...]:
    """Language lists to try in order: the feed's own first, then the usual guesses."""
    known = _known_languages()
    if language and language in known:
        rest = tuple(g for g in GUESS_LANGUAGES if g != language)
        return ((language,), rest)
    return (GUESS_LANGUAGES,)


@lru_cache(maxsize=1)
def _known_languages() -> frozenset[str]:
    from dateparser.languages.loader import default_loader

    return frozenset(default_loader.get_locale_map())


@lru_cache(maxsize=64)
def _parser(langs: tuple[str, ...], kind: str) -> DateDataParser:
    from dateparser.date import DateDataParser

    settings = dict(_BASE_SETTINGS, RELATIVE_BASE=_FIXED_BASE)
    if kind == "absolute":
        settings.update(
            PARSERS=["timestamp", "absolute-time"], REQUIRE_PARTS=["day", "month", "year"]
        )
    return DateDataParser(languages=list(langs), settings=settings)


def _run(parser: DateDataParser, s: str) -> datetime | None:
    try:
        dt = parser.get_date_data(s).date_obj
    except Exception:
        return None
    return _as_utc(dt) if dt is not None else None


@lru_cache(maxsize=4096)
def _absolute(s: str, langs: tuple[tuple[str, ...], ...]) -> datetime | None:
    """A full date (day, month and year): the same whatever the current time."""
    for group in langs:
        dt = _run(_parser(group, "absolute"), s)
        if dt is not None:
            return dt
    return None


_NOT_RELATIVE: dict[tuple[str, tuple[tuple[str, ...], ...]], bool] = {}
_NOT_RELATIVE_MAX = 4096


def _relative(s: str, langs: tuple[tuple[str, ...], ...], now: datetime) -> datetime | None:
    """Forms that depend on `now` ("hier", "ce lundi", "14 nov."): only failures are cached."""
    key = (s, langs)
    if key in _NOT_RELATIVE:
        return None
    from dateparser.date import DateDataParser

    base = now.replace(tzinfo=None)
    word = _DEMONSTRATIVE.sub("", s)
    for group in langs:
        attempts: list[tuple[str, dict[str, Any]]] = [
            (s, {"PARSERS": ["relative-time"], "RELATIVE_BASE": base}),
            # a partial date ("14 nov."): day and month required, the year is the last past one
            (
                s,
                {
                    "PARSERS": ["absolute-time"],
                    "REQUIRE_PARTS": ["day", "month"],
                    "RELATIVE_BASE": base,
                },
            ),
        ]
        weekday = _SINGLE_WORD.match(word) is not None
        if weekday:
            # a weekday alone: the latest one, today included
            extra = {"PARSERS": ["absolute-time"], "RELATIVE_BASE": base + timedelta(days=1)}
            attempts.append((word, extra))
        for i, (text, extra) in enumerate(attempts):
            try:
                settings = dict(_BASE_SETTINGS, **extra)
                parser = DateDataParser(languages=list(group), settings=settings)
            except Exception:
                continue
            dt = _run(parser, text)
            if dt is None:
                continue
            if i == 2 and not now - timedelta(days=7) < dt <= now + timedelta(days=1):
                continue  # a month name or the like, not a weekday
            return dt
    if len(_NOT_RELATIVE) >= _NOT_RELATIVE_MAX:
        _NOT_RELATIVE.clear()
    _NOT_RELATIVE[key] = True
    return None
