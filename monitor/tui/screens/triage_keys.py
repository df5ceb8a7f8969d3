"""The main screen's triage keys: star (`f`), tag (`t`, `T` for the view), note (`n`),
the item's whole story seen (`M`). The core does the work (`Session.star`, `tag`, `note`,
`mark_story_seen`) off the keys and says what it did
(`TriageChanged`); this part asks for the tag or the note and passes it on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.screen import Screen

from monitor.io.session import Session
from monitor.model import Entry
from monitor.tui import format, text
from monitor.tui.screens.note_editor import NoteEditor
from monitor.tui.screens.tag_prompt import TagPrompt, parse_tag

if TYPE_CHECKING:
    from monitor.tui.widgets.timeline import Timeline


class TriageKeys(Screen[None]):
    """Mixed into the main screen, which has the session, the timeline and the filter."""

    session: Session

    if TYPE_CHECKING:

        @property
        def timeline(self) -> Timeline: ...

        @property
        def filter_label(self) -> str: ...

        def say(
            self, message: str, severity: str = "information", timeout: float | None = None
        ) -> None: ...

    @work(group="triage", exit_on_error=False)
    async def run_triage(self, action: Callable[[], Awaitable[str | None]]) -> None:
        """A triage action, off the keys; the core says what it did (`TriageChanged`)."""
        await action()

    def current_or_say(self, doing: str) -> Entry | None:
        entry = self.timeline.current
        if entry is None:
            self.say(f"no item to {doing}")
        return entry

    def action_star(self) -> None:
        entry = self.current_or_say("star")
        if entry is not None:
            on = entry.id not in self.session.triage_state.starred
            self.run_triage(lambda: self.session.star([entry.id], on))

    def action_story_seen(self) -> None:
        """Every item of the current item's story seen; its later copies arrive seen unless
        they bring a new angle."""
        entry = self.current_or_say("mark seen")
        if entry is not None:
            self.run_triage(lambda: self.session.mark_story_seen(entry.id))

    def action_story_unread(self) -> None:
        """Undo `M`: the story's items unread again, and the story forgotten."""
        entry = self.current_or_say("mark unread")
        if entry is not None:
            self.run_triage(lambda: self.session.mark_story_seen(entry.id, on=False))

    def tag_names(self) -> list[str]:
        """The tags to complete from: in use, most used first, then the `[[tags]]` ones."""
        state = self.session.triage_state
        used = sorted(state.tags.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        names = [state.tag_names.get(key, key) for key, _ in used]
        known = {n.casefold() for n in names}
        return names + [
            t.name for t in self.session.settings.tags if t.name.casefold() not in known
        ]

    def action_tag(self) -> None:
        entry = self.current_or_say("tag")
        if entry is None:
            return
        title = Text("Tag ", end="")
        title.append_text(text.text(entry.title, "bold"))
        current = self.session.triage_state.tags_of(entry.id)
        prompt = TagPrompt(format.clip(title, 200), self.tag_names(), current)
        self.app.push_screen(prompt, lambda value: self.apply_tag(value, [entry.id]))

    def action_tag_view(self) -> None:
        ids = [e.id for e in self.session.view.entries]
        if not ids:
            self.say("no items in view to tag")
            return
        title = Text(f"Tag the {len(ids):,} items in view", style="bold", end="")
        if self.filter_label:
            title.append(" (filter: ")
            title.append_text(text.text(self.filter_label))
            title.append(")")
        self.app.push_screen(TagPrompt(title, self.tag_names()), lambda v: self.apply_tag(v, ids))

    def apply_tag(self, value: str | None, ids: Sequence[str]) -> None:
        if value is None:
            return  # Esc
        parsed = parse_tag(value)
        if parsed is None:
            self.say("no tag given: nothing changed")
            return
        name, on = parsed
        self.run_triage(lambda: self.session.tag(name, ids, on))

    def action_note(self) -> None:
        entry = self.current_or_say("annotate")
        if entry is None:
            return
        title = Text("Note on ", end="")
        title.append_text(text.text(entry.title, "bold"))
        note = self.session.triage_state.notes.get(entry.id, "")
        self.app.push_screen(
            NoteEditor(format.clip(title, 200), note), lambda v: self.save_note(entry.id, v)
        )

    def save_note(self, item_id: str, value: str | None) -> None:
        if value is not None:
            self.run_triage(lambda: self.session.note(item_id, value))
