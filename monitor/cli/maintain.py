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
    """Read every stored item (on a read-only store: a poller may run) and say, in words,
    what cannot be read. Exit status 1 when something cannot."""
    store = store_of(settings_of(args), readonly=True)
    try:
        problems = store.problems()
        count = store.count()
        set_aside = store.quarantined()
    finally:
        store.close()
    for line in problems:
        print(one_line(line))  # a record's id is untrusted
    if set_aside:
        print(f"{set_aside} record{'' if set_aside == 1 else 's'} set aside")
    print(f"{count} items; {'no problems' if not problems else f'{len(problems)} problems'}")
    return EXIT_FAIL if problems else EXIT_OK
