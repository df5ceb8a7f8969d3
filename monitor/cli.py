"""`monitor` runs the dashboard; `monitor poll|sources|export …` run headless.

Nothing here imports textual: the dashboard is imported only when it is asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from monitor import __version__
from monitor.config import ConfigError, Settings, find_config, load, parse_duration
from monitor.core.humanize import ago, error_words, span
from monitor.io.events import (
    ActorsFound,
    DigestWritten,
    Event,
    PollEnded,
    Problem,
    Scheduled,
    SourcePolled,
    TextArrived,
    TextsDone,
    TextsQueued,
)

if TYPE_CHECKING:
    from monitor.core.query import Query
    from monitor.io.digest import ScheduleRun
    from monitor.model import PollReport

EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAIL) -> None:
        super().__init__(message)
        self.code = code


def _settings(args: argparse.Namespace) -> Settings:
    path = find_config(getattr(args, "config", None))
    if path is None:
        import platformdirs

        user = Path(platformdirs.user_config_dir("monitor")) / "config.toml"
        raise CliError(
            f"no config.toml found: give --config PATH, set $MONITOR_CONFIG, "
            f"or create ./config.toml or {user}",
            EXIT_CONFIG,
        )
    try:
        return load(path)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_CONFIG) from None


def _open_store(settings: Settings, *, readonly: bool = False):  # type: ignore[no-untyped-def]
    from monitor.io.backends import open_store
    from monitor.io.store import StoreError

    try:
        return open_store(settings.storage, readonly=readonly)
    except StoreError as exc:
        raise CliError(str(exc)) from None


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        line = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        print(line, file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


# --- poll -----------------------------------------------------------------------------------


class _Bar:
    """A one-line progress bar on a terminal; plain lines otherwise."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()

    def bar(self, done: int, total: int, label: str) -> None:
        width = 30
        fill = int(width * done / max(total, 1))
        self.out.write(f"\r\x1b[K[{'#' * fill}{'.' * (width - fill)}] {done}/{total} {label}")
        if done == total:
            self.out.write("\r\x1b[K")
        self.out.flush()

    def line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


@dataclass
class _PollTally:
    """What `monitor poll` saw of a pass, from the core's events: progress on stderr as
    it goes, figures for the summary."""

    bar: _Bar
    report: PollReport | None = None
    failure: str | None = None
    fetched: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    texts: bool = False  # pages were asked for
    earlier: int = 0  # of them, left pending by earlier polls
    left_without: int = 0  # --no-text: new items whose page was not asked for
    caught_up: int = 0  # stored items that got their actors

    def __call__(self, event: Event) -> None:
        match event:
            case SourcePolled(done, total, r):
                if self.bar.tty:
                    self.bar.bar(done, total, _clip(r.name, 40))
                else:
                    word = r.status if r.status != "error" else f"error ({r.error})"
                    self.bar.line(f"{done}/{total} {r.name}: {word}")
            case PollEnded(report, failure, _):
                self.report, self.failure = report, failure
            case TextsQueued(count, earlier, skipped):
                if skipped:
                    self.left_without += count - earlier
                else:
                    self.texts, self.earlier = True, self.earlier + earlier
            case TextArrived(item, done, total):
                if item.text_status == "page":
                    self.fetched += 1
                else:
                    self.failed[item.text_error or "other"] += 1
                if self.bar.tty:
                    self.bar.bar(done, total, "text " + _clip(_one_line(item.title), 40))
                else:
                    word = "ok" if item.text_status == "page" else f"{item.text_error}"
                    link = _clip(_one_line(item.url or ""), 80)
                    self.bar.line(f"text {done}/{total} {link}: {word}")
            case ActorsFound(done, _, True):
                self.caught_up += done
            case Problem(_, message):
                self.bar.line(f"monitor: {_one_line(message)}")
            case _:
                pass


