"""Response body -> ParsedFeed, with fastfeedparser doing the XML.

Around it: encoding repair, DTD and entity defusing, JSON Feed, and a cheap pass over the
bytes for what fastfeedparser does not give back (raw date strings, the feed's language,
whether an entry really had a guid or a summary). Pure and never raises.
"""

from __future__ import annotations

import codecs
import html
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html.entities import html5
from typing import Any

import fastfeedparser

from monitor.core.dates import parse_iso_or_rfc822
from monitor.model import ParsedFeed, RawEntry

MAX_RAW_DATE = 200  # characters; a longer "date" is not one

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_XML_DECL = re.compile(rb"<\?xml[^>]{0,200}?\?>")
_DECL_ENCODING = re.compile(rb"""(encoding\s*=\s*["'])([A-Za-z0-9._:-]{1,40})(["'])""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
# Declared Latin-1 is in practice windows-1252, as browsers read it.
_LATIN1 = frozenset({"iso8859-1", "ascii"})
# Labels whose documents often hold characters of a superset.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}

_NAME = re.compile(rb"[A-Za-z_][\w.:-]*")
_PROLOG_LIMIT = 1 << 20  # bytes before the root element, DTD included
_DOCTYPE_SUBSET_END = re.compile(rb"\]\s*>")
# A named entity other than the five XML defines.
_NAMED_ENTITY = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z][A-Za-z0-9]{0,31});")
_CDATA_START = b"<![CDATA["
_CDATA_END = b"]]>"

# Start tags the byte scan looks at; a prefix (dc:, a10:, rss:) is allowed.
_SCAN_TAG = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*+:)?+(item|entry|pubDate|date|published|updated|issued|modified|created"
    rb"|guid|id|description|summary)(?=[\s/>])"
)
_TAG_VALUE = re.compile(rb"([^<>]*)>\s*(?:<!\[CDATA\[\s*)?([^<\]]{0,%d})" % (MAX_RAW_DATE + 1))
_PUBLISHED_TAGS = frozenset({b"pubDate", b"date", b"published", b"issued", b"created"})
_UPDATED_TAGS = frozenset({b"updated", b"modified"})
_GUID_TAGS = frozenset({b"guid", b"id"})
_SUMMARY_TAGS = frozenset({b"description", b"summary"})
_ITEM_TAGS = frozenset({b"item", b"entry"})

_FEED_LANGUAGE = re.compile(
    rb"<(?:dc:)?language(?:\s[^<>]*)?>\s*(?:<!\[CDATA\[)?\s*([A-Za-z_-]{1,40})\s*(?:\]\]>\s*)?<"
)
_XML_LANG = re.compile(rb"""\sxml:lang\s*=\s*["']([A-Za-z_-]{1,40})["']""")
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}")
_XHTML_WRAPPER = re.compile(r"\A\s*<(?:\w+:)?content\b[^>]*>(.*)</(?:\w+:)?content>\s*\Z", re.S)

_FEED_ROOT = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?(?:rss|feed|RDF))(?=[\s>])")
_ITEM_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)(?=[\s/>])")
_KINDS = {b"rss": "rss", b"feed": "atom", b"RDF": "rdf", b"rdf": "rdf"}


@dataclass(slots=True)
class _Scan:
    """What the byte scan saw in one item or entry."""

    published: str | None = None
    updated: str | None = None
    guid: bool = False
    summary: bool = False


def parse_feed(body: bytes, content_type: str | None = None) -> ParsedFeed:
    """Parse one response body (RSS 0.9x/1.0/2.0, Atom, RDF or JSON Feed). Never raises.

    Problems are listed in `problems`; `fatal` is set when nothing could be recovered.
    `content_type` (the HTTP header) supplies a charset when the document declares none.
    """
    try:
        return _parse(bytes(body), content_type)
    except Exception as exc:  # a bug here must not take the poller down
        return _fatal(f"parser error: {type(exc).__name__}: {exc}"[:200])


def _fatal(problem: str, kind: str = "unknown") -> ParsedFeed:
    return ParsedFeed(kind=kind, problems=(problem,), fatal=True)


