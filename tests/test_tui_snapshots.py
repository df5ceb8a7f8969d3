"""Screenshots of the dashboard at 120x40 and 80x24, fixed clock and data.

Update after a deliberate change with `uv run pytest tests/test_tui_snapshots.py --snapshot-update`
and look at the SVGs in tests/__snapshots__/ before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from textual.pilot import Pilot

from monitor.config import SavedFilter
from monitor.model import Item, SourceState
from monitor.tui.app import MonitorApp
from monitor.tui.memory import MemoryStore
from tests.test_tui_support import NOW, SOURCES, item, make_app, settings, settle

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


def data() -> MemoryStore:
    out: list[Item] = []
    for n in range(40):
        it = item(n, TITLES[n % len(TITLES)], minutes=23 * n, language=LANGS[n % len(LANGS)])
        if n == 0:
            it = replace(
                it,
                sources=(SOURCES[1], SOURCES[0], SOURCES[2]),
                text="Moscow said on Thursday that talks with Kyiv were possible.\n\n"
                "The Kremlin spokesman added that conditions had not changed.",
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
    filters = [SavedFilter("1", "Kremlin", "kremlin OR russie")]
    return make_app(store=data(), settings=settings(filters=filters))


async def ready(pilot: Pilot[Any]) -> None:
    await settle(pilot)


def keys(*pressed: str) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press(*pressed)
        await settle(pilot, 0.3)

    return run


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_dashboard(snap_compare: Snap, size: tuple[int, int]) -> None:
    assert snap_compare(app(), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_article(snap_compare: Snap, size: tuple[int, int]) -> None:
    assert snap_compare(app(), terminal_size=size, run_before=keys("enter"))


def test_saved_filter_highlights(snap_compare: Snap) -> None:
    assert snap_compare(app(), terminal_size=(120, 40), run_before=keys("1"))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_filter_error(snap_compare: Snap, size: tuple[int, int]) -> None:
    run = keys("slash", *"kremlin (russie")
    assert snap_compare(app(), terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_sources_screen(snap_compare: Snap, size: tuple[int, int]) -> None:
    assert snap_compare(app(), terminal_size=size, run_before=keys("s"))


def test_help(snap_compare: Snap) -> None:
    assert snap_compare(app(), terminal_size=(120, 40), run_before=keys("question_mark"))


def test_small_screen_sources_pane(snap_compare: Snap) -> None:
    assert snap_compare(app(), terminal_size=(80, 24), run_before=keys("tab"))
