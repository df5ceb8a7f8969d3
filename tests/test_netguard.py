"""The address guard: every spelling of a non-public address is refused, on every hop."""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
import pytest

from monitor.io.http import FetchError, fetch, make_client
from monitor.io.netguard import Guard, literal_address, refused_reason

REFUSED = [
    "127.0.0.1",
    "127.255.255.254",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "0.0.0.0",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "224.0.0.1",
    "ff02::1",
    "192.0.2.1",
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 around 10.0.0.1
    "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo around 10.0.0.1
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "2001:4860:4860::8888",
    "172.32.0.1",
    "100.128.0.1",
]


@pytest.mark.parametrize("address", REFUSED)
def test_refused_addresses(address: str) -> None:
    assert refused_reason(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses(address: str) -> None:
    assert refused_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "127.1",
        "0x7f.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[0:0:0:0:0:0:0:1]",
        "[fe80::1%25eth0]",
    ],
)
def test_every_spelling_of_loopback(host: str) -> None:
    address = literal_address(host)
    assert address is not None and refused_reason(address)


def test_names_are_not_literals() -> None:
    assert literal_address("example.org") is None
    assert literal_address("localhost") is None


def _guard(answers: dict[str, list[str]], trusted: tuple[str, ...] = ()) -> Guard:
    async def resolver(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such name")
        return answers[host]

    return Guard(trusted, resolver=resolver)


def _check(guard: Guard, url: str) -> None:
    asyncio.run(guard.check_url(url))


URLS = [
    "http://127.0.0.1/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://127.1:8080/",
    "http://10.0.0.5/",
    "http://172.16.0.1/",
    "http://192.168.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "https://[fe80::1%25eth0]/",
]


@pytest.mark.parametrize("url", URLS)
def test_refused_urls(url: str) -> None:
    with pytest.raises(FetchError) as err:
        _check(_guard({}), url)
    assert err.value.kind == "refused"


def test_resolved_names_are_checked() -> None:
    guard = _guard(
        {
            "news.example": ["93.184.216.34"],
            "inside.example": ["10.1.2.3"],
            "mixed.example": ["93.184.216.34", "127.0.0.1"],  # one bad answer is enough
            "localhost": ["127.0.0.1", "::1"],
        }
    )
    _check(guard, "https://news.example/a")
    for host in ("inside.example", "mixed.example", "localhost", "LOCALHOST."):
        with pytest.raises(FetchError) as err:
            _check(guard, f"https://{host}/a")
        assert err.value.kind == "refused", host
    with pytest.raises(FetchError) as err:
        _check(guard, "https://unknown.example/a")
    assert err.value.kind == "dns"


def test_the_feed_host_is_trusted_and_only_it() -> None:
    guard = _guard({"localhost": ["127.0.0.1"]}, trusted=("127.0.0.1",))
    _check(guard, "http://127.0.0.1:8080/article")
    for url in ("http://localhost:8080/article", "http://0x7f000001:8080/", "http://[::1]/"):
        with pytest.raises(FetchError):
            _check(guard, url)


def test_peer_address_is_checked_after_connecting() -> None:
    guard = _guard({})
    guard.check_peer("https://news.example/", "93.184.216.34")
    guard.check_peer("https://news.example/", None)  # no socket: the pre-check stands
    with pytest.raises(FetchError) as err:
        guard.check_peer("https://news.example/", "10.0.0.7")  # re-resolved to inside
    assert err.value.kind == "refused"
    Guard(["news.example"]).check_peer("https://news.example/", "10.0.0.7")
    Guard(via_proxy=True).check_peer("https://news.example/", "127.0.0.1")


def test_every_redirect_hop_is_checked() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.host == "news.example":
            return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})
        return httpx.Response(200, text="secret")

    guard = _guard({"news.example": ["93.184.216.34"]})

    async def go() -> None:
        async with make_client(transport=httpx.MockTransport(handler)) as client:
            await fetch(client, "https://news.example/a", check_url=guard.check_url)

    with pytest.raises(FetchError) as err:
        asyncio.run(go())
    assert err.value.kind == "refused" and "169.254.169.254" in err.value.detail
    assert asked == ["https://news.example/a"]  # the metadata address was never asked


def test_the_connected_address_is_checked_on_a_real_socket() -> None:
    from tests.support.servers import FeedServer, static

    peers: list[str | None] = []
    with FeedServer() as srv:
        url = srv.route("/page", static(b"<html>hi</html>", content_type="text/html"))

        async def go(check: object) -> None:
            async with make_client() as client:
                await fetch(client, url, check_peer=check)  # type: ignore[arg-type]

        asyncio.run(go(lambda u, peer: peers.append(peer)))
        assert peers == ["127.0.0.1"]
        # as if the name had resolved to a public address first: the socket still tells
        with pytest.raises(FetchError) as err:
            asyncio.run(go(Guard().check_peer))
        assert err.value.kind == "refused" and "loopback" in err.value.detail
        assert len(srv.log("/page")) == 2  # asked, but the body was never read
