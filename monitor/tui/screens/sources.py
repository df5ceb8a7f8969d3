"""The sources screen: every source's health, then the alert channels' (from the alerts
ledger, read in a thread); `r` polls the selected source now."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from monitor.config import Settings
from monitor.core.humanize import (
    SENT_CHANNELS,
    ago,
    channel_status,
    error_words,
    shown_channels,
    span,
)
from monitor.model import ChannelHealth, SourceState
from monitor.tui import format, text
from monitor.tui.widgets.table_list import TableList

# (title, width or 0 for a share of what is left, right-aligned)
HEALTH_COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("source", 0, False),
    ("last success", 12, False),
    ("last error", 0, False),
    ("fails", 5, True),
    ("every", 5, True),
    ("items", 6, True),
    ("next poll", 10, False),
)
# the alert channels' rows under the same columns: pending deliveries where the items are
CHANNEL_TITLES = ("alert channel", "last success", "last error", "fails", "", "wait", "next try")
CHANNEL_KEY = "channel"  # a channel row's key is (CHANNEL_KEY, name): `r` polls no source
CHANNEL_REFRESH = 15.0  # seconds: deliveries go on while the screen is shown


def health_cells(width: int, cells: Sequence[Text | str], styles: Sequence[str] = ()) -> Text:
    fixed = sum(w for _, w, _ in HEALTH_COLUMNS) + len(HEALTH_COLUMNS) - 1
    flexible = max(10, width - fixed)
    shares = (flexible * 2 // 5, flexible - flexible * 2 // 5)
    line = Text(no_wrap=True, end="")
    share = 0
    for n, ((_, w, right), value) in enumerate(zip(HEALTH_COLUMNS, cells, strict=True)):
        if w == 0:
            w, share = shares[share], share + 1
        if n:
            line.append(" ")
        cell = format.cell(value, w, right=right)
        if n < len(styles) and styles[n]:
            cell.stylize(styles[n])
        line.append_text(cell)
    return line


class SourcesScreen(Screen[None]):
    """Health per source; `r` polls the selected one now."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,s", "close", "Back to the dashboard", id="health.close"),
        Binding("r", "poll_selected", "Poll the selected source now", id="health.poll"),
    ]

    def __init__(
        self,
        settings: Settings,
        now: Callable[[], datetime],
        poll_one: Callable[[str], None],
        read_channels: Callable[[], Awaitable[Sequence[ChannelHealth]]] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.now = now
        self.poll_one = poll_one
        self.read_channels = read_channels
        self.channels: Sequence[ChannelHealth] = ()
        self.states: Mapping[str, SourceState] = {}
        self.polling: set[str] = set()
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="health"):
            yield Static(id="health-title")
            yield Static(id="health-header")
            yield TableList(id="health-list")
            yield Static(id="health-detail")
            yield Static(
                Text("r: poll the selected source now · j/k: move · Esc: back", style="dim"),
                id="health-keys",
            )

    def on_mount(self) -> None:
        self.query_one(TableList).focus()
        self.render_rows()
        if self.read_channels is not None:
            self.reload_channels()
            self.set_interval(CHANNEL_REFRESH, self.reload_channels)

    @work(group="channels", exclusive=True, exit_on_error=False)
    async def reload_channels(self) -> None:
        if self.read_channels is not None:
            self.channels = await self.read_channels()
            self.render_rows()

    def on_resize(self) -> None:
        self.render_rows()

    def set_states(
        self, states: Mapping[str, SourceState], polling: bool, only: Iterable[str] = ()
    ) -> None:
        """Show `states`; while a poll runs, say so (per source when it polls only some)."""
        self.states = states
        self.busy = polling
        self.polling = set(only) if polling else set()
        if self.is_mounted:
            self.render_rows()

    def render_rows(self) -> None:
        table = self.query_one(TableList)
        width = table.scrollable_content_region.width or self.size.width - 4
        now = self.now()
        lines: list[tuple[Hashable, Text]] = []
        for source in self.settings.sources:
            st = self.states.get(source.name)
            if not source.enabled:
                nxt = "disabled"
            elif source.name in self.polling:
                nxt = "polling…"
            elif st is None or st.next_due is None or st.next_due <= now:
                nxt = "due now"
            else:
                nxt = ago(st.next_due, now)
            bad = "bold red" if st is not None and st.failures else ""
            cells: list[Text | str] = [
                text.text(source.name),
                ago(st.last_success, now) if st is not None else "never",
                text.text(error_words(st)),
                str(st.failures) if st is not None else "0",
                span(source.interval),
                str(st.item_count) if st is not None else "0",
                nxt,
            ]
            lines.append((source.name, health_cells(width, cells, ("", "", bad, bad))))
        lines += self.channel_lines(width, now)
        table.set_lines(lines)
        header = health_cells(width, [t for t, _, _ in HEALTH_COLUMNS])
        header.stylize("bold underline")
        self.query_one("#health-header", Static).update(header)
        ok, failing = format.tally(self.settings.sources, self.states)
        title = Text(
            f"Sources: {ok} ok, {failing} failing, {len(self.settings.sources)} configured"
        )
        title.stylize("bold")
        if self.busy:
            title.append("  polling…", style="bold reverse")
        self.query_one("#health-title", Static).update(title)
        self.show_detail()

    def channel_lines(self, width: int, now: datetime) -> list[tuple[Hashable, Text]]:
        """The alert channels' rows: a title and a heading, then one per channel that is
        configured or has deliveries in the ledger (none: no title either)."""
        on = [c for c in SENT_CHANNELS if self.settings.alerts.configured(c)]
        channels = shown_channels(self.channels, on)
        if not channels:
            return []
        heading = health_cells(width, CHANNEL_TITLES)
        heading.stylize("bold underline")
        lines: list[tuple[Hashable, Text]] = [
            ((CHANNEL_KEY,), Text("", end="")),
            ((CHANNEL_KEY, None), Text(self.channels_title(channels, on), "bold", end="")),
            ((CHANNEL_KEY, ""), heading),
        ]
        for h in channels:
            status = channel_status(h, h.channel in on)
            bad = "bold red" if h.failures or status == "not configured" else ""
            if h.next_try is None:
                nxt = ""
            elif h.next_try <= now:
                nxt = "due now"
            else:
                nxt = ago(h.next_try, now)
            cells: list[Text | str] = [
                text.text(f"{h.channel} ({status})"),
                ago(h.last_success, now),
                text.text(h.last_error or ""),
                str(h.failures),
                "",
                str(h.pending),
                nxt,
            ]
            lines.append(
                ((CHANNEL_KEY, h.channel), health_cells(width, cells, (bad, "", bad, bad)))
            )
        return lines

    @staticmethod
    def channels_title(channels: Sequence[ChannelHealth], on: Sequence[str]) -> str:
        failing = sum(1 for h in channels if h.failures)
        return f"Alert channels: {failing} failing, {len(on)} configured"

    @property
    def selected_channel(self) -> ChannelHealth | None:
        table = self.query_one(TableList)
        if 0 <= table.cursor < len(table.lines):
            key = table.lines[table.cursor][0]
            if isinstance(key, tuple) and len(key) == 2 and key[0] == CHANNEL_KEY:
                return next((h for h in self.channels if h.channel == key[1]), None)
        return None

    def show_detail(self) -> None:
        """The full error of the selected source or channel, which the table clips."""
        detail = self.query_one("#health-detail", Static)
        channel = self.selected_channel
        if channel is not None and channel.last_error:
            line = text.text(channel.channel, "bold")
            line.append(": ")
            line.append_text(text.text(channel.last_error))
            detail.update(line)
            return
        name = self.selected
        st = self.states.get(name) if name else None
        words = error_words(st)
        if name is None or not words:
            detail.update("")
            return
        line = text.text(name, "bold")
        line.append(": ")
        line.append_text(text.text(words))
        if st is not None and st.moved_to:
            line.append_text(text.text(f" (moved to {text.clean(st.moved_to)})"))
        detail.update(line)

    def on_row_list_moved(self) -> None:
        self.show_detail()

    @property
    def selected(self) -> str | None:
        table = self.query_one(TableList)
        if 0 <= table.cursor < len(table.lines):
            key = table.lines[table.cursor][0]
            return key if isinstance(key, str) else None
        return None

    def action_close(self) -> None:
        self.dismiss(None)

    def action_poll_selected(self) -> None:
        name = self.selected
        if name is not None:
            self.poll_one(name)
