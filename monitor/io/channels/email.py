"""The e-mail channel: one message per batch through `smtplib`, in a thread so the event
loop never waits on the mail server, within one deadline for the whole exchange.
STARTTLS or implicit TLS, with certificate checks; login with the configured user and
the password from the environment variable named by `password_env` (never the file).

The message has a plain-text part and an HTML part from `templates/alert.html`:
Jinja2 autoescapes every value, and the only markup built from feed data (the link and
the highlighted words) is made here, through the digest's nh3 cleaner for links; the
pickup chart of a story that ran in several sources is the digest's inline SVG.
"""

from __future__ import annotations

import asyncio
import os
import re
import smtplib
import ssl
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache
from html import escape
from importlib import resources
from typing import Any

from monitor.config import AlertSettings, EmailSettings
from monitor.core.charts import pickup_chart
from monitor.core.digest_render import html_link
from monitor.core.pickup import first_runs
from monitor.io.channels import ChannelError
from monitor.io.channels.words import headline, line, more_sources, plain, sources_of, subject


@cache
def template() -> str:
    """The alert e-mail's HTML template shipped in monitor/templates."""
    return resources.files("monitor").joinpath("templates/alert.html").read_text("utf-8")


async def send_email(alerts: Sequence[dict[str, Any]], settings: AlertSettings) -> None:
    config = settings.email
    if config is None:
        raise ChannelError("no [alerts.email] is configured", retry=False)
    password = None
    if config.password_env:
        password = os.environ.get(config.password_env)
        if not password:
            raise ChannelError(
                f"e-mail: the environment variable {config.password_env} is not set",
                retry=False,
            )
    message = build_message(alerts, config)
    await asyncio.to_thread(deliver, message, config, password, settings.timeout)


def build_message(
    alerts: Sequence[dict[str, Any]], config: EmailSettings, now: datetime | None = None
) -> EmailMessage:
    msg = EmailMessage()  # the default policy refuses CR/LF in header values
    msg["Subject"] = subject(alerts)  # one line: `line` removed every control from feed text
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.to)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = make_msgid("monitor", domain=config.sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"  # no vacation replies to an alert
    msg.set_content(plain(alerts))
    msg.add_alternative(render_html(alerts), subtype="html")
    return msg


def render_html(alerts: Sequence[dict[str, Any]]) -> str:
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    env.globals["link"] = lambda label, url: Markup(html_link(label, url))
    shown = [
        {
            "title": line(a.get("title"), 500) or "(no title)",
            "url": a.get("url") if isinstance(a.get("url"), str) else None,
            "more": more_sources(a),
            "watch": line(a.get("watch"), 100),
            "sources": sources_of(a),
            "at": line(a.get("at"), 40),
            "context": Markup(highlight(line(a.get("context"), 500), a.get("matched"))),
            "chart": Markup(pickup(a)),
        }
        for a in alerts
    ]
    return env.from_string(template()).render(headline=headline(alerts), alerts=shown)


def pickup(alert: dict[str, Any]) -> str:
    """The digest's pickup chart (`core.charts`) of an alert whose story ran in more than
    one source: when each source first ran it (its items' publication times, in UTC).
    Items whose fields are not what the contract says are left out."""
    runs: list[tuple[list[str], datetime]] = []
    items = alert.get("items")
    for it in items if isinstance(items, list | tuple) else ():
        when = it.get("published") if isinstance(it, dict) else None
        try:
            moment = datetime.fromisoformat(when) if isinstance(when, str) else None
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            runs.append((sources_of(it), moment))
    firsts = first_runs(runs)
    return pickup_chart(firsts, UTC) if len(firsts) > 1 else ""


def highlight(text: str, matched: object) -> str:
    """`text` escaped, with the matched words in <mark>: the only tags, made here."""
    words = (
        [w for w in matched if isinstance(w, str) and w.strip()]
        if isinstance(matched, list)
        else []
    )
    if not words:
        return escape(text)
    pattern = re.compile(
        "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)), re.IGNORECASE
    )
    out, at = [], 0
    for m in pattern.finditer(text):
        if m.end() == m.start():
            continue
        out.append(escape(text[at : m.start()]))
        out.append(f"<mark>{escape(m.group())}</mark>")
        at = m.end()
    out.append(escape(text[at:]))
    return "".join(out)


def deliver(
    message: EmailMessage, config: EmailSettings, password: str | None, timeout: float
) -> None:
    """Send `message` (blocking: run it in a thread). ChannelError on failure."""
    context = ssl.create_default_context()
    where = f"{config.host}:{config.port}"
    deadline = time.monotonic() + timeout

    def step(smtp: smtplib.SMTP) -> None:
        # smtplib's timeout is per socket operation: what is left of the whole deadline
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        if smtp.sock is not None:
            smtp.sock.settimeout(left)

    try:
        smtp: smtplib.SMTP
        if config.ssl:
            smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=timeout)
        with smtp:
            if config.starttls and not config.ssl:
                step(smtp)
                smtp.starttls(context=context)
            if config.user and password is not None:
                step(smtp)
                smtp.login(config.user, password)
            step(smtp)
            smtp.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise ChannelError(
            f"e-mail: login refused by {where} ({_reply(exc)})", retry=False
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise ChannelError(f"e-mail: {where}: {line(exc, 200)}", retry=False) from None
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise ChannelError(
            f"e-mail: {where} refused the recipients ({line(exc.recipients, 200)})",
            retry=all(400 <= c < 500 for c in codes),
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise ChannelError(
            f"e-mail: {where} answered {exc.smtp_code} ({_reply(exc)})",
            retry=400 <= exc.smtp_code < 500,
        ) from None
    except ssl.SSLCertVerificationError as exc:
        why = getattr(exc, "verify_message", None) or line(exc, 200)
        raise ChannelError(
            f"e-mail: TLS certificate error at {where}: {why}", retry=False
        ) from None
    except TimeoutError:
        raise ChannelError(f"e-mail: {where} timed out after {timeout:g}s", retry=True) from None
    except (smtplib.SMTPException, OSError) as exc:
        # refused, reset, disconnected, a name that does not resolve: may pass
        raise ChannelError(
            f"e-mail: {where}: {line(exc, 200) or type(exc).__name__}", retry=True
        ) from None


def _reply(exc: smtplib.SMTPResponseException) -> str:
    err = exc.smtp_error
    text = err.decode("utf-8", "replace") if isinstance(err, bytes) else str(err)
    return line(text, 200)
