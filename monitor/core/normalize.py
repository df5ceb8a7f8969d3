"""Feed entries -> normalized items: plain text, canonical links, identity keys, UTC dates."""

from __future__ import annotations

import hashlib
import html
import re
from datetime import datetime

import nh3

from monitor.core.dates import parse_date
from monitor.core.urls import canonical_url
from monitor.model import Item, ParsedFeed, RawEntry, Source

# Whole terminal escape sequences first, so their parameters do not remain as text:
# OSC, DCS, SOS, PM, APC up to BEL or ST (7- and 8-bit forms); CSI; any other ESC sequence.
_SEQUENCES = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?"
)
# Then what is left: C0 (but tab and newline), DEL, C1, and the bidi controls.
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb]"
)
_BLOCK = re.compile(
    r"<(/?(?:p|br|div|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|section|article|figure|figcaption|hr|pre)\b)",
    re.IGNORECASE,
)

SUMMARY_LIMIT = 2000  # characters kept of a feed summary
FULL_CONTENT_WORDS = 150  # feed content this long is taken as the article's text...
# ...unless it ends like a teaser
_CUT = re.compile(
    r"(?:…|\.\.\.|\[…\]|\[\.\.\.\]|read more|continue reading|lire la suite|weiterlesen"
    r"|la suite|mehr lesen|leer más|leggi tutto)\W{0,3}$",
    re.IGNORECASE,
)


def strip_controls(s: str) -> str:
    """Drop terminal escape sequences whole, then any control or bidi character left;
    keep tab and newline. Ingest and the screen both use this one function."""
    if "\x1b" in s or "\x9b" in s or "\x9d" in s or "\x90" in s:
        s = _SEQUENCES.sub("", s)
    return _CONTROLS.sub("", s)


# Line breaks other than "\n" (NEL and friends are C1 or format controls) and the blanks
# a one-line text folds to a space; lone surrogates, which no terminal can print.
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029\x0b\x0c\x85]")
_BLANKS = re.compile(r"[\t\n]+")
_SURROGATES = re.compile("[\ud800-\udfff]")
_NAME_BREAKS = re.compile("[\t\n\u2028\u2029]")  # fine in a text, not in a name


def plain_text(value: object, *, multiline: bool = False) -> str:
    """Untrusted text as plain, inert characters: the one gate the dashboard
    (`tui.text.clean`) and the command line (`cli.common.one_line`) share.

    Escape sequences and controls go (`strip_controls`). One line (the default): newlines
    and tabs become single spaces. Multi-line: line breaks become "\\n", tabs four spaces.
    """
    if value is None:
        return ""
    s = value if isinstance(value, str) else str(value)
    s = _LINE_BREAKS.sub("\n", s)
    s = strip_controls(s)
    if _SURROGATES.search(s):
        s = _SURROGATES.sub("\ufffd", s)
    if multiline:
        return s.replace("\t", "    ")
    return _BLANKS.sub(" ", s)


def plain_line(value: object) -> str:
    """`plain_text` on one line, runs of white space one space, ends trimmed."""
    return " ".join(plain_text(value).split())


def control_char(s: str) -> str | None:
    """A control, escape, bidi or line-break character of `s` as "U+001B", or None: a
    name from the config holding one is refused."""
    m = _CONTROLS.search(s) or _NAME_BREAKS.search(s)
    return None if m is None else f"U+{ord(m.group()):04X}"


def squeeze_spaces(s: str) -> str:
    """Runs of white space -> one space, ends trimmed."""
    return " ".join(s.split())


def html_to_text(s: str | None) -> str:
    """HTML or plain text -> one line of plain text: no tags, entities decoded, spaces squeezed."""
    if not s:
        return ""
    if "<" in s:
        s = nh3.clean(_BLOCK.sub(r" <\1", s), tags=set(), clean_content_tags={"script", "style"})
        s = html.unescape(s)
    elif "&" in s:
        s = html.unescape(s)
    return squeeze_spaces(strip_controls(s.replace("\xa0", " ")))


def html_to_paragraphs(s: str | None) -> str:
    """HTML -> plain text that keeps paragraph breaks as blank lines."""
    if not s:
        return ""
    marked = _BLOCK.sub(lambda m: "\n\n<" + m.group(1), s) if "<" in s else s
    text = html.unescape(nh3.clean(marked, tags=set(), clean_content_tags={"script", "style"}))
    paras = (squeeze_spaces(strip_controls(p.replace("\xa0", " "))) for p in text.split("\n\n"))
    return "\n\n".join(p for p in paras if p)


