"""Where links from untrusted feeds may lead: public addresses only, checked once resolved.

`Guard` plugs into `monitor.io.http.fetch` as its `check_url` (before every hop: the host
is resolved and every address it resolves to must be public) and its `check_peer` (after
connecting: the address actually connected to must be public too, so a name that resolves
differently the second time gains nothing). Loopback, private, link-local, shared
(100.64/10), multicast and reserved ranges are refused in every spelling, IPv4 inside
IPv6 included. The hosts in `trusted` (the feed's own host) are exempt.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpx

from monitor.io.http import FetchError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str, int], Awaitable[list[str]]]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def refused_reason(address: Address) -> str | None:
    """Why a connection to `address` is refused, or None for a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address.teredo is not None:
            inner = address.teredo[1]
        if inner is None and address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            why = refused_reason(inner)
            return f"{why} (inside {address})" if why else None
    for test, words in (
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_unspecified, "unspecified"),
        (address in ipaddress.ip_network("100.64.0.0/10"), "shared (carrier-grade NAT)"),
        (address.is_private, "private"),
        (not address.is_global, "not public"),
    ):
        if test:
            return f"{words} address {address}"
    return None


def literal_address(host: str) -> Address | None:
    """The address a host name spells, in any form the resolver accepts: dotted, hex
    (0x7f000001), decimal (2130706433), octal (0177.0.0.1), short (127.1), IPv6."""
    host = host.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver, as the connection uses)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def host_of(url: str) -> str:
    """The host of `url`, lower-case, without a trailing dot; "" if there is none."""
    try:
        return (httpx.URL(url).host or "").lower().rstrip(".")
    except (httpx.InvalidURL, TypeError, ValueError):
        return ""


class Guard:
    """Refuses hops to non-public addresses, except on the `trusted` hosts."""

    def __init__(
        self,
        trusted: Iterable[str] = (),
        *,
        resolver: Resolve = resolve,
        via_proxy: bool = False,
    ) -> None:
        self.trusted = frozenset(h.lower().rstrip(".") for h in trusted if h)
        self.resolver = resolver
        self.via_proxy = via_proxy  # the proxy connects: there is no peer of ours to check

    async def check_url(self, url: str) -> None:
        """Before a hop: refuse unless every address the host resolves to is public."""
        if host_of(url) not in self.trusted:
            await self.public_addresses(url)

    async def public_addresses(self, url: str) -> list[Address]:
        """Every address the host of `url` resolves to, all public (FetchError otherwise):
        a caller may connect to one of these, so that a second lookup gains nothing."""
        parsed = httpx.URL(url)
        host = host_of(url)
        literal = literal_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                found = await self.resolver(host, parsed.port or 443)
            except OSError:
                raise FetchError("dns", f"could not resolve {host}") from None
            addresses = [a for a in (literal_address(x) for x in found) if a is not None]
            if not addresses:
                raise FetchError("dns", f"could not resolve {host}")
        for address in addresses:
            why = refused_reason(address)
            if why:
                raise FetchError("refused", f"{host}: {why}")
        return addresses

    def check_peer(self, url: str, peer: str | None) -> None:
        """After connecting, before the body is read: the peer must be public too."""
        if self.via_proxy or host_of(url) in self.trusted:
            return
        address = literal_address(peer) if peer else None
        if address is None:
            return  # no socket (a test transport): the check before the hop stands
        why = refused_reason(address)
        if why:
            raise FetchError("refused", f"{host_of(url)} connected to a {why}")
