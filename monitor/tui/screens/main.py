"""The dashboard's screen: the timeline, the side pane (actors, or sources), the article,
the filter line and the status bar."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from monitor.tui.widgets.actor_list import ActorList
from monitor.tui.widgets.article_pane import ArticlePane
from monitor.tui.widgets.filter_bar import FilterBar
from monitor.tui.widgets.pane_tabs import PaneTabs
from monitor.tui.widgets.source_list import SourceList
from monitor.tui.widgets.status_bar import StatusBar
from monitor.tui.widgets.timeline import Timeline

SIDES = ("actors", "sources")  # what the side pane shows; `a` switches
NARROW_WIDTH, NARROW_HEIGHT = 100, 30  # below either, one pane at a time


class MainScreen(Screen[None]):
    """The dashboard's panes. Tab cycles them; on small screens only the current one shows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "next_pane", "Next pane", id="pane.next"),
        Binding("shift+tab", "previous_pane", "Previous pane", id="pane.previous"),
    ]

    def __init__(self, now: Callable[[], datetime], tz: tzinfo | None) -> None:
        super().__init__(id="main")
        self.now, self.tz = now, tz
        self.pane = "timeline"
        self.side = "actors"

    @property
    def panes(self) -> tuple[str, str, str]:
        return ("timeline", self.side, "article")

    def compose(self) -> ComposeResult:
        yield PaneTabs(id="tabs")
        timeline = Timeline(now=self.now, tz=self.tz, id="timeline", classes="pane")
        timeline.border_title = "Timeline"
        actors = ActorList(id="actors", classes="pane")
        actors.border_title, actors.border_subtitle = "Actors", "view · 24h · trend"
        sources = SourceList(id="sources", classes="pane")
        sources.border_title, sources.border_subtitle = "Sources", "view · 24h"
        article = ArticlePane(id="article", classes="pane")
        article.border_title = "Article"
        with Horizontal(id="top"):
            yield timeline
            yield actors
            yield sources
        yield article
        with Vertical(id="bottom"):
            yield FilterBar(id="filter")
            yield StatusBar(id="status")

    def on_mount(self) -> None:
        self.query_one("#filter", FilterBar).display = False
        self.fit(self.app.size.width, self.app.size.height)
        self.set_side("actors")
        self.set_pane("timeline")
        self.query_one("#timeline").focus()

    def on_resize(self) -> None:
        self.fit(self.size.width, self.size.height)

    def fit(self, width: int, height: int) -> None:
        self.set_class(width < NARROW_WIDTH or height < NARROW_HEIGHT, "-narrow")

    def set_side(self, side: str) -> None:
        """Show the actors or the sources in the side pane."""
        moving = self.pane == self.side
        self.side = side
        for name in SIDES:
            self.set_class(name == side, f"-side-{name}")
        if moving:
            self.focus_pane(side)

    def set_pane(self, pane: str) -> None:
        self.pane = pane
        for name in (*self.panes, *SIDES):
            self.set_class(name == pane, f"-pane-{name}")
        self.query_one(PaneTabs).set_current(pane, self.panes)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        widget = event.widget
        if widget.id in self.panes and widget.id is not None:
            self.set_pane(widget.id)

    def action_next_pane(self) -> None:
        panes = self.panes
        self.focus_pane(
            panes[(panes.index(self.pane) + 1) % len(panes)] if self.pane in panes else "timeline"
        )

    def action_previous_pane(self) -> None:
        panes = self.panes
        self.focus_pane(
            panes[(panes.index(self.pane) - 1) % len(panes)] if self.pane in panes else "timeline"
        )

    def action_open_article(self) -> None:
        self.focus_pane("article")

    def focus_pane(self, pane: str) -> None:
        self.set_pane(pane)
        # At once, not on the next turn: keys typed right after go to the new pane.
        self.set_focus(self.query_one(f"#{pane}"))
