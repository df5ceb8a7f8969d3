"""`n`: the current item's note, in a small editor. Saving an empty note removes it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea


class NoteEditor(ModalScreen[str | None]):
    """Edits a note; dismissed with its text (ctrl+s, Save), or None (Esc, Cancel)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save the note (empty: remove it)", id="note.save"),
        Binding("escape", "cancel", "Cancel", id="note.cancel"),
    ]

    def __init__(self, title: Text, note: str) -> None:
        super().__init__()
        self.title_text = title
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="note-editor"):
            yield Static(self.title_text, id="note-title")
            area = TextArea(self.note, soft_wrap=True, id="note-text")
            area.cursor_blink = False
            yield area
            with Horizontal(id="note-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="note-save")
                yield Button("Cancel (Esc)", id="note-cancel")
                yield Static(Text("an empty note is removed", style="dim"), id="note-hint")

    def on_mount(self) -> None:
        self.query_one("#note-editor").border_title = "Note"
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    @on(Button.Pressed, "#note-save")
    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    @on(Button.Pressed, "#note-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
