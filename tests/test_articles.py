"""End to end: a loopback feed whose links lead to corpus article pages, walls, failures and
refused addresses; the real poller, article queue and store."""

from __future__ import annotations

import asyncio
import gzip
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from bench.extract import scores
from monitor.config import ArticleSettings, Settings, load
from monitor.core.backlog import text_job
from monitor.io import articles
from monitor.io.articles import ArticleFetcher, TextReport
from monitor.io.backends import open_store
from monitor.io.netguard import Guard
from monitor.io.poller import poll_once
from monitor.model import Item, TextJob
from tests.support.items import items as sample_items
from tests.support.items import settings
from tests.support.memstore import MemoryStore
from tests.support.servers import FeedServer, delayed, redirect, static

ROOT = Path(__file__).resolve().parents[1]
FUNDUS = "articles/fundus/test_data"
HTML = "text/html; charset=utf-8"

pytestmark = pytest.mark.timeout(90)

BLOCK_PAGE = b"""<!DOCTYPE html><html lang="en-US"><head>
<title>Attention Required! | Cloudflare</title></head><body>
<div id="cf-wrapper"><div id="cf-error-details"><h1>Sorry, you have been blocked</h1>
<p>This website is using a security service to protect itself from online attacks.</p>
</div></div></body></html>"""

CONSENT_PAGE = """<!DOCTYPE html><html lang="fr"><head><title>Vos choix concernant les cookies</title>
</head><body><div class="cmp"><h1>Nous respectons votre vie privée</h1>
<p>Nous utilisons des cookies et des technologies similaires. Avec votre consentement,
nous et nos partenaires utilisons des cookies pour stocker des informations.</p>
<button>Tout accepter</button><button>Continuer sans accepter</button></div></body></html>
""".encode()

PAYWALL_PAGE = b"""<!DOCTYPE html><html lang="en"><head><title>Markets rally on rate hopes</title>
<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"Markets rally on rate hopes","datePublished":"2024-05-02T08:00:00Z",
"isAccessibleForFree":false}</script></head><body><article><h1>Markets rally on rate hopes</h1>
<p>Stocks rose sharply on Thursday as investors bet that central banks would begin cutting
interest rates before the summer, lifting shares in banks and builders.</p>
<div class="paywall"><p>Subscribe to continue reading. Already a subscriber? Sign in.</p></div>
</article></body></html>"""

ROBOTS = b"User-agent: *\nDisallow: /private/\n"


def _page(corpus: Path, name: str) -> bytes:
    return gzip.decompress((corpus / FUNDUS / f"{name}.html.gz").read_bytes())


def _expected(corpus: Path, key: str) -> str:
    from bench.extract import _fundus_body

    json_name, version = key.split("#")
    entry = json.loads((corpus / FUNDUS / json_name).read_text(encoding="utf-8"))[version]
    return _fundus_body(entry["body"])


