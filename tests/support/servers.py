"""A scriptable HTTP/1.1 server on a loopback address, for tests and benchmarks.

It runs an asyncio loop in a background thread, so slow or endless responses cost no
threads. Routes map a path (query ignored) to a handler; the factories below cover the
usual feed-server behaviours and misbehaviours.

    with FeedServer() as srv:
        srv.route("/feed.xml", static(b"<rss/>", etag='"v1"'))
        srv.url("/feed.xml")   # http://127.0.0.1:PORT/feed.xml
        srv.requests           # [Request(method, path, headers, ...)]

Any 127.x.y.z address works on Linux, so `FeedServer(host="127.0.0.7")` gives a
separate "host" for benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType

HeaderItems = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # as sent, query included
    headers: dict[str, str]  # names lower-cased; a repeated header keeps the last value
    host: str  # the address the server listens on
    time: float = field(default_factory=time.monotonic)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Reply:
    """What a handler writes with: one `send`, or `start` + `chunk`... + `end` (chunked)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._w = writer
        self.keep_alive = True

    async def send(
        self, status: int, body: bytes = b"", headers: HeaderItems = (), *, head_only: bool = False
    ) -> None:
        items = _items(headers)
        if status != 304 and status >= 200 and not _has(items, "content-length"):
            items.append(("Content-Length", str(len(body))))
        self._head(status, items)
        if status != 304 and not head_only:
            self._w.write(body)
        await self._w.drain()

    async def start(self, status: int, headers: HeaderItems = ()) -> None:
        items = _items(headers)
        items.append(("Transfer-Encoding", "chunked"))
        self._head(status, items)
        await self._w.drain()

    async def chunk(self, data: bytes) -> None:
        if data:
            self._w.write(b"%x\r\n%s\r\n" % (len(data), data))
            await self._w.drain()

    async def end(self) -> None:
        self._w.write(b"0\r\n\r\n")
        await self._w.drain()

    async def raw(self, data: bytes) -> None:
        """Bytes as they are, no framing; the connection is closed afterwards."""
        self.keep_alive = False
        self._w.write(data)
        await self._w.drain()

    def _head(self, status: int, items: list[tuple[str, str]]) -> None:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        if not self.keep_alive:
            items.append(("Connection", "close"))
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in items), "", ""]
        self._w.write("\r\n".join(lines).encode("latin-1"))


Handler = Callable[[Request, Reply], Awaitable[None]]