def _hash(s: str) -> str:
    return hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


def entry_keys(
    entry: RawEntry, feed_url: str, *, link: str | None, link_shared: bool
) -> tuple[str, ...]:
    """Identity keys, strongest first: the guid, the canonical link, else title and date.

    A guid that is a URL identifies the article anywhere; any other guid is only unique
    within its feed. A link that several entries of one feed share (a home page) is no key.
    """
    keys: list[str] = []
    guid = strip_controls(entry.guid).strip() if entry.guid else ""
    if guid:
        as_url = link if link and guid == entry.link else canonical_url(guid)
        keys.append(f"u:{as_url}" if as_url else f"g:{feed_url}|{guid}")
    if link and not link_shared and f"u:{link}" not in keys:
        keys.append(f"u:{link}")
    if not keys:
        title = squeeze_spaces(entry.title or "")
        keys.append(f"h:{feed_url}|{title}|{entry.published_raw or entry.published_iso or ''}")
    return tuple(keys)


def item_id(first_key: str) -> str:
    return _hash(first_key)


def _language(entry: RawEntry, feed: ParsedFeed, source: Source) -> str | None:
    for lang in (source.language, entry.language, feed.language):
        if lang:
            primary = lang.strip().lower().replace("_", "-").split("-")[0]
            if re.fullmatch(r"[a-z]{2,3}", primary):
                return primary
    return None


def normalize_entry(
    entry: RawEntry,
    feed: ParsedFeed,
    source: Source,
    *,
    now: datetime,
    link_shared: bool = False,
    base_url: str | None = None,
    link: str | None = None,
) -> Item:
    """One parsed entry -> one Item. Pure: `now` is the first-seen time.

    `link` is the entry's canonical link when the caller has it already."""
    language = _language(entry, feed, source)
    if link is None:
        link = canonical_url(entry.link, base_url or source.url)
    keys = entry_keys(entry, source.url, link=link, link_shared=link_shared)

    raw_date = strip_controls(entry.published_raw).strip() if entry.published_raw else None
    published, flag = parse_date(raw_date, language, now=now) if raw_date else (None, "missing")
    if published is None and entry.published_iso:
        published, flag = parse_date(entry.published_iso, None, now=now)
        raw_date = raw_date or entry.published_iso
    if published is None or flag is not None:
        published = now
        flag = flag or "missing"

    summary = html_to_text(entry.summary) or html_to_text(entry.content)
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[:SUMMARY_LIMIT].rsplit(" ", 1)[0] + " …"
    text = None
    if entry.content:
        body = html_to_paragraphs(entry.content)
        if len(body.split()) >= FULL_CONTENT_WORDS and not _CUT.search(body[-40:]):
            text = body
    title = html_to_text(entry.title)
    if not title:
        title = summary[:100] or link or "(untitled)"
    author = html_to_text(entry.author) or None
    return Item(
        id=item_id(keys[0]),
        title=title,
        url=link,
        sources=(source.name,),
        published=published,
        published_raw=raw_date,
        date_flag=flag,
        language=language,
        summary=summary,
        first_seen=now,
        keys=keys,
        author=author,
        text=text,
        text_status="feed" if text else (None if source.full_text else "off"),
    )


def normalize_feed(
    feed: ParsedFeed, source: Source, *, now: datetime, base_url: str | None = None
) -> list[Item]:
    """Every entry of a parsed feed as items, deduplicated by identity within the feed."""
    links = [canonical_url(e.link, base_url or source.url) for e in feed.entries]
    counts: dict[str, int] = {}
    for link in links:
        if link:
            counts[link] = counts.get(link, 0) + 1
    items: list[Item] = []
    seen: set[str] = set()
    for entry, link in zip(feed.entries, links, strict=True):
        item = normalize_entry(
            entry,
            feed,
            source,
            now=now,
            link_shared=bool(link and counts[link] > 1),
            base_url=base_url,
        )
        if not seen.isdisjoint(item.keys):
            continue
        seen.update(item.keys)
        items.append(item)
    return items
