"""The status bar."""

from __future__ import annotations

from textual.widgets import Static


class StatusBar(Static):
    """One or two lines at the bottom; the app fills it."""
