"""OPML subscription lists <-> feeds. Pure: bytes in, tuples out, and back."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from lxml import etree

from monitor.core.normalize import squeeze_spaces, strip_controls
from monitor.core.urls import check_url
from monitor.model import Source

# What XML 1.0 cannot carry, even escaped: lxml refuses it, and readers would too.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Limits on what a subscription list may hold; real ones are far below them.
MAX_FILE_BYTES = 32 * 1024 * 1024  # a larger file is refused unread
MAX_DEPTH = 32  # outlines nested deeper than this are skipped
MAX_ATTRIBUTE = 4096  # characters in a title, text or xmlUrl; longer ones skip the outline

# Why an outline was skipped, in words (the keys of OpmlRead.skipped).
NO_URL = "no feed URL"
NOT_HTTP = "not an http(s) URL"
BAD_URL = "not a valid URL"
CREDENTIALS = "user name or password in the URL"
PRIVATE = "private, loopback or link-local address"
TOO_LONG = f"an attribute over {MAX_ATTRIBUTE} characters"
TOO_DEEP = f"nested over {MAX_DEPTH} outlines deep"
REPEATED = "URL repeated in the file"
BROKEN = "XML too broken to read its feed URL"

# A & that starts no reference: real lists carry them bare in URLs (?a=1&b=2), and the
# parser would drop "&b" from the URL.
_BARE_AMP = re.compile(rb"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z_][\w.-]*;)")

# Errors that say the parser stopped at one of its limits (entity expansion, depth, the
# size of a text): what follows is lost, and the file was likely made to do that.
_LIMITS = frozenset(
    {"ERR_RESOURCE_LIMIT", "ERR_ENTITY_LOOP", "ERR_INTERNAL_ERROR", "ERR_NO_MEMORY"}
)


class OpmlError(ValueError):
    """The file is not usable OPML: nothing in it is imported."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    name: str
    url: str
    category: str | None = None


@dataclass(slots=True)
class OpmlRead:
    """What a file held: its feeds, and every other outline counted by why it was skipped."""

    feeds: list[OpmlFeed] = field(default_factory=list)
    outlines: int = 0  # every <outline>, folders included
    folders: int = 0  # outlines without a feed URL that hold other outlines
    skipped: Counter[str] = field(default_factory=Counter)
    recovered: int = 0  # XML errors the parser got past (a quote inside a title …)
    first_error: str | None = None  # the first of them, in words, with its line


def _clean(value: str) -> str:
    """An attribute as one line of text a terminal and config.toml can hold safely."""
    return squeeze_spaces(strip_controls(value))


def _url_reason(url: str) -> str | None:
    """Why an xmlUrl is skipped whatever the options, or None."""
    problem = check_url(url)
    if problem:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        return NOT_HTTP if scheme not in ("http", "https") else BAD_URL
    parts = urlsplit(url)
    if "@" in parts.netloc:  # user:password@host, or an empty user
        return CREDENTIALS
    return None


def _parse(data: bytes) -> tuple[etree._Element, list[tuple[int, str]]]:
    """The <opml> root element and the XML errors the parser read past; OpmlError when
    the file is not usable: not XML, not OPML, cut short, or over a limit."""
    if len(data) > MAX_FILE_BYTES:
        raise OpmlError(f"the file is over {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    if b"\x00" not in data[:4]:  # an ASCII-compatible encoding: & is the byte 0x26
        data = _BARE_AMP.sub(b"&amp;", data)
    # No entities resolved, no DTD, nothing fetched. huge_tree stays off, so libxml2's own
    # limits (depth 256, 10 MB a text, entity amplification) stop a hostile file. recover
    # reads past the mistakes real lists are full of (a quote inside a title).
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, recover=True, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"not XML ({exc})") from None
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    words = [(e.line, f"line {e.line}: {e.message.strip()}") for e in errors]
    limit = next(
        (w for e, (_, w) in zip(errors, words, strict=True) if e.type_name in _LIMITS), None
    )
    if limit:
        raise OpmlError(f"the parser stopped at one of its limits ({limit})")
    if root is None or not isinstance(root.tag, str):
        raise OpmlError(f"not XML ({words[0][1]})" if words else "not XML")
    if etree.QName(root).localname.lower() != "opml":
        raise OpmlError("not an OPML file: no <opml> root element")
    if errors and b"</opml" not in data[-4096:].lower():
        raise OpmlError(f"the file is cut short: no </opml> at its end ({words[-1][1]})")
    return root, words


