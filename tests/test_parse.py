"""Response bodies -> ParsedFeed: the corpus, inline samples, hostile XML, non-feeds."""

from __future__ import annotations

import json
import random
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from pytest_httpserver import HTTPServer

from monitor.core.dates import parse_date
from monitor.core.parse import parse_feed
from monitor.model import ParsedFeed
from tests.support.shared import CORPUS

FEEDS = CORPUS / "feeds"
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _feed_files() -> list[str]:
    if not FEEDS.is_dir():
        return []
    return sorted(
        str(p.relative_to(FEEDS))
        for p in FEEDS.rglob("*")
        if p.is_file() and p.suffix != ".json" and not p.name.startswith(("LICENSE", "INDEX"))
    )


def _serde_files() -> list[str]:
    if not FEEDS.is_dir():
        return []
    return sorted(p.name for p in (FEEDS / "feed-rs").glob("*.xml") if _serde(p).exists())


def _serde(xml: Path) -> Path:
    return xml.with_name(xml.name.removesuffix(".xml") + ".serde.json")


def rss(
    items: str, channel: str = "", decl: str = '<?xml version="1.0" encoding="utf-8"?>'
) -> bytes:
    return (
        f'{decl}<rss version="2.0"><channel><title>T</title><link>http://example.org/</link>'
        f"{channel}{items}</channel></rss>"
    ).encode()


def text_of(feed: ParsedFeed) -> str:
    """Every string the feed handed out, for 'this must not appear' checks."""
    parts = [feed.title or "", feed.link or ""]
    for e in feed.entries:
        parts += [e.title or "", e.summary or "", e.content or "", e.guid or "", e.link or ""]
    return "\n".join(parts)


# The corpus


@pytest.mark.parametrize("rel", _feed_files())
def test_corpus_file(corpus: Path, rel: str) -> None:
    feed = parse_feed((corpus / "feeds" / rel).read_bytes())
    if feed.fatal:
        assert feed.problems and feed.problems[0]
        return
    assert feed.kind in ("rss", "atom", "rdf", "json")
    assert feed.entries or feed.problems, "no entries and no problem said why"
    for e in feed.entries:
        assert e.title or e.link or e.summary
        assert "\ufffd" not in (e.title or ""), e.title


def test_corpus_has_files(corpus: Path) -> None:
    assert len(_feed_files()) >= 45


def _norm_link(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.lower()))


@pytest.mark.parametrize("name", _serde_files())
def test_feed_rs_expected(corpus: Path, name: str) -> None:
    xml = corpus / "feeds" / "feed-rs" / name
    want = json.loads(_serde(xml).read_text(encoding="utf-8"))
    feed = parse_feed(xml.read_bytes())
    assert not feed.fatal
    assert len(feed.entries) == len(want["entries"])
    if want.get("language"):
        assert feed.language == want["language"].replace("_", "-").split("-")[0].lower()
    for got, exp in zip(feed.entries, want["entries"], strict=True):
        title = (exp.get("title") or {}).get("content")
        assert (got.title or "").strip() == (title or "").strip()
        links = [_norm_link(link["href"]) for link in exp.get("links") or []]
        if links:
            assert got.link is not None
            assert _norm_link(got.link) in links
        if exp.get("published"):
            instant = datetime.fromisoformat(exp["published"].replace("Z", "+00:00"))
            assert parse_date(got.published_raw, feed.language, now=NOW) == (instant, None)
            assert got.published_iso is not None
            assert datetime.fromisoformat(got.published_iso) == instant


def test_truncated_feed_keeps_what_it_can(corpus: Path) -> None:
    feed = parse_feed((corpus / "feeds" / "feed-rs" / "rss_2.0_invalid_1.xml").read_bytes())
    assert not feed.fatal
    assert feed.kind == "rss"
    assert feed.title == "Reuters: Most Read Articles"
    assert feed.link == "https://www.reuters.com"
    assert feed.language == "en"
    assert any("truncated" in p for p in feed.problems)


