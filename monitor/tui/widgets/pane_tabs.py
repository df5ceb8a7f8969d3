"""The pane tabs, shown on small screens."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static


class PaneTabs(Static):
    """On small screens only one pane shows: this line names them, the current one marked."""

    NAMES: ClassVar[tuple[tuple[str, str], ...]] = (
        ("timeline", "Timeline"),
        ("sources", "Sources"),
        ("article", "Article"),
    )

    def set_current(self, pane: str) -> None:
        line = Text(end="")
        for n, (key, label) in enumerate(self.NAMES):
            if n:
                line.append(" │ ", style="dim")
            line.append(f" {label} ", style="reverse bold" if key == pane else "")
        line.append("   Tab: next pane · ?: help", style="dim")
        self.update(line)
