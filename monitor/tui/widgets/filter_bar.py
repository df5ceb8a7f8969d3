"""The filter line."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Input, Static

from monitor.tui import text
from monitor.tui.widgets.plain_input import PlainInput

HOLD_LIMIT = 1.0  # seconds: keys held after Enter or Esc go on, at the latest, after this


class FilterInput(PlainInput):
    """The filter's input, which holds the keys typed ahead of Enter or Esc.

    Keys reach the focused widget through message queues, so keys typed in one burst (over
    a slow SSH link, or pasted) are queued here before Enter has moved the focus. After
    Enter or Esc they are held: the app sends them on once the focus has moved and the
    new view is shown, so `/putin⏎jj` lands on the third Putin item. If the focus stays
    (a malformed query), they are typed here.
    """

    _held: list[events.Key] | None = None
    _hold_timer: Timer | None = None

    async def _on_key(self, event: events.Key) -> None:
        if self._held is not None or self.screen.focused is not self:
            event.stop()
            event.prevent_default()
            if self._held is not None:
                self._held.append(event)
            else:  # queued here before the focus moved, after the held ones went on
                self.app.post_message(events.Key(event.key, event.character))
            return
        if event.key in ("enter", "escape"):
            self._held = []
            if self._hold_timer is not None:
                self._hold_timer.stop()
            self._hold_timer = self.set_timer(HOLD_LIMIT, self.release)
        await super()._on_key(event)

    def send_on(self) -> None:
        """The focus has left: held keys go to where it went."""
        if self.screen.focused is not self:
            self.release()

    def resume(self) -> None:
        """The focus stayed here: held keys are typed here."""
        if self.screen.focused is self:
            self.release()

    def release(self) -> None:
        if self._held is None:
            return
        held, self._held = self._held, None
        target = self if self.screen.focused is self else self.app
        for key in held:
            target.post_message(events.Key(key.key, key.character))


class FilterBar(Vertical):
    """The filter line: an input and, when the query is malformed, where and why."""

    def compose(self) -> ComposeResult:
        field = FilterInput(
            placeholder='words, "a phrase", source:Name, OR, NOT, ( ) · Enter keeps · Esc clears',
            id="filter-input",
        )
        field.cursor_blink = False  # a blinking cursor redraws the terminal twice a second
        yield field
        yield Static("", id="filter-error")

    def show_error(self, message: str | None, position: int = 0) -> None:
        field = self.query_one(Input)
        error = self.query_one("#filter-error", Static)
        field.set_class(message is not None, "-error")
        error.display = message is not None
        if message is not None:
            # Under the character at `position`: past the input's border and padding.
            inset = field.content_region.x - field.region.x if field.region else 3
            column = max(0, inset + max(0, position) - round(field.scroll_x))
            line = Text(" " * column + "^ ", style="bold", end="")
            line.append_text(text.text(message))
            error.update(line)
