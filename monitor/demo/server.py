"""The demo's feed server: HTTP/1.1 on 127.0.0.1, an asyncio loop in a daemon thread.

It serves the sample feeds with ETag and Last-Modified, answers conditional GETs with
304, and publishes one reserve story every `every` seconds (round robin over the feeds),
so a dashboard polling it sees new items arrive.

    with DemoServer() as server:
        server.base        # http://127.0.0.1:PORT
        server.publish()   # release the next reserve story now
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus
from types import TracebackType

from monitor.demo.render import CONTENT_TYPES, Dated, render
from monitor.demo.samples import FEEDS, Feed, Story

EVERY = 30.0  # seconds between two published reserve stories
IDLE = 60.0  # seconds a connection may stay silent
MAX_HEAD = 16 * 1024  # bytes of request line and headers
MAX_BODY = 64 * 1024  # bytes of request body read and thrown away


@dataclass(frozen=True, slots=True)
class Published:
    """A reserve story that went out, and when."""

    feed: str  # source name
    title: str
    at: float  # seconds since the epoch


@dataclass(frozen=True, slots=True)
class _Body:
    data: bytes
    etag: str
    last_modified: str
    modified: float  # Last-Modified, as seconds since the epoch


class _BadRequest(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class DemoServer:
    """The sample feeds on a loopback port. `start()`/`stop()`, or a context manager.

    `every` is the pause between two published reserve stories (None: only `publish()`
    publishes); `clock` gives the time in seconds since the epoch.
    """

    def __init__(
        self,
        *,
        every: float | None = EVERY,
        host: str = "127.0.0.1",
        port: int = 0,
        feeds: Sequence[Feed] = FEEDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host = host
        self.port = port
        self.every = every
        self.feeds = tuple(feeds)
        self._clock = clock
        self._by_path = {f.path: f for f in self.feeds}
        self._queue = _round_robin(self.feeds)
        self._lock = threading.Lock()
        self._started = clock()
        self._next = self._started + every if every else None
        self._released: list[float] = []  # release times, in queue order
        self._cache: dict[str, tuple[int, _Body]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # lifecycle

    def start(self) -> DemoServer:
        if self._thread is not None:
            raise RuntimeError("the demo server is already running")
        with self._lock:
            self._started = self._clock()
            self._next = self._started + self.every if self.every else None
            self._released.clear()
            self._cache.clear()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve, self.host, self.port, limit=MAX_HEAD)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="monitor demo server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = self._loop = None
            raise failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        with contextlib.suppress(Exception):
            fut.result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        self._loop = self._thread = self._server = None

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # what it serves

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, feed: Feed) -> str:
        return self.base + feed.path

    @property
    def pending(self) -> int:
        """Reserve stories not published yet."""
        with self._lock:
            self._catch_up(self._clock())
            return len(self._queue) - len(self._released)

    def publish(self) -> Published | None:
        """Publish the next reserve story now; None when the reserve is used up.

        The timed schedule starts again from now."""
        with self._lock:
            now = self._clock()
            self._catch_up(now)
            if len(self._released) >= len(self._queue):
                return None
            self._released.append(now)
            if self.every:
                self._next = now + self.every
            feed, story = self._queue[len(self._released) - 1]
            return Published(feed.name, story.title, now)

    def published(self) -> list[Published]:
        """The reserve stories published so far, oldest first."""
        with self._lock:
            self._catch_up(self._clock())
            return [
                Published(feed.name, story.title, at)
                for (feed, story), at in zip(self._queue, self._released, strict=False)
            ]

    def body(self, feed: Feed) -> tuple[bytes, str, str]:
        """The feed's current document, ETag and Last-Modified."""
        b = self._body(feed)
        return b.data, b.etag, b.last_modified

    def _catch_up(self, now: float) -> None:
        """Release the reserve stories whose time has come. Call with the lock held."""
        while self._next is not None and self._next <= now:
            if len(self._released) >= len(self._queue):
                self._next = None
                break
            self._released.append(self._next)
            self._next = self._next + self.every if self.every else None

    def _body(self, feed: Feed) -> _Body:
        with self._lock:
            self._catch_up(self._clock())
            items: list[Dated] = [(s, self._started - s.age * 60) for s in feed.stories]
            for (f, story), at in zip(self._queue, self._released, strict=False):
                if f is feed:
                    items.append((story, at))
            cached = self._cache.get(feed.path)
            if cached is not None and cached[0] == len(items):
                return cached[1]
            items.sort(key=lambda it: it[1], reverse=True)
            data = render(feed, items, self.url(feed))
            newest = int(max(at for _, at in items))
            body = _Body(
                data=data,
                etag='"' + hashlib.sha256(data).hexdigest()[:20] + '"',
                last_modified=format_datetime(datetime.fromtimestamp(newest, UTC), usegmt=True),
                modified=newest,
            )
            self._cache[feed.path] = (len(items), body)
            return body

    def _index(self) -> bytes:
        lines = ["monitor demo: sample feeds", ""]
        lines += [f"{f.name} ({f.language}, {f.kind}): {self.url(f)}" for f in self.feeds]
        return ("\n".join(lines) + "\n").encode("utf-8")

    # HTTP

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    async with asyncio.timeout(IDLE):
                        request = await _read_request(reader)
                except _BadRequest as bad:
                    await _send(writer, bad.status, {"Connection": "close"}, b"")
                    await _linger(reader, writer)
                    break
                if request is None:
                    break
                method, target, version, headers = request
                keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
                status, head, body = self._respond(method, target, headers)
                if not keep:
                    head["Connection"] = "close"
                await _send(writer, status, head, body, head_only=method == "HEAD")
                if not keep:
                    break
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _respond(
        self, method: str, target: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        path = target.split("?", 1)[0]
        if path == "/":
            found: Feed | None = None
        else:
            found = self._by_path.get(path)
            if found is None:
                return 404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found\n"
        if method not in ("GET", "HEAD"):
            return 405, {"Allow": "GET, HEAD", "Content-Type": "text/plain"}, b"GET or HEAD\n"
        if found is None:
            return 200, {"Content-Type": "text/plain; charset=utf-8"}, self._index()
        body = self._body(found)
        head = {
            "Content-Type": CONTENT_TYPES[found.kind],
            "ETag": body.etag,
            "Last-Modified": body.last_modified,
            "Cache-Control": "no-cache",
        }
        if _not_modified(headers, body):
            del head["Content-Type"]
            return 304, head, b""
        return 200, head, body.data


def _round_robin(feeds: Sequence[Feed]) -> list[tuple[Feed, Story]]:
    """The reserve stories in publishing order: one from each feed in turn."""
    out: list[tuple[Feed, Story]] = []
    for i in range(max((len(f.reserve) for f in feeds), default=0)):
        out += [(f, f.reserve[i]) for f in feeds if i < len(f.reserve)]
    return out


def _not_modified(headers: dict[str, str], body: _Body) -> bool:
    """A conditional GET that the current body satisfies. If-None-Match wins when sent."""
    inm = headers.get("if-none-match")
    if inm is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or body.etag in tags
    ims = headers.get("if-modified-since")
    if ims is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return body.modified <= since.timestamp()


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, str, dict[str, str]] | None:
    """(method, target, version, headers with lower-case names), or None at a clean end."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _BadRequest(400) from None
        return None
    except asyncio.LimitOverrunError:
        raise _BadRequest(431) from None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1].startswith("/"):
        raise _BadRequest(400)
    if parts[2] not in ("HTTP/1.0", "HTTP/1.1"):
        raise _BadRequest(505)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise _BadRequest(400)
        headers[name.lower()] = value.strip()
    if "transfer-encoding" in headers:
        raise _BadRequest(501)  # no request bodies here: a GET has none
    length = headers.get("content-length", "0")
    if not length.isdigit() or int(length) > MAX_BODY:
        raise _BadRequest(413 if length.isdigit() else 400)
    if int(length):
        await reader.readexactly(int(length))
    return parts[0], parts[1], parts[2], headers


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read what the client still sends, briefly, so closing does not reset the connection
    before it has read the error response."""
    with contextlib.suppress(Exception):
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(1.0):
            for _ in range(64):
                if not await reader.read(65536):
                    break


async def _send(
    writer: asyncio.StreamWriter,
    status: int,
    headers: dict[str, str],
    body: bytes,
    *,
    head_only: bool = False,
) -> None:
    reason = HTTPStatus(status).phrase
    items = {
        "Date": format_datetime(datetime.now(UTC), usegmt=True),
        "Server": "monitor-demo",
        **headers,
    }
    if status != 304:
        items.setdefault("Content-Length", str(len(body)))
    if status >= 400 and status not in (404, 405):
        items["Connection"] = "close"
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in items.items()), "", ""]
    writer.write("\r\n".join(lines).encode("latin-1") + (b"" if head_only else body))
    await writer.drain()
