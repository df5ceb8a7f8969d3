"""Copies of one story (Putin and Trump's phone call) with the actors and quotes found
in them, and a triage begun before them, for the tests of stories marked seen."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from msgspec.structs import replace

from monitor.io.triage import Triage
from monitor.model import Actor, Item, Quote
from tests.support.items import NOW, item

TITLE = "Putin and Trump agree in a phone call to work on normalising relations"
SUMMARY = (
    "The Kremlin said the two leaders spoke by telephone on Monday and agreed that relations "
    "between Moscow and Washington were unsatisfactory and should be normalised."
)
QUOTE = "We are ready to talk to the new administration"
PUTIN = Actor("Vladimir Putin", "person", 2)
TRUMP = Actor("Donald Trump", "person", 1)
MACRON = Actor("Emmanuel Macron", "person", 1)


def copy(
    n: int,
    minutes: float,
    source: str,
    actors: Sequence[Actor] = (),
    quotes: Sequence[str] = (),
    title: str = TITLE,
) -> Item:
    """A copy of the story (first seen `minutes` after NOW), with its actors and quotes."""
    it = item(n, title, sources=[source], minutes=-minutes, summary=SUMMARY)
    found = tuple(Quote("Vladimir Putin", q) for q in quotes)
    return replace(it, actors=tuple(actors), quotes=found, annotated=bool(actors or quotes))


def other(n: int, minutes: float) -> Item:
    return item(
        n,
        f"Earthquake of magnitude {n} strikes the coast of a far island",
        minutes=-minutes,
        summary="Two people died and a tsunami warning was lifted in the morning.",
    )


def begun_yesterday(storage: Path, user: str | None = None) -> None:
    """The analyst's triage began before the items: they are unread."""
    Triage(storage, user=user, now=lambda: NOW - timedelta(days=1)).close()