def _parse(body: bytes, content_type: str | None) -> ParsedFeed:
    problems: list[str] = []
    if not body or body.isspace():
        return _fatal("empty body")
    body = _to_utf8(body, _header_charset(content_type), problems)
    head = body.lstrip()[:1]
    if head in (b"{", b"["):
        return _parse_json(body, problems)
    root, doctype = _find_root(body)
    if doctype is not None:
        start, end = doctype
        decl = body[start:end]
        if decl[9:].lstrip()[:4].lower() == b"html":
            return _fatal("not a feed: HTML page")
        if b"<!ENTITY" in decl:
            problems.append("DTD with entity declarations removed; entities are not expanded")
        body = body[:start] + body[end:]
        root, _ = _find_root(body)
    if root is None:
        return _fatal("not a feed: no XML or JSON document")
    local = root[1].rpartition(b":")[2]
    if local.lower() in (b"html", b"body", b"head"):
        return _fatal("not a feed: HTML page")
    if local not in _KINDS:
        # junk before the document, such as a server warning: look further
        m = _FEED_ROOT.search(body, root[0])
        if m:
            root = (m.start(), m.group(1))
            local = root[1].rpartition(b":")[2]
    root_name = root[1]
    kind = _KINDS.get(local, "unknown")
    if _NAMED_ENTITY.search(body):
        body = _defuse_entities(body)
    try:
        parsed = fastfeedparser.parse(body)
    except Exception as exc:
        message = str(exc).split("(first 200 chars", 1)[0].strip()
        if "HTML" in message:
            return _fatal("not a feed: HTML page")
        if kind == "unknown":
            return _fatal(f"not a feed: <{root_name.decode('ascii', 'replace')}> document")
        return _fatal(f"unreadable {kind} feed: {message}"[:200], kind)
    if kind == "unknown":
        return _fatal(f"not a feed: <{root_name.decode('ascii', 'replace')}> document")

    info = parsed.get("feed") or {}
    raw_entries = parsed.get("entries") or []
    scans = _scan_items(body, root[0])
    if not _aligned(scans, raw_entries):
        scans = []
    entries = tuple(_entry(e, scans[i] if scans else None) for i, e in enumerate(raw_entries))
    close = b"</" + root_name
    if close not in body[-4096:]:
        problems.append(
            f"document truncated or not well-formed: no closing </{root_name.decode()}>"
        )
    return ParsedFeed(
        kind=kind,
        title=_text(info.get("title")),
        link=_text(info.get("link")),
        language=_feed_language(body, root[0], info.get("language")),
        entries=entries,
        problems=tuple(problems),
    )


# Encoding


def _header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _CHARSET.search(content_type)
    return _codec(m.group(1)) if m else None


def _codec(name: str) -> str | None:
    """A Python codec name for a charset label, or None when unknown."""
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def _decode(body: bytes, codec: str) -> str:
    codec = _SUPERSETS.get(codec, codec)
    if codec in _LATIN1:
        try:
            return body.decode("cp1252")
        except UnicodeDecodeError:
            return body.decode("latin-1")
    return body.decode(codec, errors="replace")


