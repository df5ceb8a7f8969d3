"""The headless side never loads the UI, and `core` stays pure."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def headless_modules() -> list[str]:
    """Every module of the package outside `monitor.tui`, found from its files, so a new
    module is checked without being listed."""
    names = []
    for path in sorted((ROOT / "monitor").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[:2] != ("monitor", "tui"):
            names.append(".".join(parts))
    return names


HEADLESS = headless_modules()


def test_headless_never_loads_textual() -> None:
    # the walk found the package, and left the dashboard out
    assert {"monitor", "monitor.cli", "monitor.io.poller", "monitor.demo"} <= set(HEADLESS)
    assert not [m for m in HEADLESS if m.startswith("monitor.tui")]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in HEADLESS)
        + "from monitor.cli import build_parser\nbuild_parser()\n"
        # httpx imports its own command line (with rich) when click is installed, as
        # spaCy's dependencies make it: that rich is httpx's, not monitor's.
        + "ui = ('textual',) if 'httpx._main' in sys.modules else ('textual', 'rich')\n"
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in ui)\n"
        + "print(','.join(bad))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_layers_point_one_way() -> None:
    """tui -> io -> core -> model: core never imports io, tui, config or the clock's owners."""
    forbidden = {
        "core": ("monitor.io", "monitor.tui", "monitor.cli", "monitor.config", "httpx", "tinydb"),
        "io": ("monitor.tui", "monitor.cli", "textual", "rich"),
    }
    for layer, banned in forbidden.items():
        for path in (ROOT / "monitor" / layer).rglob("*.py"):
            for name in _imports(path):
                assert not name.startswith(banned), f"{path.relative_to(ROOT)} imports {name}"


def test_core_has_no_clock() -> None:
    for path in (ROOT / "monitor" / "core").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for call in ("datetime.now(", "datetime.utcnow(", "time.time(", "date.today("):
            assert call not in text, f"{path.name} reads the clock ({call})"
