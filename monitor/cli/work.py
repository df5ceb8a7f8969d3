"""`monitor work --actors --texts`: annotation and article pages on any host, from the
database's work queues (PostgreSQL only), one line per batch done."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    CliError,
    one_line,
    settings_of,
    store_of,
    until_stopped,
)

if TYPE_CHECKING:
    from monitor.io.pg.worker import Turn


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "work",
        parents=[common],
        help="find actors and fetch article pages for the items pollers store"
        " (PostgreSQL; pollers then run with --no-actors --no-text)",
    )
    p.add_argument("--actors", action="store_true", help="annotate: actors, quotes and dates")
    p.add_argument("--texts", action="store_true", help="fetch the article pages")
    p.add_argument(
        "--once", action="store_true", help="do the jobs queued now, then stop (cron, tests)"
    )
    p.set_defaults(func=cmd_work)


def _line(turn: Turn) -> None:
    clock = datetime.now().strftime("%H:%M:%S")
    if turn.kind == "actors":
        print(f"{clock} actors: {turn.taken} jobs, {turn.done} items annotated", flush=True)
        return
    without = sum(turn.failed.values())
    why = ", ".join(f"{one_line(k)} {n}" for k, n in sorted(turn.failed.items()))
    print(
        f"{clock} texts: {turn.taken} jobs, {turn.done} pages fetched, {without} without"
        + (f" ({why})" if why else ""),
        flush=True,
    )


def cmd_work(args: argparse.Namespace) -> int:
    if not (args.actors or args.texts):
        raise CliError("say what to work on: --actors, --texts or both", EXIT_CONFIG)
    settings = settings_of(args)
    if settings.database is None:
        raise CliError(
            'monitor work takes its jobs from a database: [storage] backend = "postgresql"'
            " (with the folder store, monitor poll does this work itself)",
            EXIT_CONFIG,
        )
    from monitor.io.pg.store import PgStore
    from monitor.io.pg.worker import Worker

    store = store_of(settings, held=True)
    assert isinstance(store, PgStore)
    worker = Worker(settings, store, actors=args.actors, texts=args.texts, report=_line)
    kinds = " and ".join(k for k, on in (("actors", args.actors), ("texts", args.texts)) if on)
    print(f"monitor: working on {kinds} from {one_line(store.name)}", flush=True)
    until_stopped(worker.drain if args.once else worker.run, store)
    return EXIT_OK
