"""Shared test fixtures. Plain helpers live in tests/support."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.shared import CORPUS, SEED, need_shared


@pytest.fixture
def corpus() -> Path:
    return need_shared(CORPUS)


@pytest.fixture
def seed() -> Path:
    return need_shared(SEED)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio only, the loop monitor runs on."""
    return "asyncio"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """One PostgreSQL server for the whole run (skips when there is none to start)."""
    from tests.support.postgres import running_server

    with running_server() as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """The URL of a new, empty database of the test's own."""
    from tests.support.postgres import fresh_database

    return fresh_database(pg_server)