def cmd_poll(args: argparse.Namespace) -> int:
    settings = _settings(args)
    only = set(args.source) if args.source else None
    if only:
        unknown = only - {s.name for s in settings.sources}
        if unknown:
            raise CliError(
                f"no source named {', '.join(sorted(unknown))} in {settings.path}", EXIT_CONFIG
            )
    from monitor.io.session import Session
    from monitor.io.store import StoreError

    if args.watch:
        if only or args.all:
            raise CliError("--watch polls every source on its interval: no --all or --source")
        return _watch(settings, fetch_text=not args.no_text, annotate=not args.no_actors)
    store = _open_store(settings)
    tally = _PollTally(_Bar(sys.stderr))

    async def run() -> None:
        session = Session(
            settings,
            store,
            listener=tally,
            text=not args.no_text,
            annotate=not args.no_actors,
            progress=True,
        )
        try:
            await session.load()
            await session.poll(force=args.all, only=only)
            await session.settle()  # the new items' actors, the backlog, the article texts
        finally:
            await session.close()

    try:
        asyncio.run(run())
    except StoreError as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()
    report = tally.report
    if report is None:
        raise CliError(tally.failure or "the poll failed")
    rows = [["source", "status", "new", "updated", "unchanged", "detail"]]
    for r in report.results:
        status = r.status.replace("_", " ")
        if r.status == "error":
            status = f"error: {r.error}"
        rows.append(
            [
                _clip(r.name, 40),
                status,
                str(r.new) if r.status == "ok" else "",
                str(r.updated) if r.status == "ok" else "",
                str(r.unchanged) if r.status == "ok" else "",
                _clip(r.detail or "", 70),
            ]
        )
    _table(rows, sys.stdout)
    fetched = [r for r in report.results if r.status != "skipped"]
    secs = (report.finished - report.started).total_seconds()
    print(
        f"\n{len(fetched)} fetched, {len(report.failed)} failed, "
        f"{len(report.results) - len(fetched)} skipped, {report.new} new items in {secs:.1f}s"
    )
    if tally.texts:
        why = ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in tally.failed.most_common())
        print(
            f"article text: {tally.fetched} fetched, {sum(tally.failed.values())} without"
            + (f" ({why})" if why else "")
            + (f"; {tally.earlier} of them left pending by earlier polls" if tally.earlier else "")
        )
    elif tally.left_without:
        print(f"article text: {tally.left_without} items left without (--no-text)")
    if tally.caught_up:
        print(f"actors: looked for in {tally.caught_up} items stored without them")
    return EXIT_OK


@dataclass
class _WatchLines:
    """`monitor poll --watch`: one line per pass, and one per batch of article texts."""

    report: PollReport | None = None
    failure: str | None = None
    digest: ScheduleRun | None = None
    caught_up: int = 0

    def __call__(self, event: Event) -> None:
        match event:
            case PollEnded(report, failure, _):
                self.report, self.failure, self.digest, self.caught_up = report, failure, None, 0
            case ActorsFound(done, _, True):
                self.caught_up += done
            case DigestWritten(run):
                self.digest = run
            case Scheduled(next_poll):
                self.print_pass(next_poll)
            case TextsDone(fetched, failed, _):
                without = sum(failed.values())
                print(f"{_clock()} {fetched} article texts, {without} without", flush=True)
            case Problem(_, message):
                print(f"{_clock()} {_one_line(message)}", flush=True)
            case _:
                pass

    def print_pass(self, next_poll: datetime | None) -> None:
        r = self.report
        if r is None:
            text = f"{_clock()} {self.failure or 'poll failed'}"
        else:
            fetched = sum(1 for x in r.results if x.status != "skipped")
            when = r.finished.astimezone().strftime("%H:%M:%S")
            text = f"{when} {fetched} fetched, {len(r.failed)} failed, {r.new} new"
        if self.caught_up:
            text += f", actors looked for in {self.caught_up} stored items"
        if self.digest is not None and self.digest.written:
            text += f"; digest of {self.digest.day.isoformat()} written to " + ", ".join(
                str(path) for path in self.digest.written
            )
        if next_poll is not None:
            text += f"; next pass in {span((next_poll - datetime.now(UTC)).total_seconds())}"
        print(text, flush=True)
        self.report, self.digest, self.caught_up = None, None, 0


