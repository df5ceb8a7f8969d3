"""monitor.io.http: end to end against a loopback server, plus MockTransport unit tests."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
import threading
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from monitor import __version__
from monitor.io.http import Fetched, FetchError, Limits, fetch, make_client, user_agent
from tests.support.servers import (
    FeedServer,
    delayed,
    drip,
    encoded,
    gzip_bomb,
    hang_up,
    redirect,
    stacked,
    static,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(20)]

MiB = 1024 * 1024
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        yield srv


async def get(url: str, **kwargs: Any) -> Fetched:
    async with make_client() as client:
        return await fetch(client, url, **kwargs)


async def fail(url: str, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as info:
        await get(url, **kwargs)
    return info.value


def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


# plain responses


async def test_200_with_body(server: FeedServer) -> None:
    url = server.route("/feed.xml", static(RSS, headers={"X-Test": "yes"}))
    got = await get(url)
    assert got.status == 200
    assert got.body == RSS
    assert got.url == url
    assert got.headers["x-test"] == "yes"
    assert got.permanent_redirect is None


async def test_request_headers_name_monitor(server: FeedServer) -> None:
    url = server.route("/feed.xml", static(RSS))
    await get(url)
    (req,) = server.log("/feed.xml")
    ua = req.header("user-agent") or ""
    assert ua == user_agent()
    assert ua.startswith(f"monitor/{__version__} ")
    assert req.header("accept-encoding") == "gzip, deflate"
    assert req.header("if-none-match") is None
    assert req.header("if-modified-since") is None


async def test_conditional_get_sends_validators_verbatim(server: FeedServer) -> None:
    etag = 'W/"abc-123"'
    lm = "Wed, 21 Oct 2015 07:28:00 GMT"
    url = server.route("/feed.xml", static(RSS, etag=etag, last_modified=lm))
    first = await get(url)
    assert first.status == 200
    assert first.headers["etag"] == etag
    assert first.headers["last-modified"] == lm

    again = await get(url, etag=first.headers["etag"], last_modified=first.headers["last-modified"])
    assert again.status == 304
    assert again.body == b""
    req = server.log("/feed.xml")[-1]
    assert req.header("if-none-match") == etag
    assert req.header("if-modified-since") == lm


async def test_conditional_get_last_modified_only(server: FeedServer) -> None:
    lm = "Wed, 21 Oct 2015 07:28:00 GMT"
    url = server.route("/feed.xml", static(RSS, last_modified=lm))
    got = await get(url, last_modified=lm)
    assert (got.status, got.body) == (304, b"")


async def test_changed_validator_gets_full_body(server: FeedServer) -> None:
    url = server.route("/feed.xml", static(RSS, etag='"v2"'))
    got = await get(url, etag='"v1"')
    assert (got.status, got.body) == (200, RSS)


@pytest.mark.parametrize(
    ("status", "detail"),
    [(429, "HTTP 429 Too Many Requests"), (503, "HTTP 503 Service Unavailable")],
)
async def test_retry_after_surfaced(server: FeedServer, status: int, detail: str) -> None:
    url = server.route("/feed.xml", static(b"slow down", status=status, retry_after="120"))
    err = await fail(url)
    assert (err.kind, err.status, err.detail, err.retry_after) == ("http", status, detail, "120")


async def test_retry_after_http_date_kept_raw(server: FeedServer) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    url = server.route("/feed.xml", static(b"", status=503, retry_after=date))
    assert (await fail(url)).retry_after == date


async def test_404(server: FeedServer) -> None:
    err = await fail(server.url("/missing"))
    assert (err.kind, err.status, err.detail, err.retry_after) == (
        "http",
        404,
        "HTTP 404 Not Found",
        None,
    )


async def test_retry_after_ignored_on_other_errors(server: FeedServer) -> None:
    url = server.route("/feed.xml", static(b"", status=500, retry_after="60"))
    err = await fail(url)
    assert (err.status, err.retry_after) == (500, None)


# deadlines


async def test_drip_feed_stopped_by_deadline(server: FeedServer) -> None:
    url = server.route("/drip", drip(interval=1.0, prefix=b"<rss>"))
    start = time.monotonic()
    err = await fail(url, limits=Limits(timeout=1.5))
    elapsed = time.monotonic() - start
    assert err.kind == "timeout"
    assert err.detail == "timed out after 1.5 s"
    assert 1.4 < elapsed < 4.0


async def test_client_usable_after_deadline(server: FeedServer) -> None:
    slow = server.route("/drip", drip(interval=1.0))
    good = server.route("/feed.xml", static(RSS))
    async with make_client() as client:
        with pytest.raises(FetchError):
            await fetch(client, slow, limits=Limits(timeout=0.5))
        assert (await fetch(client, good)).body == RSS


async def test_slow_headers_stopped_by_deadline(server: FeedServer) -> None:
    url = server.route("/slow", delayed(10, static(RSS)))
    start = time.monotonic()
    err = await fail(url, limits=Limits(timeout=1.0))
    assert err.kind == "timeout"
    assert time.monotonic() - start < 3.0


async def test_deadline_covers_all_hops(server: FeedServer) -> None:
    server.route("/a", delayed(0.6, redirect("/b")))
    server.route("/b", delayed(0.6, redirect("/c")))
    server.route("/c", delayed(0.6, static(RSS)))
    err = await fail(server.url("/a"), limits=Limits(timeout=1.0))
    assert err.kind == "timeout"


async def test_cancellation_propagates(server: FeedServer) -> None:
    url = server.route("/drip", drip(interval=0.2))
    task = asyncio.ensure_future(get(url))
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# size and encodings


async def test_gzip_bomb_is_too_large_with_small_memory(server: FeedServer) -> None:
    url = server.route("/bomb", gzip_bomb(10 * 1024**3))
    tracemalloc.start()
    try:
        err = await fail(url)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.kind == "too_large"
    assert err.detail == "body larger than 10 MiB"
    assert peak < 64 * MiB


@pytest.mark.parametrize("encoding", ["deflate", "raw-deflate"])
async def test_deflate_bomb_is_too_large(server: FeedServer, encoding: str) -> None:
    url = server.route("/bomb", gzip_bomb(1024**3, encoding=encoding))
    err = await fail(url, limits=Limits(max_bytes=2 * MiB))
    assert (err.kind, err.detail) == ("too_large", "body larger than 2 MiB")


async def test_announced_length_over_cap(server: FeedServer) -> None:
    url = server.route("/big", static(b"", headers={"Content-Length": str(20 * MiB)}))
    err = await fail(url)
    assert err.kind == "too_large"


async def test_streamed_identity_body_over_cap(server: FeedServer) -> None:
    url = server.route("/big", drip(interval=0, prefix=b"x" * 5000, limit=0))
    assert (await get(url, limits=Limits(max_bytes=5000))).body == b"x" * 5000
    err = await fail(url, limits=Limits(max_bytes=4999))
    assert (err.kind, err.detail) == ("too_large", "body larger than 4.9 KiB")


async def test_decoded_size_is_what_counts(server: FeedServer) -> None:
    url = server.route("/z", encoded(b"a" * 50_000, "gzip"))
    err = await fail(url, limits=Limits(max_bytes=10_000))
    assert err.kind == "too_large"


@pytest.mark.parametrize(
    ("encoding", "header"),
    [
        ("gzip", "gzip"),
        ("gzip", "x-gzip"),
        ("gzip", "GZIP"),
        ("deflate", "deflate"),
        ("raw-deflate", "deflate"),
        ("identity", "identity"),
    ],
)
async def test_encodings_decoded(server: FeedServer, encoding: str, header: str) -> None:
    body = RSS * 200
    url = server.route("/feed.xml", encoded(body, encoding, header=header))
    assert (await get(url)).body == body


async def test_stacked_encoding_refused(server: FeedServer) -> None:
    url = server.route("/feed.xml", stacked(RSS, "gzip, gzip"))
    err = await fail(url)
    assert err.kind == "encoding"
    assert "gzip, gzip" in err.detail


async def test_two_different_encodings_refused(server: FeedServer) -> None:
    url = server.route("/feed.xml", stacked(RSS, "deflate, gzip"))
    assert (await fail(url)).kind == "encoding"


@pytest.mark.parametrize("coding", ["br", "zstd", "compress"])
async def test_unknown_encoding_refused(server: FeedServer, coding: str) -> None:
    url = server.route("/feed.xml", encoded(RSS, "identity", header=coding))
    err = await fail(url)
    assert (err.kind, err.detail) == ("encoding", f"unsupported content encoding: {coding}")


async def test_corrupt_gzip(server: FeedServer) -> None:
    url = server.route(
        "/feed.xml", encoded(b"\x1f\x8b\x08\x00garbage" * 10, "identity", header="gzip")
    )
    assert (await fail(url)).kind == "encoding"


# redirects


async def test_redirect_loop(server: FeedServer) -> None:
    url = server.loop("/a", "/b")
    err = await fail(url)
    assert err.kind == "redirect"
    assert "loop" in err.detail


async def test_self_redirect_is_a_loop(server: FeedServer) -> None:
    url = server.route("/a", redirect("/a", status=302))
    assert (await fail(url)).kind == "redirect"


async def test_five_redirects_followed(server: FeedServer) -> None:
    final = server.route("/feed.xml", static(RSS))
    first = server.chain("/r", 5, "/feed.xml", status=301)
    got = await get(first)
    assert (got.status, got.body, got.url) == (200, RSS, final)
    assert got.permanent_redirect == final
    assert len(server.log()) == 6


async def test_six_redirects_refused(server: FeedServer) -> None:
    server.route("/feed.xml", static(RSS))
    first = server.chain("/r", 6, "/feed.xml")
    err = await fail(first)
    assert (err.kind, err.detail) == ("redirect", "more than 5 redirects")
    assert server.log("/feed.xml") == []


async def test_max_redirects_configurable(server: FeedServer) -> None:
    server.route("/feed.xml", static(RSS))
    assert (
        await fail(server.chain("/r", 2, "/feed.xml"), limits=Limits(max_redirects=1))
    ).kind == ("redirect")
    got = await get(server.url("/feed.xml"), limits=Limits(max_redirects=0))
    assert got.status == 200


async def test_permanent_redirect_only_for_leading_permanent_hops(server: FeedServer) -> None:
    server.route("/old", redirect("/moved", status=308))
    server.route("/moved", redirect("/tmp", status=302))
    server.route("/tmp", redirect("/final", status=301))
    server.route("/final", static(RSS))
    got = await get(server.url("/old"))
    assert got.url == server.url("/final")
    assert got.permanent_redirect == server.url("/moved")


@pytest.mark.parametrize("status", [302, 303, 307])
async def test_temporary_redirect_not_permanent(server: FeedServer, status: int) -> None:
    server.route("/feed.xml", static(RSS))
    got = await get(server.route("/old", redirect("/feed.xml", status=status)))
    assert got.body == RSS
    assert got.permanent_redirect is None


async def test_relative_location_resolved(server: FeedServer) -> None:
    server.route("/dir/feed.xml", static(RSS))
    url = server.route("/dir/old/x", redirect("../feed.xml"))
    got = await get(url)
    assert got.url == server.url("/dir/feed.xml")


async def test_redirect_to_other_host(server: FeedServer) -> None:
    with FeedServer(host="127.0.0.2") as other:
        target = other.route("/feed.xml", static(RSS))
        got = await get(server.route("/old", redirect(target)))
        assert got.url == target
        assert other.log("/feed.xml")[0].host == "127.0.0.2"


async def test_304_after_redirect(server: FeedServer) -> None:
    server.route("/feed.xml", static(RSS, etag='"x"'))
    got = await get(server.route("/old", redirect("/feed.xml", status=301)), etag='"x"')
    assert got.status == 304
    assert got.url == server.url("/feed.xml")
    assert got.permanent_redirect == got.url
    assert all(r.header("if-none-match") == '"x"' for r in server.log())


async def test_redirect_without_location(server: FeedServer) -> None:
    url = server.route("/old", static(b"", status=302))
    assert (await fail(url)).kind == "redirect"


@pytest.mark.parametrize("target", ["ftp://example.org/feed", "file:///etc/hosts", "javascript:x"])
async def test_redirect_to_non_http_refused(server: FeedServer, target: str) -> None:
    url = server.route("/old", redirect(target))
    assert (await fail(url)).kind == "refused"


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/feed", "file:///etc/hosts", "javascript:alert(1)", "feed.xml", ""]
)
async def test_non_http_scheme_refused(url: str) -> None:
    err = await fail(url)
    assert err.kind == "refused"


async def test_check_url_called_for_every_hop(server: FeedServer) -> None:
    final = server.route("/feed.xml", static(RSS))
    first = server.chain("/r", 2, "/feed.xml", status=302)
    seen: list[str] = []

    async def check(url: str) -> None:
        seen.append(url)

    await get(first, check_url=check)
    assert seen == [first, server.url("/r/1"), final]


async def test_check_url_can_refuse(server: FeedServer) -> None:
    server.route("/feed.xml", static(RSS))
    first = server.chain("/r", 2, "/feed.xml")

    async def check(url: str) -> None:
        if url.endswith("/r/1"):
            raise FetchError("refused", "private address")

    err = await fail(first, check_url=check)
    assert (err.kind, err.detail) == ("refused", "private address")
    assert [r.path for r in server.log()] == ["/r/0"]


async def test_check_url_refuses_first_hop(server: FeedServer) -> None:
    url = server.route("/feed.xml", static(RSS))

    async def check(url: str) -> None:
        raise FetchError("refused", "no")

    assert (await fail(url, check_url=check)).kind == "refused"
    assert server.log() == []


async def test_check_url_bug_becomes_other(server: FeedServer) -> None:
    url = server.route("/feed.xml", static(RSS))

    async def check(url: str) -> None:
        raise ValueError("oops")

    assert (await fail(url, check_url=check)).kind == "other"


# network failures


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_connection_refused_while_another_fetch_succeeds(server: FeedServer) -> None:
    good = server.route("/feed.xml", static(RSS))
    bad = f"http://127.0.0.1:{closed_port()}/feed.xml"
    async with make_client() as client:
        results = await asyncio.gather(
            fetch(client, bad), fetch(client, good), return_exceptions=True
        )
    err, ok = results
    assert isinstance(err, FetchError)
    assert err.kind == "connect"
    assert "refused" in err.detail
    assert isinstance(ok, Fetched)
    assert ok.body == RSS


async def test_hang_up_is_connect(server: FeedServer) -> None:
    url = server.route("/feed.xml", hang_up())
    assert (await fail(url)).kind == "connect"


def resolver_says_no(host: str) -> bool:
    """True when the local resolver promptly reports `host` as unknown."""
    result: list[bool] = []

    def look() -> None:
        try:
            socket.getaddrinfo(host, 80)
            result.append(False)
        except socket.gaierror:
            result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=look, daemon=True)
    t.start()
    t.join(5)
    return result == [True]


async def test_unknown_host_is_dns() -> None:
    host = "no-such-feed.invalid"
    if not resolver_says_no(host):
        pytest.skip("the resolver here cannot answer for .invalid names")
    err = await fail(f"http://{host}/feed.xml")
    assert err.kind == "dns"
    assert host in err.detail


async def test_tls_error_against_plain_http(server: FeedServer) -> None:
    server.route("/feed.xml", static(RSS))
    err = await fail(f"https://127.0.0.1:{server.port}/feed.xml")
    assert err.kind == "tls"


# MockTransport unit tests


def raises(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def connect_error(cause: BaseException) -> httpx.ConnectError:
    try:
        raise httpx.ConnectError("boom") from cause
    except httpx.ConnectError as exc:
        return exc


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (connect_error(socket.gaierror(-2, "Name or service not known")), "dns"),
        (
            connect_error(OSError("All connection attempts failed")),
            "connect",
        ),
        (connect_error(ConnectionRefusedError(111, "Connection refused")), "connect"),
        (
            connect_error(ExceptionGroup("many", [ConnectionRefusedError(111, "refused")])),
            "connect",
        ),
        (connect_error(ssl.SSLCertVerificationError(1, "certificate verify failed")), "tls"),
        (connect_error(ssl.SSLError(1, "wrong version number")), "tls"),
        (httpx.ConnectTimeout("slow"), "timeout"),
        (httpx.ReadTimeout("slow"), "timeout"),
        (httpx.PoolTimeout("busy"), "timeout"),
        (httpx.ReadError("reset"), "connect"),
        (httpx.RemoteProtocolError("Server disconnected"), "connect"),
        (httpx.LocalProtocolError("bad header"), "other"),
        (RuntimeError("bug"), "other"),
    ],
)
async def test_classification(exc: Exception, kind: str) -> None:
    async with mock_client(raises(exc)) as client:
        with pytest.raises(FetchError) as info:
            await fetch(client, "http://feed.example/rss")
    assert info.value.kind == kind
    assert info.value.detail


async def test_mock_gzip_multi_member() -> None:
    body = gzip.compress(b"first ") + gzip.compress(b"second")
    headers = {"Content-Encoding": "gzip"}

    def handler(r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(body), headers=headers)

    async with mock_client(handler) as client:
        got = await fetch(client, "http://feed.example/rss")
    assert got.body == b"first second"


async def test_mock_deflate_one_byte_chunks() -> None:
    data = zlib.compress(RSS)

    class Stream(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for i in range(len(data)):
                yield data[i : i + 1]

    def handler(r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Stream(), headers={"Content-Encoding": "deflate"})

    async with mock_client(handler) as client:
        got = await fetch(client, "http://feed.example/rss")
    assert got.body == RSS


async def test_mock_cap_exact_boundary() -> None:
    body = gzip.compress(b"x" * 1000)
    headers = {"Content-Encoding": "gzip"}

    def handler(r: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(body), headers=headers)

    async with mock_client(handler) as client:
        got = await fetch(client, "http://feed.example/rss", limits=Limits(max_bytes=1000))
        assert len(got.body) == 1000
        with pytest.raises(FetchError) as info:
            await fetch(client, "http://feed.example/rss", limits=Limits(max_bytes=999))
    assert info.value.kind == "too_large"


async def test_mock_validators_with_line_breaks_dropped() -> None:
    sent: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        sent.append(r)
        return httpx.Response(200, content=b"ok")

    async with mock_client(handler) as client:
        await fetch(client, "http://feed.example/rss", etag='"a"\r\nX-Evil: 1', last_modified="x")
    assert "if-none-match" not in sent[0].headers
    assert sent[0].headers["if-modified-since"] == "x"


async def test_mock_non_ascii_etag_sent_as_utf8() -> None:
    sent: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        sent.append(r)
        return httpx.Response(304)

    async with mock_client(handler) as client:
        got = await fetch(client, "http://feed.example/rss", etag='"é"')
    assert got.status == 304
    assert sent[0].headers.raw[-1] == (b"If-None-Match", '"é"'.encode())


async def test_mock_error_body_not_read_in_full() -> None:
    read: list[int] = []

    class Endless(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for i in range(10_000):
                read.append(i)
                yield b"x" * 1024

    def handler(r: httpx.Request) -> httpx.Response:
        return httpx.Response(500, stream=Endless())

    async with mock_client(handler) as client:
        with pytest.raises(FetchError) as info:
            await fetch(client, "http://feed.example/rss")
    assert info.value.detail == "HTTP 500 Internal Server Error"
    assert len(read) <= 1


async def test_mock_prefilled_content_accepted() -> None:
    body = gzip.compress(RSS)
    headers = {"Content-Encoding": "gzip"}
    async with mock_client(lambda r: httpx.Response(200, content=body, headers=headers)) as client:
        assert (await fetch(client, "http://feed.example/rss")).body == RSS
        with pytest.raises(FetchError) as info:
            await fetch(client, "http://feed.example/rss", limits=Limits(max_bytes=10))
    assert info.value.kind == "too_large"


def test_limits_defaults() -> None:
    assert Limits() == Limits(timeout=30.0, max_bytes=10 * MiB, max_redirects=5)


async def test_make_client_with_transport() -> None:
    sent: list[httpx.Request] = []

    def handler(r: httpx.Request) -> httpx.Response:
        sent.append(r)
        return httpx.Response(200, content=b"ok")

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        assert (await fetch(client, "http://feed.example/rss")).body == b"ok"
    assert sent[0].headers["user-agent"] == user_agent()


def test_make_client_settings() -> None:
    client = make_client(user_agent="x/1", timeout=12)
    assert client.headers["user-agent"] == "x/1"
    assert client.headers["accept-encoding"] == "gzip, deflate"
    assert client.follow_redirects is False
    assert client.trust_env is False
    assert client.timeout.connect == 10.0
    assert client.timeout.read == 12.0
