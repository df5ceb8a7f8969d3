"""Article page bytes -> main text and page metadata, or the problem that stopped it.

Pure: the caller passes the body as bytes (trafilatura works out the encoding from the
bytes themselves, so a charset mislabelled in the headers does not garble the text), the
final URL and `now`. `fill` folds what a page gave into an item.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from msgspec.structs import replace as struct_replace

from monitor.core.dates import parse_date, parse_iso_or_rfc822
from monitor.core.normalize import squeeze_spaces, strip_controls
from monitor.model import Item, PageProblem, PageText

MIN_WORDS = 40  # fewer words than this is no article
SHORT_WORDS = 250  # a wall or teaser is shorter than this

# Block pages: anti-bot challenges and access refusals, by title or by markers in the page.
_BLOCK_TITLES = re.compile(
    r"attention required|just a moment|access denied|access to this page has been denied"
    r"|are you a (?:robot|human)|security check|captcha|request unsuccessful|403 forbidden"
    r"|pardon our interruption|bot verification|you have been blocked",
    re.IGNORECASE,
)
_BLOCK_MARKERS = (
    b"cf-browser-verification",
    b"cf-error-details",
    b"/cdn-cgi/challenge-platform/",
    b"captcha-delivery.com",
    b"px-captcha",
    b"_Incapsula_Resource",
)
# Consent walls: the page is a cookie or consent prompt instead of the article.
_CONSENT_HOSTS = re.compile(r"^(?:consent|privacy|cmp|myprivacy|guce)\.", re.IGNORECASE)
_CONSENT_WORDS = re.compile(
    r"cookie|consent|privacy settings|accept all|tout accepter|accepter et continuer"
    r"|vos choix|zustimm|einwillig|akzeptieren|datenschutz|consentimiento|aceptar",
    re.IGNORECASE,
)
# Paywalls: the page says its content is not free, or shows a subscription prompt.
_NOT_FREE = re.compile(rb'"isAccessibleForFree"\s*:\s*"?(?:false|False|no)"?')
_PAYWALL_WORDS = re.compile(
    r"subscribe to (?:continue|read)|to continue reading|already a subscriber"
    r"|réservé aux abonnés|article réservé|abonnez-vous|déjà abonné"
    r"|nur für abonnenten|jetzt abonnieren|weiterlesen mit|abo abschließen",
    re.IGNORECASE,
)

# Where pages state their publication time, most specific first.
_META_DATES = (
    "article:published_time",
    "og:article:published_time",
    "datePublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "dcterms.created",
    "sailthru.date",
    "parsely-pub-date",
)
_JSON_LD_TYPES = re.compile(r"Article|Posting|Report|Blog", re.IGNORECASE)


def extract_page(
    body: bytes, url: str, *, now: datetime, content_type: str | None = None, fast: bool = False
) -> PageText:
    """The main text and metadata of one article page, or the problem that stopped it."""
    import trafilatura
    from trafilatura.utils import load_html

    if content_type and not _htmlish(content_type):
        return PageText(problem="not_html", detail=f"not a web page ({content_type.split(';')[0]})")
    tree = load_html(body)
    if tree is None:
        return PageText(problem="empty", detail="the page could not be read")
    title = _clean(_title(tree))
    published, raw = page_date(tree, now=now)
    blocked = _blocked(body, title)
    if blocked:
        return PageText(problem="blocked", detail=blocked, title=title)
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        include_comments=False,
        include_images=False,
        include_links=False,
        with_metadata=True,
        date_extraction_params={"max_date": now.strftime("%Y-%m-%d"), "original_date": True},
    )
    text = _paragraphs(getattr(doc, "text", None) if doc is not None else None)
    meta: dict[str, str | None] = {
        k: _clean(getattr(doc, k, None)) if doc is not None else None
        for k in ("title", "author", "sitename", "date")
    }
    if published is None and meta["date"]:
        published, raw = _date(meta["date"], now)
    page = PageText(
        text=text or None,
        title=meta["title"] or title,
        author=meta["author"],
        published=published,
        published_raw=raw,
        language=_language(tree),
        site_name=meta["sitename"],
    )
    problem, detail = _problem(body, url, text, title)
    if problem is not None:
        return replace(page, text=None, problem=problem, detail=detail)
    return page


def _htmlish(content_type: str) -> bool:
    kind = content_type.split(";")[0].strip().lower()
    return not kind or "html" in kind or kind in ("text/plain", "application/octet-stream")


def _clean(s: Any) -> str | None:
    if not isinstance(s, str):
        return None
    s = squeeze_spaces(strip_controls(s))
    return s or None


def _paragraphs(text: str | None) -> str:
    if not text:
        return ""
    paras = (squeeze_spaces(strip_controls(p)) for p in text.split("\n"))
    return "\n\n".join(p for p in paras if p)


def _title(tree: Any) -> str | None:
    found = tree.find(".//title")
    return found.text_content() if found is not None else None


def _blocked(body: bytes, title: str | None) -> str | None:
    if title and _BLOCK_TITLES.search(title) and len(body) < 200_000:
        return f"block page: {title[:80]}"
    head = body[:100_000]
    for marker in _BLOCK_MARKERS:
        if marker in head and len(body) < 200_000:
            return "block page (anti-bot challenge)"
    return None


def _problem(
    body: bytes, url: str, text: str, title: str | None
) -> tuple[PageProblem | None, str | None]:
    words = len(text.split())
    host = re.sub(r"^[a-z]+://", "", url.lower()).split("/", 1)[0]
    if _CONSENT_HOSTS.match(host):
        return "consent", f"consent wall at {host}"
    if words < SHORT_WORDS:
        if _CONSENT_WORDS.search(title or "") or (
            words < MIN_WORDS * 3 and len(_CONSENT_WORDS.findall(text)) >= 2
        ):
            return "consent", "cookie or consent wall instead of the article"
        if _NOT_FREE.search(body) or _PAYWALL_WORDS.search(text):
            return "paywall", "behind a paywall: only the teaser is free"
    if words < MIN_WORDS:
        return "empty", "no article text found on the page"
    return None, None


def _language(tree: Any) -> str | None:
    lang = tree.get("lang") or tree.get("xml:lang")
    if not lang:
        for el in tree.iterfind(".//meta[@http-equiv]"):
            if el.get("http-equiv", "").lower() == "content-language":
                lang = el.get("content")
                break
    if not lang:
        return None
    primary = lang.strip().lower().replace("_", "-").split("-")[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def page_date(tree: Any, *, now: datetime) -> tuple[datetime | None, str | None]:
    """The page's publication time: JSON-LD `datePublished`, then meta tags, then <time>."""
    for found in _date_strings(tree):
        dt, raw = _date(found, now)
        if dt is not None:
            return dt, raw
    return None, None


