"""Fuzzing the dashboard: 3,000 generated hostile items (titles, summaries, texts, source
and actor names, quotes, tags and notes) through every pane, page by page, and a filter
typed with hostile text. Nothing crashes, no error is said, and no screen line holds a
control, ESC or bidi character: every title is seen on screen at least once on the way."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from msgspec.structs import replace
from textual import events
from textual.widgets import Input

from monitor.io.triage import Triage
from monitor.model import Actor, Item, Quote
from monitor.tui.app import MonitorApp
from monitor.tui.screens.help import HelpScreen
from monitor.tui.screens.sources import SourcesScreen
from monitor.tui.screens.tag_prompt import TagPrompt
from monitor.tui.widgets.row_list import RowList
from tests.support.dashboard import make_app, settle
from tests.support.hostile import FORBIDDEN, MARKER, hostile_string
from tests.support.items import item, settings
from tests.support.memstore import MemoryStore

pytestmark = pytest.mark.anyio

SEED = 20241114
COUNT = 3000  # items: titles, summaries, texts
SOURCE_NAMES = 40
ACTOR_NAMES = 120
TAGS = 12
SIZE = (120, 40)

# Each generated string starts with its own label, so the screen shows which were drawn.
TITLE = re.compile(r"T(\d{4})~")
ACTOR = re.compile(r"A(\d{3})~")
SOURCE = re.compile(r"S(\d{2})~")


def no_surrogate(s: str) -> str:
    return re.sub("[\ud800-\udfff]", "", s)


def corpus() -> tuple[list[Item], list[str]]:
    """COUNT hostile items over SOURCE_NAMES hostile sources and ACTOR_NAMES hostile
    actors, and TAGS hostile tags; the same every run."""
    rng = random.Random(SEED)
    sources = [f"S{n:02d}~{hostile_string(rng, 6)}" for n in range(SOURCE_NAMES)]
    actors = [f"A{n:03d}~{hostile_string(rng, 6)}" for n in range(ACTOR_NAMES)]
    # the analyst's words are stored as UTF-8: no lone surrogate (a terminal sends none)
    tags = [f"tag{n}~{no_surrogate(hostile_string(rng, 4))}" for n in range(TAGS)]
    out = []
    for n in range(COUNT):
        body = "\n\n".join(hostile_string(rng) for _ in range(rng.randint(0, 4)))
        it = item(
            n,
            f"T{n:04d}~{hostile_string(rng)}",
            sources=rng.sample(sources, rng.randint(1, 2)),
            minutes=n * 3,
            text_=body or None,
            summary=hostile_string(rng),
            url=f"https://news.example/{n}/{hostile_string(rng, 3)}",
        )
        cast = rng.sample(actors, rng.randint(0, 3))
        out.append(
            replace(
                it,
                actors=tuple(Actor(a, "person", rng.randint(1, 4)) for a in cast),
                quotes=tuple(Quote(a, hostile_string(rng, 4)) for a in cast[:1]),
                author=hostile_string(rng, 3) if n % 7 == 0 else None,
                annotated=True,
            )
        )
    # every source and actor on at least one item, so each is in the side panes
    for n, name in enumerate(sources):
        out[n] = replace(out[n], sources=(name,))
    for n, name in enumerate(actors):
        it = out[SOURCE_NAMES + n]
        out[SOURCE_NAMES + n] = replace(it, actors=(*it.actors, Actor(name, "person", 1)))
    return out, tags


def check_screen(app: MonitorApp, where: str) -> str:
    """The screen as text, one line a strip, asserted inert."""
    strips = app.screen._compositor.render_strips()
    lines = ["".join(seg.text for seg in strip) for strip in strips]
    for y, line in enumerate(lines):
        bad = FORBIDDEN.search(line) or ("\n" in line and "\n")
        assert not bad, f"{where}: {bad!r} on screen line {y}: {line!r}"
    shown = "\n".join(lines)
    # whole sequences go whole: their payload never shows
    assert MARKER not in shown, f"{where}: an escape sequence's payload on screen"
    return shown


def check_app(app: MonitorApp) -> None:
    assert app.is_running
    assert app._exception is None
    for note in app._notifications:
        assert not note.markup, note.message
        assert note.severity != "error", note.message
        assert not FORBIDDEN.search(note.message), repr(note.message)


async def page_through(
    pilot: object, app: MonitorApp, widget: RowList, label: re.Pattern[str], where: str
) -> set[int]:
    """Page `widget` from its first row to its last; the labels seen on the way."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    seen: set[int] = set()
    await pilot.press("home")
    await pilot.pause()
    for _ in range(widget.row_count() + 2):
        seen.update(int(m) for m in label.findall(check_screen(app, where)))
        if widget.cursor >= widget.row_count() - 1:
            break
        await pilot.press("pagedown")
        await pilot.pause()
    assert widget.cursor == widget.row_count() - 1, f"{where}: the pages end short"
    return seen


