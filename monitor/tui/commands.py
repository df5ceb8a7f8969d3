"""The command palette (ctrl+p): the app's actions and the saved filters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from monitor.tui import text

if TYPE_CHECKING:
    from monitor.tui.app import MonitorApp


class MonitorCommands(Provider):
    def commands(self) -> Iterator[tuple[str, Callable[[], object], str]]:
        app: MonitorApp = self.app  # type: ignore[assignment]
        yield "Poll now", app.action_poll, "fetch the sources that are due"
        yield "Sources", app.action_sources, "health of every source"
        yield "Help", app.action_help, "every key"
        yield "Clear filter", app.action_clear, "show every item"
        yield "Toggle UTC", app.action_utc, "times in UTC or in the local zone"
        yield "Mark view seen", app.action_seen, "drop the • marks of the items in view"
        yield "Star / unstar", app.main.action_star, "the current item (f)"
        yield "Tag item", app.main.action_tag, "tag the current item (t)"
        yield "Tag view", app.main.action_tag_view, "tag every item in view (T)"
        yield "Note", app.main.action_note, "the current item's note (n)"
        yield "Mark story seen", app.main.action_story_seen, "every copy of the item's story (M)"
        yield "Mark story unread", app.main.action_story_unread, "undo M: its copies unread again"
        yield "Export digest", app.action_digest, "today's digest under the current filter"
        for saved in app.settings.filters:
            name = f"Filter {saved.key}: {text.clean(saved.name)}"

            def apply(key: str = saved.key) -> None:
                app.action_saved_filter(key)

            yield name, apply, text.clean(saved.query)
        yield "Quit", app.action_quit, "leave monitor"

    async def discover(self) -> Hits:
        for name, command, help_text in self.commands():
            yield DiscoveryHit(text.content(name), command, text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, command, help_text in self.commands():
            score = matcher.match(name)
            if score > 0:
                # The display is plain Content: Matcher.highlight would parse markup.
                yield Hit(score, text.content(name), command, text=name, help=help_text)
