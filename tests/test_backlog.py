"""The one rule for fetching an article page, and the bounded catch-up (core/backlog.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from msgspec.structs import replace

from monitor.core.backlog import TEXT_RECENT, pending_texts, text_job, unannotated
from monitor.model import Entry, Source

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
ON = Source("On", "https://on.example/feed", full_text=True)
OFF = Source("Off", "https://off.example/feed", full_text=False)
SOURCES = {s.name: s for s in (ON, OFF)}


def entry(n: int, **kw: object) -> Entry:
    base = Entry(
        id=f"i{n}",
        published=NOW - timedelta(hours=n),
        title=f"Item {n}",
        sources=("On",),
        language="fr",
        date_flag=None,
        first_seen=NOW - timedelta(hours=1),
        url=f"https://on.example/a{n}",
    )
    return replace(base, **kw)


def test_the_rule() -> None:
    get = SOURCES.get
    job = text_job(entry(1), get, NOW)
    assert job is not None and (job.item_id, job.source, job.feed_url) == ("i1", "On", ON.url)
    assert text_job(entry(1, url=None), get, NOW) is None
    assert text_job(entry(1, url="ftp://on.example/a"), get, NOW) is None
    assert text_job(entry(1, text_status="page"), get, NOW) is None  # asked for already
    assert text_job(entry(1, text_status="failed"), get, NOW) is None
    assert text_job(entry(1, first_seen=NOW - TEXT_RECENT - timedelta(1)), get, NOW) is None
    assert text_job(entry(1, sources=("Off",)), get, NOW) is None  # full_text off
    assert text_job(entry(1, sources=("Gone",)), get, NOW) is None  # not configured
    # a source with full text on, after one without: that one fetches it
    both = text_job(entry(1, sources=("Off", "On")), get, NOW)
    assert both is not None and both.source == "On"


def test_again_needs_only_a_link_and_a_configured_source() -> None:
    get = SOURCES.get
    old = entry(1, text_status="page", first_seen=NOW - timedelta(days=90), sources=("Off",))
    job = text_job(old, get, NOW, again=True)
    assert job is not None and job.source == "Off"
    assert text_job(entry(1, url="ftp://x/y"), get, NOW, again=True) is None
    assert text_job(entry(1, sources=("Gone",)), get, NOW, again=True) is None


def test_the_backlog_is_bounded_and_newest_first() -> None:
    entries = [entry(n, annotated=n % 2 == 0) for n in range(10)]
    assert unannotated(entries, limit=3) == ["i1", "i3", "i5"]
    jobs = pending_texts(entries, SOURCES.get, NOW, limit=4, skip={"i0", "i2"})
    assert [j.item_id for j in jobs] == ["i1", "i3", "i4", "i5"]