def _to_utf8(body: bytes, header: str | None, problems: list[str]) -> bytes:
    """The document as UTF-8 bytes, its declaration saying so."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            if codec == "utf-8":
                return body[len(bom) :]
            return _reencode(body[len(bom) :].decode(codec, errors="replace"))
    if body[:4] in (b"<\x00?\x00", b"<\x00r\x00", b"<\x00f\x00"):
        return _reencode(body.decode("utf-16-le", errors="replace"))
    if body[:4] in (b"\x00<\x00?", b"\x00<\x00r", b"\x00<\x00f"):
        return _reencode(body.decode("utf-16-be", errors="replace"))

    declared: str | None = None
    label = ""
    wrong_label = False
    decl = _XML_DECL.search(body, 0, 1024)
    if decl:
        m = _DECL_ENCODING.search(decl.group(0))
        if m:
            label = m.group(2).decode("ascii")
            declared = _codec(label)
            if declared is None:
                return body  # a label Python does not know: libxml2 may
            if declared.startswith(("utf-16", "utf-32")):
                declared = None  # 8-bit bytes that claim UTF-16: the declaration is wrong
                wrong_label = True
    if declared is not None and declared != "utf-8":
        if declared in _LATIN1 and not body.isascii() and _is_utf8(body):
            problems.append(f"declared {label} but the bytes are UTF-8")
            return _fix_declaration(body)
        return _reencode(_decode(body, declared))
    if body.isascii() or _is_utf8(body):
        return _fix_declaration(body) if wrong_label else body
    if header is not None and header != "utf-8":
        return _reencode(_decode(body, header))
    if declared == "utf-8":
        problems.append("invalid UTF-8 bytes replaced")
        return _reencode(body.decode("utf-8", errors="replace"))
    problems.append("no charset declared and not UTF-8: read as windows-1252")
    return _reencode(_decode(body, "iso8859-1"))


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _reencode(text: str) -> bytes:
    return _fix_declaration(text.encode("utf-8", errors="replace"))


def _fix_declaration(data: bytes) -> bytes:
    """Make the XML declaration, if it names an encoding, name UTF-8."""
    decl = _XML_DECL.search(data, 0, 1024)
    if decl and b"encoding" in decl.group(0):
        fixed = _DECL_ENCODING.sub(rb"\g<1>utf-8\g<3>", decl.group(0), count=1)
        data = data[: decl.start()] + fixed + data[decl.end() :]
    return data


# Prolog, DTD and entities


def _find_root(body: bytes) -> tuple[tuple[int, bytes] | None, tuple[int, int] | None]:
    """(root element start and name, DOCTYPE span). Skips text junk before the document."""
    pos = 0
    doctype: tuple[int, int] | None = None
    n = len(body)
    while pos < min(n, _PROLOG_LIMIT):
        start = body.find(b"<", pos)
        if start == -1:
            return None, doctype
        if body.startswith(b"<?", start):
            end = body.find(b"?>", start + 2)
            pos = n if end == -1 else end + 2
        elif body.startswith(b"<!--", start):
            end = body.find(b"-->", start + 4)
            pos = n if end == -1 else end + 3
        elif body[start : start + 9].upper() == b"<!DOCTYPE":
            gt = body.find(b">", start)
            bracket = body.find(b"[", start, gt if gt != -1 else n)
            if bracket != -1:
                m = _DOCTYPE_SUBSET_END.search(body, bracket)
                end = m.end() if m else n
            else:
                end = n if gt == -1 else gt + 1
            doctype = (start, end)
            pos = end
        elif body.startswith(b"<!", start):
            end = body.find(b">", start)
            pos = n if end == -1 else end + 1
        else:
            m = _NAME.match(body, start + 1)
            if m is None:
                pos = start + 1
                continue
            return (start, m.group(0)), doctype
    return None, doctype


def _entity_ref(m: re.Match[bytes]) -> bytes:
    return _entity_bytes(m.group(1))


@lru_cache(maxsize=512)
def _entity_bytes(name: bytes) -> bytes:
    value = html5.get(name.decode("ascii") + ";")
    if value is None:
        return b"&amp;" + name + b";"  # unknown: kept as literal text
    return "".join(f"&#{ord(c)};" for c in value).encode("ascii")


def _defuse_entities(body: bytes) -> bytes:
    """HTML named entities -> character references, unknown ones -> literal text.

    Without a DTD, libxml2 drops an undefined entity and the rest of its text node with it.
    CDATA sections are left as they are.
    """
    out: list[bytes] = []
    pos = 0
    n = len(body)
    while pos < n:
        start = body.find(_CDATA_START, pos)
        if start == -1:
            out.append(_NAMED_ENTITY.sub(_entity_ref, body[pos:]))
            break
        out.append(_NAMED_ENTITY.sub(_entity_ref, body[pos:start]))
        end = body.find(_CDATA_END, start)
        end = n if end == -1 else end + len(_CDATA_END)
        out.append(body[start:end])
        pos = end
    return b"".join(out)


# The byte scan


def _scan_items(body: bytes, start: int) -> list[_Scan]:
    """One _Scan per <item>/<entry> start tag, in document order."""
    scans: list[_Scan] = []
    current: _Scan | None = None
    for m in _SCAN_TAG.finditer(body, start):
        tag = m.group(1)
        if tag in _ITEM_TAGS:
            end = body.find(b">", m.end())
            # an RDF item's rdf:about is its identifier
            current = _Scan(guid=body.find(b":about", m.end(), end) != -1)
            scans.append(current)
        elif current is None:
            continue
        elif tag in _PUBLISHED_TAGS:
            if current.published is None:
                current.published = _tag_text(body, m.end())
        elif tag in _UPDATED_TAGS:
            if current.updated is None:
                current.updated = _tag_text(body, m.end())
        elif tag in _GUID_TAGS:
            current.guid = current.guid or _has_text(body, m.end())
        else:
            current.summary = True
    return scans


def _aligned(scans: list[_Scan], entries: list[Any]) -> bool:
    """Whether scans[i] is entries[i]: same count, and sampled dates that agree."""
    n = len(entries)
    if len(scans) != n:
        return False
    for i in {0, n // 2, n - 1} if n else ():
        raw = scans[i].published or scans[i].updated
        iso = entries[i].get("published") or entries[i].get("updated")
        if not raw or not isinstance(iso, str):
            continue
        ours = parse_iso_or_rfc822(raw)
        if ours is None:
            continue
        try:
            theirs = datetime.fromisoformat(iso)
        except ValueError:
            continue
        if theirs.tzinfo is not None and ours != theirs:
            return False
    return True


def _tag_text(body: bytes, pos: int) -> str | None:
    """The text of the element whose start tag's name ends at `pos`; None if empty or too long."""
    m = _TAG_VALUE.match(body, pos)
    if m is None or m.group(1).endswith(b"/"):
        return None
    value = m.group(2)
    if len(value) > MAX_RAW_DATE:
        return None
    text = value.decode("utf-8", errors="replace").strip()
    if "&" in text:
        text = html.unescape(text)
    return text or None


