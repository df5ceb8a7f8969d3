"""The alerts screen (`!`): the watches' alerts newest first, each with its watch, its
sources and the matched words in context; `Enter` opens the item, `m` marks them seen."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from monitor.core.query import highlight_spans
from monitor.io.session import Session
from monitor.model import Alert
from monitor.tui import format, text
from monitor.tui.widgets.table_list import TableList

WATCH_WIDTH = 16


def alert_row(alert: Alert, width: int, zone: tzinfo | None) -> Text:
    """One alert as a row: when, the watch, "+N" sources, the title (unseen in bold)."""
    when = format.local(alert.at, zone).strftime("%m-%d %H:%M")
    line = Text(f"{when} ", style="dim", no_wrap=True, end="")
    line.append_text(format.cell(text.text(alert.watch, "bold"), WATCH_WIDTH))
    line.append(f" {f'+{alert.more}' if alert.more else '':>4} ", style="bold")
    line.append_text(text.text(alert.title, "" if alert.seen else "bold"))
    line.truncate(max(1, width), overflow="ellipsis")
    return line


def context_line(alert: Alert) -> Text:
    """The keyword-in-context line, the matched words highlighted (from the plain text:
    no markup)."""
    shown = text.text(alert.context)
    for a, b in highlight_spans(shown.plain, alert.matched):
        shown.stylize("bold reverse", a, b)
    return shown


class AlertsScreen(Screen[None]):
    """The alerts, newest first; `open_item` shows an item in the dashboard's article pane."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,exclamation_mark", "close", "Back to the dashboard", id="alerts.close"),
        Binding("enter", "open", "Open the alert's item", id="alerts.open"),
        Binding("m", "seen", "Mark every alert seen", id="alerts.seen"),
    ]

    def __init__(
        self, session: Session, zone: tzinfo | None, open_item: Callable[[str], None]
    ) -> None:
        super().__init__()
        self.session = session
        self.zone = zone
        self.open_item = open_item
        self.alerts: Sequence[Alert] = ()

    def compose(self) -> ComposeResult:
        with Vertical(id="alerts"):
            yield Static(id="alerts-title")
            yield TableList(id="alerts-list")
            yield Static(id="alerts-detail")
            yield Static(
                Text(
                    "Enter: open the item · m: mark every alert seen · j/k: move · Esc: back",
                    style="dim",
                ),
                id="alerts-keys",
            )

    def on_mount(self) -> None:
        self.query_one(TableList).focus()
        self.render_rows()
        self.reload()

    def on_resize(self) -> None:
        self.render_rows()

    @work(group="alerts", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        self.alerts = await self.session.read_alerts()
        await self.session.refresh_alerts()
        self.render_rows()

    def render_rows(self) -> None:
        table = self.query_one(TableList)
        width = table.scrollable_content_region.width or self.size.width - 4
        rows: list[tuple[Hashable, Text]] = [
            (a.id, alert_row(a, width, self.zone)) for a in self.alerts
        ]
        table.set_lines(rows)
        unseen = sum(1 for a in self.alerts if not a.seen)
        title = Text(f"Alerts: {len(self.alerts):,}, {unseen:,} unseen", style="bold")
        if not self.session.settings.watches:
            title.append("  (no [[watches]] in config.toml)", style="dim")
        self.query_one("#alerts-title", Static).update(title)
        self.show_detail()

    @property
    def selected(self) -> Alert | None:
        table = self.query_one(TableList)
        if 0 <= table.cursor < len(self.alerts):
            return self.alerts[table.cursor]
        return None

    def show_detail(self) -> None:
        """The selected alert's sources and its words in context."""
        detail = self.query_one("#alerts-detail", Static)
        alert = self.selected
        if alert is None:
            detail.update("")
            return
        line = text.text(", ".join(alert.sources), "bold")
        line.append("\n")
        line.append_text(context_line(alert))
        detail.update(line)

    def on_row_list_moved(self) -> None:
        self.show_detail()

    def on_row_list_chosen(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        alert = self.selected
        if alert is not None and alert.items:
            self.dismiss(None)
            self.open_item(alert.items[0].id)

    def action_seen(self) -> None:
        self.mark_seen([a.id for a in self.alerts if not a.seen])

    @work(group="alerts-seen", exit_on_error=False)
    async def mark_seen(self, ids: list[int]) -> None:
        n = await self.session.mark_alerts_seen(ids)
        self.notify(f"marked {n} alert{'s' if n != 1 else ''} seen", markup=False)
        self.reload()

    def action_close(self) -> None:
        self.dismiss(None)
