"""One polite, bounded HTTP fetch: conditional GET, manual redirects, capped decoding, a deadline.

Every failure comes out as a `FetchError` with a short `kind` (see `ErrorKind`); only
cancellation passes through untouched.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from monitor import __version__
from monitor.model import ErrorKind

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
PERMANENT_CODES = frozenset({301, 308})
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate"

_PIECE = 256 * 1024  # largest single decompression output
_ERROR_BODY = 4096  # at most this much of an error body is read (and dropped)


@dataclass(frozen=True, slots=True)
class Limits:
    timeout: float = 30.0  # whole request, all hops, body included
    max_bytes: int = 10 * 1024 * 1024  # decoded body cap
    max_redirects: int = 5


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int  # final status: 2xx or 304
    url: str  # final URL after redirects
    body: bytes  # decoded; b"" for 304
    headers: httpx.Headers  # final response headers
    permanent_redirect: str | None  # where the leading run of 301/308 hops led, if any


class FetchError(Exception):
    """A fetch that did not produce a usable response."""

    def __init__(
        self,
        kind: ErrorKind,
        detail: str,
        *,
        status: int | None = None,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind: ErrorKind = kind
        self.detail = detail
        self.status = status
        self.retry_after = retry_after


CheckUrl = Callable[[str], Awaitable[None]]
CheckPeer = Callable[[str, str | None], None]  # (url, address connected to)


def warm() -> None:
    """Import what httpx loads on its first request (its HTTP/1.1 stack and anyio's
    asyncio backend), so that a long-running process can do it off its event loop
    instead of stalling the loop for a tenth of a second at the first poll."""
    import importlib

    for name in (
        "h11",
        "httpcore._async.connection",
        "httpcore._async.http11",
        "httpcore._sync.connection",
        "anyio._backends._asyncio",
    ):
        importlib.import_module(name)


def user_agent() -> str:
    return f"monitor/{__version__} (terminal news monitor; feed reader)"


_default_user_agent = user_agent  # make_client's parameter shadows the name


def make_client(
    *,
    user_agent: str | None = None,
    timeout: float = 30.0,
    max_connections: int = 50,
    max_keepalive: int = 20,
    proxy: str | None = None,
    verify: ssl.SSLContext | bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A client for `fetch`.

    Redirects are left to `fetch`. Environment settings (proxy variables, .netrc) are
    ignored so nothing outside the config changes where requests go or what they carry;
    pass `proxy` explicitly instead. `transport` replaces the network (tests).
    """
    return httpx.AsyncClient(
        headers={
            "User-Agent": user_agent or _default_user_agent(),
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        limits=httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive,
            keepalive_expiry=30.0,
        ),
        follow_redirects=False,
        trust_env=False,
        http1=True,
        http2=False,
        proxy=proxy,
        verify=verify,
        transport=transport,
    )


