"""Article texts, as the session fetches them: queued per host politely, each arriving
text said and auto-tagged, the store re-read at most once a second while they arrive,
and a page fetched again on the analyst's request. A part of `Session`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.core import backlog
from monitor.io.articles import ArticleFetcher
from monitor.io.events import Event, TextArrived, TextsDone, TextsQueued
from monitor.io.store import Store
from monitor.model import Entry, Item, Source, TextJob

log = logging.getLogger(__name__)

TEXT_RELOAD = 1.0  # seconds: arriving texts re-read the store at most this often


class TextMixin:
    """`fetch_texts` and `refetch`, and what follows an arriving text."""

    if TYPE_CHECKING:  # what the session provides
        store: Store
        articles: ArticleFetcher | None
        fetching: set[str]
        polling: bool
        views: bool
        now: Callable[[], datetime]
        _sources: dict[str, Source]
        _reload_handle: asyncio.TimerHandle | None
        _loop: asyncio.AbstractEventLoop | None

        def emit(self, event: Event) -> None: ...
        def reported(self, what: str) -> AbstractContextManager[None]: ...
        def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]: ...
        async def _reread(self) -> None: ...
        async def auto_tag_arrived(self) -> None: ...
        def auto_tag_later(self, item: Item) -> None: ...

    def fetch_texts(self, jobs: Sequence[TextJob], backlog: int = 0) -> None:
        """Queue these items' article pages; the queue is polite per host across calls."""
        if self.articles is None:
            if jobs:
                self.emit(TextsQueued(len(jobs), backlog, skipped=True))
            return
        jobs = [j for j in jobs if j.item_id not in self.fetching]
        if not jobs:
            return
        self.fetching.update(j.item_id for j in jobs)
        self.emit(TextsQueued(len(jobs), min(backlog, len(jobs))))
        self._spawn(self._run_texts(jobs))

    async def _run_texts(self, jobs: Sequence[TextJob]) -> None:
        assert self.articles is not None
        fetched, failed = 0, {}
        try:
            with self.reported("fetching article texts"):
                report = await self.articles.run(jobs, progress=self._text_arrived)
                log.info("article text: %d fetched, failed %s", report.fetched, report.failed)
                fetched, failed = report.fetched, dict(report.failed)
            await self.auto_tag_arrived()
        finally:
            self.fetching.difference_update(j.item_id for j in jobs)
            self.emit(TextsDone(fetched, failed, len(self.fetching)))

    def _text_arrived(self, done: int, total: int, item: Item) -> None:
        self.fetching.discard(item.id)
        self.emit(TextArrived(item, done, total))
        self.auto_tag_later(item)  # a text can match a [[tags]] query its summary did not
        if self.views and self._reload_handle is None and self._loop is not None:
            # entries (has_text, search text) re-read at most once a second
            self._reload_handle = self._loop.call_later(TEXT_RELOAD, self._reload_texts)

    def _reload_texts(self) -> None:
        self._reload_handle = None
        if not self.polling:
            self._spawn(self._reread())

    async def refetch(self, entry: Entry) -> str:
        """Fetch `entry`'s page again, on the analyst's request; says what it did."""
        if self.articles is None:
            return "read-only: fetching is disabled"
        if entry.id in self.fetching:
            return "the text is already being fetched"
        if not entry.url:
            return "this item has no link"
        item = await asyncio.to_thread(self.store.get, entry.id)
        job = backlog.text_job(item, self._sources.get, self.now(), again=True) if item else None
        if job is None:
            return "cannot fetch this item's page (its source is gone from the config)"
        self.fetch_texts([job])
        return "fetching the article text…"
