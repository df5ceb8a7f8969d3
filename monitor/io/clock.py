"""The one clock of the headless side; the core takes `now` as an argument instead."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
