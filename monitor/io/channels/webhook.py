"""The webhook channel: one POST per batch, with a deadline and the article fetcher's
address guard (a hook resolving to a private or loopback address is refused unless
`webhook_allow_private`). The host is resolved once and the request sent to the address
checked (a POST's body is gone before a peer check could stop it). Redirects are not
followed: a hook that moved is a config error, and following it would lead around the
guard.

Bodies (`webhook_template`):
- "json": the alert object, or {"alerts": [...]} for a batch;
- "ntfy": ntfy's publish API, a plain-text message with `Title` and `Click` headers;
- "slack": {"text": ...} for Slack-style incoming webhooks (Mattermost, Rocket.Chat...).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from email.header import Header
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import msgspec

from monitor.config import AlertSettings
from monitor.io.channels import ChannelError
from monitor.io.channels.words import alert_lines, headline, line, plain, to_json, url_of
from monitor.io.http import FetchError, user_agent
from monitor.io.netguard import Guard, literal_address

HEADER_LIMIT = 200  # characters of a header value built from feed text
NTFY_BODY_LIMIT = 4000  # bytes: ntfy turns longer messages into attachments
SLACK_TEXT_LIMIT = 3000  # characters: what a Slack section shows
RETRY_AFTER_CAP = 86400.0  # a server asking for more than a day is not waited for longer
_READ_BACK = 2048  # bytes of an error response kept for the message


async def send_webhook(alerts: Sequence[dict[str, Any]], settings: AlertSettings) -> None:
    url = settings.webhook
    if not url:
        raise ChannelError("no [alerts] webhook is configured", retry=False)
    body, headers = render(alerts, settings.webhook_template)
    try:
        async with asyncio.timeout(settings.timeout):
            await _post(url, body, headers, settings)
    except TimeoutError:
        raise ChannelError(f"webhook timed out after {settings.timeout:g}s", retry=True) from None


def render(alerts: Sequence[dict[str, Any]], template: str) -> tuple[bytes, dict[str, str]]:
    """The request body and headers for `template`."""
    if template == "ntfy":
        headers = {"Content-Type": "text/plain; charset=utf-8", "Title": header(headline(alerts))}
        if len(alerts) == 1:
            click = url_of(alerts[0])
            if click and click.isascii() and len(click) <= 2000:
                headers["Click"] = click
            text = "\n".join(alert_lines(alerts[0])[1:]) or headline(alerts)
        else:
            text = plain(alerts)
        return _cut_bytes(text.strip(), NTFY_BODY_LIMIT), headers
    if template == "slack":
        text = slack_text(alerts)
        return msgspec.json.encode({"text": text}), {"Content-Type": "application/json"}
    return to_json(alerts, wrap=True), {"Content-Type": "application/json"}


def header(value: str) -> str:
    """A header value from feed text: one line, no controls, cut; RFC 2047 encoded when it
    is not ASCII (ntfy decodes it, and HTTP headers carry no UTF-8)."""
    text = line(value, HEADER_LIMIT)
    if text.isascii():
        return text
    return Header(text, "utf-8").encode(maxlinelen=10_000)  # one encoded line


def slack_escape(text: str) -> str:
    """Slack's three control characters, escaped as its docs ask: & < >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(alerts: Sequence[dict[str, Any]]) -> str:
    parts = [f"*{slack_escape(headline(alerts))}*"]
    for a in alerts:
        label = slack_escape(line(a.get("title"), 300) or "(no title)")
        url = url_of(a)
        if url and not any(c in url for c in "|<> "):
            label = f"<{url}|{label}>"
        context = slack_escape(line(a.get("context"), 300))
        parts.append(f"• {label}" + (f"\n{context}" if context else ""))
    text = "\n".join(parts)
    return text if len(text) <= SLACK_TEXT_LIMIT else text[: SLACK_TEXT_LIMIT - 1] + "…"


def _cut_bytes(text: str, limit: int) -> bytes:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return data
    return data[: limit - 3].decode("utf-8", "ignore").encode("utf-8") + "…".encode()


async def _post(url: str, body: bytes, headers: dict[str, str], settings: AlertSettings) -> None:
    host = httpx.URL(url).host
    target, extensions = url, dict[str, Any]()
    if not settings.webhook_allow_private:
        target, pinned_host, extensions = await pin(url, Guard())
        headers = {**headers, "Host": pinned_host}
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0)),
        follow_redirects=False,
        trust_env=False,  # no proxy or .netrc from the environment: only the config counts
        headers={"User-Agent": user_agent()},
    ) as client:
        try:
            request = client.build_request(
                "POST", target, content=body, headers=headers, extensions=extensions
            )
            resp = await client.send(request, stream=True)
            try:
                status = resp.status_code
                if 200 <= status < 300:
                    return
                detail = await _read_some(resp)
            finally:
                await resp.aclose()
        except httpx.TimeoutException:
            raise ChannelError(f"webhook timed out ({host})", retry=True) from None
        except httpx.ConnectError as exc:
            raise ChannelError(
                f"webhook: cannot connect to {host} ({line(exc, 200)})", retry=True
            ) from None
        except httpx.TransportError as exc:
            raise ChannelError(
                f"webhook: {host}: {line(exc, 200) or type(exc).__name__}", retry=True
            ) from None
    what = f"webhook answered {status} {line(resp.reason_phrase, 60)}".rstrip()
    if 300 <= status < 400:
        where = line(resp.headers.get("location"), 200)
        raise ChannelError(
            f"{what} (redirects are not followed{': ' + where if where else ''})", retry=False
        )
    retry = status in (408, 425, 429) or status >= 500
    error = ChannelError(what + (f": {detail}" if detail else ""), retry=retry)
    if retry:
        error.retry_after = retry_after(resp.headers.get("retry-after"), datetime.now(UTC))
    raise error


def retry_after(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from `now`, at most a day;
    None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


async def pin(url: str, guard: Guard) -> tuple[str, str, dict[str, Any]]:
    """The guard's check, then the request aimed at the address it checked: the URL with
    that address as its host, the Host header, and the TLS server name to verify. A POST
    sends its body before any peer check could stop it, so the host is resolved once."""
    try:
        addresses = await guard.public_addresses(url)
    except FetchError as exc:
        # a name that does not resolve may come back; a private address will not
        raise ChannelError(f"webhook: {line(exc.detail, 300)}", retry=exc.kind == "dns") from None
    parsed = httpx.URL(url)
    name = parsed.host
    netloc = parsed.netloc.decode("ascii")
    pinned = str(parsed.copy_with(host=str(addresses[0])))
    extensions: dict[str, Any] = {}
    if parsed.scheme == "https" and literal_address(name) is None:
        extensions["sni_hostname"] = name  # the certificate is checked against the name
    return pinned, netloc, extensions


async def _read_some(resp: httpx.Response) -> str:
    """The start of an error response, as one line (it may say why)."""
    kept = b""
    try:
        async for chunk in resp.aiter_raw():
            kept += chunk
            if len(kept) >= _READ_BACK:
                break
    except httpx.HTTPError:
        pass
    return line(kept[:_READ_BACK].decode("utf-8", "replace"), 200)
