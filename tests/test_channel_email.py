"""The e-mail channel against a real SMTP server on 127.0.0.1 (aiosmtpd): the message's
parts, subject and headers, login with the password from the environment, a hostile
title that never becomes a live tag or a header, and the failures.

TLS: the server here speaks plain SMTP, so messages are sent with `starttls = false`;
with `starttls = true` the same server (which offers no STARTTLS) must make the delivery
fail rather than send in clear, which is what is checked.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.config import AlertSettings, EmailSettings
from monitor.io.channels import ChannelError, send
from monitor.io.channels.email import build_message, render_html
from tests.support.channels import ALERT, failing_send

HOSTILE = (
    '<script>alert(1)</script><img src=x onerror="alert(2)"> [b]x[/b] '
    "\x1b]52;c;ZWNobyBwd25lZA==\x07\u202eevil\x9b31m\r\nBcc: victim@example.org"
)


@dataclass
class Inbox:
    port: int
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    reply: str = "250 OK"
    delay: float = 0.0  # seconds the server sits on the message before answering


class Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        await asyncio.sleep(self.inbox.delay)
        self.inbox.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return self.inbox.reply


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox(port=free_port())

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            box.logins.append((user, password))
            return AuthResult(success=password == "hunter2", handled=False)  # handled: no 535
        return AuthResult(success=False, handled=False)

    controller = Controller(
        Handler(box),
        hostname="127.0.0.1",
        port=box.port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    yield box
    controller.stop()


def settings(port: int, **kw: Any) -> AlertSettings:
    e = {
        "host": "127.0.0.1",
        "port": port,
        "starttls": False,
        "sender": "monitor@example.org",
        "to": ("desk@example.org", "chief@example.org"),
        **kw,
    }
    return AlertSettings(email=EmailSettings(**e), timeout=5.0)


def deliver(alerts: list[dict[str, Any]], s: AlertSettings) -> None:
    asyncio.run(send("email", alerts, s))


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def test_one_alert_one_message_with_two_parts(inbox: Inbox) -> None:
    deliver([ALERT], settings(inbox.port))
    ((sender, rcpts, msg),) = inbox.messages
    assert sender == "monitor@example.org" and rcpts == ["desk@example.org", "chief@example.org"]
    assert msg["Subject"] == "[monitor] Kremlin: Le Kremlin répond à Kyiv (+2 sources)"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    plain = text.get_content()
    assert "Kremlin: Le Kremlin répond à Kyiv (+2 sources)" in plain
    assert "Sources: Le Monde, BBC, DW" in plain and "https://example.org/a?x=1&y=2" in plain
    page = html.get_content()
    assert '<a href="https://example.org/a?x=1&amp;y=2" rel="noopener noreferrer nofollow">' in page
    assert "<mark>Kremlin</mark> a indiqué &lt;b&gt;rien&lt;/b&gt;" in page


def test_a_batch_is_one_message(inbox: Inbox) -> None:
    batch = [{**ALERT, "story": f"s{i}", "title": f"Titre {i}"} for i in range(5)]
    deliver(batch, settings(inbox.port))
    ((_, _, msg),) = inbox.messages
    assert msg["Subject"] == "[monitor] Kremlin: 5 alerts"
    body = msg.get_body(("plain",))
    assert body is not None and all(f"Titre {i}" in body.get_content() for i in range(5))


def test_hostile_title_makes_no_header_and_no_live_tag(inbox: Inbox) -> None:
    alert = {
        **ALERT,
        "title": HOSTILE,
        "url": "javascript:alert(3)",
        "watch": "W\r\nBcc: x@y.org",
        "context": HOSTILE,
        "matched": ["<script>", "onerror"],
    }
    deliver([alert], settings(inbox.port))
    ((_, rcpts, msg),) = inbox.messages
    assert "victim@example.org" not in rcpts and "x@y.org" not in rcpts
    assert msg["Bcc"] is None
    subject = msg["Subject"]
    assert not any(c in subject for c in "\r\n\x1b\x07\x9b\u202e")
    html = msg.get_body(("html",))
    assert html is not None
    page = html.get_content()
    parser = Tags()
    parser.feed(page)
    found = {tag for tag, _ in parser.tags}
    assert "script" not in found and "img" not in found
    assert found <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "ol",
        "li",
        "div",
        "mark",
        "p",
        "a",
    }
    assert not any(name.startswith("on") for _, attrs in parser.tags for name, _ in attrs)
    assert 'href="javascript' not in page
    assert "\x1b" not in page and "\u202e" not in page


def test_login_with_the_password_from_the_environment(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = settings(inbox.port, user="monitor", password_env="MONITOR_TEST_SMTP")
    monkeypatch.delenv("MONITOR_TEST_SMTP", raising=False)
    with pytest.raises(ChannelError) as exc:
        deliver([ALERT], s)
    assert not exc.value.retry and "MONITOR_TEST_SMTP" in exc.value.message
    monkeypatch.setenv("MONITOR_TEST_SMTP", "wrong")
    with pytest.raises(ChannelError) as exc:
        deliver([ALERT], s)
    assert not exc.value.retry and "login refused" in exc.value.message
    assert "wrong" not in exc.value.message
    monkeypatch.setenv("MONITOR_TEST_SMTP", "hunter2")
    deliver([ALERT], s)
    assert inbox.logins[-1] == ("monitor", "hunter2") and len(inbox.messages) == 1


def test_starttls_asked_but_not_offered_fails_rather_than_send_in_clear(inbox: Inbox) -> None:
    with pytest.raises(ChannelError) as exc:
        deliver([ALERT], settings(inbox.port, starttls=True))
    assert not exc.value.retry and "STARTTLS" in exc.value.message
    assert not inbox.messages


@pytest.mark.parametrize(("reply", "retry"), [("451 try later", True), ("554 rejected", False)])
def test_server_replies_decide_retry(inbox: Inbox, reply: str, retry: bool) -> None:
    inbox.reply = reply
    with pytest.raises(ChannelError) as exc:
        deliver([ALERT], settings(inbox.port))
    assert exc.value.retry is retry and reply.split()[0] in exc.value.message


def test_a_closed_port_is_retried() -> None:
    with pytest.raises(ChannelError) as exc:
        deliver([ALERT], settings(free_port()))
    assert exc.value.retry


def test_a_silent_server_times_out_without_blocking_the_loop() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts, never greets
    try:
        s = AlertSettings(email=settings(listener.getsockname()[1]).email, timeout=1.0)
        err, ticks, seconds = failing_send("email", [ALERT], s)
        assert err.retry and "timed out" in err.message
        assert ticks >= 10 and seconds < 4  # the event loop was free meanwhile
    finally:
        listener.close()


def test_a_server_that_hangs_on_the_message_meets_the_deadline(inbox: Inbox) -> None:
    inbox.delay = 4.0
    s = AlertSettings(email=settings(inbox.port).email, timeout=1.0)
    start = time.monotonic()
    with pytest.raises(ChannelError) as exc:
        deliver([ALERT], s)
    assert time.monotonic() - start < 3
    assert exc.value.retry and "timed out" in exc.value.message


def test_not_configured() -> None:
    with pytest.raises(ChannelError) as exc:
        deliver([ALERT], AlertSettings())
    assert not exc.value.retry


def test_more_sources_counts_beyond_the_first_item() -> None:
    from monitor.io.channels.words import more_sources

    items = [{"sources": ["Le Monde", "AFP"]}, {"sources": ["BBC"]}]
    assert more_sources({"sources": ["Le Monde", "AFP", "BBC"], "items": items}) == " (+1 source)"
    assert more_sources({"sources": ["Le Monde", "BBC", "DW"], "items": []}) == " (+2 sources)"
    assert more_sources({"sources": ["Le Monde"]}) == ""


def test_render_is_pure_and_escapes() -> None:
    page = render_html([{"title": "<b>x</b>", "url": None}])
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "(no title)" not in page
    msg = build_message([{}], EmailSettings(host="h", sender="a@b.org", to=("c@d.org",)))
    assert msg["Subject"] == "[monitor] watch: (no title)"


def test_a_story_in_several_sources_gets_its_pickup_chart() -> None:
    items = [
        {"sources": ["Agence <Alpha>"], "published": "2026-12-04T10:04:00+00:00"},
        {"sources": ["Le Quotidien"], "published": "2026-12-04T10:16:00+00:00"},
        {"sources": ["Evening Globe"], "published": "not a date"},  # left out, not fatal
        "not an item",
    ]
    page = render_html([{"title": "t", "items": items}])
    tags = Tags()
    tags.feed(page)
    names = [tag for tag, _ in tags.tags]
    assert names.count("svg") == 1 and "script" not in names
    assert "first: Agence &lt;Alpha&gt;, 10:04" in page and "2 sources in 12 min" in page
    one = render_html([{"title": "t", "items": items[:1]}])
    assert "<svg" not in one  # one source: nothing to chart
