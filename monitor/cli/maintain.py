"""`monitor reindex`: make the derived files again from the stored items; `monitor check`:
say what in the store cannot be read."""

from __future__ import annotations

import argparse
import sys
import time

from monitor.cli.common import EXIT_FAIL, EXIT_OK, one_line, settings_of, store_of


def cmd_reindex(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    store = store_of(settings)
    started = time.monotonic()
    shown = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if shown:
            print(f"\rindexing day {done} of {total}", end="", file=sys.stderr, flush=True)

    try:
        count = store.reindex(progress)
    finally:
        store.close()
    if shown:
        print(file=sys.stderr)
    seconds = time.monotonic() - started
    print(f"indexed {count} items in {seconds:.1f} s", file=sys.stderr)
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Read every stored item and say, in words, what cannot be read or is out of date;
    read-only (a poller may run), or with --repair as the writer: quarantine what cannot
    be read and make every derived file again. Exit status 1 when a problem is left."""
    settings = settings_of(args)
    store = store_of(settings, readonly=not args.repair)
    try:
        done = store.repair() if args.repair else []
        problems = store.problems()
        kept = store.damage()
        count = store.count()
        set_aside = store.quarantined()
    finally:
        store.close()
    for line in done:
        print(f"repaired: {one_line(line)}")
    for line in kept:
        print(f"kept: {one_line(line)}")
    for line in problems:
        print(one_line(line))  # a record's id is untrusted
    if set_aside:
        print(f"{set_aside} record{'' if set_aside == 1 else 's'} set aside")
    print(f"{count} items; {'no problems' if not problems else f'{len(problems)} problems'}")
    return EXIT_FAIL if problems else EXIT_OK
