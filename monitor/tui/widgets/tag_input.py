"""The tag prompt's input: completes a tag from those in use, after a leading "-" too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.suggester import Suggester

from monitor.tui.widgets.plain_input import PlainInput


class TagSuggester(Suggester):
    """The first tag in use (most used first) that starts with what is typed, ignoring
    case; "-" before it (removing a tag) is kept."""

    def __init__(self, names: Sequence[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.names = list(names)

    async def get_suggestion(self, value: str) -> str | None:
        sign = "-" if value.startswith("-") else ""
        typed = value[len(sign) :]
        if not typed.strip():
            return None
        for name in self.names:
            # the input shows the suggestion past the typed length: a name whose folding
            # changes its length (ß) would show shifted
            if name.casefold().startswith(typed) and len(name.casefold()) == len(name):
                return sign + name
        return None


class TagInput(PlainInput):
    """An input whose Tab (like →) takes the suggested tag."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "complete", "Complete the tag", id="tag.complete"),
    ]

    def action_complete(self) -> None:
        self.cursor_position = len(self.value)
        self.action_cursor_right()  # at the end: takes the suggestion, if there is one
