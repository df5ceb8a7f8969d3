"""Sample feeds -> response bodies: RSS 2.0, Atom 1.0 and JSON Feed 1.1, dated as real feeds are."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from monitor.demo.samples import DateStyle, Feed, Story

CONTENT_TYPES = {
    "rss": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}

FR_DAYS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
FR_MONTHS = (
    *("janv.", "févr.", "mars", "avr.", "mai", "juin"),
    *("juil.", "août", "sept.", "oct.", "nov.", "déc."),
)
DE_DAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
DE_MONTHS = (
    *("Jan", "Feb", "Mär", "Apr", "Mai", "Jun"),
    *("Jul", "Aug", "Sep", "Okt", "Nov", "Dez"),
)

Dated = tuple[Story, float]  # a story and when it was published (seconds since the epoch)


def _last_sunday(year: int, month: int) -> datetime:
    day = datetime(year, month, 31, 1, tzinfo=UTC)  # March and October have 31 days
    return day - timedelta(days=(day.weekday() + 1) % 7)


def central_european(when: datetime) -> datetime:
    """`when` in Paris or Berlin time: UTC+2 from the last Sunday of March to the last of
    October (at 01:00 UTC), UTC+1 otherwise."""
    summer = _last_sunday(when.year, 3) <= when < _last_sunday(when.year, 10)
    return when.astimezone(timezone(timedelta(hours=2 if summer else 1)))


def format_date(ts: float, style: DateStyle) -> str:
    when = datetime.fromtimestamp(int(ts), UTC)
    if style == "rfc822":
        return format_datetime(when, usegmt=True)
    if style == "iso":
        return when.isoformat().replace("+00:00", "Z")
    local = central_european(when)
    if style == "iso-cet":
        return local.isoformat()
    days, months = (FR_DAYS, FR_MONTHS) if style == "fr" else (DE_DAYS, DE_MONTHS)
    day = f"{days[local.weekday()]}, {local.day:02d} {months[local.month - 1]} {local.year}"
    return f"{day} {local.strftime('%H:%M:%S %z')}"


def render(feed: Feed, items: Sequence[Dated], self_url: str) -> bytes:
    """The feed's document with `items` (newest first), as the feed's kind dictates."""
    if feed.kind == "rss":
        return _rss(feed, items, self_url)
    if feed.kind == "atom":
        return _atom(feed, items, self_url)
    return _json(feed, items, self_url)


def _built(feed: Feed, items: Sequence[Dated]) -> str:
    return format_date(max((ts for _, ts in items), default=0.0), feed.dates)


def _rss(feed: Feed, items: Sequence[Dated], self_url: str) -> bytes:
    date_tag = "dc:date" if feed.dates == "iso" else "pubDate"
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">',
        "<channel>",
        f"<title>{escape(feed.name)}</title>",
        f"<link>{escape(feed.site)}</link>",
        f"<description>{escape(feed.description)}</description>",
        f"<language>{feed.language}</language>",
        f"<{date_tag}>{escape(_built(feed, items))}</{date_tag}>",
        f'<atom:link href={quoteattr(self_url)} rel="self" type="application/rss+xml"/>',
    ]
    for story, ts in items:
        link = feed.link(story)
        out.append("<item>")
        out.append(f"<title>{escape(story.title)}</title>")
        out.append(f"<link>{escape(link)}</link>")
        if feed.guid_prefix:
            guid = f"{feed.guid_prefix}:{story.slug}"
            out.append(f'<guid isPermaLink="false">{escape(guid)}</guid>')
        elif feed.guids:
            out.append(f'<guid isPermaLink="true">{escape(link)}</guid>')
        out.append(f"<description>{escape(story.summary)}</description>")
        if story.text:
            html = "".join(f"<p>{escape(p)}</p>" for p in story.text)
            out.append(f"<content:encoded>{escape(html)}</content:encoded>")
        if story.author:
            out.append(f"<dc:creator>{escape(story.author)}</dc:creator>")
        out.append(f"<{date_tag}>{escape(format_date(ts, feed.dates))}</{date_tag}>")
        out.append("</item>")
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out).encode("utf-8")


def _atom(feed: Feed, items: Sequence[Dated], self_url: str) -> bytes:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{feed.language}">',
        f"<title>{escape(feed.name)}</title>",
        f"<subtitle>{escape(feed.description)}</subtitle>",
        f"<id>{escape(feed.site)}/</id>",
        f"<link href={quoteattr(feed.site)}/>",
        f'<link rel="self" href={quoteattr(self_url)}/>',
        f"<updated>{_built(feed, items)}</updated>",
        f"<author><name>{escape(feed.name)}</name></author>",
    ]
    for story, ts in items:
        link = feed.link(story)
        out.append("<entry>")
        out.append(f"<title>{escape(story.title)}</title>")
        out.append(f"<link href={quoteattr(link)}/>")
        out.append(f"<id>{escape(link)}</id>")
        out.append(f"<updated>{format_date(ts, feed.dates)}</updated>")
        out.append(f"<summary>{escape(story.summary)}</summary>")
        if story.author:
            out.append(f"<author><name>{escape(story.author)}</name></author>")
        out.append("</entry>")
    out += ["</feed>", ""]
    return "\n".join(out).encode("utf-8")


def _json(feed: Feed, items: Sequence[Dated], self_url: str) -> bytes:
    entries: list[dict[str, Any]] = []
    for story, ts in items:
        link = feed.link(story)
        entry: dict[str, Any] = {
            "id": link,
            "url": link,
            "title": story.title,
            "summary": story.summary,
            "content_text": "\n\n".join(story.text) if story.text else story.summary,
            "date_published": format_date(ts, feed.dates),
        }
        if story.author:
            entry["authors"] = [{"name": story.author}]
        entries.append(entry)
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": feed.name,
        "home_page_url": feed.site,
        "feed_url": self_url,
        "description": feed.description,
        "language": feed.language,
        "items": entries,
    }
    # control characters in titles come out as \u001b escapes, which JSON allows
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
