"""Where the side tables (triage, the alert ledger, the stories) of a test live: the
folder store's SQLite files, or a fresh PostgreSQL database (`pg_url`). Tests of
behaviour take the `where` fixture and run on both."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from monitor.config import DatabaseSettings, Settings

Where = Path | DatabaseSettings


@pytest.fixture(params=["folder", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Where:
    if request.param == "folder":
        return tmp_path
    return DatabaseSettings(url=request.getfixturevalue("pg_url"))


def in_folder(where: Where) -> bool:
    return isinstance(where, Path)


def kept_in(settings: Settings, where: Where) -> Settings:
    """`settings` with the side tables in `where`: the folder store's folder, or the
    database."""
    if isinstance(where, Path):
        return replace(settings, storage=where)
    return replace(settings, database=where)
