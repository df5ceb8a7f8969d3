"""A fixed clock, sample items and settings listing their sources, for the dashboard's and
the io layer's tests."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from msgspec.structs import replace

from monitor.config import AutoTag, SavedFilter, Settings
from monitor.model import Actor, ActorKind, DateRef, Item, Mention, Quote, Source

NOW = datetime(2024, 11, 14, 12, 0, tzinfo=UTC)  # a Thursday
SOURCES = ("Le Monde", "BBC World", "Der Spiegel", "El País")


def fixed_now() -> datetime:
    return NOW


def item(
    n: int,
    title: str | None = None,
    *,
    sources: Sequence[str] | None = None,
    minutes: float | None = None,
    text_: str | None = None,
    summary: str | None = None,
    language: str = "en",
    url: str | None = None,
) -> Item:
    """Item `n`, published `minutes` (default: 7n) before NOW."""
    published = NOW - timedelta(minutes=7 * n if minutes is None else minutes)
    return Item(
        id=f"id{n:06d}",
        title=title if title is not None else f"Headline number {n}",
        url=url if url is not None else f"https://news.example/{n}",
        sources=tuple(sources) if sources is not None else (SOURCES[n % len(SOURCES)],),
        published=published,
        published_raw=None,
        date_flag=None,
        language=language,
        summary=summary if summary is not None else f"Summary of story {n}.",
        first_seen=published,
        text=text_,
    )


# The actors of item n: ACTORS[n % 3], the first mentioned twice.
ACTORS = (
    ("Vladimir Putin", "Donald Trump"),
    ("Emmanuel Macron",),
    ("Donald Trump", "Kremlin"),
)
STORY_2 = (
    "The full text of story 2. Vladimir Putin spoke to Donald Trump on Monday.\n\nSecond paragraph."
)


def items(count: int) -> list[Item]:
    out = [item(n) for n in range(count)]
    kinds: dict[str, ActorKind] = {"Kremlin": "organisation"}
    for n, it in enumerate(out):
        names = ACTORS[n % 3]
        actors = tuple(
            Actor(name, kinds.get(name, "person"), 2 if i == 0 else 1)
            for i, name in enumerate(names)
        )
        out[n] = replace(it, actors=actors, annotated=True)
    if count > 3:  # one story carried by two sources, one with its full text
        out[1] = replace(out[1], sources=(SOURCES[1], SOURCES[0]))
        start = STORY_2.index("Vladimir")
        out[2] = replace(
            out[2],
            text=STORY_2,
            actors=(Actor("Vladimir Putin", "person", 1), Actor("Donald Trump", "person", 1)),
            mentions=(
                Mention("Vladimir Putin", start, start + 14, "text"),
                Mention("Donald Trump", start + 24, start + 36, "text"),
            ),
            quotes=(Quote("Vladimir Putin", "we are ready to talk to the new administration"),),
            dates=(DateRef("on Monday", "2024-11-11", start + 37, start + 46, "text"),),
        )
    return out


def scratch() -> Path:
    """A folder of its own, removed when the tests end: the store folder of settings whose
    store is in memory, where the session keeps the triage file."""
    folder = tempfile.mkdtemp(prefix="monitor-test-")
    atexit.register(shutil.rmtree, folder, True)
    return Path(folder)


def settings(
    *,
    filters: Sequence[SavedFilter] = (),
    keys: dict[str, str] | None = None,
    sources: Sequence[str] = SOURCES,
    storage: Path | None = None,
    tags: Sequence[AutoTag] = (),
) -> Settings:
    return Settings(
        path=None,
        storage=storage if storage is not None else scratch(),
        tags=tuple(tags),
        sources=tuple(
            Source(name=s, url=f"https://{n}.example/feed", interval=600.0)
            for n, s in enumerate(sources)
        ),
        filters=tuple(filters),
        keys=dict(keys or {}),
    )
