"""The dashboard: timeline, actors (or sources), article, status; polls in the background,
never blocks.

Thin: the application core (`monitor.io.session.Session`) polls, stores, queues and
filters; the main screen (`screens/main.py`) turns keys into calls to it and its events
into widget updates. The app holds the bindings, the screens and the messages."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.text import Text
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from monitor.config import Settings
from monitor.io.articles import ArticleFetcher
from monitor.io.clock import utcnow
from monitor.io.events import Event, Loaded
from monitor.io.session import PollFn, Session
from monitor.io.store import Store
from monitor.tui import text
from monitor.tui.commands import MonitorCommands
from monitor.tui.screens.alerts import AlertsScreen
from monitor.tui.screens.help import HelpScreen, render_help
from monitor.tui.screens.main import DEBOUNCE, MainScreen
from monitor.tui.screens.note_editor import NoteEditor
from monitor.tui.screens.sources import SourcesScreen
from monitor.tui.screens.tag_prompt import TagPrompt
from monitor.tui.widgets.actor_list import ActorList
from monitor.tui.widgets.article_pane import ArticlePane
from monitor.tui.widgets.source_list import SourceList
from monitor.tui.widgets.story_list import StoryList
from monitor.tui.widgets.table_list import TableList
from monitor.tui.widgets.tag_input import TagInput
from monitor.tui.widgets.timeline import Timeline

log = logging.getLogger(__name__)

SAVED_FILTER = "app.filter_"  # + the digit: the id of a saved filter's binding


def lock_notice(message: str) -> str:
    if message.startswith(("cannot write", "cannot lock", "cannot create")):
        return f"read-only: {message}; polling disabled"  # a full disk, a read-only system
    pid = re.search(r"\bpid (\d+)", message)
    who = f"another monitor (pid {pid.group(1)})" if pid else "another monitor"
    return f"read-only: {who} is writing; polling disabled"


class MonitorApp(App[int]):
    """The dashboard.

    `store` is open (as the writer unless `read_only`); the app never closes it.
    `poll` replaces the real poller and `articles` the page fetcher (tests, demos); `now`
    and `tz` fix the clock and the zone; `autopoll=False` starts no poll on its own.
    """

    CSS_PATH = "monitor.tcss"
    TITLE = "monitor"
    COMMANDS = App.COMMANDS | {MonitorCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_app", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help: every key", id="app.help"),
        Binding("r", "poll", "Poll now", id="app.poll"),
        Binding("s", "sources", "Sources screen (health)", id="app.sources"),
        Binding("exclamation_mark", "alerts", "Alerts screen (watches)", id="app.alerts"),
        Binding("a", "side", "Side pane: actors / sources", id="app.side"),
        Binding("slash", "filter", "Filter", id="app.filter", priority=True),
        Binding("escape", "clear", "Clear the filter", id="app.clear"),
        Binding("u", "utc", "Times in UTC / local", id="app.utc"),
        Binding("o", "open_link", "Open the link", id="app.open"),
        Binding("m", "seen", "Mark the items in view seen", id="app.seen"),
        Binding("D", "digest", "Export today's digest (current filter)", id="app.digest"),
        *[
            Binding(
                d,
                f"saved_filter('{d}')",
                f"Saved filter {d} (again: clear)",
                id=f"{SAVED_FILTER}{d}",
            )
            for d in "1234567890"
        ],
    ]

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        read_only: bool = False,
        lock_message: str = "",
        poll: PollFn | None = None,
        now: Callable[[], datetime] = utcnow,
        tz: tzinfo | None = None,
        autopoll: bool = True,
        articles: ArticleFetcher | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.lock_message = lock_message
        self.autopoll = autopoll
        self.debounce = DEBOUNCE
        executor = None
        if poll is None and not read_only:
            from monitor.io.loops import parse_pool

            # a process parses, and the requests run on a loop of their own, so that
            # this one answers keys during a poll of hundreds of feeds
            executor = parse_pool()
        self.session = Session(
            settings,
            store,
            read_only=read_only,
            listener=self.on_session,
            now=now,
            poll=poll,
            articles=articles,
            executor=executor,
            own_loop=True,
            text=articles is not None or poll is None,
            annotate=poll is None,
            views=True,
        )
        self.set_keymap(dict(settings.keys))
        self.main = MainScreen(self.session, tz)
        self.started = False
        self._schedule: asyncio.Task[None] | None = None

    def get_default_screen(self) -> Screen[None]:
        return self.main

    def on_mount(self) -> None:
        self.started = True
        if self.session.read_only:
            self.say(lock_notice(self.lock_message), "warning", timeout=15)
        unknown = self.unknown_key_ids()
        if unknown:
            self.say("[keys] in config.toml: no binding named " + ", ".join(unknown), "warning")
        self.main.update_status()
        self.main.arm_day_timer()
        # a task, not a worker: it runs as long as the app, and workers are what tests and
        # `workers.wait_for_complete` wait for
        self._schedule = asyncio.ensure_future(self.run_session())

    async def run_session(self) -> None:
        with self.session.reported("the schedule"):
            await self.session.run(autopoll=self.autopoll)

    def on_session(self, event: Event) -> None:
        if isinstance(event, Loaded) and event.first:
            gc.freeze()  # what start-up made lives as long as the app: out of full collections
        if self.started:  # handled as the app's own message: in its context, in order
            self.call_next(self.main.on_session, event)

    async def on_unmount(self) -> None:
        self.started = False  # the widgets go: the core's last events are not shown
        if self._schedule is not None:
            self._schedule.cancel()
            await asyncio.gather(self._schedule, return_exceptions=True)
        await self.session.close()
        if self.session.executor is not None:
            self.session.executor.shutdown(wait=False, cancel_futures=True)

    # -- actions -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dashboard actions only act on the dashboard, not under another screen."""
        if action in ("quit_app", "help", "poll", "command_palette", "quit"):
            return True
        if action in ("sources", "alerts"):
            return not isinstance(self.screen, SourcesScreen | AlertsScreen | HelpScreen)
        if not self.started or not self.screen_stack:
            return True
        if action == "filter" and isinstance(self.focused, Input):
            return False  # `/` is a priority key, so that keys typed right after it follow it
        return isinstance(self.screen, MainScreen)

    def action_quit_app(self) -> None:
        self.exit(0)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.help_text()))

    def action_poll(self) -> None:
        self.start_poll(force=True)

    def start_poll(self, *, force: bool = True, only: set[str] | None = None) -> bool:
        if self.session.read_only:
            self.say("read-only: polling disabled (another monitor is writing)", "warning")
            return False
        if not self.session.poll_now(force=force, only=only):
            self.say("a poll is already running")
            return False
        return True

    def poll_source(self, name: str) -> None:
        if self.start_poll(force=True, only={name}):
            self.say(f"polling {text.clean(name)}…")

    def action_sources(self) -> None:
        s = self.session
        screen = SourcesScreen(self.settings, s.now, self.poll_source, s.channel_health)
        screen.set_states(s.states, s.polling, set(s.polling_only))
        self.push_screen(screen)
        self.fresh_states()

    def fresh_states(self) -> None:
        async def read() -> None:
            await self.session.refresh_states()
            self.main.refresh_health()

        self.run_worker(read(), group="states", exclusive=True, exit_on_error=False)

    def action_alerts(self) -> None:
        if isinstance(self.screen, SourcesScreen):
            self.pop_screen()
        self.push_screen(AlertsScreen(self.session, self.main.zone, self.main.open_item))

    def action_side(self) -> None:
        self.main.set_side("sources" if self.main.side == "actors" else "actors")

    def action_filter(self) -> None:
        self.main.open_filter()

    def action_clear(self) -> None:
        self.main.clear_filter()

    def action_saved_filter(self, key: str) -> None:
        self.main.saved_filter(key)

    def action_utc(self) -> None:
        self.main.toggle_utc()

    def action_open_link(self) -> None:
        self.main.open_link()

    def action_seen(self) -> None:
        self.main.mark_seen()

    def action_digest(self) -> None:
        self.main.export_digest()

    # -- messages ----------------------------------------------------------------------------

    def say(
        self, message: str, severity: str = "information", timeout: float | None = None
    ) -> None:
        """notify() for any text: cleaned, never markup."""
        level = severity if severity in ("information", "warning", "error") else "information"
        self.notify(text.clean(message), markup=False, severity=level, timeout=timeout)  # type: ignore[arg-type]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that failed is reported, never fatal."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            log.error("worker %s failed: %r", event.worker.name, error)
            self.say(f"{event.worker.group} failed: {type(error).__name__}: {error}", "error")

    # -- help --------------------------------------------------------------------------------

    def sections(self) -> list[tuple[str, Sequence[BindingType]]]:
        """Every binding of the dashboard, by where it acts."""
        return [
            ("Everywhere", self.BINDINGS),
            ("Dashboard", MainScreen.BINDINGS),
            ("Timeline", Timeline.BINDINGS),
            ("Stories view (S)", StoryList.BINDINGS),
            ("Actors pane", ActorList.BINDINGS),
            ("Sources pane", SourceList.BINDINGS),
            ("Article pane", ArticlePane.BINDINGS),
            ("Sources screen", [*SourcesScreen.BINDINGS, *TableList.BINDINGS]),
            ("Alerts screen (!)", AlertsScreen.BINDINGS),
            ("Tag prompt (t, T)", [*TagPrompt.BINDINGS, *TagInput.BINDINGS]),
            ("Note editor (n)", NoteEditor.BINDINGS),
            ("Help", HelpScreen.BINDINGS),
        ]

    def unknown_key_ids(self) -> list[str]:
        """[keys] entries that name no binding (a typo would otherwise go unnoticed)."""
        known = {b.id for _, bindings in self.sections() for b in Binding.make_bindings(bindings)}
        return sorted(k for k in self.settings.keys if k not in known)

    def help_sections(self) -> list[tuple[str, Sequence[BindingType]]]:
        """`sections()` as the help shows them: of the digit keys, only the saved filters
        that [filters] defines, each with its name."""
        names = {f"{SAVED_FILTER}{f.key}": text.clean(f.name) for f in self.settings.filters}
        everywhere: list[BindingType] = []
        for binding in Binding.make_bindings(self.BINDINGS):
            if binding.id in names:
                description = names[binding.id] + " (saved filter; again: clear)"
                everywhere.append(replace(binding, description=description))
            elif not (binding.id or "").startswith(SAVED_FILTER):
                everywhere.append(binding)
        return [("Everywhere", everywhere), *self.sections()[1:]]

    def help_text(self) -> Text:
        keymap = {k: v for k, v in self.settings.keys.items() if v}
        return render_help(self, self.help_sections(), keymap)
