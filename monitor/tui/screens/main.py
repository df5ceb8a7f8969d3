"""The dashboard's screen: the timeline, the side pane (actors, or sources), the article,
the filter line and the status bar. It turns its widgets' events into calls to the
application core (`monitor.io.session`) and the core's events into widget updates."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta, tzinfo
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Input, Static

from monitor.core.humanize import dropped_words, empty_reason
from monitor.core.query import QueryError, actor_query, source_query
from monitor.core.story_view import SCORE_SHORT
from monitor.core.urls import check_url
from monitor.core.view import View
from monitor.io.events import (
    ActorsFound,
    AlertRaised,
    ChannelNotice,
    DigestWritten,
    Dropped,
    Event,
    Loaded,
    PollEnded,
    PollStarted,
    Problem,
    Scheduled,
    TextArrived,
    TextsDone,
    TextsQueued,
    TriageChanged,
    ViewChanged,
)
from monitor.io.session import Session
from monitor.model import Alert, Entry
from monitor.tui import format, text
from monitor.tui.screens.story_keys import StoryKeys
from monitor.tui.widgets.actor_list import ActorList
from monitor.tui.widgets.article_pane import ArticlePane
from monitor.tui.widgets.filter_bar import FilterBar, FilterInput
from monitor.tui.widgets.pane_tabs import PaneTabs
from monitor.tui.widgets.row_list import RowList
from monitor.tui.widgets.source_list import SourceList
from monitor.tui.widgets.status_bar import StatusBar, status_text
from monitor.tui.widgets.story_list import StoryList
from monitor.tui.widgets.timeline import Timeline

if TYPE_CHECKING:
    from monitor.tui.app import MonitorApp

DEBOUNCE = 0.15  # seconds between the last keystroke in the filter and filtering
LOADING_AFTER = 0.05  # seconds: an article not read by then shows its header and "loading"

SIDES = ("actors", "sources")  # what the side pane shows; `a` switches
NARROW_WIDTH, NARROW_HEIGHT = 100, 30  # below either, one pane at a time


class MainScreen(StoryKeys):
    """The dashboard's panes. Tab cycles them; on small screens only the current one shows."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "next_pane", "Next pane", id="pane.next"),
        Binding("shift+tab", "previous_pane", "Previous pane", id="pane.previous"),
        Binding("S", "toggle_stories", "Stories view / timeline", id="stories.toggle"),
        Binding("f", "star", "Star / unstar the item", id="triage.star"),
        Binding("t", "tag", "Tag the item (-tag removes it)", id="triage.tag"),
        Binding("T", "tag_view", "Tag every item in view", id="triage.tag_view"),
        Binding("n", "note", "Edit the item's note", id="triage.note"),
        Binding("M", "story_seen", "Mark the item's whole story seen", id="triage.story_seen"),
    ]

    def __init__(self, session: Session, tz: tzinfo | None) -> None:
        super().__init__(id="main")
        self.session = session
        self.now, self.tz = session.now, tz
        self.pane = "timeline"
        self.side = "actors"
        self.utc = False
        self._reader = ThreadPoolExecutor(1, "article")  # reads the shown item
        self._filter_timer: Timer | None = None
        self._day_timer: Timer | None = None
        self._reread_article = False  # the store was read again: so is the shown item
        self._ready = False  # mounted: the core's events can be shown

    @property
    def panes(self) -> tuple[str, ...]:
        if self.stories_shown:  # the stories take the timeline's and the side pane's room
            return ("stories", "article")
        return ("timeline", self.side, "article")

    def compose(self) -> ComposeResult:
        yield PaneTabs(id="tabs")
        timeline = Timeline(
            now=self.now, marks=self.session.marks, tz=self.tz, id="timeline", classes="pane"
        )
        timeline.border_title = "Timeline"
        actors = ActorList(id="actors", classes="pane")
        actors.border_title, actors.border_subtitle = "Actors", "view · 24h · trend"
        sources = SourceList(id="sources", classes="pane")
        sources.border_title, sources.border_subtitle = "Sources", "view · 24h"
        article = ArticlePane(id="article", classes="pane")
        article.border_title = "Article"
        stories = StoryList(now=self.now, unread=self.session.unread, tz=self.tz, id="stories")
        with Horizontal(id="top"):
            yield timeline
            with Vertical(id="stories-box", classes="pane") as box:
                box.border_title, box.border_subtitle = "Stories", SCORE_SHORT
                yield Static(id="stories-header")
                yield stories
            yield actors
            yield sources
        yield article
        with Vertical(id="bottom"):
            yield FilterBar(id="filter")
            yield StatusBar(id="status")

    def on_mount(self) -> None:
        self.query_one("#filter", FilterBar).display = False
        self.story_list.header = self.query_one("#stories-header", Static)
        stories = self.session.stories
        self.article.pickup = lambda entry_id: stories.line(
            entry_id, lambda moment: f"{format.local(moment, self.zone):%H:%M}"
        )
        self.fit(self.app.size.width, self.app.size.height)
        self.set_side("actors")
        self.set_pane("timeline")
        self.query_one("#timeline").focus()
        self._ready = True
        if self.session.loaded:  # the core was quicker than the widgets
            self.apply_view(self.session.view)
        self.update_status()

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
        for name in ("timeline", "stories", *SIDES, "article"):
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
        if pane == "timeline" and self.stories_shown:  # a filter applied: see its items
            self.show_stories(False)
            return
        self.set_pane(pane)
        # At once, not on the next turn: keys typed right after go to the new pane.
        self.set_focus(self.query_one(f"#{pane}"))

    # -- widgets -------------------------------------------------------------------------------

    @property
    def timeline(self) -> Timeline:
        return self.query_one("#timeline", Timeline)

    @property
    def sources_pane(self) -> SourceList:
        return self.query_one("#sources", SourceList)

    @property
    def actors_pane(self) -> ActorList:
        return self.query_one("#actors", ActorList)

    @property
    def article(self) -> ArticlePane:
        return self.query_one("#article", ArticlePane)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one("#filter", FilterBar)

    @property
    def zone(self) -> tzinfo | None:
        return UTC if self.utc else self.tz

    @property
    def words(self) -> tuple[str, ...]:
        return self.session.filter.words

    def say(
        self, message: str, severity: str = "information", timeout: float | None = None
    ) -> None:
        app: MonitorApp = self.app  # type: ignore[assignment]
        app.say(message, severity, timeout)

    # -- the core's events ---------------------------------------------------------------------

    def on_session(self, event: Event) -> None:
        """Turn what the core reports into widget updates."""
        match event:  # what is said needs no widget
            case PollEnded(_, failure, _) if failure:
                self.say(failure, "error")
            case DigestWritten(run) if run.written:
                self.say(f"digest of {run.day.isoformat()} written to {run.written[0].parent}")
            case Dropped(count, before, kept) if count:
                self.say(f"retention: {dropped_words(count, before, kept)}")
            case Problem(_, message):
                self.say(message, "error")
            case ChannelNotice(_, message, ok):
                self.say(message, "information" if ok else "error")
            case TriageChanged(_, message, auto) if message and not auto:
                self.say(message)
            case AlertRaised(alerts, _):
                for alert in alerts:
                    self.announce(alert)
        if not self._ready or not self.is_attached:
            return  # not yet mounted (`on_mount` shows the state then), or closing
        self.stories_event(event)
        match event:
            case Loaded(_, first):
                if self.session.settings.watches:
                    self.refresh_alerts()  # another process may raise them
                if not first:
                    self._reread_article = True
                # the triage was read again too: another dashboard's marks, tags, notes
                self.timeline.refresh_marks()
                self.article.set_triage(self.session.triage_state)
                self.refresh_health()
            case TriageChanged(ids, _, _):
                self.timeline.refresh_marks(ids)
                self.article.set_triage(self.session.triage_state)
            case ViewChanged(view):
                self.apply_view(view)
                current = self.timeline.current
                if self._reread_article and current is not None:
                    self.load_article(current)  # the shown item may have changed (its text)
                self._reread_article = False
            case TextsQueued() | TextsDone():  # "fetching text…" on the shown item, or not
                current = self.timeline.current
                queued = isinstance(event, TextsQueued)
                if current is not None and (not queued or current.id in self.session.fetching):
                    self.show_article(current)
            case TextArrived(item):
                current = self.timeline.current
                if current is not None and current.id == item.id:
                    self.show_article(current)
            case PollStarted() | Scheduled() | ActorsFound() | PollEnded():
                self.refresh_health()
            case _:
                pass
        if not isinstance(event, Loaded):  # the view follows at once, and the status with it
            self.update_status()

    # -- alerts ------------------------------------------------------------------------------

    def announce(self, alert: Alert) -> None:
        """An instant alert outside its watch's quiet hours: a notification ("dashboard")
        and the terminal bell ("bell"). The one place an alert reaches the terminal."""
        from monitor.core.alerts import due_at
        from monitor.io.digest import zone

        watch = next((w for w in self.session.settings.watches if w.name == alert.watch), None)
        if watch is None or watch.every != "instant":
            return
        now, tz = self.session.now(), zone(self.session.settings.digest.timezone)[0]
        if due_at(now, "instant", watch.quiet, tz) > now:
            return
        if "dashboard" in watch.notify:
            more = f" (+{alert.more} sources)" if alert.more else ""
            self.say(f"{alert.watch}: {alert.title}{more}", timeout=10)
        if "bell" in watch.notify:  # BEL, and a desktop notification where supported
            from monitor.tui import notify

            notify.ring(self.app, alert.watch, alert.title)

    def on_screen_resume(self) -> None:
        self.update_status()  # the alerts screen may have marked alerts seen

    @work(group="alert-counts", exclusive=True, exit_on_error=False)
    async def refresh_alerts(self) -> None:
        await self.session.refresh_alerts()
        self.update_status()

    def open_item(self, item_id: str) -> None:
        """Show a stored item in the article pane (an alert's, which the view may not
        hold): the timeline's row when it has one, else the item alone."""
        rows = self.timeline.entries
        found = next((i for i, e in enumerate(rows) if e.id == item_id), None)
        if found is not None:
            self.timeline.move_cursor(found)
            self.focus_pane("article")
            return
        entry = next((e for e in self.session.entries if e.id == item_id), None)
        if entry is None:
            self.say("this item is no longer stored", "warning")
            return
        self.show_alone(entry)

    @work(group="article", exclusive=True, exit_on_error=False)
    async def show_alone(self, entry: Entry) -> None:
        item = await asyncio.to_thread(self.session.store.get, entry.id)
        self.article.show(entry, item, tz=self.zone)
        self.focus_pane("article")

    def refresh_health(self) -> None:
        from monitor.tui.screens.sources import SourcesScreen

        screen = self.app.screen
        if isinstance(screen, SourcesScreen):
            s = self.session
            screen.set_states(s.states, s.polling, set(s.polling_only))

    def update_status(self) -> None:
        if not self._ready:
            return
        s = self.session
        if not s.view.entries:  # the empty timeline says why
            flt = s.filter
            filtered = bool(s.entries) and (flt.query, flt.source, flt.actor) != (None,) * 3
            self.timeline.set_empty(
                empty_reason(
                    loaded=s.loaded,
                    polling=s.polling,
                    sources=s.settings.sources,
                    states=s.states,
                    filtered=filtered,
                )
            )
        self.query_one("#status", StatusBar).show(
            status_text(self.session, self.filter_label, self.zone)
        )

    @property
    def filter_label(self) -> str:
        flt = self.session.filter
        parts = []
        if flt.saved is not None:
            saved = next((f for f in self.session.settings.filters if f.key == flt.saved), None)
            parts.append(f"{flt.saved}: {text.clean(saved.name if saved else flt.text)}")
        elif flt.text:
            parts.append(flt.text)
        if flt.source is not None:
            parts.append(text.clean(source_query(flt.source).text))
        if flt.actor is not None:
            parts.append(text.clean(actor_query(flt.actor).text))
        return " + ".join(parts)

    def apply_view(self, view: View) -> None:
        self.article.set_triage(self.session.triage_state)
        before = self.timeline.current
        # one story's items, in the order they ran: the first marked
        story = self.session.filter.story is not None and view.entries
        self.timeline.first = view.entries[0].id if story else None
        self.timeline.set_entries(view.entries)
        self.timeline.border_title = f"Timeline · {len(view.entries):,}"
        self.sources_pane.set_rows(view.sources, self.session.filter.source)
        self.actors_pane.set_rows(view.actors, self.session.filter.actor)
        current = self.timeline.current
        shown = self.article.entry
        if current is None:
            self.article.show(None, None, tz=self.zone)
        elif before is None or shown is None or shown.id != current.id:
            self.show_article(current)
        elif self.article.words != self.words:
            self.article.show(shown, self.article.item, tz=self.zone, words=self.words)
        self.filter_bar.query_one(FilterInput).send_on()  # keys typed ahead of Enter or Esc

    # -- the article ---------------------------------------------------------------------------

    def show_article(self, entry: Entry | None) -> None:
        if self.stories_shown:  # the article follows the stories' cursor
            self.show_lead()
            return
        if entry is None:
            self.article.show(None, None, tz=self.zone)
            return
        self.load_article(entry)

    @work(group="article", exclusive=True, exit_on_error=False)
    async def load_article(self, entry: Entry) -> None:
        # One reader thread: while a write holds the store, the moves of the cursor wait
        # there, the older ones cancelled, instead of filling the loop's thread pool.
        loop = asyncio.get_running_loop()
        read = loop.run_in_executor(self._reader, self.session.store.get, entry.id)
        try:
            # Shown once it is read, in one repaint; "loading" only if the read is slow.
            done, _ = await asyncio.wait([read], timeout=LOADING_AFTER)
            current = self.timeline.current
            if not done and current is not None and current.id == entry.id:
                pending = entry.id in self.session.fetching
                self.article.show(
                    entry, None, tz=self.zone, words=self.words, loading=True, pending=pending
                )
            item = await read
        except asyncio.CancelledError:
            read.cancel()  # a newer move: not read at all if the reader has not begun
            raise
        if self.timeline.current is not None and self.timeline.current.id == entry.id:
            pending = entry.id in self.session.fetching
            self.article.show(entry, item, tz=self.zone, words=self.words, pending=pending)

    def on_unmount(self) -> None:
        self._reader.shutdown(wait=False, cancel_futures=True)

    # -- the widgets' events -------------------------------------------------------------------

    @on(RowList.Moved, "#timeline")
    def timeline_moved(self) -> None:
        self.show_article(self.timeline.current)
        self.session.rest(self.timeline.current)  # seen once the cursor rests there
        self.update_status()

    @on(RowList.Chosen, "#timeline")
    def timeline_chosen(self) -> None:
        self.focus_pane("article")

    @on(RowList.Chosen, "#sources")
    def source_chosen(self) -> None:
        self.session.pick_source(self.sources_pane.current)

    @on(RowList.Chosen, "#actors")
    def actor_chosen(self) -> None:
        self.session.pick_actor(self.actors_pane.current)

    @on(ArticlePane.Refetch)
    def refetch_text(self) -> None:
        entry = self.timeline.current
        if entry is not None:
            self.refetch(entry)

    @work(group="refetch", exit_on_error=False)
    async def refetch(self, entry: Entry) -> None:
        self.say(await self.session.refetch(entry))

    # -- the filter ----------------------------------------------------------------------------

    def set_filter(self, value: str, saved: str | None = None) -> bool:
        """Parse and apply a query. A malformed one shows where and why; nothing raises."""
        try:
            self.session.set_filter(value, saved)
        except QueryError as exc:
            self.filter_bar.display = True
            self.filter_bar.show_error(str(exc.message), int(exc.position))
            return False
        except Exception as exc:  # a bug in the parser must not take the dashboard down
            self.filter_bar.display = True
            self.filter_bar.show_error(f"cannot read this query: {exc}", 0)
            return False
        self.filter_bar.show_error(None)
        self.timeline.set_words(self.words)  # the status follows with the view
        return True

    @on(Input.Changed, "#filter-input")
    def filter_typed(self, event: Input.Changed) -> None:
        if not self.filter_bar.display or event.value != event.input.value:
            return  # typed before Esc or Enter, or superseded by a later keystroke
        if self._filter_timer is not None:
            self._filter_timer.stop()
        value = event.value
        app: MonitorApp = self.app  # type: ignore[assignment]
        self._filter_timer = self.set_timer(app.debounce, lambda: self.set_filter(value))

    @on(Input.Submitted, "#filter-input")
    def filter_submitted(self, event: Input.Submitted) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        if self.set_filter(event.value):
            self.filter_bar.display = False
            self.focus_pane("timeline")
        else:
            self.filter_bar.query_one(FilterInput).resume()

    def open_filter(self) -> None:
        bar = self.filter_bar
        bar.display = True
        field = bar.query_one(Input)
        if field.value != self.session.filter.text:
            with field.prevent(Input.Changed):
                field.value = self.session.filter.text
        # At once, not on the next turn: keys typed right after `/` go to the field.
        self.set_focus(field)
        field.cursor_position = len(field.value)

    def clear_filter(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        bar = self.filter_bar
        field = bar.query_one(Input)
        with field.prevent(Input.Changed):
            field.value = ""
        bar.show_error(None)
        bar.display = False
        self.session.clear_filter()
        self.timeline.set_words(())
        self.update_status()
        if self.focused is None or self.focused is field:
            self.focus_pane("timeline")

    def saved_filter(self, key: str) -> None:
        saved = next((f for f in self.session.settings.filters if f.key == key), None)
        if saved is None:
            self.say("no saved filter on " + key + " (add one under [filters] in config.toml)")
        elif self.session.filter.saved == key:
            self.set_filter("")
        elif not self.set_filter(saved.query, key):
            self.say(f"saved filter {key} is malformed", "error")

    # -- other keys ----------------------------------------------------------------------------

    def toggle_utc(self) -> None:
        self.utc = not self.utc
        self.timeline.set_utc(self.utc)
        self.story_list.set_utc(self.utc)
        self.show_article(self.timeline.current)
        self.say("times in UTC" if self.utc else "times in the local zone")

    def open_link(self) -> None:
        url = self.article.url
        if url is None and self.timeline.current is not None:
            url = self.timeline.current.url
        if not url:
            self.say("this item has no link")
        elif check_url(url):
            self.say(f"not opening a link that is not http(s): {url}", "warning")
        else:
            self.say(f"opening {url}")
            self.app.open_url(url)

    def mark_seen(self) -> None:
        story = self.story_list.current if self.stories_shown else None
        if story is not None:  # `m` in the Stories view, wherever the focus is
            self.mark_story_seen(story)
        else:
            self.run_triage(self.session.mark_view_seen)

    def arm_day_timer(self) -> None:
        """Redraw the times once at midnight ("HH:MM" becomes a date)."""
        now = format.local(self.now(), self.zone)
        tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
        self._day_timer = self.set_timer((tomorrow - now).total_seconds(), self._new_day)

    def _new_day(self) -> None:
        self.timeline.refresh()
        self.arm_day_timer()

    @work(group="digest", exclusive=True, exit_on_error=False)
    async def export_digest(self) -> None:
        """Today's digest under the current filter, in every configured format, written
        beside the scheduled ones under a name of its own; handed to the browser under
        textual serve."""
        self.say("writing the digest…")
        try:
            paths = await self.session.export_digest()
        except OSError as exc:
            self.say(f"cannot write the digest: {exc}", "error")
            return
        self.say("digest written to " + ", ".join(str(p) for p in paths), timeout=10)
        if self.app.is_web:
            for path in paths:
                self.app.deliver_text(path, save_filename=path.name, encoding="utf-8")
