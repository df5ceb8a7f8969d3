"""Catching up stored items: actors for those stored without, article texts left pending."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load
from monitor.core.backlog import TEXT_RECENT, pending_texts, unannotated
from monitor.io.backends import open_store
from monitor.io.store import Store
from monitor.model import ANNOTATOR, Item
from tests.support.memstore import MemoryStore
from tests.support.servers import FeedServer, static

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HTML = "text/html; charset=utf-8"
DATE = "Mon, 02 Mar 2026 09:00:00 GMT"


def _item(
    n: int,
    *,
    annotated: bool = False,
    text_status: str | None = None,
    url: str | None = "http://127.0.0.1:1/a",
    source: str = "On",
    seen: timedelta = timedelta(hours=1),
) -> Item:
    return Item.from_record(
        {
            "id": f"i{n}",
            "title": f"Item {n}",
            "url": url and f"{url}{n}",
            "sources": [source],
            "published": (NOW - timedelta(hours=n)).isoformat(),
            "published_raw": None,
            "date_flag": None,
            "language": "fr",
            "summary": "",
            "first_seen": (NOW - seen).isoformat(),
            "annotated": annotated,
            "annotator": ANNOTATOR,
            "text_status": text_status,
        }
    )


def test_the_backlog_is_the_newest_items_that_need_it(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[[sources]]\nname = "On"\nurl = "http://127.0.0.1:1/on.xml"\n\n'
        '[[sources]]\nname = "Off"\nurl = "http://127.0.0.1:1/off.xml"\nfull_text = false\n',
        encoding="utf-8",
    )
    settings = load(cfg)
    store = MemoryStore(
        [
            _item(0, annotated=True),  # pending text, actors done
            _item(1, text_status="page"),
            _item(2, text_status="failed"),
            _item(3, seen=TEXT_RECENT + timedelta(minutes=1)),  # too old for a page
            _item(4, source="Off"),  # full_text off
            _item(5, source="Gone"),  # no longer configured
            _item(6, url=None),
            _item(7, url="ftp://127.0.0.1/a"),
            _item(8, annotated=True),
            _item(9, annotated=True),
        ]
    )
    entries = store.entries()
    assert [e.id for e in entries][:3] == ["i0", "i1", "i2"]  # newest first

    assert unannotated(entries) == [f"i{n}" for n in range(1, 8)]
    assert unannotated(entries, limit=2) == ["i1", "i2"]

    jobs = pending_texts(entries, settings.source, NOW)
    assert [j.item_id for j in jobs] == ["i0", "i8", "i9"]
    assert jobs[0].url == "http://127.0.0.1:1/a0" and jobs[0].source == "On"
    assert [j.item_id for j in pending_texts(entries, settings.source, NOW, limit=1)] == ["i0"]
    assert [j.item_id for j in pending_texts(entries, settings.source, NOW, skip={"i0"})] == [
        "i8",
        "i9",
    ]


def _story_page(seed: Path) -> bytes:
    story = (seed / "article-fr-trump-poutine.txt").read_text(encoding="utf-8")
    paras = "".join(f"<p>{p}</p>" for p in story.split("\n") if p.strip())
    return (
        "<html lang='fr'><head><title>Entretien</title></head><body><article>"
        f"<h1>Entretien téléphonique</h1>{paras}</article></body></html>"
    ).encode()


def _rss(items: list[tuple[str, str]]) -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>']
    parts.append("<title>Dépêches</title><link>http://127.0.0.1/</link><language>fr</language>")
    for title, link in items:
        parts.append(f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>")
        parts.append(f"<description>Un résumé.</description><pubDate>{DATE}</pubDate></item>")
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


def _server(srv: FeedServer, seed: Path) -> None:
    srv.route("/robots.txt", static(b"", content_type="text/plain"))
    srv.route("/a/appel", static(_story_page(seed), content_type=HTML))
    srv.route("/a/old", static(_story_page(seed), content_type=HTML))
    srv.route(
        "/feed.xml",
        static(
            _rss(
                [
                    ("Poutine et Trump veulent normaliser les relations", srv.url("/a/appel")),
                    ("Un autre appel", srv.url("/a/appel?2")),
                ]
            )
        ),
    )


def _config(tmp_path: Path, srv: FeedServer) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[storage]\npath = "store"\n\n[articles]\ndelay = "0.01s"\n\n[[sources]]\n'
        f'name = "Dépêches"\nurl = "{srv.url("/feed.xml")}"\nlanguage = "fr"\n',
        encoding="utf-8",
    )
    return cfg


def _add_old(store: Store, srv: FeedServer, like: Item) -> None:
    """An item first seen three days ago whose page was never asked for: it is stale."""
    seen = datetime.now(UTC) - timedelta(days=3)
    old = Item.from_record(
        {
            **like.to_record(),
            "id": "old",
            "keys": ["old"],
            "url": srv.url("/a/old"),
            "title": "Poutine reçoit Trump",
            "first_seen": seen.isoformat(),
            "published": seen.isoformat(),
        }
    )
    assert store.write([old], []) == ["new"]


def test_poll_catches_up_actors_and_recent_texts(
    seed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FeedServer() as srv:
        _server(srv, seed)
        cfg = _config(tmp_path, srv)
        assert main(["poll", "--no-actors", "--no-text", "--config", str(cfg)]) == 0
        assert "2 items left without (--no-text)" in capsys.readouterr().out
        assert not srv.log("/a/appel")
        settings = load(cfg)
        store = open_store(settings.storage)
        try:
            stored = list(store.items())
            assert len(stored) == 2
            assert all(not i.annotated and i.text_status is None for i in stored)
            _add_old(store, srv, stored[0])
            assert [e.annotated for e in store.entries()] == [False] * 3
        finally:
            store.close()

        # the source is not due: nothing new, but the stored items are caught up
        assert main(["poll", "--config", str(cfg)]) == 0
        out = capsys.readouterr().out
        assert "0 new items" in out
        assert "article text: 2 fetched, 0 without; 2 of them left pending by earlier polls" in out
        assert "actors: looked for in 1 stored items (none yet" in out  # the old one
        assert len(srv.log("/a/appel")) == 2 and not srv.log("/a/old")

    store = open_store(settings.storage)
    try:
        items = {i.id: i for i in store.items()}
    finally:
        store.close()
    old_item = items.pop("old")
    assert old_item.annotated and old_item.text_status is None and old_item.text is None
    assert "Vladimir Putin" in {a.name for a in old_item.actors}
    for item in items.values():
        assert item.annotated and item.text_status == "page" and item.text
        assert {"Vladimir Putin", "Donald Trump"} <= {a.name for a in item.actors}

    # caught up: the next poll finds nothing to do
    assert main(["poll", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "article text" not in out and "actors:" not in out


@pytest.mark.anyio
async def test_the_dashboard_catches_up_stored_items(seed: Path, tmp_path: Path) -> None:
    """The real app and poller on a store polled with --no-actors --no-text: after its
    poll, the stored items get their actors in the parse worker and their texts."""
    from monitor.tui.app import MonitorApp
    from tests.support.dashboard import settle

    with FeedServer() as srv:
        _server(srv, seed)
        cfg = _config(tmp_path, srv)
        argv = ["poll", "--no-actors", "--no-text", "--config", str(cfg)]
        assert await asyncio.to_thread(main, argv) == 0
        settings = load(cfg)
        store = open_store(settings.storage)
        try:
            _add_old(store, srv, next(store.items()))
            app = MonitorApp(settings, store)
            async with app.run_test(size=(120, 40)) as pilot:
                for _ in range(120):
                    await settle(pilot, 0.5)
                    texts = all(e.text_status for e in app.session.entries if e.id != "old")
                    actors = all(e.annotated for e in app.session.entries)
                    if texts and actors and not app.session.polling and not app.session.fetching:
                        break
                assert all(e.annotated for e in app.session.entries)  # the view was read again
                names = [r.name for r in app.main.actors_pane.rows]
                assert "Vladimir Putin" in names and "Donald Trump" in names
                assert app.session.last_report is not None and app.session.last_report.new == 0
            items = {i.id: i for i in store.items()}
        finally:
            store.close()
        assert len(srv.log("/a/appel")) == 2 and not srv.log("/a/old")
    old = items.pop("old")  # no text fetched: its actors come from the catch-up
    assert old.annotated and old.text_status is None
    assert "Vladimir Putin" in {a.name for a in old.actors}
    assert len(items) == 2
    for item in items.values():
        assert item.annotated and item.text_status == "page"