@pytest.mark.parametrize(
    "content_type", [None, "application/rss+xml; charset=ISO-8859-1", "text/xml;charset=latin1"]
)
def test_undeclared_latin1(corpus: Path, content_type: str | None) -> None:
    body = (corpus / "feeds" / "rss-parser" / "uolNoticias.rss").read_bytes()
    feed = parse_feed(body, content_type)
    assert len(feed.entries) == 15
    assert feed.entries[0].title is not None
    assert "simulações de 2º turno" in feed.entries[0].title
    assert all("\ufffd" not in (e.title or "") + (e.summary or "") for e in feed.entries)
    if content_type is None:
        assert any("windows-1252" in p for p in feed.problems)
    else:
        assert feed.problems == ()
    # fastfeedparser drops these Portuguese dates; the raw strings are recovered
    assert all(
        e.published_raw and e.published_raw.startswith("Seg, 24 Set 2018") for e in feed.entries
    )
    assert all(e.published_iso is None for e in feed.entries)
    first = feed.entries[0]
    assert parse_date(first.published_raw, "pt", now=NOW) == (
        datetime(2018, 9, 24, 22, 42, 40, tzinfo=UTC),
        None,
    )


@pytest.mark.parametrize(
    ("rel", "needle"),
    [
        ("rss-parser/encoding.rss", "Mãe de utente"),
        ("rss-parser/encoding-gb2312.xml", "世纪华通"),
        ("feed-rs/rss_1.0_iso8859.xml", "Glasfaserförderung"),
        ("fastfeedparser/9e0834333e854116", "parse a PDF"),
    ],
)
def test_declared_encodings(corpus: Path, rel: str, needle: str) -> None:
    feed = parse_feed((corpus / "feeds" / rel).read_bytes())
    assert any(needle in (e.title or "") for e in feed.entries)
    assert feed.problems == ()


def test_fastfeedparser_corpus_raw_dates(corpus: Path) -> None:
    """Every entry of the 31 feeds gets its verbatim date string."""
    files = [p for p in (corpus / "feeds" / "fastfeedparser").iterdir() if len(p.name) == 16]
    assert len(files) == 31
    total = 0
    for path in files:
        feed = parse_feed(path.read_bytes())
        assert not feed.fatal, path.name
        for e in feed.entries:
            assert e.published_raw, (path.name, e.title)
            assert parse_date(e.published_raw, feed.language, now=NOW)[1] is None
        total += len(feed.entries)
    assert total >= 1290


def test_raw_dates_agree_with_feedparser(corpus: Path) -> None:
    feedparser = pytest.importorskip("feedparser")
    for rel in ["rss-parser/guardian.rss", "rss-parser/heise.atom", "feed-rs/rss_1.0_iso8859.xml"]:
        body = (corpus / "feeds" / rel).read_bytes()
        ours = {e.link: e for e in parse_feed(body).entries}
        theirs = feedparser.parse(body).entries
        assert theirs
        for fe in theirs:
            raw = fe.get("published") or fe.get("updated")
            assert ours[fe.get("link")].published_raw == raw


# Inline samples

LOCALIZED = rss(
    "<item><title>Un</title><link>http://example.org/1</link>"
    "<pubDate>lun., 14 nov. 2016 19:05:00 +0100</pubDate></item>"
    "<item><title>Deux</title><link>http://example.org/2</link>"
    "<pubDate><![CDATA[ mar., 15 nov. 2016 08:00 +0100 ]]></pubDate></item>",
    channel="<language>fr-FR</language>",
)


def test_localized_raw_date() -> None:
    feed = parse_feed(LOCALIZED)
    assert feed.language == "fr"
    assert [e.published_raw for e in feed.entries] == [
        "lun., 14 nov. 2016 19:05:00 +0100",
        "mar., 15 nov. 2016 08:00 +0100",
    ]
    first = feed.entries[0]
    assert parse_date(first.published_raw, feed.language, now=NOW) == (
        datetime(2016, 11, 14, 18, 5, tzinfo=UTC),
        None,
    )


