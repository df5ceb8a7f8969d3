"""Driving the dashboard in tests: an app over an in-memory store with a fake poll and a
fixed clock, the screen as text, and a wait for its work to settle."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from textual.pilot import Pilot

from monitor.config import Settings
from monitor.io.store import Store
from monitor.model import Item, PollReport, SourceResult, SourceState
from monitor.tui.app import MonitorApp
from tests.support.items import NOW, fixed_now, items, settings
from tests.support.memstore import MemoryStore

if TYPE_CHECKING:
    from monitor.io.session import Session


class FakePoll:
    """A poll that writes queued items into the store: no network."""

    def __init__(self) -> None:
        self.calls: list[tuple[bool, set[str] | None]] = []
        self.queue: list[Item] = []
        self.fail: Exception | None = None
        self.states: list[SourceState] = []

    async def __call__(
        self, settings: Settings, store: Store, *, force: bool = False, only: set[str] | None = None
    ) -> PollReport:
        self.calls.append((force, only))
        if self.fail is not None:
            raise self.fail
        batch, self.queue = self.queue, []
        outcomes = store.write(batch, self.states)
        results = tuple(
            SourceResult(s.name, "ok", new=outcomes.count("new"))
            for s in settings.sources
            if only is None or s.name in only
        )
        return PollReport(started=NOW, finished=NOW, results=results)


def quiet_session(settings: Settings, store: Store, **kw: Any) -> Session:
    """A session over `store` with the fixed clock and a fake poll, no article pages and no
    actors: what the core does with the items, and nothing else."""
    from monitor.io.session import Session

    return Session(
        settings, store, now=fixed_now, poll=FakePoll(), annotate=False, text=False, **kw
    )


def make_app(
    count: int = 30,
    *,
    store: MemoryStore | None = None,
    poll: FakePoll | None = None,
    **kwargs: object,
) -> MonitorApp:
    sets = kwargs.pop("settings", None) or settings()
    app = MonitorApp(
        sets,  # type: ignore[arg-type]
        store if store is not None else MemoryStore(items(count)),
        poll=poll if poll is not None else FakePoll(),
        now=fixed_now,
        tz=UTC,
        **kwargs,  # type: ignore[arg-type]
    )
    # rows are seen under a resting cursor only where a test asks: a timer would make
    # the marks on screen depend on the machine's speed
    app.session.seen_after = 3600.0
    return app


def screen_text(app: MonitorApp) -> str:
    """What the terminal shows, as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


async def settle(pilot: object, pause: float = 0.0) -> None:
    """Let timers, workers and repaints finish."""
    assert isinstance(pilot, Pilot)
    if pause:
        await pilot.pause(pause)
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        if isinstance(pilot.app, MonitorApp):
            await _idle(pilot)
    await pilot.pause()


async def _idle(pilot: Pilot[object]) -> None:
    """The app's schedule waits for its next poll, and what its polls queued is done."""
    app = pilot.app
    assert isinstance(app, MonitorApp)
    for _ in range(500):
        schedule = app._schedule  # None until the app is mounted
        if schedule is not None and (schedule.done() or app.session.waiting.is_set()):
            break
        await pilot.pause(0.01)
    await app.session.settle()


def notes(app: MonitorApp) -> list[str]:
    """The messages of the notifications on screen."""
    return [n.message for n in app._notifications]
