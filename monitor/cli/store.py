"""`monitor store migrate`: bring the database's tables up to this monitor's version;
`monitor store copy --to URL|FOLDER`: copy the configured store into another."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from monitor.cli.common import EXIT_FAIL, EXIT_OK, Bar, CliError, settings_of, store_of
from monitor.config import DatabaseSettings, Settings


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("store", parents=[common], help="the database: migrate, copy")
    ssub = p.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    pm = ssub.add_parser(
        "migrate", parents=[common], help="create or upgrade the PostgreSQL tables"
    )
    pm.set_defaults(func=cmd_migrate)
    pc = ssub.add_parser(
        "copy",
        parents=[common],
        help="copy the configured store into another (PostgreSQL URL or folder); "
        "run again to catch up, nothing is duplicated",
    )
    pc.add_argument(
        "--to",
        required=True,
        metavar="URL|FOLDER",
        help="postgresql://user@host/db (password from $MONITOR_DATABASE_URL or "
        "--password-env) or a folder for a TinyDB store",
    )
    pc.add_argument("--password-env", metavar="VAR", help="the variable with the password")
    pc.set_defaults(func=cmd_copy)


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    if settings.database is None:
        raise CliError('monitor store migrate is for [storage] backend = "postgresql"')
    from monitor.io.pg.connect import database, release
    from monitor.io.pg.schema import migrate
    from monitor.io.store import StoreError

    try:
        db = database(settings.database)
        try:
            with db.connection() as conn:
                before, after = migrate(conn)
        finally:
            release(db)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    if before == after:
        print(f"{db.name}: schema version {after}, up to date")
    else:
        print(f"{db.name}: schema version {before} -> {after}")
    return EXIT_OK


def _target(settings: Settings, to: str, password_env: str | None) -> Settings:
    """The settings of the store to copy into."""
    if "://" in to:
        if not to.startswith(("postgresql://", "postgres://")):
            raise CliError(f"--to {to}: a postgresql:// URL or a folder")
        return replace(settings, database=DatabaseSettings(url=to, password_env=password_env))
    return replace(settings, storage=Path(to).absolute(), database=None)


def cmd_copy(args: argparse.Namespace) -> int:
    from monitor.io.backends import side_tables
    from monitor.io.copy import copy_sides, copy_store
    from monitor.io.ledger import LedgerError
    from monitor.io.triage import TriageError

    settings = settings_of(args)
    target_settings = _target(settings, args.to, args.password_env)
    if target_settings == settings:
        raise CliError("--to names the configured store itself")
    source = store_of(settings, readonly=True)
    try:
        target = store_of(target_settings)
        try:
            bar = Bar(sys.stderr)
            copied = copy_store(source, target, lambda done, total: bar.bar(done, total, "items"))
        finally:
            target.close()
    finally:
        source.close()
    print(
        f"copied {copied.items} items ({copied.new} new there) and {copied.states} "
        f"source states; source {copied.source_count} items, target {copied.target_count}"
    )
    try:
        for line in copy_sides(side_tables(settings), side_tables(target_settings)):
            print(line)
    except (TriageError, LedgerError) as exc:
        raise CliError(str(exc)) from None
    if copied.missing:
        print(f"{copied.missing} items of the source are missing from the target")
        return EXIT_FAIL
    return EXIT_OK
