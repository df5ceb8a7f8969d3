"""OPML subscription lists <-> feeds. Pure: bytes in, tuples out, and back."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from monitor.core.urls import check_url
from monitor.model import Source

# What XML 1.0 cannot carry, even escaped: lxml refuses it, and readers would too.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    name: str
    url: str
    category: str | None = None


def read_opml(data: bytes) -> list[OpmlFeed]:
    """Every outline with an http(s) xmlUrl, with its nearest enclosing outline as category.

    Entities are never resolved and nothing is fetched. ValueError when it is not OPML.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"not an OPML file: {exc}") from None
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise ValueError("not an OPML file: no <opml> root element")
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url or check_url(url) or url in seen:
            continue
        seen.add(url)
        name = (outline.get("title") or outline.get("text") or url).strip()
        parent = outline.getparent()
        category = None
        if parent is not None and parent.tag == "outline":
            category = (parent.get("title") or parent.get("text") or "").strip() or None
        feeds.append(OpmlFeed(" ".join(name.split()), url, category))
    return feeds


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