def _has_text(body: bytes, pos: int) -> bool:
    m = _TAG_VALUE.match(body, pos)
    return m is not None and not m.group(1).endswith(b"/") and bool(m.group(2).strip())


def _feed_language(body: bytes, root_start: int, fallback: Any) -> str | None:
    first = _ITEM_START.search(body, root_start)
    head_end = first.start() if first else min(len(body), 65536)
    m = _FEED_LANGUAGE.search(body, root_start, head_end)
    if m:
        lang = _language(m.group(1).decode("ascii"))
        if lang:
            return lang
    root_end = body.find(b">", root_start)
    m = _XML_LANG.search(body, root_start, root_end if root_end != -1 else head_end)
    if m:
        lang = _language(m.group(1).decode("ascii"))
        if lang:
            return lang
    return _language(fallback)


def _language(value: Any) -> str | None:
    """A language tag -> its primary subtag, lowercase ("pt-BR" -> "pt"), or None."""
    if not isinstance(value, str):
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if _LANGUAGE_TAG.fullmatch(primary) else None


# Entries


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    return value if value.strip() else None


def _entry(e: Any, scan: _Scan | None) -> RawEntry:
    link = _text(e.get("link"))
    if link is None:
        for candidate in e.get("links") or ():
            href = candidate.get("href") if isinstance(candidate, dict) else None
            if _text(href):
                link = href
                break
    ident = _text(e.get("id"))
    # fastfeedparser's id falls back to the link; the scan says whether there was a real one
    had_guid = scan.guid if scan is not None else ident != link
    guid = ident if had_guid else None
    blocks = e.get("content")
    summary = _text(e.get("description"))
    if scan is not None and not scan.summary and blocks:
        summary = None  # fastfeedparser made it up from the content
    content: str | None = None
    language: str | None = None
    if blocks and isinstance(blocks[0], dict):
        content = _text(blocks[0].get("value"))
        if content is not None and blocks[0].get("type") in ("xhtml", "application/xhtml+xml"):
            wrapped = _XHTML_WRAPPER.match(content)
            content = _text(wrapped.group(1)) if wrapped else content
        if content is not None and content.strip() == (summary or "").strip():
            content = None
        language = _language(blocks[0].get("language"))
    raw: str | None = None
    if scan is not None:
        raw = scan.published or scan.updated
    return RawEntry(
        guid=guid,
        link=link,
        title=_text(e.get("title")),
        summary=summary,
        content=content,
        published_raw=raw,
        published_iso=_text(e.get("published")) or _text(e.get("updated")),
        author=_text(e.get("author")),
        language=language,
    )


# JSON Feed


def _parse_json(body: bytes, problems: list[str]) -> ParsedFeed:
    try:
        data = json.loads(body)
    except ValueError:
        return _fatal("not a feed: invalid JSON")
    if not isinstance(data, dict):
        return _fatal("not a feed: JSON that is not an object")
    items = data.get("items")
    version = data.get("version")
    if not isinstance(items, list):
        if isinstance(version, str) and "jsonfeed.org" in version:
            problems.append("JSON Feed without an items list")
            items = []
        else:
            return _fatal("not a feed: JSON without items")
    entries = tuple(_json_entry(item) for item in items if isinstance(item, dict))
    if len(entries) != len(items):
        problems.append("JSON Feed items that are not objects skipped")
    return ParsedFeed(
        kind="json",
        title=_json_str(data.get("title")),
        link=_json_str(data.get("home_page_url")),
        language=_language(data.get("language")),
        entries=entries,
        problems=tuple(problems),
    )


def _json_str(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    return value if isinstance(value, str) and value.strip() else None


def _json_author(item: dict[str, Any]) -> str | None:
    authors = item.get("authors")
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        return _json_str(authors[0].get("name"))
    author = item.get("author")
    if isinstance(author, dict):
        return _json_str(author.get("name"))
    return None


def _json_entry(item: dict[str, Any]) -> RawEntry:
    summary = _json_str(item.get("summary"))
    content = _json_str(item.get("content_html")) or _json_str(item.get("content_text"))
    if content is not None and content == summary:
        content = None
    published = _json_str(item.get("date_published"))
    updated = _json_str(item.get("date_modified"))
    raw = published or updated
    if raw is not None and len(raw) > MAX_RAW_DATE:
        raw = None
    when = parse_iso_or_rfc822(raw) if raw else None
    return RawEntry(
        guid=_json_str(item.get("id")),
        link=_json_str(item.get("url")) or _json_str(item.get("external_url")),
        title=_json_str(item.get("title")),
        summary=summary,
        content=content,
        published_raw=raw,
        published_iso=when.isoformat() if when else None,
        author=_json_author(item),
        language=_language(item.get("language")),
    )
