"""The digest for the `Session`: today's so far, exported from the dashboard under its
filter, and the scheduled one (`[digest] at`), written by the writer after a poll once
the new items' actors and stories are known."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.io.events import DigestWritten, Event, Problem

if TYPE_CHECKING:
    from monitor.config import Settings
    from monitor.core.query import Context
    from monitor.core.view import Filter
    from monitor.io.store import Store

log = logging.getLogger(__name__)


class DigestMixin:
    """`export_digest` and `_digest_if_due`."""

    if TYPE_CHECKING:  # what the session provides
        settings: Settings
        store: Store
        read_only: bool
        filter: Filter
        now: Callable[[], datetime]
        next_digest: datetime | None
        _after_task: asyncio.Task[Any] | None

        def emit(self, event: Event) -> None: ...
        def context(self) -> Context: ...
        async def stories_ready(self) -> None: ...

    async def export_digest(self) -> list[Path]:
        """Today's digest so far under the current filter, in every configured format."""
        from monitor.io.digest import export_today

        return await asyncio.to_thread(
            export_today,
            self.settings,
            self.store,
            self.now(),
            self.filter.as_query(),
            self.context(),
        )

    async def _digest_if_due(self) -> None:
        """Write the scheduled digest if due: at the first check (catching up a missed
        one) and at each `[digest] at`, once the new items' actors are known."""
        at = self.settings.digest.at
        if self.read_only or not at:
            return
        now = self.now()
        if self.next_digest is not None and now < self.next_digest:
            return
        from monitor.core.digest import next_run
        from monitor.io.digest import run_schedule, zone

        if self._after_task is not None:  # the actors of the items just polled
            await asyncio.wait({self._after_task})
        await self.stories_ready()  # the digest groups by them
        ran = None
        try:
            ctx = self.context()  # saved filters may ask for the analyst's triage
            ran = await asyncio.to_thread(run_schedule, self.settings, self.store, now, ctx)
        except OSError as exc:  # a full disk or a bad folder: say so, keep polling
            log.error("cannot write the digest: %s", exc)
            self.emit(Problem("digest", f"cannot write the scheduled digest: {exc}"))
        self.next_digest = next_run(now, zone(self.settings.digest.timezone)[0], at)
        if ran is not None:
            self.emit(DigestWritten(ran))