def _date(raw: str, now: datetime) -> tuple[datetime | None, str | None]:
    raw = raw.strip()
    dt = parse_iso_or_rfc822(raw)
    flag = None
    if dt is None:
        dt, flag = parse_date(raw, None, now=now)
    if dt is None or flag is not None or dt > now:
        return None, None
    return dt, raw


def _date_strings(tree: Any) -> list[str]:
    found: list[str] = []
    for script in tree.iterfind(".//script[@type]"):
        if script.get("type", "").lower() == "application/ld+json" and script.text:
            found.extend(_json_ld_dates(script.text))
    metas: dict[str, str] = {}
    for el in tree.iterfind(".//meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").lower()
        value = el.get("content")
        if key and value and key not in metas:
            metas[key] = value
    found.extend(metas[k.lower()] for k in _META_DATES if k.lower() in metas)
    for el in tree.iterfind(".//*[@itemprop]"):
        if el.get("itemprop") == "datePublished":
            value = el.get("datetime") or el.get("content")
            if value:
                found.append(value)
    time_el = tree.find(".//time[@datetime]")
    if time_el is not None:
        found.append(time_el.get("datetime"))
    return found


def _json_ld_dates(text: str) -> list[str]:
    try:
        data = json.loads(text)
    except ValueError:
        return []
    found: list[str] = []
    todo: list[Any] = [data]
    while todo and len(found) < 5:
        node = todo.pop(0)
        if isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, dict):
            kind = node.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            date = node.get("datePublished")
            if isinstance(date, str) and any(
                isinstance(k, str) and _JSON_LD_TYPES.search(k) for k in kinds
            ):
                found.append(date)
            todo.extend(v for v in node.values() if isinstance(v, dict | list))
    return found


def fill(
    item: Item, page: PageText, *, override_date: bool = False, keep_language: bool = True
) -> Item:
    """`item` with what its page gave: the text (or the problem), and the page's metadata
    where the feed left a gap. A valid feed date stays unless `override_date`. The page's
    declared language replaces the item's unless `keep_language` (a language set in the
    config): the item's may only have been guessed from a title and a summary."""
    language = item.language if keep_language else page.language
    changes: dict[str, Any] = {
        "site_name": page.site_name or item.site_name,
        "page_published": page.published or item.page_published,
        "author": item.author or page.author,
        "language": language or item.language or page.language,
    }
    if page.text:
        changes.update(text=page.text, text_status="page", text_error=None, text_detail=None)
    else:
        changes.update(text_status="failed", text_error=page.problem, text_detail=page.detail)
    if page.published is not None and (item.date_flag is not None or override_date):
        changes.update(published=page.published, published_raw=page.published_raw, date_flag=None)
    if item.title in ("(untitled)", item.url) and page.title:
        changes["title"] = page.title
    return struct_replace(item, **changes)


def failed(item: Item, error: str, detail: str) -> Item:
    """`item` after its page could not be fetched: it keeps its summary (and any text)."""
    return struct_replace(item, text_status="failed", text_error=error, text_detail=detail)