def _clock() -> str:
    return datetime.now().strftime("%H:%M:%S")


def _watch(settings: Settings, *, fetch_text: bool, annotate: bool) -> int:
    """Poll until Ctrl+C or SIGTERM, one summary line per pass."""
    import signal

    from monitor.io.session import Session
    from monitor.io.store import StoreError

    async def run() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        session = Session(
            settings, store, listener=_WatchLines(), text=fetch_text, annotate=annotate
        )
        try:
            await session.run()
        finally:
            await session.close()

    store = _open_store(settings)
    print(f"monitor: watching {sum(s.enabled for s in settings.sources)} sources", flush=True)
    try:
        asyncio.run(run())
    except asyncio.CancelledError:
        pass
    except StoreError as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()
    print("monitor: stopped", flush=True)
    return EXIT_OK


# --- sources --------------------------------------------------------------------------------


def cmd_sources(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.action == "import":
        return _import_opml(settings, Path(args.file), dry_run=args.dry_run)
    store = _open_store(settings, readonly=True)
    try:
        states = store.states()
    finally:
        store.close()
    now = datetime.now(UTC)
    rows = [["source", "last success", "last error", "fails", "interval", "items", "next"]]
    for s in settings.sources:
        st = states.get(s.name)
        error = "disabled" if not s.enabled else _one_line(error_words(st))
        rows.append(
            [
                _clip(s.name, 36),
                ago(st.last_success, now) if st else "never",
                _clip(error, 50),
                str(st.failures) if st else "0",
                span(s.interval),
                str(st.item_count) if st else "0",
                ago(st.next_due, now) if st and st.next_due else "now",
            ]
        )
    _table(rows, sys.stdout)
    return EXIT_OK


def _import_opml(settings: Settings, opml: Path, *, dry_run: bool) -> int:
    from monitor.io.opml import add_sources, read_opml

    if settings.path is None:
        raise CliError("import needs a config file", EXIT_CONFIG)
    try:
        feeds = read_opml(opml.read_bytes())
    except OSError as exc:
        raise CliError(f"{opml}: {exc}") from None
    except ValueError as exc:
        raise CliError(f"{opml}: {exc}") from None
    try:
        added, skipped = add_sources(settings.path, feeds, dry_run=dry_run)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_CONFIG) from None
    for name in added:
        print(f"{'would add' if dry_run else 'added'}: {name}")
    print(f"{len(added)} added, {skipped} already present, from {len(feeds)} feeds in {opml.name}")
    return EXIT_OK


# --- export ---------------------------------------------------------------------------------


def cmd_export(args: argparse.Namespace) -> int:
    settings = _settings(args)
    since = None
    if args.since:
        try:
            since = datetime.now(UTC) - _timedelta(args.since)
        except ValueError as exc:
            raise CliError(f"--since: {exc}", EXIT_CONFIG) from None
        except OverflowError:
            since = None  # further back than any date: everything
    store = _open_store(settings, readonly=True)
    out = sys.stdout if args.output in (None, "-") else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        items = store.items(since=since)
        if args.format == "jsonl":
            for item in items:
                out.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
        else:
            json.dump([i.to_json() for i in items], out, ensure_ascii=False, indent=2)
            out.write("\n")
    finally:
        store.close()
        if out is not sys.stdout:
            out.close()
    return EXIT_OK


def _timedelta(text: str):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    return timedelta(seconds=parse_duration(text))


# --- search ---------------------------------------------------------------------------------

_SEARCH_HELP = """\
query syntax (case and accents never matter):
  russie ukraine              both words; a word matches the start of words: russ finds Russia
  "vladimir putin"            an exact phrase
  kremlin OR moscou           either (OR in capitals); NOT sport or -sport: without
  (russie OR ukraine) -sport  parentheses group; NOT binds tighter than AND, AND than OR
  actor:putin  actor:"Vladimir Putin"  source:monde  lang:fr
  since:24h  since:7d  after:2016-11-14 (that day on)  before:2016-11-15 (days before it)
"""