class ClientPool:
    """httpx clients sharded by host, with a global and a per-host concurrency limit."""

    def __init__(
        self,
        *,
        shards: int = 16,
        concurrency: int = 100,
        per_host: int = 2,
        agent: str | None = None,
        proxy: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._proxy = proxy
        self._shards = max(1, shards)
        self._agent = agent or user_agent()
        self._transport = transport
        self._clients: dict[int, httpx.AsyncClient] = {}
        self._tls: ssl.SSLContext | None = None  # one for all shards: each costs ~15 ms
        self._global = asyncio.Semaphore(concurrency)
        self._per_host_n = per_host
        self._per_host: dict[str, asyncio.Semaphore] = {}

    def client(self, url: str) -> httpx.AsyncClient:
        shard = hash(urlsplit(url).netloc) % self._shards
        c = self._clients.get(shard)
        if c is None:
            if self._tls is None:
                self._tls = httpx.create_ssl_context()
            c = make_client(
                user_agent=self._agent,
                proxy=self._proxy,
                transport=self._transport,
                verify=self._tls,
            )
            self._clients[shard] = c
        return c

    @property
    def agent(self) -> str:
        return self._agent

    def host_limit(self, url: str) -> asyncio.Semaphore:
        host = urlsplit(url).netloc.lower()
        sem = self._per_host.get(host)
        if sem is None:
            sem = self._per_host[host] = asyncio.Semaphore(self._per_host_n)
        return sem

    @property
    def global_limit(self) -> asyncio.Semaphore:
        return self._global

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self._clients.values()))
        self._clients.clear()


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: Limits = Limits(),
    check_url: CheckUrl | None = None,
    accept: str | None = None,
    check_peer: CheckPeer | None = None,
) -> Fetched:
    """GET `url` within `limits`. Returns a 2xx or 304 response; raises FetchError otherwise.

    `etag` and `last_modified` are sent back verbatim as If-None-Match / If-Modified-Since.
    `check_url` is awaited before every hop, the first included, and may raise
    FetchError(kind="refused") to stop the fetch. `check_peer` is called on every hop's
    response, before its body is read, with the address connected to (None when the
    transport has no socket), and may raise the same.
    """
    deadline = asyncio.timeout(limits.timeout)
    try:
        async with deadline:
            return await _follow(
                client, url, etag, last_modified, limits, check_url, accept, check_peer
            )
    except TimeoutError as exc:
        if deadline.expired():
            raise FetchError("timeout", f"timed out after {limits.timeout:g} s") from None
        raise FetchError("timeout", _short(exc)) from exc
    except FetchError:
        raise
    except Exception as exc:  # last resort: nothing but FetchError leaves this function
        raise FetchError("other", _short(exc)) from exc


async def _follow(
    client: httpx.AsyncClient,
    url: str,
    etag: str | None,
    last_modified: str | None,
    limits: Limits,
    check_url: CheckUrl | None,
    accept: str | None,
    check_peer: CheckPeer | None = None,
) -> Fetched:
    headers = _request_headers(etag, last_modified, accept)
    timeout = _timeout(client, limits.timeout)
    seen: set[str] = set()
    permanent: str | None = None
    all_permanent = True
    redirects = 0
    while True:
        url = _checked(url)
        if check_url is not None:
            await check_url(url)
        seen.add(url)
        try:
            async with client.stream("GET", url, headers=headers, timeout=timeout) as resp:
                if check_peer is not None:
                    check_peer(url, _peer(resp))
                status = resp.status_code
                if status in REDIRECT_CODES:
                    target = _location(resp)
                elif status == 304:
                    return Fetched(304, str(resp.url), b"", resp.headers, permanent)
                elif 200 <= status < 300:
                    body = await _read_body(resp, limits.max_bytes)
                    return Fetched(status, str(resp.url), body, resp.headers, permanent)
                else:
                    await _drain_some(resp)
                    raise _status_error(resp)
        except httpx.HTTPError as exc:
            raise _classify(exc, url) from exc
        except httpx.InvalidURL as exc:
            # httpx works out a redirect's target even when not following it, and fails
            # on Locations such as "javascript:x"; the request URL itself was checked
            raise FetchError("refused", f"unusable redirect target: {_short(exc)}") from exc

        if redirects >= limits.max_redirects:
            raise FetchError("redirect", f"more than {limits.max_redirects} redirects")
        redirects += 1
        if target in seen:
            raise FetchError("redirect", f"redirect loop at {target}")
        if all_permanent and status in PERMANENT_CODES:
            permanent = target
        else:
            all_permanent = False
        url = target


def _peer(resp: httpx.Response) -> str | None:
    stream = resp.extensions.get("network_stream")
    addr = stream.get_extra_info("server_addr") if stream is not None else None
    return str(addr[0]) if isinstance(addr, tuple) and addr else None


def _request_headers(
    etag: str | None, last_modified: str | None, accept: str | None
) -> dict[bytes, bytes]:
    headers = {b"Accept-Encoding": ACCEPT_ENCODING.encode()}
    if accept:
        headers[b"Accept"] = accept.encode("utf-8")
    for name, value in ((b"If-None-Match", etag), (b"If-Modified-Since", last_modified)):
        if value and not any(c in value for c in "\r\n\0"):
            # httpx decoded the stored header as ASCII or UTF-8: send the same bytes back
            headers[name] = value.encode("utf-8")
    return headers


