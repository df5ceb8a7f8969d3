"""The commands that read the store: sources, search, actors, digest (export has its own
module)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    CliError,
    clip,
    context_of,
    one_line,
    parse_or_fail,
    save,
    say,
    settings_of,
    store_of,
    table,
    write_lines,
    writing_stdout,
)
from monitor.config import ConfigError, Settings
from monitor.core.humanize import ago, error_words, span
from monitor.core.names import apply_names, entry_names

if TYPE_CHECKING:
    from monitor.core.opml import OpmlRead
    from monitor.core.query import Context, Query
    from monitor.io.store import Store
    from monitor.model import Entry

# `sources import` of a file that is not usable OPML (not XML, cut, over a limit)
EXIT_NOT_OPML = 3


def cmd_sources(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if args.action == "import":
        return _import_opml(
            settings, Path(args.file), dry_run=args.dry_run, allow_private=args.allow_private
        )
    if args.action == "export":
        return _export_opml(settings, args.output, force=args.force)
    store = store_of(settings, readonly=True)
    try:
        states = store.states()
    finally:
        store.close()
    now = datetime.now(UTC)
    rows = [["source", "last success", "last error", "fails", "interval", "items", "next"]]
    for s in settings.sources:
        st = states.get(s.name)
        error = "disabled" if not s.enabled else one_line(error_words(st))
        rows.append(  # `table` gates every cell; the names are gated before they are cut
            [
                clip(one_line(s.name), 36),
                ago(st.last_success, now) if st else "never",
                clip(error, 50),
                str(st.failures) if st else "0",
                span(s.interval),
                str(st.item_count) if st else "0",
                ago(st.next_due, now) if st and st.next_due else "now",
            ]
        )
    table(rows, sys.stdout)
    _channels_table(settings, now)
    return EXIT_OK


def _channels_table(settings: Settings, now: datetime) -> None:
    """The alert channels' health, from the ledger, after the sources: a failing webhook
    is a source of trouble too."""
    from monitor.core.humanize import SENT_CHANNELS, channel_status, shown_channels
    from monitor.io.backends import open_ledger
    from monitor.io.ledger import LedgerError

    health = []
    try:
        ledger = open_ledger(settings, read_only=True)
        if ledger is not None:
            try:
                health = ledger.channel_health()
            finally:
                ledger.close()
    except LedgerError as exc:
        say(f"monitor: {exc}", file=sys.stderr)
    on = [c for c in SENT_CHANNELS if settings.alerts.configured(c)]
    channels = shown_channels(health, on)
    if not channels:
        return
    rows = [["alert channel", "status", "last success", "last error", "fails", "pending", "next"]]
    for h in channels:
        rows.append(
            [
                h.channel,
                channel_status(h, h.channel in on),
                ago(h.last_success, now),
                clip(one_line(h.last_error), 50),  # a server's reply
                str(h.failures),
                str(h.pending),
                "" if h.next_try is None else "now" if h.next_try <= now else ago(h.next_try, now),
            ]
        )
    print()
    table(rows, sys.stdout)


def _import_opml(settings: Settings, opml: Path, *, dry_run: bool, allow_private: bool) -> int:
    from monitor.core.opml import MAX_FILE_BYTES, PRIVATE, OpmlError
    from monitor.io.opml import add_sources, read_import

    if settings.path is None:
        raise CliError("import needs a config file", EXIT_CONFIG)
    try:
        with opml.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # one byte more tells a file that is too big
    except OSError as exc:
        raise CliError(f"{opml}: {exc}") from None
    try:
        read = read_import(data, allow_private=allow_private)
    except OpmlError as exc:
        # one_line: libxml2's words may quote the file
        raise CliError(f"{opml}: {one_line(str(exc))}; nothing imported", EXIT_NOT_OPML) from None
    try:
        added, present = add_sources(settings.path, read.feeds, dry_run=dry_run)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_CONFIG) from None
    # the names are the OPML's titles: anyone's text
    lines = [f"{'would add' if dry_run else 'added'}: {one_line(name)}" for name in added]
    lines += _import_summary(one_line(opml.name), read, len(added), present, dry_run=dry_run)
    if read.skipped[PRIVATE] and not allow_private:
        lines.append("  (--allow-private imports the feeds on private or local addresses)")
    write_lines(lines)
    return EXIT_OK


def _import_summary(
    file: str, read: OpmlRead, added: int, present: int, *, dry_run: bool
) -> list[str]:
    """What became of every outline, in words: read, added, already there, skipped and why."""
    skipped = sum(read.skipped.values())
    folders = f", {read.folders} folder{'s' if read.folders != 1 else ''}" if read.folders else ""
    lines = [
        f"{file}: {read.outlines} outline{'s' if read.outlines != 1 else ''} read{folders}; "
        f"{added} {'would be added' if dry_run else 'added'}, {present} already in the config, "
        f"{skipped} skipped"
    ]
    for reason, count in read.skipped.most_common():
        lines.append(f"  {count} skipped: {reason}")
    if read.recovered:
        lines.append(
            f"  {read.recovered} XML error{'s' if read.recovered != 1 else ''} read past, "
            f"the first at {one_line(read.first_error or '')}"
        )
    return lines


def _export_opml(settings: Settings, output: str | None, *, force: bool) -> int:
    from monitor.core.opml import write_opml

    data = write_opml(settings.sources, title="monitor sources", created=datetime.now(UTC))
    if output in (None, "-"):
        # bytes as written: the XML declaration says UTF-8 whatever the terminal's encoding
        out = getattr(sys.stdout, "buffer", None)
        with writing_stdout():
            if out is None:
                sys.stdout.write(data.decode("utf-8"))
            else:
                sys.stdout.flush()
                out.write(data)
                out.flush()
        return EXIT_OK
    path = Path(output)
    save(path, data.decode("utf-8"), force=force)
    say(f"{len(settings.sources)} sources written to {path}", file=sys.stderr)
    return EXIT_OK


SEARCH_HELP = """\
query syntax (case and accents never matter):
  russie ukraine              both words; a word matches the start of words: russ finds Russia
  "vladimir putin"            an exact phrase
  kremlin OR moscou           either (OR in capitals); NOT sport or -sport: without
  (russie OR ukraine) -sport  parentheses group; NOT binds tighter than AND, AND than OR
  actor:putin  actor:"Vladimir Putin"  source:monde  lang:fr
  since:24h  since:7d  after:2016-11-14 (that day on)  before:2016-11-15 (days before it)
  iran NEAR/5 sanctions       within 5 words, either order; words match the whole full text
  title:x  text:x  author:x   in the title; in the summary or full text; in the author
  site:lemonde.fr  category:politique  status:page|feed|failed|pending|paywall|blocked …
  is:unread  is:read  is:starred  tag:NAME  #NAME  has:note  has:tag  has:text
  story:ID  is:story-lead     the items of item ID's story; the item that ran each story first
