"""A re-poll that touches more days than the store keeps in memory.

Run: uv run python bench/repoll.py [--days 9] [--items 4500] [--repeats 3]

Writes --items items spread round-robin over --days UTC days, reopens the store and
writes the same items again (all unchanged, as a re-poll of the same feeds), listed in
that round-robin order. Prints the median time of the second write and how many day
files it parsed: with a write holding every day it reads, each day's items and text
files once.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.io.tinystore import TinyStore, files  # noqa: E402
from tests.support.store import T0, item  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=9)
    ap.add_argument("--items", type=int, default=4500)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    parsed = [0]
    real = files.FileStorage._load

    def counted(self: files.FileStorage) -> files.Tables | None:
        parsed[0] += 1
        return real(self)

    files.FileStorage._load = counted  # type: ignore[method-assign]
    times: list[float] = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "db"
            batch = [
                item(n, published=T0 - timedelta(days=n % args.days), title=f"t{n}")
                for n in range(args.items)
            ]
            with TinyStore(root) as s:
                s.write(batch, [])
            with TinyStore(root) as s:
                parsed[0] = 0
                started = time.perf_counter()
                s.write(batch, [])
                times.append(time.perf_counter() - started)
    print(
        f"re-poll of {args.items:,} unchanged items over {args.days} days: median"
        f" {statistics.median(times):.3f} s, {parsed[0]} day files parsed"
    )


if __name__ == "__main__":
    main()
