"""`t` and `T`: a small prompt for a tag to add to items, or (with a leading "-") to remove."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from monitor.tui import text
from monitor.tui.widgets.tag_input import TagInput, TagSuggester

KEYS = "Enter: apply · -tag: remove it · Tab: complete · Esc: cancel"


def parse_tag(value: str) -> tuple[str, bool] | None:
    """What the prompt's line asks: (tag, add) — a leading "-" removes; None: no tag."""
    value = value.strip()
    on = not value.startswith("-")
    name = " ".join(value.removeprefix("-").split())
    return (name, on) if name else None


class TagPrompt(ModalScreen[str | None]):
    """Asks for a tag; dismissed with the line typed, or None (Esc)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
    ]

    def __init__(self, title: Text, names: Sequence[str], current: Sequence[str] = ()) -> None:
        super().__init__()
        self.title_text = title
        self.names = list(names)
        self.current = list(current)

    def compose(self) -> ComposeResult:
        with Vertical(id="tag-prompt"):
            yield Static(self.title_text, id="tag-prompt-title")
            if self.current:
                line = Text("tags now: ", style="dim", end="")
                line.append_text(text.text(", ".join(self.current), "bold"))
                yield Static(line, id="tag-prompt-current")
            used = f"{len(self.names)} in use, Tab completes" if self.names else "none in use yet"
            field = TagInput(
                placeholder=f"a tag ({used})",
                suggester=TagSuggester(self.names),
                id="tag-input",
            )
            field.cursor_blink = False
            yield field
            yield Static(Text(KEYS, style="dim"), id="tag-prompt-keys")

    def on_mount(self) -> None:
        self.query_one("#tag-prompt").border_title = "Tag"
        self.query_one(TagInput).focus()

    @on(Input.Submitted, "#tag-input")
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
