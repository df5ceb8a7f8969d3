"""The pane tabs, shown on small screens."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.widgets import Static


class PaneTabs(Static):
    """On small screens only one pane shows: this line names them, the current one marked."""

    NAMES: ClassVar[dict[str, str]] = {
        "timeline": "Timeline",
        "stories": "Stories",
        "actors": "Actors",
        "sources": "Sources",
        "article": "Article",
    }

    def set_current(self, pane: str, panes: tuple[str, ...]) -> None:
        line = Text(end="")
        for n, key in enumerate(panes):
            label = self.NAMES[key]
            if n:
                line.append(" │ ", style="dim")
            line.append(f" {label} ", style="reverse bold" if key == pane else "")
        line.append("   Tab: next pane · ?: help", style="dim")
        self.update(line)
