"""Screenshots of the dashboard at 200x50, 120x40 and 80x24, fixed clock and data.

Update after a deliberate change with `uv run pytest tests/test_tui_snapshots.py --snapshot-update`
and look at the SVGs in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from msgspec.structs import replace
from textual.pilot import Pilot

from monitor.config import SavedFilter
from monitor.io.triage import Triage
from monitor.model import Actor, ActorKind, DateRef, Item, Mention, SourceState
from monitor.tui.app import MonitorApp
from tests.support.dashboard import make_app, settle
from tests.support.items import NOW, SOURCES, fixed_now, item, settings
from tests.support.memstore import MemoryStore

Snap = Callable[..., bool]

TITLES = [
    "Kremlin says talks with Kyiv are possible under conditions",
    "Les négociations reprennent à Genève",
    "Bundestag debattiert über den Haushalt 2025",
    "El Gobierno aprueba el nuevo plan de vivienda",
    "Markets rally as inflation cools in the euro area",
    "Un séisme de magnitude 6,1 frappe le nord du Japon",
    "東京で大規模なデモ — 数千人が参加",
    "Price [/b] drop: [red]red?[/red] and [@click=app.quit]x[/]",
    "Wahlen in Sachsen: Ergebnisse im Überblick",
    "UN Security Council meets on Sudan",
]
LANGS = ["en", "fr", "de", "es", "en", "fr", "ja", "en", "de", "en"]
TITLE_ACTORS: list[tuple[tuple[str, ActorKind], ...]] = [
    (("Kremlin", "organisation"), ("Kyiv", "place")),
    (("Geneva", "place"),),
    (("Bundestag", "organisation"),),
    (("Spain", "place"),),
    (("European Central Bank", "organisation"),),
    (("Japan", "place"),),
    (("Tokyo", "place"),),
    (),
    (("Saxony", "place"),),
    (("UN Security Council", "organisation"), ("Sudan", "place")),
]
BODY = (
    "Moscow said on Thursday that talks with Kyiv were possible.\n\n"
    "The Kremlin spokesman added that conditions had not changed."
)


def data() -> MemoryStore:
    out: list[Item] = []
    for n in range(40):
        it = item(n, TITLES[n % len(TITLES)], minutes=23 * n, language=LANGS[n % len(LANGS)])
        actors = tuple(Actor(a, kind, 1) for a, kind in TITLE_ACTORS[n % len(TITLE_ACTORS)])
        it = replace(it, actors=actors, annotated=True)
        if n == 0:

            def at(word: str, actor: str) -> Mention:
                start = BODY.index(word)
                return Mention(actor, start, start + len(word), "text")

            it = replace(
                it,
                sources=(SOURCES[1], SOURCES[0], SOURCES[2]),
                text=BODY,
                actors=(
                    Actor("Kremlin", "organisation", 2),
                    Actor("Kyiv", "place", 2),
                    Actor("Moscow", "place", 1),
                ),
                mentions=(
                    Mention("Kremlin", 0, 7, "title"),
                    Mention("Kyiv", 24, 28, "title"),
                    at("Moscow", "Moscow"),
                    at("Kyiv", "Kyiv"),
                    at("Kremlin", "Kremlin"),
                ),
                dates=(DateRef("on Thursday", "2024-11-14", 12, 23, "text"),),
            )
        out.append(it)
    states = {
        SOURCES[0]: SourceState(SOURCES[0], "u", last_success=NOW - timedelta(minutes=4)),
        SOURCES[1]: SourceState(SOURCES[1], "u", last_success=NOW - timedelta(minutes=9)),
        SOURCES[2]: SourceState(
            SOURCES[2],
            "u",
            last_success=NOW - timedelta(hours=5),
            last_error="timeout",
            last_error_detail="no response within 30s",
            failures=4,
        ),
    }
    return MemoryStore(out, states)


def app() -> MonitorApp:
    """The data, with an analyst's triage: two items starred, the first tagged and noted
    (and unread: first seen as the triage began)."""
    filters = [SavedFilter("1", "Kremlin", "kremlin OR russie")]
    sets = settings(filters=filters)
    triage = Triage(sets.storage, now=fixed_now)
    triage.star(["id000000", "id000003"])
    triage.tag("Russia", ["id000000"])
    triage.tag("Follow-up", ["id000000", "id000004"])
    triage.note("id000000", "Ask the Moscow desk whether the conditions are new.")
    triage.close()
    return make_app(store=data(), settings=sets)


async def ready(pilot: Pilot[Any]) -> None:
    await settle(pilot)


def keys(*pressed: str) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press(*pressed)
        await settle(pilot, 0.3)

    return run


@pytest.mark.parametrize("size", [(120, 40), (80, 24), (200, 50)])
def test_dashboard(snap_compare: Snap, size: tuple[int, int]) -> None:
    """The headlines readable at every size: the actors column only when there is room."""
    assert snap_compare(app(), terminal_size=size, run_before=ready)


def test_empty_timeline_says_why(snap_compare: Snap) -> None:
    """A first start where every source fails: the timeline says so and what to try."""
    sets = settings()
    states = {
        s.name: SourceState(s.name, s.url, last_error="dns", failures=1) for s in sets.sources
    }
    empty = make_app(store=MemoryStore([], states), settings=sets, autopoll=False)
    assert snap_compare(empty, terminal_size=(120, 40), run_before=settle)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_article(snap_compare: Snap, size: tuple[int, int]) -> None:
    assert snap_compare(app(), terminal_size=size, run_before=keys("enter"))


def test_saved_filter_highlights(snap_compare: Snap) -> None:
    assert snap_compare(app(), terminal_size=(120, 40), run_before=keys("1"))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_filter_error(snap_compare: Snap, size: tuple[int, int]) -> None:
    """The error points into the query; the view keeps the last filter that parsed. That
    one is typed and applied first: typed in one go, which prefix the debounce caught
    depended on the machine's speed."""

    async def run(pilot: Pilot[Any]) -> None:
        await keys("slash", *"kremlin")(pilot)
        await pilot.press(*" (russie")
        await settle(pilot, 0.3)

    assert snap_compare(app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_sources_screen(snap_compare: Snap, size: tuple[int, int]) -> None:
    assert snap_compare(app(), terminal_size=size, run_before=keys("s"))


def test_help(snap_compare: Snap) -> None:
    assert snap_compare(app(), terminal_size=(120, 40), run_before=keys("question_mark"))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_tag_prompt(snap_compare: Snap, size: tuple[int, int]) -> None:
    """`t` on the first item: its tags now, a completion from the tags in use."""
    assert snap_compare(app(), terminal_size=size, run_before=keys("t", "f", "o"))


def test_note_editor(snap_compare: Snap) -> None:
    assert snap_compare(app(), terminal_size=(80, 24), run_before=keys("n"))


def test_small_screen_sources_pane(snap_compare: Snap) -> None:
    assert snap_compare(app(), terminal_size=(80, 24), run_before=keys("a", "tab"))


def test_small_screen_actors_pane(snap_compare: Snap) -> None:
    assert snap_compare(app(), terminal_size=(80, 24), run_before=keys("tab"))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_stories_view(snap_compare: Snap, size: tuple[int, int]) -> None:
    """`S`: the stories ranked, the columns named, the lead item in the article pane."""
    assert snap_compare(app(), terminal_size=size, run_before=keys("S"))
