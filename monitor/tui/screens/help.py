"""The help screen: every key, generated from the bindings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from monitor.core.story_view import SCORE_WORDS


class HelpScreen(ModalScreen[None]):
    """Every key, generated from the bindings, with the keymap applied."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close the help", id="help.close"),
        Binding("j,down", "line_down", "Scroll down", id="help.down"),
        Binding("k,up", "line_up", "Scroll up", id="help.up"),
    ]

    def __init__(self, help_text: Text) -> None:
        super().__init__()
        self.help_text = help_text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self.help_text)

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys"
        self.query_one("#help").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_line_down(self) -> None:
        self.query_one("#help", VerticalScroll).scroll_relative(y=1, animate=False)

    def action_line_up(self) -> None:
        self.query_one("#help", VerticalScroll).scroll_relative(y=-1, animate=False)


def render_help(
    app: App[Any], sections: Sequence[tuple[str, Sequence[BindingType]]], keymap: Mapping[str, str]
) -> Text:
    """The help: each section's keys (after the keymap), then the filter line, the command
    palette and what the marks of new items mean."""
    out = Text(end="")
    for title, bindings in sections:
        out.append(f"{title}\n", style="bold underline")
        for line in binding_lines(app, bindings, keymap):
            out.append_text(line)
            out.append("\n")
        out.append("\n")
    out.append("Filter line\n", style="bold underline")
    out.append(f"  {'Enter':<14} {'Keep the filter':<38}\n")
    out.append(f"  {'Esc':<14} {'Clear it':<38}\n")
    out.append("\nCommand palette\n", style="bold underline")
    palette = app.get_key_display(Binding(app.COMMAND_PALETTE_BINDING, "command_palette"))
    out.append(f"  {palette:<14} {'Every command, by name':<38}\n")
    out.append("\nMarks\n", style="bold underline")
    out.append("  • unread: stored since your triage began and not seen yet. A row is seen\n")
    out.append("    once the cursor has rested on it a second; m marks the view seen.\n")
    out.append("  ★ starred (f). Tags (t, T) and the note (n) show in the article.\n")
    out.append("  new angle: M marks an item's whole story seen, and its later copies arrive\n")
    out.append("    seen, except those with a new actor or quote (is:new-angle).\n")
    out.append("  Kept with the store (triage.sqlite, or the database): they survive a restart.\n")
    out.append("\nStories (S)\n", style="bold underline")
    out.append(f"  {SCORE_WORDS}.\n")
    out.append("  src: sources, items, lang: languages, 24h: items per hour (sparkline),\n")
    out.append("  +1h: items of the last hour, first seen, last update, the lead headline.\n")
    out.append("\nChange a key under [keys] in config.toml, by id", style="dim")
    out.append(': "app.poll" = "ctrl+r"', style="dim")
    return out


def binding_lines(
    app: App[Any], bindings: Sequence[BindingType], keymap: Mapping[str, str]
) -> list[Text]:
    """One line per binding: keys (after the keymap), description, id."""
    lines: list[Text] = []
    seen: dict[str, list[str]] = {}
    order: list[tuple[str, Binding]] = []
    for binding in Binding.make_bindings(bindings):
        ident = binding.id or binding.action
        if ident in keymap:
            keys = [k.strip() for k in keymap[ident].split(",") if k.strip()]
        else:
            keys = [binding.key]
        if ident not in seen:
            seen[ident] = []
            order.append((ident, binding))
        for key in keys:
            shown = app.get_key_display(binding.with_key(key))
            if shown not in seen[ident]:
                seen[ident].append(shown)
    for ident, binding in order:
        line = Text(end="")
        shown = ", ".join(seen[ident])
        line.append(f"  {shown:<14} ", style="bold")
        line.append(f"{binding.description:<38} ")
        line.append(ident if binding.id else "", style="dim")
        lines.append(line)
    return lines