def test_rss_fields() -> None:
    body = rss(
        '<item><title>A &amp; B</title><link>http://example.org/a</link><guid isPermaLink="false">'
        "id-a</guid><description>&lt;p&gt;short&lt;/p&gt;</description>"
        "<content:encoded><![CDATA[<p>long text</p>]]></content:encoded>"
        "<author>me@example.org (Me)</author><pubDate>Mon, 14 Nov 2016 19:05:00 +0100</pubDate>"
        "</item>"
        "<item><title>No guid</title><link>http://example.org/b</link>"
        "<description>same</description><guid></guid></item>",
    ).replace(
        b'<rss version="2.0">',
        b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
    )
    feed = parse_feed(body)
    assert feed.kind == "rss"
    assert feed.title == "T"
    assert feed.link == "http://example.org/"
    a, b = feed.entries
    assert a.guid == "id-a"
    assert a.title == "A & B"
    assert a.link == "http://example.org/a"
    assert a.summary == "<p>short</p>"
    assert a.content == "<p>long text</p>"
    assert a.author == "me@example.org (Me)"
    assert a.published_raw == "Mon, 14 Nov 2016 19:05:00 +0100"
    assert a.published_iso is not None
    assert datetime.fromisoformat(a.published_iso) == datetime(2016, 11, 14, 18, 5, tzinfo=UTC)
    # no real guid: fastfeedparser's fallback to the link is not taken for one
    assert b.guid is None
    assert b.summary == "same"
    assert b.content is None  # the same as the summary
    assert b.published_raw is None
    assert b.published_iso is None


def test_rss_091_with_netscape_dtd_and_html_entities() -> None:
    body = (
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"\n'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>Caf\xe9 &eacute;t&eacute;</title>'
        b"<link>http://example.org/</link><language>fr</language>"
        b"<item><title>Cr&egrave;me&nbsp;br&ucirc;l&eacute;e &amp; co &copy; AT&T;</title>"
        b"<link>http://example.org/1</link><description><![CDATA[a &eacute; b]]></description>"
        b"</item></channel></rss>"
    )
    feed = parse_feed(body)
    assert feed.kind == "rss"
    assert feed.title == "Café été"
    assert feed.language == "fr"
    (e,) = feed.entries
    # without this, libxml2 cuts the title at the first undefined entity
    assert e.title == "Crème\xa0brûlée & co © AT&T;"
    assert e.summary == "a &eacute; b"  # CDATA is left alone
    assert feed.problems == ()


def test_atom() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de-AT">
  <title>Atom T</title><link href="http://example.org/"/><id>urn:feed</id>
  <updated>2020-01-01T00:00:00Z</updated>
  <entry>
    <title type="html">A &lt;b&gt;bold&lt;/b&gt; one</title>
    <link rel="alternate" href="http://example.org/a"/>
    <id>tag:example.org,2020:a</id>
    <updated>2020-01-02T10:00:00+01:00</updated>
    <published>2020-01-01T10:00:00+01:00</published>
    <summary>Short</summary>
    <content type="html">&lt;p&gt;Long&lt;/p&gt;</content>
    <author><name>Ann</name></author>
  </entry>
  <entry>
    <title>Only content</title>
    <link href="http://example.org/b"/>
    <updated>2020-01-03T00:00:00Z</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>x</p></div></content>
  </entry>
</feed>"""
    feed = parse_feed(body)
    assert feed.kind == "atom"
    assert feed.title == "Atom T"
    assert feed.language == "de"
    a, b = feed.entries
    assert a.guid == "tag:example.org,2020:a"
    assert a.title == "A <b>bold</b> one"
    assert a.link == "http://example.org/a"
    assert a.summary == "Short"
    assert a.content == "<p>Long</p>"
    assert a.author == "Ann"
    assert a.published_raw == "2020-01-01T10:00:00+01:00"  # published before updated
    assert b.guid is None  # no <id>: fastfeedparser's id is the link
    assert b.summary is None  # fastfeedparser makes one up from the content
    assert b.content is not None
    assert b.content.startswith("<div") and "<p>x</p>" in b.content
    assert b.published_raw == "2020-01-03T00:00:00Z"
    assert b.published_iso is not None


def test_rdf() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="http://example.org/">
    <title>RDF T</title><link>http://example.org/</link><description>d</description>
    <dc:language>pt-BR</dc:language>
    <items><rdf:Seq><rdf:li rdf:resource="http://example.org/1"/></rdf:Seq></items>
  </channel>
  <item rdf:about="http://example.org/1">
    <title>Um</title><link>http://example.org/1</link><description>Desc</description>
    <dc:date>2020-01-02T03:04:05-03:00</dc:date><dc:creator>Bia</dc:creator>
  </item>
</rdf:RDF>"""
    feed = parse_feed(body)
    assert feed.kind == "rdf"
    assert feed.title == "RDF T"
    assert feed.language == "pt"
    (e,) = feed.entries
    assert e.guid == "http://example.org/1"
    assert e.title == "Um"
    assert e.summary == "Desc"
    assert e.author == "Bia"
    assert e.published_raw == "2020-01-02T03:04:05-03:00"


