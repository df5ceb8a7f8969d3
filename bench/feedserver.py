"""A loopback feed server for benchmarks: N generated feeds over many loopback addresses.

Run as a separate process so it does not share the measured process's CPU:
    python bench/feedserver.py --feeds 500 --hosts 50 --latency 0.1 --port 0
It prints one JSON line {"port": P, "hosts": [...]} when ready, then serves until killed.
Feed i lives at http://127.0.0.{1 + i % hosts}:P/feed/i.xml. Every response waits
`latency` seconds first. ETag and If-None-Match give 304s.
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import hashlib
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import TextIO

TEXT = (
    "le président russe a déclaré que les relations entre les deux pays devaient "
    "être normalisées lors d'un entretien téléphonique avec son homologue américain "
    "the minister said on monday that talks would resume next week in geneva after "
    "a pause of several months while negotiators consulted their governments"
)
WORDS = TEXT.split()


def make_feed(n: int, items: int, item_bytes: int, *, seed: int = 0) -> bytes:
    rnd = random.Random(n * 7919 + seed)
    base = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>Feed {n}</title><link>https://news{n}.example/</link>"
        "<language>fr</language><description>Generated</description>"
    ]
    for k in range(items):
        words: list[str] = []
        size = 0
        while size < item_bytes:
            w = rnd.choice(WORDS)
            words.append(w)
            size += len(w) + 1
        date = email.utils.format_datetime(base - timedelta(minutes=7 * k + n))
        parts.append(
            f"<item><title>Item {k} of feed {n}: {' '.join(words[:8])}</title>"
            f"<link>https://news{n}.example/{seed}/article/{k}</link>"
            f"<guid>https://news{n}.example/{seed}/article/{k}</guid>"
            f"<pubDate>{date}</pubDate>"
            f"<description>{' '.join(words)}</description></item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode()


class Server:
    def __init__(self, feeds: dict[int, bytes], latency: float, log: TextIO | None = None) -> None:
        self.feeds = feeds
        self.log = log  # a line per feed request: the wall-clock time and the feed's number
        self.etags = {n: '"' + hashlib.sha1(b).hexdigest()[:16] + '"' for n, b in feeds.items()}
        self.latency = latency
        self.requests = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                self.requests += 1
                await asyncio.sleep(self.latency)
                try:
                    n = int(path.rsplit("/", 1)[1].split(".")[0])
                    body = self.feeds[n]
                except (ValueError, KeyError, IndexError):
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
                    continue
                if self.log is not None:
                    self.log.write(f"{time.time():.3f} {n}\n")
                etag = self.etags[n]
                if headers.get("if-none-match") == etag:
                    head = f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\n\r\n"
                    writer.write(head.encode())
                else:
                    writer.write(
                        (
                            "HTTP/1.1 200 OK\r\n"
                            "Content-Type: application/rss+xml; charset=utf-8\r\n"
                            f"ETag: {etag}\r\nContent-Length: {len(body)}\r\n\r\n"
                        ).encode()
                        + body
                    )
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


async def serve(args: argparse.Namespace) -> None:
    feeds = {
        n: make_feed(n, args.items, args.item_bytes, seed=args.seed) for n in range(args.feeds)
    }
    log = open(args.log, "a", buffering=1, encoding="utf-8") if args.log else None  # noqa: SIM115
    server = Server(feeds, args.latency, log)
    hosts = [f"127.0.0.{1 + h}" for h in range(args.hosts)]
    first = await asyncio.start_server(server.handle, hosts[0], args.port, backlog=1024)
    port = first.sockets[0].getsockname()[1]
    others = [await asyncio.start_server(server.handle, h, port, backlog=1024) for h in hosts[1:]]
    avg = sum(len(b) for b in feeds.values()) // max(len(feeds), 1)
    print(json.dumps({"port": port, "hosts": hosts, "avg_bytes": avg}), flush=True)
    async with first:
        await asyncio.gather(first.serve_forever(), *(s.serve_forever() for s in others))


def feed_url(n: int, hosts: list[str], port: int) -> str:
    return f"http://{hosts[n % len(hosts)]}:{port}/feed/{n}.xml"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--feeds", type=int, default=500)
    p.add_argument("--hosts", type=int, default=50)
    p.add_argument("--items", type=int, default=50)
    p.add_argument("--item-bytes", type=int, default=2100)
    p.add_argument("--latency", type=float, default=0.1)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log", metavar="FILE", help="append a line per feed request: time, feed")
    args = p.parse_args()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
