"""OPML subscription lists -> feeds. Pure: bytes in, tuples out."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from monitor.core.urls import check_url


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
