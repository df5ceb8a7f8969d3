"""The shared corpus: it lives beside the repository in ../shared and is never copied in."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[3] / "shared"
CORPUS = SHARED / "corpus"
SEED = SHARED / "seed"


def need_shared(path: Path) -> Path:
    """Return `path`, or skip the test when the shared corpus is not beside the repository."""
    if not path.exists():
        pytest.skip(f"shared corpus not found at ../shared ({path.name}); CI always has it")
    return path
