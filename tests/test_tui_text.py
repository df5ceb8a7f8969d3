"""The dashboard and article texts: "fetching text…", then the text; walls said in words;
R fetches again. The pages come from an httpx.MockTransport (no network)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest
from msgspec.structs import replace as mreplace
from msgspec.structs import replace as struct_replace

from monitor.config import ArticleSettings
from monitor.io.articles import ArticleFetcher
from monitor.io.netguard import Guard
from monitor.tui.app import MonitorApp
from tests.support.dashboard import FakePoll, settle
from tests.support.items import NOW, fixed_now, items, settings
from tests.support.memstore import MemoryStore

pytestmark = pytest.mark.anyio

ARTICLE = (
    "<html lang='en'><head><title>Story</title></head><body><article>"
    + "".join(
        f"<p>The whole story, part {n}, as the site tells it, with every detail that matters.</p>"
        for n in range(12)
    )
    + "</article></body></html>"
)
BLOCKED = "<html><head><title>Attention Required! | Cloudflare</title></head><body>no</body></html>"


async def _public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


async def test_pending_text_then_the_text_then_refetch() -> None:
    release = asyncio.Event()
    asked: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        if request.url.path == "/3":
            return httpx.Response(200, text=BLOCKED, headers={"Content-Type": "text/html"})
        await release.wait()
        return httpx.Response(200, text=ARTICLE, headers={"Content-Type": "text/html"})

    sets = replace(settings(), articles=ArticleSettings(delay=0.01))
    # items 0 and 3 wait for their page; the others have the feed's text
    store = MemoryStore(
        [it if n in (0, 3) else mreplace(it, text_status="feed") for n, it in enumerate(items(10))]
    )
    fetcher = ArticleFetcher(
        sets,
        store,
        transport=httpx.MockTransport(handler),
        guard=lambda job: Guard(resolver=_public),
    )
    app = MonitorApp(sets, store, poll=FakePoll(), now=fixed_now, tz=NOW.tzinfo, articles=fetcher)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(50):
            await pilot.pause(0.05)
            if "/0" in asked:
                break
        body = app.main.article.plain
        assert "fetching text…" in body and "Summary of story 0." in body
        assert "id000000" in app.session.fetching

        release.set()
        await settle(pilot, 0.2)
        body = app.main.article.plain
        assert "The whole story" in body and "fetching text" not in body
        assert not app.session.fetching
        stored = store.get("id000000")
        assert stored is not None and stored.text_status == "page"

        await pilot.press("j", "j", "j")  # item 3: the site blocked the request
        await settle(pilot)
        body = app.main.article.plain
        assert "summary only: the site blocked the request (R: try again)" in body
        assert "Attention Required" in body

        await pilot.press("g", "tab", "tab")  # back to item 0, focus on the article pane
        await settle(pilot)
        assert app.focused is app.main.article
        before = asked.count("/0")
        await pilot.press("R")
        await settle(pilot, 0.2)
        assert asked.count("/0") == before + 1
        assert asked.count("/robots.txt") == 1  # robots.txt read once per host
        body = app.main.article.plain
        assert "The whole story" in body


async def test_read_only_dashboard_fetches_no_text() -> None:
    app = MonitorApp(settings(), MemoryStore(items(5)), read_only=True, now=fixed_now)
    assert app.session.articles is None
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab", "R")
        await settle(pilot)
        assert any("read-only" in n.message for n in app._notifications)


def test_a_row_is_drawn_again_when_its_page_fills_the_date() -> None:
    from monitor.core.entries import entry_of
    from monitor.tui.widgets.timeline import Timeline

    timeline = Timeline(now=fixed_now)
    before = items(1)[0]
    after = struct_replace(before, published=NOW.replace(year=2023), language="fr")
    timeline.entries = [entry_of(before)]
    key = timeline.row_key(0)
    timeline.entries = [entry_of(after)]
    assert timeline.row_key(0) != key
