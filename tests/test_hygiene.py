"""The tests' own layout: shared helpers come from tests.support and fixtures from
conftest.py through pytest, so no test module imports another."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported(path: Path) -> set[str]:
    """The absolute names `path` imports; `from a import b` gives both `a` and `a.b`, since
    `b` may be a module."""
    package = path.relative_to(TESTS.parent).parent.parts  # ("tests",) or ("tests", "support")
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = ".".join(package[: len(package) - node.level + 1]) if node.level else ""
            if node.module:
                module = f"{module}.{node.module}" if module else node.module
            names.add(module)
            names.update(f"{module}.{a.name}" for a in node.names)
    return names


def test_no_test_module_imports_another() -> None:
    files = sorted(TESTS.glob("test_*.py")) + sorted((TESTS / "support").glob("*.py"))
    files.append(TESTS / "conftest.py")
    assert len(files) > 30
    bad = [
        f"{path.relative_to(TESTS)} imports {name}"
        for path in files
        for name in sorted(imported(path))
        if name.startswith(("tests.test_", "tests.conftest", "test_", "conftest"))
    ]
    assert not bad, "\n".join(bad)