def test_json_feed() -> None:
    doc: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "home_page_url": "https://example.org/",
        "language": "es-MX",
        "items": [
            {
                "id": "1",
                "url": "https://example.org/1",
                "title": "Uno",
                "summary": "Resumen",
                "content_html": "<p>Texto</p>",
                "date_published": "2020-01-02T03:04:05+01:00",
                "authors": [{"name": "Ana"}],
                "language": "ca",
            },
            {"id": 2, "content_text": "Solo texto", "date_modified": "Seg, 24 Set 2018"},
            "not an object",
        ],
    }
    feed = parse_feed(json.dumps(doc).encode(), "application/feed+json")
    assert feed.kind == "json"
    assert feed.title == "J"
    assert feed.link == "https://example.org/"
    assert feed.language == "es"
    a, b = feed.entries
    assert (a.guid, a.link, a.title, a.summary, a.content, a.author, a.language) == (
        "1",
        "https://example.org/1",
        "Uno",
        "Resumen",
        "<p>Texto</p>",
        "Ana",
        "ca",
    )
    assert a.published_raw == "2020-01-02T03:04:05+01:00"
    assert a.published_iso == "2020-01-02T02:04:05+00:00"
    assert (b.guid, b.content, b.published_raw, b.published_iso) == (
        "2",
        "Solo texto",
        "Seg, 24 Set 2018",
        None,
    )
    assert feed.problems  # the item that is not an object


@pytest.mark.parametrize(
    ("channel", "root_attrs", "language"),
    [
        ("<language>fr</language>", "", "fr"),
        ("<language>pt-BR</language>", "", "pt"),
        ("<language>en_US</language>", "", "en"),
        ("<language> DE-at </language>", "", "de"),
        ("<language><![CDATA[it]]></language>", "", "it"),
        ('<dc:language xmlns:dc="http://purl.org/dc/elements/1.1/">nl</dc:language>', "", "nl"),
        ("", ' xml:lang="es"', "es"),
        ("<language></language>", "", None),
        ("<language>not a language</language>", "", None),
        ("", "", None),
    ],
)
def test_feed_language(channel: str, root_attrs: str, language: str | None) -> None:
    body = rss("<item><title>a</title><link>http://example.org/1</link></item>", channel)
    body = body.replace(b'<rss version="2.0"', b'<rss version="2.0"' + root_attrs.encode())
    assert parse_feed(body).language == language


def test_item_language_is_not_the_feed_language() -> None:
    body = rss(
        "<item><title>a</title><link>http://example.org/1</link></item>",
        "<language>fr</language>",
    ).replace(b"<title>a</title>", b"<title>a</title><language>en</language>")
    assert parse_feed(body).language == "fr"


def test_count_mismatch_leaves_raw_dates_out() -> None:
    # "<item>" in a CDATA section looks like an item start to the byte scan
    body = rss(
        "<item><title>a</title><link>http://example.org/1</link>"
        "<description><![CDATA[see <item> here]]></description>"
        "<pubDate>Mon, 14 Nov 2016 19:05:00 +0100</pubDate></item>"
    )
    feed = parse_feed(body)
    assert len(feed.entries) == 1
    assert feed.entries[0].published_raw is None
    assert feed.entries[0].published_iso is not None
    assert feed.problems == ()