def _timeout(client: httpx.AsyncClient, deadline: float) -> httpx.Timeout:
    t = client.timeout

    def cap(v: float | None) -> float:
        return deadline if v is None else min(v, deadline)

    return httpx.Timeout(
        connect=cap(t.connect), read=cap(t.read), write=cap(t.write), pool=cap(t.pool)
    )


def _checked(url: str) -> str:
    """The URL, normalized; refused unless it is http(s) with a host."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError("refused", f"invalid URL: {_short(exc)}") from None
    if parsed.scheme not in ("http", "https"):
        raise FetchError("refused", f"not an http(s) URL: {parsed.scheme or 'no scheme'}")
    if not parsed.host:
        raise FetchError("refused", "URL without a host")
    return str(parsed.copy_with(fragment=None))


def _location(resp: httpx.Response) -> str:
    loc = resp.headers.get("Location")
    if not loc or not loc.strip():
        raise FetchError(
            "redirect", f"HTTP {resp.status_code} without a Location", status=resp.status_code
        )
    try:
        return str(resp.url.join(loc.strip()).copy_with(fragment=None))
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError("redirect", f"bad redirect target: {_short(exc)}") from None


def _status_error(resp: httpx.Response) -> FetchError:
    status = resp.status_code
    reason = resp.reason_phrase or httpx.codes.get_reason_phrase(status)
    retry = resp.headers.get("Retry-After") if status in (429, 503) else None
    return FetchError("http", f"HTTP {status} {reason}".strip(), status=status, retry_after=retry)


async def _drain_some(resp: httpx.Response) -> None:
    """Read a short error body (framed by its Content-Length) so the connection can be
    reused; anything longer or unframed is left unread and the connection dropped."""
    length = resp.headers.get("Content-Length", "").strip()
    if length.isdigit() and int(length) <= _ERROR_BODY:
        async for _ in resp.aiter_raw():
            pass


async def _read_body(resp: httpx.Response, cap: int) -> bytes:
    codings = [
        c.strip().lower() for c in resp.headers.get_list("Content-Encoding", split_commas=True)
    ]
    codings = [c for c in codings if c]
    if len(codings) > 1:
        raise FetchError("encoding", f"stacked content encodings: {', '.join(codings)}")
    coding = codings[0] if codings else "identity"
    if coding not in _Decoder.KNOWN:
        raise FetchError("encoding", f"unsupported content encoding: {coding}")
    length = resp.headers.get("Content-Length", "").strip()
    if length.isdigit() and int(length) > cap:
        raise FetchError(
            "too_large", f"body larger than {_size(cap)} (announced {_size(int(length))})"
        )
    if resp.is_stream_consumed:  # a transport that hands over read (and decoded) content
        if len(resp.content) > cap:
            raise FetchError("too_large", f"body larger than {_size(cap)}")
        return resp.content
    decoder = _Decoder(coding, cap)
    async for raw in resp.aiter_raw():
        decoder.feed(raw)
    return decoder.finish()


class _Decoder:
    """Undo one Content-Encoding into a buffer that never grows past `cap` (+ one piece)."""

    KNOWN = frozenset({"identity", "gzip", "x-gzip", "deflate"})

    def __init__(self, coding: str, cap: int) -> None:
        self.coding = coding
        self.cap = cap
        self.buf = bytearray()
        self.raw = 0
        self.head = b""  # deflate: first bytes, to tell zlib from raw deflate
        self.z: zlib._Decompress | None = None
        if coding in ("gzip", "x-gzip"):
            self.z = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip, or zlib if mislabelled

    def feed(self, data: bytes) -> None:
        self.raw += len(data)
        if self.raw > self.cap:  # compressed input larger than the cap: give up early
            self._too_large()
        if self.coding == "identity":
            self._add(data)
            return
        if self.z is None:  # deflate, not yet started
            self.head += data
            if len(self.head) < 2:
                return
            data, self.head = self.head, b""
            self.z = zlib.decompressobj(zlib.MAX_WBITS if _is_zlib(data) else -zlib.MAX_WBITS)
        for piece in self._inflate(data):
            self._add(piece)

    def finish(self) -> bytes:
        if self.coding != "identity":
            if self.z is None and self.head:  # a 1-byte deflate body
                self.z = zlib.decompressobj(-zlib.MAX_WBITS)
                for piece in self._inflate(self.head):
                    self._add(piece)
            if self.z is not None and not self.z.eof:
                try:
                    self._add(self.z.flush())
                except zlib.error as exc:
                    raise FetchError("encoding", f"bad {self.coding} data: {exc}") from None
        return bytes(self.buf)

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        z = self.z
        assert z is not None
        try:
            while data:
                out = z.decompress(data, min(_PIECE, self.cap - len(self.buf) + 1))
                yield out
                data = z.unconsumed_tail
                if z.eof:
                    rest = z.unused_data
                    if not rest.strip(b"\0") or self.coding == "deflate":
                        return  # trailing padding or junk after the stream: ignore
                    z = self.z = zlib.decompressobj(zlib.MAX_WBITS | 32)  # next gzip member
                    data = rest
        except zlib.error as exc:
            raise FetchError("encoding", f"bad {self.coding} data: {exc}") from None

    def _add(self, data: bytes) -> None:
        if len(self.buf) + len(data) > self.cap:
            self._too_large()
        self.buf += data

    def _too_large(self) -> None:
        raise FetchError("too_large", f"body larger than {_size(self.cap)}")


def _is_zlib(head: bytes) -> bool:
    cmf, flg = head[0], head[1]
    return cmf & 0x0F == 8 and (cmf >> 4) <= 7 and (cmf * 256 + flg) % 31 == 0


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and the members of any exception group."""
    todo: list[BaseException] = [exc]
    seen: set[int] = set()
    while todo and len(seen) < 50:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        if isinstance(e, BaseExceptionGroup):
            todo.extend(e.exceptions)
        for nxt in (e.__cause__, e.__context__):
            if nxt is not None:
                todo.append(nxt)