def read_outlines(data: bytes, *, refuse: Callable[[str], str | None] | None = None) -> OpmlRead:
    """Every outline with a usable http(s) xmlUrl as a feed, its nearest enclosing outline
    as category; every other outline counted under the reason it was skipped.

    `refuse` may skip more URLs: it returns the reason (the address gate, in io/opml.py).
    Entities are never resolved and nothing is fetched. OpmlError when the file is not
    usable OPML at all.
    """
    root, errors = _parse(data)
    read = OpmlRead(recovered=len(errors), first_error=errors[0][1] if errors else None)
    broken = {line for line, _ in errors}
    seen: set[str] = set()
    titles: list[str | None] = [None]  # the open outlines' titles: the last is the category
    for event, outline in etree.iterwalk(root, events=("start", "end"), tag="outline"):
        if event == "end":
            titles.pop()
            continue
        read.outlines += 1
        category = titles[-1]
        title, reason = _outline(outline, len(titles), seen, refuse)
        titles.append(title)
        if reason is None:
            url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
            read.feeds.append(OpmlFeed(title or url, url, category))
        elif reason == NO_URL and len(outline):
            read.folders += 1
        elif reason == NO_URL and outline.sourceline in broken:
            read.skipped[BROKEN] += 1  # the parser read past an error here: say so
        else:
            read.skipped[reason] += 1
    if errors and not read.outlines:
        raise OpmlError(f"not well-formed XML, and no outline could be read ({errors[0][1]})")
    return read


def _outline(
    outline: etree._Element, depth: int, seen: set[str], refuse: Callable[[str], str | None] | None
) -> tuple[str | None, str | None]:
    """(the outline's cleaned title, why it is not a feed or None)."""
    values = [outline.get(a) or "" for a in ("title", "text", "xmlUrl", "xmlurl")]
    if depth > MAX_DEPTH:
        return None, TOO_DEEP
    if any(len(v) > MAX_ATTRIBUTE for v in values):
        return None, TOO_LONG
    title = _clean(values[0]) or _clean(values[1]) or None
    url = (values[2] or values[3]).strip()
    if not url:
        return title, NO_URL
    reason = _url_reason(url) or (refuse(url) if refuse else None)
    if reason is None and url in seen:
        reason = REPEATED
    seen.add(url)
    return title, reason


def read_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML file (see `read_outlines`). OpmlError (a ValueError) when it is
    not usable OPML."""
    return read_outlines(data).feeds


def _xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def write_opml(sources: Sequence[Source], *, title: str, created: datetime) -> bytes:
    """OPML 2.0 with one rss outline per source, disabled ones too (they are still
    subscriptions). Sources with a category sit in an outline per category, categories
    in order of first use; the others at the top level, in config order."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = _xml_text(title)
    etree.SubElement(head, "dateCreated").text = format_datetime(created)
    body = etree.SubElement(root, "body")
    groups: dict[str, etree._Element] = {}
    for source in sources:
        parent = body
        category = _xml_text(source.category or "").strip()
        if category:
            if category not in groups:
                groups[category] = etree.SubElement(body, "outline", text=category, title=category)
            parent = groups[category]
        name = _xml_text(source.name)
        etree.SubElement(
            parent, "outline", type="rss", text=name, title=name, xmlUrl=_xml_text(source.url)
        )
    data: bytes = etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True)
    return data
