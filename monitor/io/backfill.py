"""Catching up stored items: actors for those stored without them (before annotation
existed, or with `--no-actors`), article texts for recent ones left pending (`--no-text`,
an interrupted run). Bounded: each pass takes the newest few, so a large old store is
caught up over several passes without any one of them taking long."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.config import Settings
from monitor.io.store import Store
from monitor.model import Entry, TextJob

ANNOTATE_LIMIT = 500  # unannotated stored items annotated per pass, newest first
TEXT_LIMIT = 100  # pending article texts queued per pass, newest first
TEXT_RECENT = timedelta(days=2)  # older pending pages are stale: left alone


def unannotated(entries: Sequence[Entry], limit: int = ANNOTATE_LIMIT) -> list[str]:
    """The ids of the newest `limit` entries not yet annotated (`entries` newest first)."""
    out: list[str] = []
    for e in entries:
        if len(out) >= limit:
            break
        if not e.annotated:
            out.append(e.id)
    return out


def pending_texts(
    entries: Sequence[Entry],
    settings: Settings,
    now: datetime,
    *,
    limit: int = TEXT_LIMIT,
    skip: Collection[str] = (),
) -> list[TextJob]:
    """Text jobs for the newest `limit` entries whose page was never asked for: no
    `text_status`, an http(s) link, first seen within `TEXT_RECENT` of `now`, and a
    configured source with `full_text` on. Ids in `skip` (already queued) are left out."""
    jobs: list[TextJob] = []
    since = now - TEXT_RECENT
    for e in entries:
        if len(jobs) >= limit:
            break
        if e.text_status is not None or e.first_seen < since or e.id in skip:
            continue
        if not e.url or not e.url.lower().startswith(("http://", "https://")):
            continue
        source = next(
            (s for s in map(settings.source, e.sources) if s is not None and s.full_text), None
        )
        if source is not None:
            jobs.append(TextJob(e.id, e.url, source.name, source.url, source.allow_private_links))
    return jobs


@dataclass(frozen=True, slots=True)
class Backlog:
    """What a catch-up pass found to do."""

    annotate: list[str]  # ids to annotate
    texts: list[TextJob]  # pages to fetch


async def find_backlog(
    settings: Settings,
    store: Store,
    now: datetime,
    *,
    annotate: bool = True,
    text: bool = True,
    skip: Collection[str] = (),
) -> Backlog:
    """The bounded catch-up work in `store`, from its entries (no full text is read)."""
    entries = await asyncio.to_thread(store.entries)
    return Backlog(
        unannotated(entries) if annotate else [],
        pending_texts(entries, settings, now, skip=skip) if text else [],
    )
