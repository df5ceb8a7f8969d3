"""The webhook channel against a real HTTP server on 127.0.0.1 (port 0) that answers
200, 500, 429, 404, a redirect, or hangs; and a closed port. Bodies and headers per
template, the address guard, the deadline, and which failures are worth retrying."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from monitor.config import AlertSettings
from monitor.io.channels import ChannelError, backoff, send
from tests.support.channels import ALERT, failing_send

HOSTILE = "Kremlin \x1b]52;c;ZWNobyBwd25lZA==\x07 <script>alert(1)</script> [b]bold[/b] \u202eevil\x9b31m\r\nX-Injected: yes"


@dataclass
class Hook:
    url: str
    answer: list[int] = field(default_factory=lambda: [200])  # status per request, last repeats
    hang: float = 0.0
    retry_after: str = ""
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append((self.path, dict(self.headers.items()), body))
            if state.hang:
                time.sleep(state.hang)
            status = state.answer[min(len(state.requests), len(state.answer)) - 1]
            self.send_response(status)
            if status in (301, 302, 307, 308):
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            if state.retry_after:
                self.send_header("Retry-After", state.retry_after)
            payload = b"slow down" if status == 429 else b"ok"
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/desk"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def settings(url: str, template: str = "json", **kw: Any) -> AlertSettings:
    kw.setdefault("webhook_allow_private", True)
    kw.setdefault("timeout", 5.0)
    return AlertSettings(webhook=url, webhook_template=template, **kw)  # type: ignore[arg-type]


def deliver(alerts: list[dict[str, Any]], s: AlertSettings) -> None:
    asyncio.run(send("webhook", alerts, s))


def failure(alerts: list[dict[str, Any]], s: AlertSettings) -> ChannelError:
    with pytest.raises(ChannelError) as exc:
        deliver(alerts, s)
    return exc.value


def test_json_one_alert_and_a_batch(hook: Hook) -> None:
    deliver([ALERT], settings(hook.url))
    path, headers, body = hook.requests[0]
    assert path == "/desk" and headers["Content-Type"] == "application/json"
    assert json.loads(body) == ALERT
    deliver([ALERT, {**ALERT, "story": "s2"}], settings(hook.url))
    got = json.loads(hook.requests[1][2])
    assert [a["story"] for a in got["alerts"]] == ["s1", "s2"]


def test_ntfy_body_and_headers(hook: Hook) -> None:
    deliver([ALERT], settings(hook.url, "ntfy"))
    _, headers, body = hook.requests[0]
    title = str(make_header(decode_header(headers["Title"])))  # RFC 2047, as ntfy decodes
    assert title == "Kremlin: Le Kremlin répond à Kyiv (+2 sources)"
    assert headers["Click"] == "https://example.org/a?x=1&y=2"
    text = body.decode("utf-8")
    assert "le Kremlin a indiqué" in text and "Sources: Le Monde, BBC, DW" in text
    assert headers["Content-Type"].startswith("text/plain")
    deliver([ALERT, ALERT, ALERT], settings(hook.url, "ntfy"))
    _, headers, body = hook.requests[1]
    assert headers["Title"] == "Kremlin: 3 alerts" and "Click" not in headers
    assert body.decode().count("Kremlin: Le Kremlin répond") == 3


def test_ntfy_hostile_title_cannot_inject_headers(hook: Hook) -> None:
    deliver(
        [{**ALERT, "title": HOSTILE + "x" * 5000, "url": "javascript:alert(1)"}],
        settings(hook.url, "ntfy"),
    )
    _, headers, body = hook.requests[0]
    assert "X-Injected" not in headers and "Click" not in headers  # no CR/LF, no bad link
    title = str(make_header(decode_header(headers["Title"])))
    assert len(title) <= 200
    assert not any(c in title for c in "\x1b\x07\x9b\r\n\u202e")
    assert len(body) <= 4000


def test_slack_escapes_its_control_characters(hook: Hook) -> None:
    deliver(
        [{**ALERT, "title": "A & B <!channel> <https://evil.example|click>"}],
        settings(hook.url, "slack"),
    )
    text = json.loads(hook.requests[0][2])["text"]
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "A &amp; B &lt;!channel&gt; &lt;https://evil.example|click&gt;" in text
    # the one link made here: the alert's own URL, with the escaped title as its label
    assert "<https://example.org/a?x=1&y=2|A &amp; B" in text
    deliver([{**ALERT, "title": HOSTILE}], settings(hook.url, "slack"))
    text = json.loads(hook.requests[1][2])["text"]
    assert (
        "<script>" not in text
        and "\x1b" not in text
        and "\u202e" not in text
        and "\n" not in text.split("\n")[1]
    )


@pytest.mark.parametrize(
    ("status", "retry"),
    [(500, True), (503, True), (429, True), (404, False), (400, False), (410, False)],
)
def test_status_decides_retry(hook: Hook, status: int, retry: bool) -> None:
    hook.answer = [status]
    err = failure([ALERT], settings(hook.url))
    assert err.retry is retry and str(status) in err.message
    if status == 429:
        assert "slow down" in err.message


def test_redirects_are_not_followed(hook: Hook) -> None:
    hook.answer = [302]
    err = failure([ALERT], settings(hook.url))
    assert not err.retry and "redirects are not followed" in err.message
    assert len(hook.requests) == 1


def test_retry_then_success_when_the_server_comes_back(hook: Hook) -> None:
    hook.answer = [500, 500, 200]
    s = settings(hook.url)
    errors = []
    for _ in range(3):
        try:
            deliver([ALERT], s)
            break
        except ChannelError as exc:
            errors.append(exc)
    assert len(errors) == 2 and all(e.retry for e in errors) and len(hook.requests) == 3


def test_a_hanging_server_meets_the_deadline(hook: Hook) -> None:
    hook.hang = 5.0

    err, ticks, seconds = failing_send("webhook", [ALERT], settings(hook.url, timeout=1.0))
    assert seconds < 3
    assert err.retry and "timed out" in err.message
    assert ticks >= 10  # the event loop was free meanwhile


def test_a_closed_port_is_retried() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    err = failure([ALERT], settings(f"http://127.0.0.1:{port}/desk"))
    assert err.retry and "cannot connect" in err.message


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::1]", "0x7f000001", "10.1.2.3", "169.254.169.254"]
)
def test_the_address_guard_refuses_private_hooks(host: str, hook: Hook) -> None:
    err = failure([ALERT], settings(f"http://{host}:9/desk", webhook_allow_private=False))
    assert not err.retry
    assert any(w in err.message for w in ("loopback", "private", "link-local", "not public")), (
        err.message
    )
    assert not hook.requests


def test_not_configured() -> None:
    err = failure([ALERT], AlertSettings())
    assert not err.retry and "webhook" in err.message


def test_backoff_grows_with_jitter_and_stays_capped() -> None:
    low = [backoff(n, rand=lambda: 0.0) for n in range(1, 12)]
    high = [backoff(n, rand=lambda: 1.0) for n in range(1, 12)]
    mid = [backoff(n, rand=lambda: 0.5) for n in range(1, 12)]
    assert mid[:4] == [30.0, 60.0, 120.0, 240.0]
    assert all(a <= b for a, b in itertools.pairwise(mid))
    assert low[0] == 30.0 and high[0] == pytest.approx(36.0)
    assert max(high) == 3600.0 and mid[-1] == 3600.0 and low[-1] == 2880.0
    assert backoff(0) >= 30.0 and backoff(10**9) <= 3600.0
    assert all(30.0 <= backoff(n) <= 3600.0 for n in range(1, 40))


def test_pin_aims_at_the_checked_address() -> None:
    from monitor.io.channels.webhook import pin
    from monitor.io.netguard import Guard

    async def resolver(host: str, port: int) -> list[str]:
        assert (host, port) == ("hooks.example.org", 8443)
        return ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]

    url, host, ext = asyncio.run(
        pin("https://hooks.example.org:8443/desk?t=1", Guard(resolver=resolver))
    )
    assert url == "https://93.184.216.34:8443/desk?t=1"
    assert host == "hooks.example.org:8443" and ext == {"sni_hostname": "hooks.example.org"}

    async def v6(host: str, port: int) -> list[str]:
        return ["2606:2800:220:1:248:1893:25c8:1946"]

    url, host, ext = asyncio.run(pin("http://hooks.example.org/desk", Guard(resolver=v6)))
    assert url == "http://[2606:2800:220:1:248:1893:25c8:1946]/desk"
    assert host == "hooks.example.org" and ext == {}

    async def rebinding(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "127.0.0.1"]  # one private answer is enough to refuse

    with pytest.raises(ChannelError) as exc:
        asyncio.run(pin("https://hooks.example.org/desk", Guard(resolver=rebinding)))
    assert not exc.value.retry and "loopback" in exc.value.message

    async def nxdomain(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(ChannelError) as exc:
        asyncio.run(pin("https://hooks.example.org/desk", Guard(resolver=nxdomain)))
    assert exc.value.retry and "could not resolve" in exc.value.message


def test_the_guarded_request_goes_to_the_checked_address(
    hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the guard on, the name is resolved once and the connection made to that
    address, with the name in Host (loopback allowed here only for the test)."""
    from monitor.io import netguard
    from monitor.io.channels import webhook

    async def resolver(host: str, port: int) -> list[str]:
        assert host == "hooks.test"
        return ["127.0.0.1"]

    monkeypatch.setattr(netguard, "refused_reason", lambda address: None)
    monkeypatch.setattr(webhook, "Guard", lambda: netguard.Guard(resolver=resolver))
    port = hook.url.split(":")[2].split("/")[0]
    deliver([ALERT], settings(f"http://hooks.test:{port}/desk", webhook_allow_private=False))
    path, headers, _ = hook.requests[0]
    assert path == "/desk" and headers["Host"] == f"hooks.test:{port}"


def test_retry_after_is_passed_on(hook: Hook) -> None:
    hook.answer = [429]
    hook.retry_after = "120"
    err = failure([ALERT], settings(hook.url))
    assert err.retry and err.retry_after == 120.0
    hook.answer = [404]
    assert failure([ALERT], settings(hook.url)).retry_after is None  # not retried: no wait
    hook.answer, hook.retry_after = [500], ""
    assert failure([ALERT], settings(hook.url)).retry_after is None


def test_retry_after_values() -> None:
    from datetime import UTC, datetime

    from monitor.io.channels.webhook import retry_after

    now = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assert retry_after("30", now) == 30.0
    assert retry_after("Fri, 04 Dec 2026 10:02:00 GMT", now) == 120.0
    assert retry_after("Fri, 04 Dec 2026 09:00:00 GMT", now) == 0.0
    assert retry_after("99999999", now) == 86400.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None
