"""What every channel says about alerts: one-line cleanup of feed text, the subject line,
the plain-text body. Alerts are dicts in the alert contract; any field may be missing or
hostile (it comes from feeds), so every value goes through `line`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from monitor.core.digest_render import safe_url
from monitor.core.normalize import strip_controls

TITLE_LIMIT = 200  # characters of a title in a subject or a header


def line(value: object, limit: int = 1000) -> str:
    """Untrusted text as one inert line: escape sequences and controls gone (CR and LF
    too), white space squeezed, cut to `limit` characters with an ellipsis."""
    if value is None:
        return ""
    text = " ".join(strip_controls(str(value)).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sources_of(alert: dict[str, Any]) -> list[str]:
    sources = alert.get("sources")
    if not isinstance(sources, list | tuple):
        return []
    return [s for s in (line(x, 100) for x in sources) if s]


def more_sources(alert: dict[str, Any]) -> str:
    """The " (+2 sources)" of an alert: sources beyond its first item's (all but one
    source when it lists no items); "" when there are none."""
    sources = sources_of(alert)
    items = alert.get("items")
    first = items[0] if isinstance(items, list | tuple) and items else None
    if isinstance(first, dict) and isinstance(first.get("sources"), list | tuple):
        own = set(sources_of(first))
        extra = len([s for s in sources if s not in own])
    else:
        extra = len(sources) - 1
    if extra <= 0:
        return ""
    return f" (+{extra} source{'s' if extra > 1 else ''})"


def title_of(alert: dict[str, Any], limit: int = TITLE_LIMIT) -> str:
    return line(alert.get("title"), limit) or "(no title)"


def url_of(alert: dict[str, Any]) -> str | None:
    """The alert's link when it is a plain http(s) URL, else None."""
    url = alert.get("url")
    return safe_url(url) if isinstance(url, str) else None


def watches(alerts: Sequence[dict[str, Any]]) -> str:
    """The watches these alerts are for, in order, at most three named."""
    names: list[str] = []
    for a in alerts:
        name = line(a.get("watch"), 60)
        if name and name not in names:
            names.append(name)
    if len(names) > 3:
        return ", ".join(names[:3]) + ", …"
    return ", ".join(names) or "watch"


def headline(alerts: Sequence[dict[str, Any]]) -> str:
    """'Kremlin: <title> (+2 sources)', or 'Kremlin: 5 alerts' for a batch."""
    if len(alerts) == 1:
        a = alerts[0]
        return f"{watches(alerts)}: {title_of(a)}{more_sources(a)}"
    return f"{watches(alerts)}: {len(alerts)} alerts"


def subject(alerts: Sequence[dict[str, Any]]) -> str:
    """The e-mail subject: one line, never a CR or LF from feed text."""
    return f"[monitor] {headline(alerts)}"


def alert_lines(alert: dict[str, Any]) -> list[str]:
    """One alert as plain-text lines: title, sources, context, link."""
    out = [f"{title_of(alert, 500)}{more_sources(alert)}"]
    sources = sources_of(alert)
    if sources:
        out.append("Sources: " + ", ".join(sources))
    context = line(alert.get("context"), 500)
    if context:
        out.append(context)
    url = url_of(alert)
    if url:
        out.append(url)
    return out


def plain(alerts: Sequence[dict[str, Any]]) -> str:
    """The alerts as plain text, one paragraph each, with the watch when it varies."""
    blocks = []
    for a in alerts:
        lines = alert_lines(a)
        watch = line(a.get("watch"), 60)
        if watch:
            lines[0] = f"{watch}: {lines[0]}"
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def to_json(alerts: Sequence[dict[str, Any]], *, wrap: bool = False) -> bytes:
    """One alert as its JSON object, several as an array (or {"alerts": [...]} with
    `wrap`). UTF-8; datetimes as ISO 8601."""
    if len(alerts) == 1:
        return msgspec.json.encode(alerts[0])
    return msgspec.json.encode({"alerts": list(alerts)} if wrap else list(alerts))
