"""Which stored items need work: the one rule for fetching an article page, and the
bounded catch-up of items stored without actors or with a page never asked for.

Pure: the caller reads the entries and the sources and owns the clock."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta

from monitor.model import Entry, Item, Source, TextJob

ANNOTATE_LIMIT = 500  # unannotated stored items annotated per turn, newest first
TEXT_LIMIT = 100  # pending article texts queued per turn, newest first
TEXT_RECENT = timedelta(days=2)  # older pending pages are stale: left alone

SourceOf = Callable[[str], Source | None]  # a configured source by name (Settings.source)


def text_job(
    entry: Entry | Item, source_of: SourceOf, now: datetime, *, again: bool = False
) -> TextJob | None:
    """The article page to fetch for `entry`, or None: the one eligibility rule.

    An item gets its page fetched when it has an http(s) link, a configured source with
    `full_text` on, no `text_status` yet (the page was never asked for) and was first
    seen within `TEXT_RECENT` of `now`. With `again` (the analyst asks for it), only the
    link and a configured source are needed."""
    url = entry.url
    if url is None or not (linked(entry) if again else page_pending(entry)):
        return None
    if not again and entry.first_seen < now - TEXT_RECENT:
        return None
    for name in entry.sources:
        source = source_of(name)
        if source is not None and (again or source.full_text):
            return TextJob(entry.id, url, source.name, source.url, source.allow_private_links)
    return None


def linked(entry: Entry | Item) -> bool:
    """Whether `entry` links to a page that could be fetched (http or https)."""
    url = entry.url
    return url is not None and url.lower().startswith(("http://", "https://"))


def page_pending(entry: Entry | Item) -> bool:
    """Whether `entry`'s page may be wanted yet: it has a link and was never asked for
    (what a queue keeps a job for; `text_job` decides, with the sources and the clock)."""
    return linked(entry) and entry.text_status is None


def unannotated(
    entries: Sequence[Entry], limit: int = ANNOTATE_LIMIT, *, skip: Collection[str] = ()
) -> list[str]:
    """The ids of the newest `limit` entries not yet annotated (`entries` newest first),
    but for those in `skip`."""
    out: list[str] = []
    for e in entries:
        if len(out) >= limit:
            break
        if not e.annotated and e.id not in skip:
            out.append(e.id)
    return out


def pending_texts(
    entries: Sequence[Entry],
    source_of: SourceOf,
    now: datetime,
    *,
    limit: int = TEXT_LIMIT,
    skip: Collection[str] = (),
) -> list[TextJob]:
    """Text jobs for the newest `limit` entries that `text_job` accepts (`entries` newest
    first); ids in `skip` (already queued) are left out."""
    jobs: list[TextJob] = []
    for e in entries:
        if len(jobs) >= limit:
            break
        if e.id in skip:
            continue
        job = text_job(e, source_of, now)
        if job is not None:
            jobs.append(job)
    return jobs
