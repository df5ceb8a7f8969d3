"""The demo: sample feeds on a loopback server, polled by the real poller into the real store."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from monitor.config import Settings, load
from monitor.demo import DemoServer, demo_config
from monitor.demo.render import central_european, format_date
from monitor.demo.samples import (
    FEEDS,
    LE_QUOTIDIEN,
    NORDIC_REVIEW,
    SHARED_CALL_EN,
    SHARED_CALL_FR,
    SHARED_QUAKE_EN,
    TAGESBLICK,
)
from monitor.io.backends import open_store
from monitor.io.poller import poll_once
from monitor.io.store import Store
from monitor.model import Item, PollReport

ROOT = Path(__file__).resolve().parents[1]
FRENCH_DATE = re.compile(
    r"^(lun|mar|mer|jeu|ven|sam|dim)\., \d\d (janv\.|févr\.|mars|avr\.|mai|juin|juil\.|août"
    r"|sept\.|oct\.|nov\.|déc\.) \d{4} \d\d:\d\d:\d\d [+-]\d{4}$"
)
GERMAN_DATE = re.compile(
    r"^(Mo|Di|Mi|Do|Fr|Sa|So), \d\d (Jan|Feb|Mär|Apr|Mai|Jun|Jul|Aug|Sep|Okt|Nov|Dez) \d{4} "
    r"\d\d:\d\d:\d\d [+-]\d{4}$"
)

pytestmark = pytest.mark.timeout(60)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer(every=None) as srv:
        yield srv


@pytest.fixture
def settings(server: DemoServer, tmp_path: Path) -> Settings:
    return load(demo_config(server.base, tmp_path))


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    st = open_store(settings.storage)
    yield st
    st.close()


def _poll(settings: Settings, store: Store, *, force: bool = False) -> PollReport:
    return asyncio.run(poll_once(settings, store, force=force))


def _client() -> httpx.Client:
    return httpx.Client(trust_env=False, timeout=10)


def _by_source(items: list[Item], name: str) -> list[Item]:
    return [i for i in items if name in i.sources]


# the config


def test_demo_config_points_at_the_server(
    server: DemoServer, settings: Settings, tmp_path: Path
) -> None:
    assert settings.path == tmp_path / "config.toml"
    assert settings.storage.is_relative_to(tmp_path)
    assert [s.name for s in settings.sources] == [f.name for f in FEEDS]
    assert all(s.url.startswith(server.base + "/") for s in settings.sources)
    assert {s.language for s in settings.sources} == {"fr", "en", "de"}
    assert settings.poll.interval == 60
    actors = {a.name: a for a in settings.actors}
    assert "Poutine" in actors["Vladimir Putin"].aliases
    assert actors["Kremlin"].kind == "organisation"
    assert [(f.key, f.name) for f in settings.filters] == [("1", "Russie"), ("2", "Climat")]
    assert "Kremlin" in settings.filters[0].query


def test_demo_config_overwrites_its_own_file(tmp_path: Path) -> None:
    first = demo_config("http://127.0.0.1:1/", tmp_path / "demo")
    second = demo_config("http://127.0.0.1:2", tmp_path / "demo")
    assert first == second
    assert load(second).sources[0].url == "http://127.0.0.1:2/le-quotidien.xml"


# the real pipeline against it


def test_first_poll_fills_the_store(settings: Settings, store: Store) -> None:
    report = _poll(settings, store)
    assert [r.status for r in report.results] == ["ok"] * len(FEEDS), report.results
    assert all(not r.detail for r in report.results), report.results
    items = list(store.items())
    assert len(items) >= 50
    merged = {i.url: set(i.sources) for i in items if len(i.sources) > 1}
    assert merged == {
        SHARED_CALL_FR: {"Le Quotidien", "Dépêches Monde"},
        SHARED_CALL_EN: {"World Wire", "Evening Globe"},
        SHARED_QUAKE_EN: {"World Wire", "Nordic Review"},
    }
    assert any(i.text for i in _by_source(items, "Evening Globe")), "content:encoded full text"


def test_dates_are_recent_and_localized(settings: Settings, store: Store) -> None:
    _poll(settings, store)
    now = datetime.now(UTC)
    items = list(store.items())
    for item in items:
        assert item.date_flag is None, item
        assert now - timedelta(hours=48) < item.published <= now, item
    french = [i for i in items if i.sources[0] in ("Le Quotidien", "Dépêches Monde")]
    assert len(french) >= 20
    assert all(i.language == "fr" for i in french)
    # a merged item keeps the raw date of whichever feed came last: single-source ones only
    quotidien = [i for i in items if i.sources == (LE_QUOTIDIEN.name,)]
    assert len(quotidien) >= 10
    assert all(FRENCH_DATE.match(i.published_raw or "") for i in quotidien)
    german = _by_source(items, TAGESBLICK.name)
    assert german and all(i.language == "de" for i in german)
    assert all(GERMAN_DATE.match(i.published_raw or "") for i in german)
    newest = max(items, key=lambda i: i.published)
    assert "Poutine" in newest.title or "Putin" in newest.title


def test_hostile_titles_are_stored_inert(settings: Settings, store: Store) -> None:
    _poll(settings, store)
    titles = [i.title for i in store.items()]
    assert "[@click=app.quit]x[/]" in titles
    assert not [t for t in titles if re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", t)]
    assert "Terminal escape in a headline" in titles  # the sequence goes whole
    assert "Bidi override in a headline" in titles
    hostile = [s.title for s in NORDIC_REVIEW.stories]
    assert any("\x1b" in t for t in hostile) and any("\u202e" in t for t in hostile)


def test_repoll_is_304_then_a_published_story_arrives(
    server: DemoServer, settings: Settings, store: Store
) -> None:
    _poll(settings, store)
    before = store.count()
    again = _poll(settings, store, force=True)
    assert [r.status for r in again.results] == ["not_modified"] * len(FEEDS)
    assert store.count() == before

    published = server.publish()
    assert published is not None
    report = _poll(settings, store, force=True)
    changed = [r for r in report.results if r.status == "ok"]
    assert [(r.name, r.new) for r in changed] == [(published.feed, 1)]
    assert all(r.status == "not_modified" for r in report.results if r not in changed)
    assert store.count() == before + 1
    assert published.title in {i.title for i in store.items()}


def test_poll_is_quick(settings: Settings, store: Store) -> None:
    report = _poll(settings, store)
    assert (report.finished - report.started).total_seconds() < 10


# the server's own behaviour


def test_reserve_is_published_on_a_timer() -> None:
    clock = Clock()
    with DemoServer(every=30, clock=clock) as srv, _client() as http:
        url = srv.url(LE_QUOTIDIEN)
        first = http.get(url)
        etag = first.headers["etag"]
        assert http.get(url, headers={"If-None-Match": etag}).status_code == 304
        total = srv.pending
        clock.now += 31  # the first reserve story is Le Quotidien's
        second = http.get(url, headers={"If-None-Match": etag})
        assert second.status_code == 200
        assert second.headers["etag"] != etag
        assert srv.pending == total - 1
        assert second.text.count("<item>") == first.text.count("<item>") + 1
        assert LE_QUOTIDIEN.reserve[0].title in second.text
        # the story keeps its date: the body is stable until the next one
        assert http.get(url).content == second.content
        clock.now += 30 * (total + 5)
        assert srv.pending == 0
        assert srv.publish() is None
        assert len(srv.published()) == total


def test_publish_goes_round_robin(server: DemoServer) -> None:
    names = [p.feed for p in (server.publish(), server.publish(), server.publish()) if p]
    assert names == [f.name for f in FEEDS[:3]]


def test_headers_and_conditional_get(server: DemoServer) -> None:
    types = {"rss": "application/rss+xml", "atom": "application/atom+xml"}
    types["json"] = "application/feed+json"
    with _client() as http:
        for feed in FEEDS:
            r = http.get(server.url(feed))
            assert r.status_code == 200
            assert r.headers["content-type"] == types[feed.kind] + "; charset=utf-8"
            etag, modified = r.headers["etag"], r.headers["last-modified"]
            assert http.get(server.url(feed), headers={"If-None-Match": etag}).status_code == 304
            by_date = http.get(server.url(feed), headers={"If-Modified-Since": modified})
            assert by_date.status_code == 304
            stale = http.get(server.url(feed), headers={"If-None-Match": '"old"'})
            assert stale.status_code == 200 and stale.content == r.content
        head = http.head(server.url(LE_QUOTIDIEN))
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) > 1000
        index = http.get(server.base + "/")
        assert index.status_code == 200 and "Le Quotidien" in index.text


def test_unknown_paths_and_methods_are_refused(server: DemoServer) -> None:
    with _client() as http:
        assert http.get(server.base + "/nope.xml").status_code == 404
        assert http.get(server.base + "/le-quotidien.xml/../etc").status_code == 404
        assert http.post(server.url(LE_QUOTIDIEN), content=b"x").status_code == 405
        assert http.get(server.url(LE_QUOTIDIEN) + "?utm_source=x").status_code == 200


def _raw(server: DemoServer, data: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_malformed_requests_get_an_error_and_a_close(server: DemoServer) -> None:
    assert _raw(server, b"\x16\x03\x01 not http\r\n\r\n").startswith(b"HTTP/1.1 400 ")
    assert _raw(server, b"GET /x HTTP/2.0\r\n\r\n").startswith(b"HTTP/1.1 505 ")
    huge = b"GET / HTTP/1.1\r\nX: " + b"a" * 100_000 + b"\r\n\r\n"
    assert _raw(server, huge).startswith(b"HTTP/1.1 431 ")
    close = _raw(server, b"GET / HTTP/1.0\r\n\r\n")
    assert close.startswith(b"HTTP/1.1 200 ") and b"Connection: close" in close


def test_documents_are_well_formed(server: DemoServer) -> None:
    with _client() as http:
        for feed in FEEDS:
            body = http.get(server.url(feed)).content
            if feed.kind == "json":
                doc = json.loads(body)
                assert len(doc["items"]) == len(feed.stories)
            else:
                root = ET.fromstring(body)
                entries = root.iter("{http://www.w3.org/2005/Atom}entry")
                count = len(root.findall("./channel/item")) or len(list(entries))
                assert count == len(feed.stories)
    assert 5 <= len(FEEDS) <= 6
    assert all(10 <= len(f.stories) <= 15 and f.reserve for f in FEEDS)


def test_date_formats() -> None:
    winter = datetime(2016, 11, 14, 18, 5, tzinfo=UTC).timestamp()
    summer = datetime(2019, 3, 31, 1, 0, tzinfo=UTC).timestamp()  # clocks go forward
    assert format_date(winter, "fr") == "lun., 14 nov. 2016 19:05:00 +0100"
    assert format_date(winter, "de") == "Mo, 14 Nov 2016 19:05:00 +0100"
    assert format_date(winter, "rfc822") == "Mon, 14 Nov 2016 18:05:00 GMT"
    assert format_date(winter, "iso") == "2016-11-14T18:05:00Z"
    assert format_date(winter, "iso-cet") == "2016-11-14T19:05:00+01:00"
    assert format_date(summer, "de") == "So, 31 Mär 2019 03:00:00 +0200"
    assert central_european(datetime(2019, 3, 31, 0, 59, tzinfo=UTC)).hour == 1


def test_demo_never_loads_the_ui() -> None:
    code = (
        "import sys, monitor.demo, monitor.demo.server\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""
