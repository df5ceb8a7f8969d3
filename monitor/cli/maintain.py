"""`monitor reindex`: make the derived files again from the stored items."""

from __future__ import annotations

import argparse
import sys
import time

from monitor.cli.common import EXIT_OK, settings_of, store_of


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
