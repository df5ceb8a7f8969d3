"""Poll throughput against newsboat, on generated feeds served from 50 loopback addresses.

    uv run python bench/poll.py                 # 500 feeds, 3 repeats
    uv run python bench/poll.py --feeds 2000 --repeats 1
    uv run python bench/poll.py --shards 1,8,50 # in-process: httpx clients per host group

Each run: a first full poll into an empty store, then a second poll where every feed
answers 304, in fresh processes with Python's bytecode cache warm (bench/pyenv.py). newsboat (Debian's package: apt-get install newsboat) runs on the same feeds
with reload-threads 10; it is skipped with a note when it is not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.feedserver import feed_url  # noqa: E402
from bench.pyenv import cached_bytecode_env  # noqa: E402


def start_server(
    feeds: int, hosts: int, latency: float
) -> tuple[subprocess.Popen[str], int, list[str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "feedserver.py"),
            "--feeds",
            str(feeds),
            "--hosts",
            str(hosts),
            "--latency",
            str(latency),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info["port"], info["hosts"]


def write_config(path: Path, urls: list[str]) -> None:
    lines = ['[storage]\npath = "store"\n\n[poll]\nconcurrency = 100\nper_host = 2\n']
    for i, u in enumerate(urls):
        lines.append(f'[[sources]]\nname = "feed {i}"\nurl = "{u}"\nlanguage = "fr"\n')
    path.write_text("\n".join(lines), encoding="utf-8")


def time_cmd(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    t0 = time.perf_counter()
    run = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd)
    elapsed = time.perf_counter() - t0
    if run.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({run.returncode}): {run.stderr[-2000:]}")
    return elapsed


def run_monitor(urls: list[str], repeats: int) -> tuple[list[float], list[float], str]:
    first, second = [], []
    summary = ""
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = Path(tmp) / "config.toml"
            write_config(cfg, urls)
            # polling only, as newsboat: article pages and actors are measured by
            # bench/extract.py and bench/ner.py
            cmd = [
                sys.executable,
                "-m",
                "monitor",
                "poll",
                "--all",
                "--no-text",
                "--no-actors",
                "--config",
                str(cfg),
            ]
            env = {**cached_bytecode_env(Path(tmp) / "pycache"), "PYTHONPATH": str(ROOT)}
            warm = "import monitor.cli, monitor.io.poller, monitor.core.normalize, monitor.io.backends, monitor.io.tinystore"
            time_cmd([sys.executable, "-c", warm], env)  # the bytecode cache, as after a first run
            first.append(time_cmd(cmd, env))
            second.append(time_cmd(cmd, env))
            run = subprocess.run(cmd, capture_output=True, text=True, env=env)
            summary = run.stdout.strip().splitlines()[-1]
    return first, second, summary


def run_newsboat(urls: list[str], repeats: int) -> tuple[list[float], list[float]] | None:
    exe = shutil.which("newsboat")
    if not exe:
        print("newsboat not installed (apt-get install newsboat): skipped")
        return None
    first, second = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            (t / "urls").write_text("\n".join(urls) + "\n")
            (t / "config").write_text("reload-threads 10\n")
            cmd = [
                exe,
                "-x",
                "reload",
                "-u",
                str(t / "urls"),
                "-c",
                str(t / "cache.db"),
                "-C",
                str(t / "config"),
            ]
            env = {**os.environ, "HOME": tmp, "LANG": "C.UTF-8"}
            first.append(time_cmd(cmd, env, t))
            second.append(time_cmd(cmd, env, t))
    return first, second


async def _inner(urls: list[str], shards: int) -> tuple[float, float, float, float]:
    from monitor.config import parse
    from monitor.io.backends import open_store
    from monitor.io.poller import poll_once

    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.toml"
        write_config(cfg, urls)
        settings = parse(cfg.read_text(), cfg)
        out = []
        store = open_store(settings.storage)
        try:
            for _ in range(2):
                c0, t0 = time.process_time(), time.perf_counter()
                await poll_once(settings, store, force=True, shards=shards)
                out += [time.perf_counter() - t0, time.process_time() - c0]
        finally:
            store.close()
    return out[0], out[1], out[2], out[3]


def run_shards(urls: list[str], shard_counts: list[int]) -> None:
    print("\nhttpx clients sharded by host (in-process; wall and CPU seconds):")
    print(
        f"{'shards':>6}  {'first wall':>10}  {'first cpu':>9}  {'304 wall':>8}  {'304 cpu':>7}"
        "  cpu ms/request"
    )
    for n in shard_counts:
        code = (
            f"import asyncio,json,sys;sys.path.insert(0,{str(ROOT)!r});from bench.poll import _inner;"
            f"print(json.dumps(asyncio.run(_inner(json.loads(sys.stdin.read()), {n}))))"
        )
        run = subprocess.run(
            [sys.executable, "-c", code], input=json.dumps(urls), capture_output=True, text=True
        )
        if run.returncode:
            raise SystemExit(run.stderr[-2000:])
        fw, fc, sw, sc = json.loads(run.stdout)
        print(
            f"{n:>6}  {fw:>10.2f}  {fc:>9.2f}  {sw:>8.2f}  {sc:>7.2f}  {1000 * sc / len(urls):.2f}"
        )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--feeds", type=int, default=500)
    p.add_argument("--hosts", type=int, default=50)
    p.add_argument("--latency", type=float, default=0.1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--shards", help="comma-separated shard counts to compare in-process")
    p.add_argument("--no-newsboat", action="store_true")
    args = p.parse_args()
    server, port, hosts = start_server(args.feeds, args.hosts, args.latency)
    try:
        urls = [feed_url(n, hosts, port) for n in range(args.feeds)]
        print(
            f"{args.feeds} feeds over {len(hosts)} loopback addresses, {args.latency * 1000:.0f} ms latency"
        )
        if args.shards:
            run_shards(urls, [int(x) for x in args.shards.split(",")])
            return
        first, second, summary = run_monitor(urls, args.repeats)
        print(
            f"monitor  first poll  median {statistics.median(first):6.2f} s  {[round(x, 2) for x in first]}"
        )
        print(
            f"monitor  all-304     median {statistics.median(second):6.2f} s  {[round(x, 2) for x in second]}"
        )
        print(f"         ({summary})")
        nb = None if args.no_newsboat else run_newsboat(urls, args.repeats)
        if nb:
            nf, ns = nb
            print(
                f"newsboat first       median {statistics.median(nf):6.2f} s  {[round(x, 2) for x in nf]}"
            )
            print(
                f"newsboat second      median {statistics.median(ns):6.2f} s  {[round(x, 2) for x in ns]}"
            )
            print(
                f"ratio monitor/newsboat, first poll: {statistics.median(first) / statistics.median(nf):.2f} "
                "(target <= 0.5)"
            )
        print(f"all-304 poll: {statistics.median(second):.2f} s (target < 1.5 s)")
    finally:
        server.kill()


if __name__ == "__main__":
    main()