def _rss(items: list[tuple[str, str, str | None]]) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>']
    parts.append("<title>Loopback news</title><link>http://127.0.0.1/</link>")
    for title, link, date in items:
        parts.append(f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>")
        parts.append("<description>A one-sentence summary from the feed.</description>")
        if date:
            parts.append(f"<pubDate>{date}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts).replace("&", "&amp;").encode("utf-8")


DATE = format_datetime(datetime(2024, 11, 22, 9, 0, tzinfo=UTC))

# Links to other host names that lead to refused addresses, in their different spellings.
REFUSED = {
    "localhost": "http://localhost:{port}/a/figaro",
    "ipv6 loopback": "http://[::1]:{port}/a/figaro",
    "mapped": "http://[::ffff:127.0.0.1]:{port}/a/figaro",
    "hex": "http://0x7f000001:{port}/a/figaro",
    "decimal": "http://2130706433:{port}/a/figaro",
    "ten": "http://10.1.2.3/a",
    "172": "http://172.16.5.4/a",
    "192": "http://192.168.0.10/a",
    "metadata": "http://169.254.169.254/latest/meta-data/",
    "shared": "http://100.64.0.1/a",
}


@pytest.fixture
def server(corpus: Path) -> Iterator[FeedServer]:
    with FeedServer() as srv:
        base = srv.base
        srv.route("/robots.txt", static(ROBOTS, content_type="text/plain"))
        srv.route("/a/figaro", static(_page(corpus, "fr/LeFigaro_2024_11_22"), content_type=HTML))
        # UTF-8 bytes announced as Latin-1: the text must still come out right
        srv.route(
            "/a/lemonde",
            static(
                (corpus / "articles/readability/test-pages/lemonde-1/source.html").read_bytes(),
                content_type="text/html; charset=iso-8859-1",
            ),
        )
        srv.route(
            "/a/spiegel", static(_page(corpus, "de/SpiegelOnline_2023_04_28"), content_type=HTML)
        )
        srv.route("/a/blocked", static(BLOCK_PAGE, content_type=HTML))
        srv.route("/a/forbidden", static(BLOCK_PAGE, status=403, content_type=HTML))
        srv.route("/a/consent", static(CONSENT_PAGE, content_type=HTML))
        srv.route("/a/paywall", static(PAYWALL_PAGE, content_type=HTML))
        srv.route("/a/slow", delayed(5.0, static(b"<html><p>late</p></html>", content_type=HTML)))
        srv.route("/a/huge", static(b"<html><body>" + b"<p>word</p>" * 300_000, content_type=HTML))
        srv.route("/a/away", redirect(f"http://localhost:{srv.port}/a/figaro", status=302))
        srv.route("/private/secret", static(b"<html>no</html>", content_type=HTML))
        items: list[tuple[str, str, str | None]] = [
            ("Figaro", base + "/a/figaro", None),  # no feed date: the page's fills it
            ("Le Monde", base + "/a/lemonde", DATE),
            ("Spiegel", base + "/a/spiegel", DATE),
            ("Blocked", base + "/a/blocked", DATE),
            ("Forbidden", base + "/a/forbidden", DATE),
            ("Consent", base + "/a/consent", DATE),
            ("Paywall", base + "/a/paywall", DATE),
            ("Gone", base + "/a/gone", DATE),
            ("Slow", base + "/a/slow", DATE),
            ("Huge", base + "/a/huge", DATE),
            ("Away", base + "/a/away", DATE),
            ("Disallowed", base + "/private/secret", DATE),
            ("Script", "javascript:alert(1)", DATE),
            ("File", "file:///etc/passwd", DATE),
        ]
        items += [(name, url.format(port=srv.port), DATE) for name, url in REFUSED.items()]
        srv.route("/feed.xml", static(_rss(items)))
        srv.route("/off.xml", static(_rss([("Off", base + "/a/spiegel?off", DATE)])))
        yield srv


def _config(tmp_path: Path, srv: FeedServer, extra: str = "", delay: str = "0.01s") -> Path:
    text = (
        '[storage]\npath = "store"\n\n[poll]\ntimeout = "2s"\nmax_size = "1MiB"\n\n'
        f'[articles]\ndelay = "{delay}"\n{extra}\n'
        f'[[sources]]\nname = "Loopback"\nurl = "{srv.url("/feed.xml")}"\n\n'
        f'[[sources]]\nname = "No text"\nurl = "{srv.url("/off.xml")}"\nfull_text = false\n'
    )
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(
    settings: Settings,
) -> tuple[list[TextJob], TextReport, dict[str, Item], list[Item]]:
    """A poll, then the pages of the items the one rule (`core.backlog.text_job`) picks."""
    store = open_store(settings.storage)
    arrived: list[Item] = []
    try:

        async def go() -> tuple[list[TextJob], TextReport]:
            report = await poll_once(settings, store)
            now = report.finished
            jobs = [j for e in store.entries() if (j := text_job(e, settings.source, now))]
            fetcher = ArticleFetcher(settings, store, on_text=arrived.append)
            return jobs, await fetcher.run(jobs)

        jobs, texts = asyncio.run(go())
        items = {i.title: i for i in store.items()}
    finally:
        store.close()
    return jobs, texts, items, arrived


def test_items_get_their_text_and_failures_are_recorded(
    server: FeedServer, tmp_path: Path, corpus: Path
) -> None:
    settings = load(_config(tmp_path, server))
    jobs, texts, items, arrived = _run(settings)

    # corpus pages: the text, close to what the publisher's JSON says
    figaro = items["Figaro"]
    assert figaro.text_status == "page" and figaro.text is not None
    assert scores(figaro.text, _expected(corpus, "fr/LeFigaro.json#V1"))[2] > 0.9
    spiegel = items["Spiegel"]
    assert spiegel.text_status == "page" and spiegel.text is not None
    assert scores(spiegel.text, _expected(corpus, "de/SpiegelOnline.json#V1"))[2] > 0.9
    lemonde = items["Le Monde"]
    assert lemonde.text_status == "page" and lemonde.text is not None
    assert "renseignement" in lemonde.text and "Ã" not in lemonde.text  # no mojibake
    assert lemonde.site_name and lemonde.language == "fr"

    # page metadata fills the feed's gaps, and never moves a valid feed date
    assert figaro.date_flag is None and figaro.page_published is not None
    assert figaro.published == figaro.page_published
    assert figaro.published.date().isoformat() == "2024-11-22"
    assert spiegel.published == datetime(2024, 11, 22, 9, 0, tzinfo=UTC)
    assert spiegel.page_published is not None and spiegel.page_published != spiegel.published

    expected = {
        "Blocked": "blocked",
        "Forbidden": "blocked",
        "Consent": "consent",
        "Paywall": "paywall",
        "Gone": "not_found",
        "Slow": "timeout",
        "Huge": "too_large",
        "Away": "refused",  # a same-host link redirecting to another name for loopback
        "Disallowed": "robots",
        **dict.fromkeys(REFUSED, "refused"),
    }
    for title, error in expected.items():
        item = items[title]
        assert (item.text_status, item.text_error) == ("failed", error), (title, item)
        assert item.text is None and item.summary  # the summary stays
        assert item.text_detail
    assert "Attention Required" in (items["Blocked"].text_detail or "")

    # links that are no http(s) URL never become jobs; a source with full_text off has none
    for title in ("Script", "File"):
        assert items[title].url is None and items[title].text_status is None
    assert items["Off"].text_status == "off"
    assert {j.item_id for j in jobs} == {
        i.id for t, i in items.items() if t not in ("Script", "File", "Off")
    }
    assert texts.fetched == 3 and sum(texts.failed.values()) == len(expected)
    assert {i.id for i in arrived} == {j.item_id for j in jobs}

    # nothing was fetched that should not be: only this host, no disallowed path
    port = server.port
    hosts = {r.header("host") for r in server.log()}
    assert hosts == {f"127.0.0.1:{port}"}
    paths = {r.path for r in server.log()}
    assert "/private/secret" not in paths
    assert "/a/spiegel?off" not in paths
    assert len(server.log("/robots.txt")) == 1  # read once for the host
    assert len(server.log("/a/gone")) == 1  # a 404 is recorded, not retried
    agents = {r.header("user-agent") for r in server.log()}
    assert len(agents) == 1 and next(iter(agents), "").startswith("monitor/")


def test_refetch_on_demand_and_robots_switch(server: FeedServer, tmp_path: Path) -> None:
    settings = load(_config(tmp_path, server, "robots = false\nprefer_page_date = true"))
    _, _, items, _ = _run(settings)
    assert items["Disallowed"].text_status == "page" or items["Disallowed"].text_error == "empty"
    assert not server.log("/robots.txt")
    spiegel = items["Spiegel"]  # with the flag, the page's date wins over the feed's
    assert spiegel.page_published is not None and spiegel.published == spiegel.page_published

    # the paywall lifts: a re-fetch on demand replaces the recorded failure
    server.route("/a/paywall", static(_page_like_article(), content_type=HTML))
    store = open_store(settings.storage)
    try:
        fetcher = ArticleFetcher(settings, store)
        job = text_job(items["Paywall"], settings.source, items["Paywall"].first_seen, again=True)
        assert job is not None
        asyncio.run(fetcher.run([job]))
        again = store.get(items["Paywall"].id)
    finally:
        store.close()
    assert again is not None and again.text_status == "page" and again.text_error is None


def _page_like_article() -> bytes:
    para = (
        "<p>" + " ".join(["Stocks rose sharply on Thursday as investors bet on cuts."] * 8) + "</p>"
    )
    return f"<html lang='en'><head><title>Markets</title></head><body><article>{para * 6}</article></body></html>".encode()


def test_one_host_is_asked_politely(server: FeedServer, tmp_path: Path) -> None:
    settings = load(_config(tmp_path, server, "robots = false", delay="0.3s"))
    _run(settings)
    starts = sorted(r.time for r in server.log() if r.path.startswith(("/a/", "/private/")))
    assert len(starts) >= 10
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # one host: one request at a time, the next 0.3 s after the last one ended
    assert min(gaps) >= 0.25


def test_cli_poll_fetches_text_unless_told_not_to(server: FeedServer, tmp_path: Path) -> None:
    cfg = _config(tmp_path, server)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor", *args, "--config", str(cfg)],
            capture_output=True,
            text=True,
            env=env,
            timeout=80,
        )

    run = cli("poll", "--no-text")
    assert run.returncode == 0, run.stderr
    left = re.search(r"article text: (\d+) items left without \(--no-text\)", run.stdout)
    assert left is not None and int(left[1]) > 10
    assert not [r for r in server.log() if r.path.startswith("/a/")]

    server.route("/feed.xml", static(_rss([("Spiegel again", server.url("/a/spiegel?2"), DATE)])))
    run = cli("poll", "--all")
    assert run.returncode == 0, run.stderr
    # the new item's page, and those the first poll left pending (first seen just now)
    assert f"; {left[1]} of them left pending by earlier polls" in run.stdout
    rows = [json.loads(line) for line in cli("export").stdout.splitlines()]
    (row,) = [r for r in rows if r["title"] == "Spiegel again"]
    assert row["text_status"] == "page" and len(row["text"]) > 1000 and row["site_name"]
    (gone,) = [r for r in rows if r["title"] == "Gone"]
    assert (gone["text_status"], gone["text_error"]) == ("failed", "not_found")
    (off,) = [r for r in rows if r["title"] == "Off"]
    assert off["text_status"] == "off"


def test_a_page_the_extractor_chokes_on_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    real = articles._extract

    def choke(body: bytes, url: str, content_type: str | None, now: datetime) -> object:
        if url.endswith("/1"):
            raise RecursionError("too deep")
        return real(body, url, content_type, now)

    monkeypatch.setattr(articles, "_extract", choke)
    page = (
        "<html><body><article>"
        + "".join(
            f"<p>Paragraph {n} of a story long enough to be one, with words.</p>" for n in range(12)
        )
        + "</article></body></html>"
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=page, headers={"Content-Type": "text/html"})

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    store = MemoryStore(sample_items(3))
    sets = replace(settings(), articles=ArticleSettings(delay=0.01, robots=False))
    fetcher = ArticleFetcher(
        sets,
        store,
        transport=httpx.MockTransport(handler),
        guard=lambda job: Guard(resolver=public),
    )
    jobs = [
        TextJob(f"id{n:06d}", f"https://news.example/{n}", "Le Monde", "https://x/") for n in (0, 1)
    ]
    report = asyncio.run(fetcher.run(jobs))
    assert report.fetched == 1 and report.failed == {"empty": 1}
    failed = store.get("id000001")
    assert failed is not None and "RecursionError" in (failed.text_detail or "")


def test_full_text_is_annotated_when_it_arrives(tmp_path: Path, seed: Path) -> None:
    """The feed's summary names nobody; the article page does: once its text is stored,
    the item's actors, mentions and quotes come from that text."""
    story = (seed / "article-fr-trump-poutine.txt").read_text(encoding="utf-8")
    paras = "".join(f"<p>{p}</p>" for p in story.split("\n") if p.strip())
    page = (
        "<html lang='fr'><head><title>Entretien</title></head><body><article>"
        f"<h1>Entretien téléphonique</h1>{paras}</article></body></html>"
    ).encode()
    with FeedServer() as srv:
        srv.route("/robots.txt", static(b"", content_type="text/plain"))
        srv.route("/a/appel", static(page, content_type=HTML))
        srv.route("/feed.xml", static(_rss([("Un appel", srv.url("/a/appel"), DATE)])))
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            f'[storage]\npath = "store"\n\n[articles]\ndelay = "0.01s"\n\n[[sources]]\n'
            f'name = "Dépêches"\nurl = "{srv.url("/feed.xml")}"\nlanguage = "fr"\n',
            encoding="utf-8",
        )
        _, texts, items, _ = _run(load(cfg))
    assert texts.fetched == 1
    item = items["Un appel"]
    assert item.text_status == "page" and item.annotated
    names = {a.name for a in item.actors}
    assert {"Vladimir Putin", "Donald Trump", "Hillary Clinton"} <= names
    in_text = [m for m in item.mentions if m.field == "text"]
    assert in_text and item.text is not None
    for m in in_text:  # offsets into the stored text
        assert item.text[m.start : m.end].strip()
    assert any(q.actor == "Vladimir Putin" and "dialogue" in q.text for q in item.quotes)
