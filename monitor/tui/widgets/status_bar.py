"""The status bar."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusBar(Static):
    """One or two lines at the bottom; the app fills it."""

    _shown: Text | None = None

    def show(self, status: Text) -> None:
        """Show `status`; the same text again costs no repaint (keys call this often)."""
        if status != self._shown:
            self._shown = status
            self.update(status)