def test_utf16_with_bom() -> None:
    body = rss(
        "<item><title>Ça va</title><link>http://example.org/1</link></item>",
        decl='<?xml version="1.0" encoding="utf-16"?>',
    ).decode()
    for codec in ("utf-16", "utf-16-be"):
        data = body.encode(codec) if codec == "utf-16" else b"\xfe\xff" + body.encode(codec)
        feed = parse_feed(data)
        assert [e.title for e in feed.entries] == ["Ça va"], codec


def test_utf8_bom_and_leading_junk() -> None:
    body = rss("<item><title>é</title><link>http://example.org/1</link></item>")
    assert parse_feed(b"\xef\xbb\xbf" + body).entries[0].title == "é"
    assert parse_feed(b"\n\n  " + body).entries[0].title == "é"
    assert parse_feed(b"<br />\n<b>Warning</b>: x<br />\n" + body).entries[0].title == "é"


def test_header_charset_used_only_when_undeclared() -> None:
    latin = rss("<item><title>Ça</title><link>http://example.org/1</link></item>", decl="")
    latin = latin.decode().encode("latin-1")
    assert parse_feed(latin, "text/xml; charset=iso-8859-1").entries[0].title == "Ça"
    declared = (
        rss(
            "<item><title>Ça</title><link>http://example.org/1</link></item>",
            decl='<?xml version="1.0" encoding="iso-8859-1"?>',
        )
        .decode()
        .encode("latin-1")
    )
    # the document's declaration wins over a wrong header
    assert parse_feed(declared, "text/xml; charset=utf-8").entries[0].title == "Ça"


def test_declared_latin1_that_is_utf8() -> None:
    body = rss(
        "<item><title>Crème brûlée</title><link>http://example.org/1</link></item>",
        decl='<?xml version="1.0" encoding="ISO-8859-1"?>',
    )
    feed = parse_feed(body)
    assert feed.entries[0].title == "Crème brûlée"
    assert any("UTF-8" in p for p in feed.problems)


def test_gb2312_label_read_as_gb18030() -> None:
    # 镕 is in GBK/GB18030 but not in GB2312, a common mislabel
    body = (
        rss(
            "<item><title>朱镕基</title><link>http://example.org/1</link></item>",
            decl='<?xml version="1.0" encoding="gb2312"?>',
        )
        .decode()
        .encode("gb18030")
    )
    assert parse_feed(body).entries[0].title == "朱镕基"


def test_truncated_inline() -> None:
    body = rss(
        "<item><title>a</title><link>http://example.org/1</link></item>"
        "<item><title>b</title><link>http://example.org/2</link></item>"
    )
    cut = body[: body.index(b"<item><title>b")] + b"<item><title>b</ti"
    feed = parse_feed(cut)
    assert not feed.fatal
    assert feed.entries[0].title == "a"
    assert any("truncated" in p for p in feed.problems)


# Hostile XML


def _billion_laughs() -> bytes:
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol;" if i == 1 else f"&lol{i - 1};") * 10}">' for i in range(1, 10)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [{ents}]><rss version="2.0"><channel>'
        "<title>&lol9;</title><item><title>x &lol9; y</title><link>http://example.org/1</link>"
        "</item></channel></rss>"
    ).encode()


def _quadratic() -> bytes:
    return (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "'
        + "A" * 50_000
        + '">]><rss version="2.0"><channel><title>t</title><item><title>'
        + "&a;" * 50_000
        + "</title><link>http://example.org/1</link></item></channel></rss>"
    ).encode()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("make", [_billion_laughs, _quadratic], ids=["billion_laughs", "quadratic"])
def test_entity_bombs_do_not_expand(make: Any) -> None:
    body: bytes = make()
    tracemalloc.start()
    try:
        feed = parse_feed(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50 * len(body) + 10_000_000
    assert not feed.fatal
    assert len(feed.entries) == 1
    text = text_of(feed)
    assert "lollol" not in text
    assert "AAAAAAAAAA" * 2 not in text
    assert len(text) < 2 * len(body)
    assert any("entity" in p for p in feed.problems)


def test_fastfeedparser_alone_does_not_expand(tmp_path: Path) -> None:
    """What the DTD stripping guards: fastfeedparser itself expands nothing but loses text."""
    import fastfeedparser

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>a &x; b</title>'
        "<link>http://example.org/1</link></item></channel></rss>"
    ).encode()
    for body in (_billion_laughs(), _quadratic(), xxe):
        out = repr(fastfeedparser.parse(body))
        assert "lollol" not in out
        assert "A" * 100 not in out
        assert "TOP-SECRET-MARKER" not in out


