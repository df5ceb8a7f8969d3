"""Watches, pure: the keyword-in-context line of a match, the story an item joins, and when
a delivery is due (instant, hourly, daily; held back by quiet hours)."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from datetime import datetime, time, timedelta, tzinfo

from monitor.core.cluster import same_story
from monitor.core.fold import fold_text
from monitor.core.query import highlight_spans

CONTEXT = 160  # characters of a keyword-in-context line
STORY_HOURS = 48  # an item joins an alert of its watch raised this recently


def keyword_context(
    texts: Sequence[str | None], words: Sequence[str], width: int = CONTEXT
) -> tuple[str, tuple[str, ...]]:
    """The first text (title, summary, full text) where one of `words` (`Query.highlights`)
    matches: about `width` characters around the first match, on one line, and the words
    matched there (folded). No match: the start of the first text, and no words."""
    first = ""
    for text in texts:
        if not text:
            continue
        flat = " ".join(text.split())
        first = first or flat
        spans = highlight_spans(flat, words)
        if not spans:
            continue
        a, b = spans[0]
        start = max(0, min(a - (width - (b - a)) // 2, len(flat) - width))
        if start > 0:  # not in the middle of a word
            cut = flat.find(" ", start)
            start = cut + 1 if 0 <= cut < a else start
        end = min(len(flat), start + width)
        if end < len(flat):
            cut = flat.rfind(" ", b, end)
            end = cut if cut > b else end
        snippet = flat[start:end]
        matched = dict.fromkeys(fold_text(flat[x:y]) for x, y in spans if start <= x < end)
        prefix = "… " if start > 0 else ""
        return prefix + snippet + (" …" if end < len(flat) else ""), tuple(matched)
    return (first[:width] + (" …" if len(first) > width else "")), ()


def pack(shingles: set[int]) -> bytes:
    """Shingles (`core.cluster.shingles`) as bytes, for the ledger."""
    return array("I", sorted(shingles)).tobytes()


def unpack(data: bytes) -> set[int]:
    values = array("I")
    values.frombytes(data)
    return set(values)


class Stories:
    """The stories of one watch's recent alerts: shingle sets (`core.cluster.shingles`),
    each with its alert, looked up by shared shingle, so that a poll of many matches does
    not compare every pair."""

    def __init__(self) -> None:
        self.sets: list[set[int]] = []
        self.alerts: list[int] = []
        self.by_shingle: dict[int, list[int]] = {}

    def add(self, alert: int, shingles: set[int]) -> None:
        if not shingles:
            return
        n = len(self.sets)
        self.sets.append(shingles)
        self.alerts.append(alert)
        for h in shingles:
            self.by_shingle.setdefault(h, []).append(n)

    def story_of(self, shingles: set[int]) -> int | None:
        """The alert whose story these shingles tell, as the digest's clustering decides
        (the earliest such, when several do); None: a new story."""
        candidates = {n for h in shingles for n in self.by_shingle.get(h, ())}
        for n in sorted(candidates):
            if same_story(shingles, self.sets[n]):
                return self.alerts[n]
        return None


def due_at(now: datetime, every: str, quiet: tuple[str, str] | None, zone: tzinfo) -> datetime:
    """When a delivery made at `now` is due: at once (instant), at the next full hour
    (hourly) or local midnight (daily); then, if that falls in the quiet hours, at their
    end. Aware UTC in, aware in `now`'s zone out."""
    local = now.astimezone(zone)
    due = local
    if every == "hourly":
        due = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    elif every == "daily":
        midnight = datetime.combine(local.date() + timedelta(days=1), time(), zone)
        due = midnight
    if quiet is not None:
        start, end = (time.fromisoformat(t) for t in quiet)
        at = due.timetz().replace(tzinfo=None)
        inside = start <= at < end if start < end else at >= start or at < end
        if inside:
            day = due.date() if at < end else due.date() + timedelta(days=1)
            due = datetime.combine(day, end, zone)
    return due.astimezone(now.tzinfo)
