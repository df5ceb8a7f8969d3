"""Later copies of a story the analyst marked seen: seen too, unless they bring a new
angle. Pure.

A story marked seen (`model.SeenStory`) keeps what it said then: its canonical actors and
its quotes, folded. A copy that joins it later and names an actor or carries a quote not
among those is a "new angle": it stays unread, and what it brought joins the story's, so
the next copy repeating it is not new. A quote is known when it is one of the story's or
a part of one (a copy that quotes less of it); case, accents and punctuation never count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from monitor.core.fold import folded_words
from monitor.model import Item, SeenStory


@dataclass(frozen=True, slots=True)
class Copy:
    """An item that joined a seen story after it was marked: what the test reads."""

    id: str
    first_seen: datetime
    actors: tuple[str, ...]  # canonical names
    quotes: tuple[str, ...]  # as the item gives them


@dataclass(frozen=True, slots=True)
class Angle:
    """A copy that brought something new: its id, its story's record and why, in words."""

    id: str
    story: str  # the `SeenStory.id` it is a copy of
    why: str  # "new actor Emmanuel Macron", "new quote", "new actor X and a new quote"


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with later copies: mark `seen`, flag `angles`, and record the stories
    whose known actors and quotes grew."""

    seen: tuple[str, ...] = ()
    angles: tuple[Angle, ...] = ()
    stories: tuple[SeenStory, ...] = ()


def quote_key(text: str) -> str:
    """How quotes compare: their folded words (`core.fold.folded_words`)."""
    return folded_words(text)


def copy_of(item: Item) -> Copy:
    return Copy(
        item.id,
        item.first_seen,
        tuple(a.name for a in item.actors),
        tuple(q.text for q in item.quotes),
    )


def seen_story(story_id: str, at: datetime, items: Iterable[Item]) -> SeenStory:
    """The record of a story marked seen at `at`: its items' actors and quotes."""
    actors: set[str] = set()
    quotes: set[str] = set()
    for item in items:
        actors.update(a.name for a in item.actors)
        quotes.update(k for k in (quote_key(q.text) for q in item.quotes) if k)
    return SeenStory(story_id, at, frozenset(actors), frozenset(quotes))


def joined(a: SeenStory, b: SeenStory) -> SeenStory:
    """Two records of what became one story: the earlier mark, and what both knew."""
    first = a if (a.at, a.id) <= (b.at, b.id) else b
    return replace(first, actors=a.actors | b.actors, quotes=a.quotes | b.quotes)


def _known(key: str, quotes: frozenset[str]) -> bool:
    if key in quotes:
        return True
    padded = f" {key} "
    return any(padded in f" {q} " for q in quotes)  # a part of a known quote, whole words


def angle_of(story: SeenStory, copy: Copy) -> tuple[str, SeenStory]:
    """Why `copy` is a new angle on `story` ("" when it is not), and the story with what
    the copy brought."""
    actors = [a for a in dict.fromkeys(copy.actors) if a not in story.actors]
    keys = [k for k in dict.fromkeys(quote_key(q) for q in copy.quotes) if k]
    quotes = [k for k in keys if not _known(k, story.quotes)]
    parts = []
    if actors:
        parts.append(f"new actor{'s' if len(actors) > 1 else ''} {', '.join(actors)}")
    if quotes:
        quote = f"new quote{'s' if len(quotes) > 1 else ''}"
        parts.append(f"a {quote}" if actors and len(quotes) == 1 else quote)
    if not parts:
        return "", story
    grown = replace(story, actors=story.actors | set(actors), quotes=story.quotes | set(quotes))
    return " and ".join(parts), grown


def later_copies(found: Iterable[tuple[SeenStory, Sequence[Copy]]]) -> Decision:
    """Each story's copies that arrived after it was marked, oldest first: seen, or a new
    angle (an earlier copy's new actor or quote is known to the later ones)."""
    seen: list[str] = []
    angles: list[Angle] = []
    grown: list[SeenStory] = []
    for story, copies in found:
        known = story
        for copy in sorted(copies, key=lambda c: (c.first_seen, c.id)):
            if copy.first_seen < story.at:
                continue  # in the story when it was marked
            why, known = angle_of(known, copy)
            if why:
                angles.append(Angle(copy.id, story.id, why))
            else:
                seen.append(copy.id)
        if known != story:
            grown.append(known)
    return Decision(tuple(seen), tuple(angles), tuple(grown))
