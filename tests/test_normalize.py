"""Entries -> items: plain text, canonical links, identity, merges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from msgspec.structs import replace

from monitor.core.dedupe import merge
from monitor.core.normalize import html_to_paragraphs, html_to_text, normalize_feed, strip_controls
from monitor.core.urls import canonical_url, check_url
from monitor.model import ParsedFeed, RawEntry, Source

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SRC = Source(
    name="Le Monde", url="https://www.lemonde.fr/international/rss_full.xml", language="fr"
)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("<p>Hello &amp; <b>world</b></p><p>again</p>", "Hello & world again"),
        ("Tom &amp;amp; Jerry", "Tom &amp; Jerry"),
        ("a < b and c > d", "a < b and c > d"),
        ("<script>alert(1)</script>Safe", "Safe"),
        ("  many\n\n  spaces\t here ", "many spaces here"),
        ("bidi \u202eevil\u202c and \x1b[2J esc \x9b31m", "bidi evil and esc"),
        ("caf&eacute;&nbsp;cr&egrave;me", "café crème"),
        ("", ""),
    ],
)
def test_html_to_text(raw: str, text: str) -> None:
    assert html_to_text(raw) == text


def test_paragraphs_kept() -> None:
    assert html_to_paragraphs("<p>One</p><p>Two &amp; three</p>") == "One\n\nTwo & three"


def test_strip_controls_keeps_newlines() -> None:
    assert strip_controls("a\tb\nc\x00\x07\x1b]52;c;x\x07") == "a\tb\nc"
    assert strip_controls("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x9b31m") == "link "


@pytest.mark.parametrize(
    ("url", "canon"),
    [
        (
            "HTTP://Example.COM:80/a?utm_source=rss&id=3&utm_medium=x#frag",
            "http://example.com/a?id=3",
        ),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x?fbclid=1", "https://example.com:8443/x"),
        ("javascript:alert(1)", None),
        ("file:///etc/passwd", None),
        ("", None),
        ("  https://x.org/a \n", "https://x.org/a"),
    ],
)
def test_canonical_url(url: str, canon: str | None) -> None:
    assert canonical_url(url) == canon


def test_relative_link_resolved() -> None:
    assert canonical_url("/world/1", "https://x.org/rss") == "https://x.org/world/1"


def test_check_url() -> None:
    assert check_url("https://x.org/feed") is None
    assert check_url("ftp://x.org") and check_url("https:///nohost") and check_url("http://x:99999")


def _feed(*entries: RawEntry, language: str | None = None) -> ParsedFeed:
    return ParsedFeed(kind="rss", language=language, entries=entries)


def test_localized_date_and_flags() -> None:
    items = normalize_feed(
        _feed(
            RawEntry(guid="a", title="A", published_raw="lun., 14 nov. 2016 19:05:00 +0100"),
            RawEntry(guid="b", title="B"),
            RawEntry(guid="c", title="C", published_raw="Wed, 01 Jan 2031 00:00:00 GMT"),
        ),
        SRC,
        now=NOW,
    )
    a, b, c = items
    assert a.published == datetime(2016, 11, 14, 18, 5, tzinfo=UTC) and a.date_flag is None
    assert a.published_raw == "lun., 14 nov. 2016 19:05:00 +0100"
    assert b.published == NOW and b.date_flag == "missing" and b.published_raw is None
    assert c.published == NOW and c.date_flag == "invalid" and c.published_raw.startswith("Wed")
    assert all(i.language == "fr" for i in items)


def test_identity_keys() -> None:
    items = normalize_feed(
        _feed(
            RawEntry(guid="1234", link="https://x.org/a?utm_source=rss", title="A"),
            RawEntry(guid="https://x.org/b#top", title="B"),
            RawEntry(title="No id, no link", published_raw="Mon, 14 Nov 2016 19:05:00 +0100"),
        ),
        SRC,
        now=NOW,
    )
    assert items[0].keys == (f"g:{SRC.url}|1234", "u:https://x.org/a")
    assert items[0].url == "https://x.org/a"
    assert items[1].keys == ("u:https://x.org/b",)
    assert items[2].keys[0].startswith("h:")
    assert len({i.id for i in items}) == 3


def test_shared_link_is_not_identity() -> None:
    home = "https://x.org/"
    items = normalize_feed(
        _feed(RawEntry(title="One", link=home), RawEntry(title="Two", link=home)), SRC, now=NOW
    )
    assert len(items) == 2 and all(f"u:{home}" not in i.keys for i in items)


def test_duplicate_entries_in_one_feed_collapse() -> None:
    e = RawEntry(guid="same", title="A")
    assert len(normalize_feed(_feed(e, e), SRC, now=NOW)) == 1


def test_title_falls_back_and_summary_capped() -> None:
    (item,) = normalize_feed(
        _feed(RawEntry(guid="x", summary="<p>" + "mot " * 2000 + "</p>")), SRC, now=NOW
    )
    assert item.title.startswith("mot mot") and len(item.summary) <= 2002


def test_full_content_becomes_text() -> None:
    body = "".join(f"<p>Paragraphe {n} " + "avec des mots " * 20 + "</p>" for n in range(5))
    (item,) = normalize_feed(
        _feed(RawEntry(guid="x", title="T", summary="court", content=body)), SRC, now=NOW
    )
    assert item.summary == "court"
    assert item.text and item.text.count("\n\n") == 4


def test_merge_rules() -> None:
    (old,) = normalize_feed(_feed(RawEntry(guid="https://x.org/a", title="Old")), SRC, now=NOW)
    later = replace(old, first_seen=datetime(2026, 11, 25, 10, tzinfo=UTC))
    assert merge(old, later) is None  # same again: unchanged
    other = replace(later, sources=("BBC",), title="BBC's title")
    merged = merge(old, other)
    assert merged is not None
    assert merged.sources == ("Le Monde", "BBC") and merged.title == "Old"
    assert merged.first_seen == old.first_seen and merged.updated_at == later.first_seen
    retitled = merge(merged, replace(later, title="New"))  # its own feed may retitle it
    assert retitled is not None and retitled.title == "New"
    # a first-seen stand-in date never replaces a real one, and a real one replaces it
    dated = replace(old, date_flag=None, published=datetime(2026, 11, 24, tzinfo=UTC))
    assert merge(dated, replace(later, date_flag="missing")) is None
    assert merge(old, dated) is not None and merge(old, dated).published == dated.published  # type: ignore[union-attr]


def test_two_feeds_do_not_flip_an_item() -> None:
    """The same link in two feeds with different titles and dates settles after one merge."""
    (a,) = normalize_feed(
        _feed(
            RawEntry(link="https://x.org/a", title="Title A", published_raw="2026-11-24T10:00:00Z")
        ),
        SRC,
        now=NOW,
    )
    b = replace(
        a, sources=("BBC",), title="Title B", published=datetime(2026, 11, 24, 11, tzinfo=UTC)
    )
    stored = merge(a, b)
    assert stored is not None and stored.title == "Title A" and stored.published == a.published
    for _ in range(3):
        assert merge(stored, a) is None
        assert merge(stored, b) is None