def _classify(exc: httpx.HTTPError, url: str) -> FetchError:
    chain = list(_causes(exc))
    host = _host(url)
    text = " ".join(str(e) for e in chain).lower()
    if any(isinstance(e, socket.gaierror) for e in chain) or any(
        s in text
        for s in ("name or service not known", "nodename nor servname", "getaddrinfo failed")
    ):
        return FetchError("dns", f"could not resolve {host}")
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            why = getattr(e, "verify_message", None) or _short(e)
            return FetchError("tls", f"TLS certificate error: {why}")
        if isinstance(e, ssl.SSLError):
            return FetchError("tls", f"TLS error: {getattr(e, 'reason', None) or _short(e)}")
    if isinstance(exc, httpx.TimeoutException):
        what = {
            httpx.ConnectTimeout: "connecting",
            httpx.ReadTimeout: "reading",
            httpx.WriteTimeout: "sending",
            httpx.PoolTimeout: "waiting for a connection",
        }.get(type(exc), "")
        return FetchError("timeout", f"timed out {what}".strip())
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return FetchError("connect", f"connection refused by {host}")
    if any(isinstance(e, ConnectionResetError) for e in chain):
        return FetchError("connect", f"connection reset by {host}")
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchError("refused", _short(exc))
    if isinstance(exc, httpx.NetworkError):
        return FetchError("connect", f"connection failed: {_short(exc)}")
    if isinstance(exc, httpx.RemoteProtocolError):
        return FetchError("connect", f"bad response from {host}: {_short(exc)}")
    return FetchError("other", _short(exc))


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host or url
    except (httpx.InvalidURL, TypeError, ValueError):
        return url


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


def _size(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"
