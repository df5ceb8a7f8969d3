"""The main screen's Stories view: `S` shows the stories of the last seven days in place
of the timeline (and back). They are ranked in a thread (`core.story_view.rank_stories`)
whenever the stories take in new items (`StoriesUpdated`), so that `S` shows them at
once, and again when the view opens on a ranking older than a minute. `Enter` shows a
story's items in the timeline (the filter `story:ID`: in the order they ran, the first
marked), `m` marks them all seen, Escape goes back. The article pane shows the selected
story's headline item, with who ran it first."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from textual import on, work
from textual.containers import Vertical

from monitor.core.story_view import RankedStory, rank_stories, story_filter
from monitor.io.events import Event, Loaded, StoriesUpdated, TriageChanged
from monitor.io.session import Session
from monitor.model import Entry
from monitor.tui.screens.triage_keys import TriageKeys
from monitor.tui.widgets.row_list import RowList
from monitor.tui.widgets.story_list import StoryList

if TYPE_CHECKING:
    from monitor.tui.widgets.article_pane import ArticlePane


RERANK_AFTER = 60.0  # seconds: an older ranking is made again when the view opens


class StoryKeys(TriageKeys):
    """Mixed into the main screen, which has the session, the panes and the filter."""

    session: Session
    now: Callable[[], datetime]
    stories_shown = False

    if TYPE_CHECKING:

        @property
        def article(self) -> ArticlePane: ...

        @property
        def zone(self) -> tzinfo | None: ...

        def focus_pane(self, pane: str) -> None: ...

        def set_filter(self, value: str, saved: str | None = None) -> bool: ...

    @property
    def story_list(self) -> StoryList:
        return self.query_one("#stories", StoryList)

    def action_toggle_stories(self) -> None:
        self.show_stories(not self.stories_shown)

    def show_stories(self, on: bool) -> None:
        """The Stories view in place of the timeline (and the side pane), or back."""
        self.stories_shown = on
        self.set_class(on, "-stories")
        self.focus_pane("stories" if on else "timeline")
        if on:
            rows = self.story_list
            if not rows.rows or (self.now() - rows.ranked_at).total_seconds() > RERANK_AFTER:
                self.rank_stories()  # shown when ranked; the earlier ranking meanwhile
            self.show_lead()

    @work(group="stories", exclusive=True, exit_on_error=False)
    async def rank_stories(self) -> None:
        """Rank the stories as they are now, in a thread; shown when done."""
        now, stories = self.now(), self.session.stories
        rows = await asyncio.to_thread(lambda: rank_stories(stories.groups(), now))
        self.story_list.set_rows(rows, now)
        self.query_one("#stories-box", Vertical).border_title = f"Stories · {len(rows):,}"
        if self.stories_shown:
            self.show_lead()

    def stories_event(self, event: Event) -> None:
        """What the core reports, as far as the Stories view is concerned."""
        match event:
            case StoriesUpdated():  # ranked now, so that `S` shows them at once
                self.rank_stories()
                self.article.repick()  # who ran the shown item's story first
            case Loaded() | TriageChanged():  # what was seen may have changed
                self.story_list.refresh()

    # -- the article: the selected story's headline item ----------------------------------

    def show_lead(self) -> None:
        story = self.story_list.current
        if story is None:
            self.article.show(None, None, tz=self.zone)
            return
        self.load_lead(self.story_list.summary(self.story_list.cursor).lead)

    @work(group="article", exclusive=True, exit_on_error=False)
    async def load_lead(self, entry: Entry) -> None:
        item = await asyncio.to_thread(self.session.store.get, entry.id)
        current = self.story_list.current
        if self.stories_shown and current is not None and entry in current.entries:
            self.article.show(entry, item, tz=self.zone)

    @on(RowList.Moved, "#stories")
    def story_moved(self) -> None:
        self.show_lead()

    # -- the keys of the list -----------------------------------------------------------------

    @on(StoryList.Opened)
    def story_opened(self, event: StoryList.Opened) -> None:
        """The story's items in the timeline: the filter `story:ID`."""
        self.show_stories(False)
        self.set_filter(story_filter(event.story.id))

    @on(StoryList.MarkSeen)
    def story_seen(self, event: StoryList.MarkSeen) -> None:
        """Every item of the story seen, then the next story: one key a story."""
        self.mark_story_seen(event.story)
        self.story_list.action_cursor_down()

    def mark_story_seen(self, story: RankedStory) -> None:
        session = self.session  # the story's later copies too (`Session.mark_story_seen`)
        self.run_triage(lambda: session.mark_story_seen(story.id))

    @on(StoryList.Closed)
    def stories_closed(self) -> None:
        self.show_stories(False)
