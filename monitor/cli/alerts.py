"""`monitor alerts`: the ledger's alerts; `monitor watches test`: what a watch would have
matched over the stored items, and how many alerts that makes (nothing is written)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    CliError,
    context_of,
    duration,
    one_line,
    parse_or_fail,
    settings_of,
    store_of,
    write_lines,
)


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "alerts", parents=[common], help="the alerts the watches raised, newest first"
    )
    p.add_argument("--since", metavar="AGE", help="only alerts raised within AGE (24h, 7d …)")
    p.add_argument("--watch", metavar="NAME", help="only this watch's alerts")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("watches", parents=[common], help="try a watch on the stored items")
    wsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    pt = wsub.add_parser(
        "test",
        parents=[common],
        help="what a watch (by name, or a query) would have matched, and the alerts it makes",
    )
    pt.add_argument("watch", metavar="NAME|QUERY")
    pt.add_argument("--days", type=int, default=7, metavar="N", help="the last N days (7)")
    pt.set_defaults(func=cmd_watches_test)


def cmd_alerts(args: argparse.Namespace) -> int:
    from monitor.io.backends import open_ledger
    from monitor.io.ledger import LedgerError

    settings = settings_of(args)
    since = datetime.now(UTC) - duration(args.since) if args.since else None
    try:
        ledger = open_ledger(settings, read_only=True)
    except LedgerError as exc:
        raise CliError(str(exc)) from None
    alerts, failures = [], {}
    if ledger is not None:
        try:
            alerts = ledger.alerts(since=since, watch=args.watch, limit=100_000)
            for a in alerts:
                failed = [d for d in ledger.deliveries(a.id) if d.last_error]
                if failed:
                    failures[a.id] = failed
        except LedgerError as exc:
            raise CliError(str(exc)) from None
        finally:
            ledger.close()
    lines = []
    if args.format == "json":
        lines = [json.dumps([a.to_json() for a in alerts], ensure_ascii=False, indent=2)]
    for a in alerts if args.format == "text" else ():
        more = f"+{a.more} source{'s' if a.more != 1 else ''}" if a.more else ""
        line = f"{a.at.astimezone(UTC):%Y-%m-%d %H:%M}Z  {one_line(a.watch)}  {more}".rstrip()
        lines.append(f"{line}  {one_line(a.title)}")
        for d in failures.get(a.id, []):
            lines.append(f"    {d.channel} {d.state}: {one_line(d.last_error or '')}")
    write_lines(lines)
    if not alerts:
        print("monitor: no alerts", file=sys.stderr)
    return EXIT_OK


def cmd_watches_test(args: argparse.Namespace) -> int:
    from monitor.config import Watch
    from monitor.core.cluster import cluster
    from monitor.io.watch_actions import find_matches

    if args.days < 1:
        raise CliError("--days: 1 or more", EXIT_CONFIG)
    settings = settings_of(args)
    watch = next((w for w in settings.watches if w.name == args.watch), None)
    if watch is None:
        watch = Watch(name="test", query=args.watch)
    query = parse_or_fail(watch.query) if watch.query else None
    now = datetime.now(UTC)
    store = store_of(settings, readonly=True)
    try:
        whole = store.entry_index()
        since = now - timedelta(days=args.days)
        recent = [e for e in whole.entries if e.first_seen >= since]
        ctx = context_of(settings, store, query, stories=True)  # alerts group by story
        matches = find_matches(
            [(watch, query)], recent, whole, store, now, ctx, settings, since=since
        )
        loose = [m.item.id for m in matches if m.key == m.item.id and m.story is None]
        items = [it for it in map(store.get, loose) if it]
    finally:
        store.close()
    grouped = {m.story for m in matches if m.story is not None}
    rules = {m.key for m in matches if m.key != m.item.id}
    stories = len(grouped) + len(cluster(items)) + len(rules)
    lines = []
    for m in sorted(matches, key=lambda m: m.item.published, reverse=True):
        when = m.item.published.astimezone(UTC)
        sources = one_line(", ".join(m.item.sources))
        lines.append(f"{when:%Y-%m-%d %H:%M}Z  {sources}  {one_line(m.item.title)}")
        if m.context:
            lines.append(f"    {one_line(m.context)}")
    write_lines(lines)
    n = len(matches)
    print(
        f"monitor: {n} match{'es' if n != 1 else ''} in the last {args.days} days,"
        f" {stories} alert{'s' if stories != 1 else ''} after grouping copies of a story",
        file=sys.stderr,
    )
    return EXIT_OK
