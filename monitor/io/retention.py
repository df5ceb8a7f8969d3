"""Retention (`[storage] keep`) for the `Session`: in the writer, after a poll, at most
once an hour, drop the items published before the UTC day `keep` ago, except those any
analyst starred, tagged by hand or annotated; then forget the dropped items' triage."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.io.backends import open_triage
from monitor.io.events import Dropped, Event

if TYPE_CHECKING:
    from monitor.config import Settings
    from monitor.io.store import Store

RETAIN_EVERY = 3600.0  # seconds: retention runs at most this often


class RetentionMixin:
    """`_retain`, run by the session after each poll; `last_dropped` for the status line."""

    if TYPE_CHECKING:  # what the session provides
        settings: Settings
        store: Store
        read_only: bool
        now: Callable[[], datetime]
        last_dropped: Dropped | None
        _retained: datetime | None

        def emit(self, event: Event) -> None: ...
        def reported(self, what: str) -> AbstractContextManager[None]: ...

    async def _retain(self) -> None:
        """Retention, if configured and not run within the hour: drop the items published
        before the UTC day `[storage] keep` ago, except those any analyst starred, tagged
        by hand or annotated; then forget the dropped items' triage (seen, auto-tags)."""
        keep = self.settings.retention
        if self.read_only or keep is None:
            return
        now = self.now()
        if self._retained is not None and (now - self._retained).total_seconds() < RETAIN_EVERY:
            return
        self._retained = now
        before = (now - timedelta(seconds=keep)).astimezone(UTC).date()
        with self.reported("dropping old items"):
            count, kept = await asyncio.to_thread(self._drop_before, before.isoformat())
            event = Dropped(count, before, kept)
            if count:
                self.last_dropped = event
            self.emit(event)

    def _drop_before(self, day: str) -> tuple[int, int]:
        """In a thread: drop; (items dropped, older items kept). Nothing is dropped when
        the triage cannot be read: what it protects is not known."""
        start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        triage = open_triage(self.settings, self.now)
        try:
            keep = triage.protected()
            old = [e.id for e in self.store.entries() if e.published < start]
            count = self.store.drop_before(day, keep)
            if count:
                gone = {i for i in old if i not in keep and self.store.get(i) is None}
                # starred meanwhile (by another process) and dropped anyway: keep the star
                triage.forget(gone - triage.protected())
            return count, sum(1 for i in old if i in keep)
        finally:
            triage.close()