def _caret_columns(text: str) -> int:
    """Terminal columns of `text`, to put a caret under a character."""
    import unicodedata

    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def _one_line(text: str) -> str:
    """Untrusted text as one printable line."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _query(text: str) -> Query:
    """The query language, or a CliError with a caret under the mistake."""
    from monitor.core.query import QueryError, parse_query

    try:
        return parse_query(text)
    except QueryError as exc:
        shown = "".join(c if c.isprintable() else " " for c in text)
        caret = " " * _caret_columns(shown[: exc.position]) + "^"
        raise CliError(f"bad query: {exc.message}\n  {shown}\n  {caret}", EXIT_CONFIG) from None


def _write_lines(lines: list[str]) -> None:
    """Print `lines`, flushed: a reader that left (| head) stops the command here, before
    any note on stderr (see `main`)."""
    for line in lines:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


def cmd_actors(args: argparse.Namespace) -> int:
    from monitor.core.trends import actor_stats

    query = _query(" ".join(args.query)) if args.query else None
    if args.limit < 1:
        raise CliError("--limit: 1 or more", EXIT_CONFIG)
    settings = _settings(args)
    store = _open_store(settings, readonly=True)
    now = datetime.now(UTC)
    try:
        index = store.entry_index()
    finally:
        store.close()
    mask = query.select(index, now) if query is not None else None
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
            together = f"  ({_one_line(', '.join(a.together))})" if a.together else ""
            lines.append(
                f"{a.shown:>6} {a.hour:>4} {a.day:>5} {a.week:>5} {a.mentions[0]:>6} "
                f"{a.mentions[2]:>5} {a.rising:>6.1f}  {_one_line(a.name)}{together}"
            )
    _write_lines(lines)
    if not stats:
        print("monitor: no actors in the stored items", file=sys.stderr)
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    query = _query(" ".join(args.query))
    if args.limit < 0:
        raise CliError("--limit: 0 (for all) or more", EXIT_CONFIG)
    settings = _settings(args)
    store = _open_store(settings, readonly=True)
    try:
        index = store.entry_index()
        found = index.rows(query.select(index, datetime.now(UTC)))
        found.sort(key=lambda e: e.published, reverse=True)  # newest first, ties kept in order
        shown_entries = found[: args.limit] if args.limit else found
        lines: list[str] = []
        if args.format == "text":
            for e in shown_entries:
                when = e.published.astimezone(UTC)
                sources = _one_line(", ".join(e.sources))
                lines.append(f"{when:%Y-%m-%d %H:%M}Z  {sources}  {_one_line(e.title)}")
        else:
            items = [it for it in map(store.get, (e.id for e in shown_entries)) if it]
            records = [it.to_json() for it in items]
            if args.format == "jsonl":
                lines = [json.dumps(r, ensure_ascii=False) for r in records]
            else:
                lines = [json.dumps(records, ensure_ascii=False, indent=2)]
    finally:
        store.close()
    _write_lines(lines)
    if not found:
        print("monitor: nothing matches", file=sys.stderr)
    elif len(shown_entries) < len(found):
        print(
            f"monitor: {len(found)} matches, the newest {len(shown_entries)} shown"
            " (--limit 0 for all)",
            file=sys.stderr,
        )
    return EXIT_OK


# --- digest ---------------------------------------------------------------------------------


def cmd_digest(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfoNotFoundError

    from monitor.core.digest import parse_day
    from monitor.core.query import QueryError, parse_query
    from monitor.io.digest import make_digest, render, write_file, zone

    settings = _settings(args)
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
        except QueryError as exc:
            raise CliError(f"--query: {exc.message} at {exc.position}", EXIT_CONFIG) from None
    store = _open_store(settings, readonly=True)
    try:
        text = render(make_digest(settings, store, day, tz, tz_name, now, query), args.format)
    finally:
        store.close()
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return EXIT_OK
    path = Path(args.output)
    try:
        write_file(path, text, force=args.force)
    except FileExistsError:
        raise CliError(f"{path} exists; --force to overwrite it") from None
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc}") from None
    print(f"digest of {day.isoformat()} ({tz_name}) written to {path}", file=sys.stderr)
    return EXIT_OK


# --- the dashboard --------------------------------------------------------------------------


def cmd_dashboard(args: argparse.Namespace) -> int:
    return _run_dashboard(_settings(args))


def _run_dashboard(settings: Settings) -> int:
    from monitor.io.backends import open_store
    from monitor.io.store import StoreError, StoreLocked

    read_only, lock_message = False, ""
    try:
        store = open_store(settings.storage)
    except StoreLocked as exc:  # another monitor writes: watch read-only, no polling
        read_only, lock_message = True, str(exc)
        store = _open_store(settings, readonly=True)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    try:
        from monitor.tui.app import MonitorApp  # the UI toolkit loads only here

        MonitorApp(settings, store, read_only=read_only, lock_message=lock_message).run()
    finally:
        store.close()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """The dashboard on sample feeds served from this process: no network needed."""
    import tempfile

    from monitor.demo import DemoServer, demo_config

    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as folder, DemoServer() as server:
        path = demo_config(server.base, Path(folder))
        try:
            settings = load(path)
        except ConfigError as exc:
            raise CliError(str(exc), EXIT_CONFIG) from None
        if args.poll_only:
            from monitor.io.backends import open_store
            from monitor.io.session import Session

            store = open_store(settings.storage)

            async def once() -> PollReport | None:
                session = Session(settings, store)
                try:
                    await session.load()
                    report = await session.poll()
                    await session.settle()
                    return report
                finally:
                    await session.close()

            try:
                report = asyncio.run(once())
            finally:
                store.close()
            if report is None:
                raise CliError("the demo poll failed")
            print(f"{len(report.results)} demo sources, {report.new} new items")
            return EXIT_OK
        return _run_dashboard(settings)


# --- parsing the command line -----------------------------------------------------------------


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

    p = sub.add_parser("sources", parents=[common], help="source health, or import an OPML file")
    p.set_defaults(func=cmd_sources, action="list")
    ssub = p.add_subparsers(dest="action", metavar="ACTION")
    pi = ssub.add_parser(
        "import", parents=[common], help="add the feeds of an OPML file to config.toml"
    )
    pi.add_argument("file", metavar="FILE.opml")
    pi.add_argument("--dry-run", action="store_true", help="show what would be added")
    ssub.add_parser("list", parents=[common], help="the health table (default)")

    p = sub.add_parser("export", parents=[common], help="stored items as JSON")
    p.add_argument("--since", metavar="AGE", help="only items published within AGE (24h, 7d …)")
    p.add_argument("--format", choices=("jsonl", "json"), default="jsonl")
    p.add_argument("--output", "-o", metavar="PATH", help="write here instead of stdout")
    p.set_defaults(func=cmd_export)

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
        "search",
        parents=[common],
        help="stored items matching a query, newest first",
        epilog=_SEARCH_HELP,
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
    return parser


def _reader_left() -> bool:
    """Whether stdout is a pipe whose reader has gone (`monitor export | head`)."""
    import os
    import select
    import stat

    try:
        fd = sys.stdout.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
    except (OSError, ValueError):
        return False
    if not hasattr(select, "poll"):
        return True
    poll = select.poll()
    poll.register(fd, select.POLLOUT)
    # a pipe without a reader polls as an error: a broken pipe from elsewhere is not hidden
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a reader that left shows here rather than at exit
        return code
    except BrokenPipeError:
        if not _reader_left():
            raise
        # Not an error, as for `git log | head`. What is still buffered would fail again
        # when the interpreter flushes stdout at exit: stdout goes to devnull instead.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_OK
    except CliError as exc:
        print(f"monitor: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("monitor: interrupted", file=sys.stderr)
        return 130
