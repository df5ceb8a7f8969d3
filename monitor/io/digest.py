"""Digests from the store to files: reading the day's items, the template, writing
without overwriting, and the daily schedule."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.config import Settings
from monitor.core.digest import Digest, build_digest, day_bounds, scheduled_day
from monitor.core.digest_render import SUFFIX, render_html, render_json, render_markdown
from monitor.core.query import Context, Query
from monitor.io.context import query_context, triage_state
from monitor.io.context import saved_stories as stories
from monitor.io.files import write_file
from monitor.io.store import Store
from monitor.io.triage import TriageError
from monitor.model import TriageState

log = logging.getLogger(__name__)


@cache
def template() -> str:
    """The HTML template shipped in monitor/templates."""
    return resources.files("monitor").joinpath("templates/digest.html").read_text("utf-8")


def zone(name: str | None) -> tuple[tzinfo, str]:
    """The zone called `name`, else the machine's local zone; with its name."""
    if name:
        return ZoneInfo(name), name
    import tzlocal

    try:
        local = tzlocal.get_localzone_name() or "UTC"
        return ZoneInfo(local), local
    except (LookupError, ValueError, OSError):  # an unnamed or broken local zone
        return ZoneInfo("UTC"), "UTC"


def make_digest(
    settings: Settings,
    store: Store,
    day: date,
    tz: tzinfo,
    tz_name: str,
    now: datetime,
    query: Query | None = None,
    ctx: Context | None = None,
    triage: TriageState | None = None,
) -> Digest:
    """The digest of `day` from the store: that day's items and the day before's; the
    analyst's triage (for the clippings) read from the store's folder unless given; `ctx`
    as `query_context` makes it, with the saved stories (the digest groups by them), by
    default."""
    if triage is None:
        triage = _triage(settings)
    start, end = day_bounds(day, tz)
    before, _ = day_bounds(day - timedelta(days=1), tz)
    items = list(store.items(since=before, until=end))
    return build_digest(
        [it for it in items if it.published >= start],
        day=day,
        zone=tz,
        zone_name=tz_name,
        generated_at=now,
        previous=[it for it in items if it.published < start],
        states=store.states(),
        source_names=[s.name for s in settings.sources if s.enabled],
        filters=[(f.name, f.query) for f in settings.filters],
        query=query,
        ctx=ctx
        if ctx is not None
        else query_context(settings, store, triage, stories(settings, store, now)),
        triage=triage,
    )


def _triage(settings: Settings) -> TriageState | None:
    """The analyst's triage; None (no clippings) when it cannot be read: a digest is
    still worth writing."""
    try:
        return triage_state(settings)
    except TriageError as exc:
        log.warning("digest without clippings: %s", exc)
        return None


def render(d: Digest, fmt: str) -> str:
    if fmt == "json":
        return render_json(d)
    if fmt == "html":
        return render_html(d, template())
    if fmt == "markdown":
        return render_markdown(d)
    raise ValueError(f"unknown digest format {fmt!r}")


def file_name(day: date, fmt: str, stem: str = "digest") -> str:
    return f"{stem}-{day.isoformat()}{SUFFIX[fmt]}"


def free_path(folder: Path, name: str) -> Path:
    """`folder/name`, or `folder/stem-2.ext`, `-3` … when it is taken."""
    path = folder / name
    stem, suffix = path.stem, path.suffix
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path


@dataclass(frozen=True, slots=True)
class ScheduleRun:
    day: date
    written: tuple[Path, ...]
    kept: tuple[Path, ...]  # already there: left alone


def run_schedule(
    settings: Settings, store: Store, now: datetime, ctx: Context | None = None
) -> ScheduleRun | None:
    """Write the scheduled day's digest in every configured format, unless already
    written. None when no `[digest] at` is configured. Run on start and at each `at`."""
    cfg = settings.digest
    if not cfg.at:
        return None
    tz, tz_name = zone(cfg.timezone)
    day = scheduled_day(now, tz, cfg.at)
    paths = {fmt: cfg.dir / file_name(day, fmt) for fmt in cfg.formats}
    missing = [fmt for fmt, p in paths.items() if not p.exists()]
    written: list[Path] = []
    if missing:
        d = make_digest(settings, store, day, tz, tz_name, now, ctx=ctx)
        for fmt in missing:
            try:
                write_file(paths[fmt], render(d, fmt), parents=True)
                written.append(paths[fmt])
            except FileExistsError:  # another monitor wrote it meanwhile
                pass
    kept = tuple(p for p in paths.values() if p not in written)
    if written:
        log.info("digest of %s written: %s", day, ", ".join(map(str, written)))
    return ScheduleRun(day, tuple(written), kept)


def export_today(
    settings: Settings,
    store: Store,
    now: datetime,
    query: Query | None = None,
    ctx: Context | None = None,
) -> list[Path]:
    """Today's digest so far (under `query`, evaluated with `ctx`: the dashboard's, which
    knows the analyst's triage) in every configured format, in the digest
    folder as digest-DATE-at-HHMM (never the scheduled day's name, never overwriting)."""
    tz, tz_name = zone(settings.digest.timezone)
    local = now.astimezone(tz)
    d = make_digest(settings, store, local.date(), tz, tz_name, now, query, ctx)
    stem = f"digest-{local.date().isoformat()}-at-{local:%H%M}"
    paths = []
    for fmt in settings.digest.formats:
        text = render(d, fmt)
        while True:
            path = free_path(settings.digest.dir, stem + SUFFIX[fmt])
            try:
                write_file(path, text, parents=True)
                break
            except FileExistsError:  # taken meanwhile: the next free name
                continue
        paths.append(path)
    return paths