"""


def cmd_actors(args: argparse.Namespace) -> int:
    from monitor.core.trends import actor_stats

    query = parse_or_fail(" ".join(args.query)) if args.query else None
    if args.limit < 1:
        raise CliError("--limit: 1 or more", EXIT_CONFIG)
    settings = settings_of(args)
    store = store_of(settings, readonly=True)
    now = datetime.now(UTC)
    try:
        index = store.entry_index()
        mask = (
            query.select(index, now, context_of(settings, store, query))
            if query is not None
            else None
        )
    finally:
        store.close()
    stats = actor_stats(index, now, limit=args.limit, mask=mask)
    if args.format == "json":
        rows = [
            {
                "name": a.name,
                "items": a.shown,
                "last_hour": a.hour,
                "last_24h": a.day,
                "last_7d": a.week,
                "mentions": a.mentions[0],
                "mentions_last_hour": a.mentions[1],
                "mentions_last_24h": a.mentions[2],
                "mentions_last_7d": a.mentions[3],
                "series_24h": list(a.series),
                "rising": round(a.rising, 2),
                "with": list(a.together),
            }
            for a in stats
        ]
        lines = [json.dumps(rows, ensure_ascii=False, indent=2)]
    else:
        lines = [
            f"{'items':>6} {'1h':>4} {'24h':>5} {'7d':>5} {'named':>6} {'24h':>5} "
            f"{'rising':>6}  actor (seen with)"
        ]
        for a in stats:
            together = f"  ({one_line(', '.join(a.together))})" if a.together else ""
            lines.append(
                f"{a.shown:>6} {a.hour:>4} {a.day:>5} {a.week:>5} {a.mentions[0]:>6} "
                f"{a.mentions[2]:>5} {a.rising:>6.1f}  {one_line(a.name)}{together}"
            )
    write_lines(lines)
    if not stats:
        print("monitor: no actors in the stored items", file=sys.stderr)
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    query = parse_or_fail(" ".join(args.query))
    if args.limit < 0:
        raise CliError("--limit: 0 (for all) or more", EXIT_CONFIG)
    settings = settings_of(args)
    store = store_of(settings, readonly=True)
    try:
        ctx = context_of(settings, store, query)
        if ctx.text is None and query.has_words():
            print(
                "monitor: the full texts are not indexed yet (the poller is indexing them, or"
                " run `monitor reindex`): titles and summaries only",
                file=sys.stderr,
            )
        found = _found(settings, store, query, ctx)
        shown_entries = found[: args.limit] if args.limit else found
        lines: list[str] = []
        if args.format == "text":
            for e in shown_entries:
                when = e.published.astimezone(UTC)
                sources = one_line(", ".join(e.sources))
                lines.append(f"{when:%Y-%m-%d %H:%M}Z  {sources}  {one_line(e.title)}")
        else:
            names = entry_names(shown_entries)  # one spelling and kind per actor
            items = [it for it in map(store.get, (e.id for e in shown_entries)) if it]
            records = [apply_names(it, names).to_json() for it in items]
            if args.format == "jsonl":
                lines = [json.dumps(r, ensure_ascii=False) for r in records]
            else:
                lines = [json.dumps(records, ensure_ascii=False, indent=2)]
    finally:
        store.close()
    write_lines(lines)
    if not found:
        print("monitor: nothing matches", file=sys.stderr)
    elif len(shown_entries) < len(found):
        print(
            f"monitor: {len(found)} matches, the newest {len(shown_entries)} shown"
            " (--limit 0 for all)",
            file=sys.stderr,
        )
    return EXIT_OK


def _found(settings: Settings, store: Store, query: Query, ctx: Context) -> list[Entry]:
    """The entries `query` selects, newest first: asked of the database when the store
    is one (it loads only what it finds), else selected from every entry."""
    now = datetime.now(UTC)
    if settings.database is not None:
        from monitor.io.pg.query import search_store
        from monitor.io.pg.store import PgStore
        from monitor.io.store import StoreError
        from monitor.io.triage import SHARED, login

        assert isinstance(store, PgStore)
        user = None if ctx.triage is None else SHARED if settings.triage.shared else login()
        try:
            return search_store(store, query, now, ctx, user)
        except StoreError as exc:
            raise CliError(str(exc)) from None
    index = store.entry_index()
    found = index.rows(query.select(index, now, ctx))
    found.sort(key=lambda e: e.published, reverse=True)  # newest first, ties kept in order
    return found


def cmd_digest(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfoNotFoundError

    from monitor.core.digest import parse_day
    from monitor.core.query import QueryError, QueryTooLong, parse_query
    from monitor.io.digest import make_digest, render, zone

    settings = settings_of(args)
    try:
        tz, tz_name = zone(args.tz or settings.digest.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CliError(f"--tz: unknown time zone {args.tz!r}", EXIT_CONFIG) from None
    now = datetime.now(UTC)
    try:
        day = parse_day(args.date, now, tz)
    except ValueError as exc:
        raise CliError(f"--date: {exc}", EXIT_CONFIG) from None
    query = None
    if args.query:
        try:
            query = parse_query(args.query)
        except QueryTooLong as exc:
            raise CliError(f"--query: {exc.message}", EXIT_CONFIG) from None
        except QueryError as exc:
            raise CliError(f"--query: {exc.message} at {exc.position}", EXIT_CONFIG) from None
    store = store_of(settings, readonly=True)
    try:
        saved = [parse_query(f.query) for f in settings.filters if _parses(f.query)]
        ctx = context_of(settings, store, query, *saved, stories=True)  # the digest groups
        try:
            digest = make_digest(settings, store, day, tz, tz_name, now, query, ctx)
        except OverflowError:  # the day before or after is not in the calendar
            raise CliError(
                f"--date: {day.isoformat()} is too near the end of the calendar", EXIT_CONFIG
            ) from None
        text = render(digest, args.format)
    finally:
        store.close()
    if args.output in (None, "-"):
        with writing_stdout():
            sys.stdout.write(text)
        return EXIT_OK
    path = Path(args.output)
    save(path, text, force=args.force)
    say(f"digest of {day.isoformat()} ({tz_name}) written to {path}", file=sys.stderr)
    return EXIT_OK


def _parses(text: str) -> bool:
    """Whether a saved filter parses (the digest skips one that does not)."""
    from monitor.core.query import QueryError, parse_query

    try:
        parse_query(text)
    except QueryError:
        return False
    return True