def test_external_entity_does_not_read_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    uri = secret.as_uri()
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "{uri}">]>'
        '<rss version="2.0"><channel><title>t &x;</title><item><title>a &x; b</title>'
        "<description>&x;</description><link>http://example.org/1</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(body)
    assert "TOP-SECRET-MARKER" not in text_of(feed)
    assert feed.entries[0].title == "a &x; b"


def test_external_dtd_and_entities_do_not_hit_the_network(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x.dtd").respond_with_data(
        '<!ENTITY leak "NETWORK-MARKER">', content_type="application/xml-dtd"
    )
    dtd = httpserver.url_for("/x.dtd")
    bodies = [
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{dtd}"><rss version="2.0"><channel>'
        "<title>t</title><item><title>a &leak;</title><link>http://example.org/1</link></item>"
        "</channel></rss>",
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % p SYSTEM "{dtd}"> %p;]>'
        '<rss version="2.0"><channel><title>t</title><item><title>a &leak;</title>'
        "<link>http://example.org/1</link></item></channel></rss>",
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e SYSTEM "{dtd}">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>a &e;</title>'
        "<link>http://example.org/1</link></item></channel></rss>",
    ]
    for body in bodies:
        feed = parse_feed(body.encode())
        assert not feed.fatal
        assert "NETWORK-MARKER" not in text_of(feed)
    assert httpserver.log == []


# Not feeds


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "empty body"),
        (b"  \n\t ", "empty body"),
        (b"<!DOCTYPE html><html><head><title>Hi</title></head><body>x</body></html>", "HTML"),
        (b"<html><head><title>Hi</title></head><body>x</body></html>", "HTML"),
        (b"\n<!doctype HTML>\n<html lang='en'><body>x</body></html>", "HTML"),
        (b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'><body/></html>", "HTML"),
        (b'{"a": 1}', "JSON"),
        (b"[1, 2, 3]", "JSON"),
        (b"{not json", "JSON"),
        (b"hello world", "not a feed"),
        (b"\x00\x01\x02garbage\xff\xfe", "not a feed"),
        (b"<?xml version='1.0'?><opml version='2.0'><head/><body/></opml>", "opml"),
        (b"<?xml version='1.0'?><urlset><url><loc>x</loc></url></urlset>", "urlset"),
        (b"<?xml version='1.0'?>", "not a feed"),
    ],
)
def test_not_a_feed(body: bytes, problem: str) -> None:
    feed = parse_feed(body)
    assert feed.fatal
    assert feed.kind == "unknown"
    assert feed.entries == ()
    assert any(problem in p for p in feed.problems), feed.problems


def test_empty_but_valid_feed_is_not_fatal() -> None:
    feed = parse_feed(rss(""))
    assert not feed.fatal
    assert feed.entries == ()
    assert feed.title == "T"


@pytest.mark.timeout(60)
def test_never_raises_on_garbage_and_prefixes(corpus: Path) -> None:
    rng = random.Random(7)
    body = (corpus / "feeds" / "rss-parser" / "guardian.rss").read_bytes()
    samples = [body[: len(body) * k // 40] for k in range(40)]
    samples += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))) for _ in range(40)]
    samples += [b"<rss" + bytes(rng.randrange(256) for _ in range(500)) for _ in range(20)]
    samples += [
        b"<",
        b"<!",
        b"<!DOCTYPE",
        b"<!DOCTYPE rss [",
        b"<?xml",
        b"{",
        b"\xff\xfe",
        b"\xfe\xff\x00",
    ]
    for sample in samples:
        feed = parse_feed(sample)
        assert isinstance(feed, ParsedFeed)
        assert feed.fatal or feed.kind != "unknown"
        assert not feed.fatal or feed.problems