@pytest.mark.timeout(120)
async def test_fuzz_3000_hostile_items_through_every_pane() -> None:
    items, tags = corpus()
    sets = settings(sources=[])
    triage = Triage(sets.storage)
    for n, tag in enumerate(tags):
        triage.tag(tag, [it.id for it in items[n::TAGS][:40]])
    for it in items[::97]:
        triage.note(it.id, no_surrogate(f"note~{it.title}\n{it.summary}"))
    triage.close()
    app = make_app(store=MemoryStore(items), settings=sets)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = app.main
        timeline = main.timeline
        assert timeline.row_count() == COUNT
        assert app.focused is timeline

        # The timeline, page by page: every title drawn once at least.
        seen = await page_through(pilot, app, timeline, TITLE, "timeline")
        assert seen == set(range(COUNT)), (
            f"titles never drawn: {sorted(set(range(COUNT)) - seen)[:20]}"
        )
        check_app(app)

        # Some articles opened, read to their end, and back.
        rng = random.Random(SEED + 1)
        for index in [*sorted(rng.sample(range(COUNT), 12)), 0, 97, COUNT - 1]:
            timeline.move_cursor(index)
            await pilot.press("enter")
            await settle(pilot)
            assert app.focused is main.article
            check_screen(app, f"article {index}")
            shown = main.article.plain
            assert f"T{index:04d}~" in shown
            assert not FORBIDDEN.search(shown), repr(shown)
            await pilot.press("pagedown", "end")
            await pilot.pause()
            check_screen(app, f"article {index}, its end")
            await pilot.press("escape")
            await pilot.pause()
            assert app.focused is timeline
        check_app(app)

        # The actors pane, page by page: every actor drawn; one picked, then none.
        await pilot.press("tab")
        await settle(pilot)
        assert app.focused is main.actors_pane
        # (names one actor by `name_key`, "A009~" and "A099~", are one row)
        rows = {int(m) for r in main.actors_pane.rows for m in ACTOR.findall(r.name)[:1]}
        assert len(rows) > ACTOR_NAMES * 0.9
        seen = await page_through(pilot, app, main.actors_pane, ACTOR, "actors")
        assert seen == rows
        await pilot.press("home", "enter")
        await settle(pilot)
        picked = main.actors_pane.current
        assert picked is not None and app.session.filter.actor == picked
        assert 0 < timeline.row_count() < COUNT
        check_screen(app, "timeline of one actor")
        await pilot.press("enter")
        await settle(pilot)
        assert app.session.filter.actor is None

        # The sources pane likewise.
        await pilot.press("a")
        await settle(pilot)
        assert app.focused is main.sources_pane
        assert len(main.sources_pane.rows) == SOURCE_NAMES
        seen = await page_through(pilot, app, main.sources_pane, SOURCE, "sources")
        assert seen == set(range(SOURCE_NAMES))
        await pilot.press("end", "enter")
        await settle(pilot)
        assert app.session.filter.source == main.sources_pane.current
        check_screen(app, "timeline of one source")
        await pilot.press("enter", "a", "shift+tab")
        await settle(pilot)
        assert app.focused is timeline
        check_app(app)

        # A filter typed with markup, then one pasted with controls, sequences and bidi.
        await pilot.press("slash", *"[@click=app.quit]", *"[bold red]x[/]")
        await settle(pilot, app.debounce)
        check_screen(app, "filter typed")
        field = main.filter_bar.query_one(Input)
        frng = random.Random(SEED + 2)
        for _ in range(8):
            field.value = hostile_string(frng)
            await settle(pilot, app.debounce)
            check_screen(app, f"filter {field.value!r}")
        field.value = "T0042~"
        field.post_message(events.Paste(f" {hostile_string(frng, 4)}"))  # pasted
        await settle(pilot, app.debounce)
        assert not FORBIDDEN.search(field.value), repr(field.value)
        await pilot.press("enter")
        await settle(pilot)
        check_screen(app, "filter applied")
        await pilot.press("escape")
        await settle(pilot)
        assert timeline.row_count() == COUNT
        check_app(app)

        # The tag prompt, the sources screen and the help over hostile items.
        timeline.move_cursor(0)  # a tagged and noted item
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, TagPrompt)
        check_screen(app, "tag prompt")
        prompt = app.screen.query_one(Input)
        prompt.post_message(events.Paste(hostile_string(frng)))
        await pilot.press(*"[b]x")
        await settle(pilot)
        assert not FORBIDDEN.search(prompt.value), repr(prompt.value)
        check_screen(app, "tag prompt, typed in")
        await pilot.press("escape")
        await settle(pilot)
        for key, screen in (("s", SourcesScreen), ("question_mark", HelpScreen)):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, screen)
            check_screen(app, key)
            await pilot.press("pagedown", "end")
            await pilot.pause()
            check_screen(app, f"{key}, its end")
            await pilot.press("escape")
            await settle(pilot)
        check_app(app)
        check_screen(app, "at the end")
    assert app.return_code in (None, 0)


def test_the_corpus_is_hostile() -> None:
    """The fuzz is not a no-op: the items hold what the gate must take away."""
    items, tags = corpus()
    assert len({it.title for it in items}) == COUNT
    fields = [f for it in items for f in (it.title, it.summary, it.text or "", *it.sources)]
    fields += [a.name for it in items for a in it.actors] + tags
    joined = "".join(fields)
    for needle in ("\x1b]", "\x1b[", "\x1bP", "\x1b_", "\x9b", "\x07", "\u202e", "\u2066"):
        assert needle in joined, repr(needle)
    for needle in ("[@click=app.quit]", "[link=file:///etc/passwd]", "\ud800", "北京", MARKER):
        assert needle in joined, repr(needle)
    assert sum(FORBIDDEN.search(it.title) is not None for it in items) > COUNT * 0.9
    assert max(len(it.title) for it in items) > 1000
    assert items[0].published - items[-1].published == timedelta(minutes=3 * (COUNT - 1))