class FeedServer:
    """A loopback HTTP/1.1 server. `start()`/`stop()`, or use it as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, latency: float = 0.0) -> None:
        self.host = host
        self.port = port
        self.latency = latency  # added before every response
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # lifecycle

    def start(self) -> FeedServer:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._serve, self.host, self.port, backlog=1024)
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

        self._thread = threading.Thread(target=run, name=f"FeedServer {self.host}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
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
        self._loop = self._thread = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # scripting

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base + (path if path.startswith("/") else "/" + path)

    def route(self, path: str, handler: Handler) -> str:
        """Serve `path` with `handler`; returns its full URL."""
        with self._lock:
            self.routes[path] = handler
        return self.url(path)

    def chain(self, prefix: str, hops: int, target: str, *, status: int = 301) -> str:
        """`hops` redirects ending at `target` (a path or URL); returns the first URL."""
        paths = [f"{prefix}/{i}" for i in range(hops)]
        for i, p in enumerate(paths):
            self.route(p, redirect(paths[i + 1] if i + 1 < hops else target, status=status))
        return self.url(paths[0]) if paths else self.url(target)

    def loop(self, a: str, b: str, *, status: int = 302) -> str:
        """Two paths that redirect to each other; returns the URL of `a`."""
        self.route(a, redirect(b, status=status))
        self.route(b, redirect(a, status=status))
        return self.url(a)

    def log(self, path: str | None = None) -> list[Request]:
        """Requests seen so far, optionally only those for `path` (query ignored)."""
        with self._lock:
            reqs = list(self.requests)
        return [r for r in reqs if path is None or r.path.split("?", 1)[0] == path]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    # serving

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
                req = await _read_request(reader, self.host)
                if req is None:
                    break
                with self._lock:
                    self.requests.append(req)
                    handler = self.routes.get(req.path.split("?", 1)[0], not_found)
                reply = Reply(writer)
                if (req.header("connection") or "").lower() == "close":
                    reply.keep_alive = False
                if self.latency:
                    await asyncio.sleep(self.latency)
                await handler(req, reply)
                if not reply.keep_alive:
                    break
        except _NotHttp:
            with contextlib.suppress(ConnectionError):
                await Reply(writer).raw(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


class _NotHttp(Exception):
    """The peer spoke something else (a TLS handshake, say)."""


async def _read_request(reader: asyncio.StreamReader, host: str) -> Request | None:
    try:
        first = await reader.readexactly(1)
        if not first.isalpha():
            raise _NotHttp
        head = first + await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise ConnectionError("bad request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    length = headers.get("content-length", "0")
    if length.isdigit() and int(length):
        await reader.readexactly(int(length))
    return Request(parts[0], parts[1], headers, host)


def _items(headers: HeaderItems) -> list[tuple[str, str]]:
    if isinstance(headers, Mapping):
        return [(str(k), str(v)) for k, v in headers.items()]
    return [(k, v) for k, v in headers]


def _has(items: list[tuple[str, str]], name: str) -> bool:
    return any(k.lower() == name for k, _ in items)


# handlers


async def not_found(req: Request, reply: Reply) -> None:
    await reply.send(404, b"not found", {"Content-Type": "text/plain"})


def static(
    body: bytes = b"",
    *,
    status: int = 200,
    headers: HeaderItems = (),
    content_type: str = "application/rss+xml; charset=utf-8",
    etag: str | None = None,
    last_modified: str | None = None,
    retry_after: str | None = None,
    delay: float = 0.0,
) -> Handler:
    """A fixed response. With `etag`/`last_modified`, a matching conditional GET gets 304
    (the validators are compared verbatim)."""
    extra = _items(headers)

    async def handle(req: Request, reply: Reply) -> None:
        if delay:
            await asyncio.sleep(delay)
        items = [("Content-Type", content_type), *extra]
        if etag is not None:
            items.append(("ETag", etag))
        if last_modified is not None:
            items.append(("Last-Modified", last_modified))
        if retry_after is not None:
            items.append(("Retry-After", retry_after))
        inm, ims = req.header("if-none-match"), req.header("if-modified-since")
        fresh = (etag is not None and inm == etag) or (
            inm is None and last_modified is not None and ims == last_modified
        )
        if fresh and status == 200:
            await reply.send(304, b"", [(k, v) for k, v in items if k != "Content-Type"])
        else:
            await reply.send(status, body, items, head_only=req.method == "HEAD")

    return handle


def redirect(location: str, *, status: int = 301) -> Handler:
    async def handle(req: Request, reply: Reply) -> None:
        await reply.send(status, b"", {"Location": location})

    return handle


def encoded(
    body: bytes,
    encoding: str = "gzip",
    *,
    header: str | None = None,
    content_type: str = "application/rss+xml",
) -> Handler:
    """`body` compressed with `encoding`: gzip, deflate (zlib-wrapped), raw-deflate,
    or a comma list applied left to right ("gzip, gzip"). `header` overrides the
    Content-Encoding value sent."""
    data = body
    names = [e.strip() for e in encoding.split(",") if e.strip()]
    for name in names:
        data = _compress(data, name)
    value = header if header is not None else ", ".join(n.replace("raw-", "") for n in names)

    async def handle(req: Request, reply: Reply) -> None:
        await reply.send(200, data, {"Content-Type": content_type, "Content-Encoding": value})

    return handle


def stacked(body: bytes, encodings: str = "gzip, gzip") -> Handler:
    """A doubly (or more) encoded body, announced as such."""
    return encoded(body, encodings)


def gzip_bomb(
    size: int = 10 * 1024**3, *, piece: int = 1024 * 1024, encoding: str = "gzip"
) -> Handler:
    """Stream the gzip (or deflate) of `size` zero bytes, compressed as it goes.

    The server holds one `piece` of zeros; it stops when the client goes away."""

    async def handle(req: Request, reply: Reply) -> None:
        zeros = bytes(piece)
        wbits = {"gzip": 31, "deflate": 15, "raw-deflate": -15}[encoding]
        z = zlib.compressobj(9, zlib.DEFLATED, wbits)
        header = encoding.replace("raw-", "")
        await reply.start(200, {"Content-Type": "application/rss+xml", "Content-Encoding": header})
        left = size
        while left > 0:
            n = min(piece, left)
            left -= n
            await reply.chunk(z.compress(zeros if n == piece else zeros[:n]))
        await reply.chunk(z.flush())
        await reply.end()

    return handle


def drip(
    *,
    interval: float = 1.0,
    byte: bytes = b" ",
    prefix: bytes = b"",
    limit: int | None = None,
    content_type: str = "application/rss+xml",
) -> Handler:
    """Headers at once, then `prefix`, then one byte every `interval` seconds:
    forever, or until `limit` bytes and the end of the body."""

    async def handle(req: Request, reply: Reply) -> None:
        await reply.start(200, {"Content-Type": content_type})
        await reply.chunk(prefix)
        sent = 0
        while limit is None or sent < limit:
            await asyncio.sleep(interval)
            await reply.chunk(byte[:1])
            sent += 1
        await reply.end()

    return handle


def delayed(seconds: float, handler: Handler) -> Handler:
    """`handler`, after `seconds` of silence (slow headers)."""

    async def handle(req: Request, reply: Reply) -> None:
        await asyncio.sleep(seconds)
        await handler(req, reply)

    return handle


def slow_headers(seconds: float, body: bytes = b"<rss/>") -> Handler:
    return delayed(seconds, static(body))


def hang_up() -> Handler:
    """Close the connection without a response."""

    async def handle(req: Request, reply: Reply) -> None:
        reply.keep_alive = False

    return handle


def sequence(*handlers: Handler) -> Handler:
    """One handler per request in turn; the last one repeats."""
    calls = 0

    async def handle(req: Request, reply: Reply) -> None:
        nonlocal calls
        h = handlers[min(calls, len(handlers) - 1)]
        calls += 1
        await h(req, reply)

    return handle


def _compress(data: bytes, name: str) -> bytes:
    if name in ("gzip", "x-gzip"):
        return gzip.compress(data, mtime=0)
    if name == "deflate":
        return zlib.compress(data)
    if name == "raw-deflate":
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        return z.compress(data) + z.flush()
    if name == "identity":
        return data
    raise ValueError(f"unknown encoding {name}")
