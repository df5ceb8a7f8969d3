"""Shared test fixtures. Plain helpers live in tests/support."""

from __future__ import annotations

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
