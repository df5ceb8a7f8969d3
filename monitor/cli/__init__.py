"""`monitor` runs the dashboard; `monitor poll|sources|export|star|tag …` run headless.

Nothing here imports textual: the dashboard is imported only when it is asked for.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from monitor import __version__
from monitor.cli.alerts import add_parsers as add_alert_parsers
from monitor.cli.common import CliError, dispatch
from monitor.cli.dashboard import cmd_dashboard, cmd_demo
from monitor.cli.export import cmd_export
from monitor.cli.maintain import cmd_check, cmd_reindex
from monitor.cli.poll import cmd_poll
from monitor.cli.read import (
    SEARCH_HELP,
    cmd_actors,
    cmd_digest,
    cmd_search,
    cmd_sources,
)
from monitor.cli.store import add_parsers as add_store_parsers
from monitor.cli.stories import cmd_stories
from monitor.cli.triage import add_parsers as add_triage_parsers

__all__ = ["CliError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="config file (default: see README)",
    )
    parser = argparse.ArgumentParser(
        prog="monitor", description="Terminal media monitoring.", parents=[common]
    )
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    parser.set_defaults(func=cmd_dashboard)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="the dashboard on built-in sample feeds, offline")
    p.add_argument("--poll-only", action="store_true", help="poll the samples once, headless")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("poll", parents=[common], help="fetch the sources that are due, once")
    p.add_argument(
        "--all", action="store_true", help="ignore intervals (Retry-After and backoff still apply)"
    )
    p.add_argument(
        "--source", action="append", metavar="NAME", help="poll only this source (repeatable)"
    )
    p.add_argument(
        "--no-text", action="store_true", help="do not fetch the article pages of new items"
    )
    p.add_argument(
        "--no-actors",
        action="store_true",
        help="store items without looking for their actors, quotes and dates",
    )
    p.add_argument(
        "--watch",
        action="store_true",
        help="keep polling due sources on their intervals (and write the scheduled digest)"
        " until Ctrl+C or SIGTERM",
    )
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("sources", parents=[common], help="source health; OPML import, export")
    p.set_defaults(func=cmd_sources, action="list")
    ssub = p.add_subparsers(dest="action", metavar="ACTION")
    pi = ssub.add_parser(
        "import", parents=[common], help="add the feeds of an OPML file to config.toml"
    )
    pi.add_argument("file", metavar="FILE.opml")
    pi.add_argument("--dry-run", action="store_true", help="show what would be added")
    pi.add_argument(
        "--allow-private",
        action="store_true",
        help="import feeds on localhost, private or link-local addresses too",
    )
    pe = ssub.add_parser(
        "export", parents=[common], help="the configured sources as OPML 2.0, for other readers"
    )
    pe.add_argument("--output", "-o", metavar="FILE", help="write here (default: stdout, -)")
    pe.add_argument("--force", action="store_true", help="overwrite an existing output file")
    ssub.add_parser("list", parents=[common], help="the health table (default)")

    p = sub.add_parser(
        "export",
        parents=[common],
        help="stored items (those matching a query) with your triage, as JSON or CSV",
    )
    p.add_argument("--query", metavar="Q", help="only the items matching this query")
    p.add_argument("--since", metavar="AGE", help="only items published within AGE (24h, 7d …)")
    p.add_argument("--format", choices=("jsonl", "json", "csv"), default="jsonl")
    p.add_argument(
        "--bom", action="store_true", help="CSV: start with a UTF-8 byte order mark (Excel)"
    )
    p.add_argument("--output", "-o", metavar="FILE", help="write here (default: stdout, -)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "reindex",
        parents=[common],
        help="make the search index and the entry files again from the stored items",
    )
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser(
        "check", parents=[common], help="say what in the store cannot be read (read-only)"
    )
    p.add_argument(
        "--repair",
        action="store_true",
        help="quarantine what cannot be read and make every derived file again"
        " (takes the write lock: stop the poller first)",
    )
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "actors",
        parents=[common],
        help="the actors of the stored items (or of those matching a query), most mentioned first",
    )
    p.add_argument("query", nargs="*", metavar="QUERY", help="only items matching this query")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--limit", type=int, default=30, help="actors shown (default 30)")
    p.set_defaults(func=cmd_actors)

    p = sub.add_parser(
        "stories",
        parents=[common],
        help="the stories of the stored items: copies across sources grouped, biggest first",
    )
    p.add_argument("--since", metavar="AGE", help="items of the last AGE (default 24h)")
    p.add_argument("--query", metavar="Q", help="only items matching this query")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--limit", type=int, default=50, help="stories shown (default 50)")
    p.set_defaults(func=cmd_stories)

    p = sub.add_parser(
        "search",
        parents=[common],
        help="stored items matching a query, newest first",
        epilog=SEARCH_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "query",
        nargs="+",
        metavar="QUERY",
        help="the query; several arguments are joined by spaces (-- before one starting with -)",
    )
    p.add_argument("--format", choices=("text", "json", "jsonl"), default="text")
    p.add_argument(
        "--limit",
        type=int,
        default=50,
        metavar="N",
        help="the newest N matches (default 50; 0: all)",
    )
    p.set_defaults(func=cmd_search)

    p = sub.add_parser(
        "digest", parents=[common], help="one day's digest: stories, actors, quotes, sections"
    )
    p.add_argument(
        "--date",
        default="today",
        metavar="YYYY-MM-DD",
        help="the day: YYYY-MM-DD, today (default) or yesterday, in the digest's time zone",
    )
    p.add_argument(
        "--tz", metavar="ZONE", help="time zone, e.g. Europe/Paris (default: [digest] timezone)"
    )
    p.add_argument("--query", metavar="Q", help="only the items matching this query")
    p.add_argument("--format", choices=("markdown", "html", "json"), default="markdown")
    p.add_argument("--output", "-o", metavar="PATH", help="write here (default: stdout, -)")
    p.add_argument("--force", action="store_true", help="overwrite an existing output file")
    p.set_defaults(func=cmd_digest)

    add_triage_parsers(sub, common)
    add_alert_parsers(sub, common)
    add_store_parsers(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return dispatch(args.func, args)
