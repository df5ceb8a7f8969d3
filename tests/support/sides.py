"""Where the side tables (triage, the alert ledger, the stories) of a test live: the
folder store's SQLite files, or a fresh PostgreSQL database (`pg_url`). Tests of
behaviour take the `where` fixture and run on both."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import DatabaseSettings

Where = Path | DatabaseSettings


@pytest.fixture(params=["folder", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Where:
    if request.param == "folder":
        return tmp_path
    return DatabaseSettings(url=request.getfixturevalue("pg_url"))


def in_folder(where: Where) -> bool:
    return isinstance(where, Path)
