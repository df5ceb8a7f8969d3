"""OPML import speed: does it stay linear when every outline has the same title?

Run: uv run python bench/opml.py [--sizes 1000,10000,100000] [--repeats 3]

For each size it writes an OPML file of that many feed outlines, all titled "News" (the
worst case for naming: "News", "News (2)", "News (3)" …) with distinct URLs, and an empty
config.toml in a temp folder, then times reading the file and adding its feeds to the
config as `monitor sources import --dry-run` does (parsed, named, validated, not
written). It prints the median seconds of the repeats and the microseconds per outline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitor.core.opml import read_opml  # noqa: E402
from monitor.io.opml import add_sources  # noqa: E402

CONFIG = '[storage]\npath = "data/monitor.db"\n'


def opml(size: int) -> bytes:
    """`size` outlines with one title, in 10 folders."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<opml version="2.0"><head/><body>']
    per = max(1, size // 10)
    for n in range(size):
        if n % per == 0:
            if n:
                lines.append("</outline>")
            lines.append(f'<outline text="Folder {n // per}">')
        lines.append(f'<outline type="rss" text="News" xmlUrl="https://n{n}.example.org/rss"/>')
    lines.append("</outline></body></opml>")
    return "\n".join(lines).encode("utf-8")


def run(size: int, folder: Path) -> float:
    data = opml(size)
    config = folder / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")
    start = time.perf_counter()
    feeds = read_opml(data)
    added, _ = add_sources(config, feeds, dry_run=True)
    took = time.perf_counter() - start
    assert len(added) == size, (len(added), size)
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            times = [run(size, Path(tmp)) for _ in range(args.repeats)]
            median = statistics.median(times)
            print(
                f"{size:>7} outlines, one title: median {median:.3f} s "
                f"({median / size * 1e6:.1f} µs an outline; {args.repeats} runs)",
                flush=True,
            )


if __name__ == "__main__":
    main()
