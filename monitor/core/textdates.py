"""Relative dates in article text (« ce lundi », « hier », "on Monday") resolved against
the item's publication time with dateparser's RELATIVE_BASE. Pure: `published` comes in."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from monitor.core.fold import fold_indexed, fold_text
from monitor.core.gazetteer import Folded
from monitor.model import DateRef

_DAYS = {
    "fr": "lundi mardi mercredi jeudi vendredi samedi dimanche",
    "en": "monday tuesday wednesday thursday friday saturday sunday",
    "de": "montag dienstag mittwoch donnerstag freitag samstag sonntag",
    "es": "lunes martes miercoles jueves viernes sabado domingo",
    "ru": "понедельник вторник среду четверг пятницу субботу воскресенье",
}
_WORDS = {
    "fr": r"avant-hier|apres-demain|hier|aujourd['’]hui|demain"
    r"|la semaine (?:derniere|prochaine)|le mois (?:dernier|prochain)"
    r"|l['’]an dernier|l['’]annee derniere",
    "en": r"the day before yesterday|yesterday|today|tomorrow|(?:last|next) (?:week|month|year)",
    "de": r"vorgestern|gestern|heute|ubermorgen|(?:letzte|nachste) woche"
    r"|(?:letzten|nachsten) monat",
    "es": r"anteayer|ayer|hoy|manana|la semana (?:pasada|proxima)",
    "ru": r"позавчера|вчера|сегодня|завтра|на прошлой неделе|на следующей неделе",
}
_BEFORE = {
    "fr": "ce |cette ",
    "en": "on |last |next |this ",
    "de": "am |letzten |nachsten |diesen ",
    "es": "el |este |el pasado |el proximo ",
    "ru": "в |во ",
}
_AFTER = {"fr": " dernier| prochain", "en": "", "de": "", "es": " pasado| proximo", "ru": ""}
_THIS = {"ce", "cette", "this", "diesen", "este"}
_NEXT = {"prochain", "next", "nachsten", "proximo"}


@lru_cache(maxsize=8)
def _pattern(lang: str) -> re.Pattern[str]:
    days = "|".join(_DAYS[lang].split())
    before = "|".join(re.escape(b) for b in _BEFORE[lang].split("|"))
    after = f"(?:{_AFTER[lang]})?" if _AFTER[lang] else ""
    return re.compile(rf"(?<!\w)(?:{_WORDS[lang]}|(?:{before})?(?:{days}){after})(?!\w)")


@lru_cache(maxsize=4096)
def _resolve(expr: str, lang: str, base: datetime) -> str | None:
    import dateparser

    words = expr.split()
    future = any(w in _NEXT for w in words) or expr in ("demain", "tomorrow", "apres-demain")
    day_words = set(_DAYS[lang].split())
    day = next((w for w in words if w in day_words), None)
    query = day or expr
    got = dateparser.parse(
        query,
        languages=[lang],
        settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future" if future else "past"},
    )
    if got is None:
        return None
    if day is not None and words[0] in _THIS and (base - got).days == 7:
        got = base  # « ce lundi » on a Monday is today
    return got.date().isoformat()


def find_dates(
    text: str,
    field: str,
    lang: str | None,
    published: datetime,
    folded: Folded | None = None,
) -> list[DateRef]:
    """Relative date expressions in `text` with the day each one means. `folded`:
    `fold_indexed(text)` when the caller has it already."""
    if not text or lang not in _DAYS:
        return []
    folded_text, where = folded if folded is not None else fold_indexed(text)
    base = published.replace(tzinfo=None, second=0, microsecond=0)
    out: list[DateRef] = []
    for m in _pattern(lang).finditer(folded_text):
        day = _resolve(fold_text(m.group()), lang, base)
        if day is None:
            continue
        a, b = m.span()
        if where is not None:
            a, b = where[a], where[b - 1] + 1
        out.append(DateRef(text[a:b], day, a, b, field))
    return out
