"""`D` in the dashboard: today's digest under the current filter, in the digest folder,
handed over to the browser under textual serve; the scheduled digest on start."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.config import DigestSettings
from monitor.tui.app import MonitorApp
from monitor.tui.screens.help import HelpScreen
from tests.support.dashboard import make_app, notes, screen_text, settle
from tests.support.items import settings

pytestmark = pytest.mark.anyio


async def wait_for(pilot, test, tries: int = 100) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if test():
            return
        await pilot.pause(0.05)
    raise AssertionError("timed out waiting")


def digest_settings(folder: Path, **kw: object):  # type: ignore[no-untyped-def]
    cfg = DigestSettings(timezone="UTC", dir=folder, formats=("markdown", "json"), **kw)  # type: ignore[arg-type]
    return replace(settings(), digest=cfg)


async def test_d_exports_the_filtered_day(tmp_path: Path) -> None:
    app = make_app(30, settings=digest_settings(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.main.set_filter("source:monde")
        await settle(pilot)
        await pilot.press("D")
        await wait_for(pilot, lambda: any("digest written to" in n for n in notes(app)))
        names = sorted(p.name for p in tmp_path.iterdir())
        assert names == ["digest-2024-11-14-at-1200.json", "digest-2024-11-14-at-1200.md"]
        data = json.loads((tmp_path / names[0]).read_text(encoding="utf-8"))
        assert data["query"] == "source:monde" and data["items"]
        assert all("Le Monde" in i["sources"] for i in data["items"])
        assert all(i["published"].startswith("2024-11-14") for i in data["items"])
        said = next(n for n in notes(app) if "digest written to" in n)
        assert str(tmp_path / names[1]) in said
        await pilot.press("D")  # again: new names, nothing overwritten
        await wait_for(pilot, lambda: len(list(tmp_path.iterdir())) == 4)
        assert (tmp_path / "digest-2024-11-14-at-1200-2.md").exists()


async def test_d_follows_the_picked_source_too(tmp_path: Path) -> None:
    app = make_app(30, settings=digest_settings(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.main.set_filter("headline")
        app.session.pick_source("BBC World")
        await pilot.press("D")
        await wait_for(pilot, lambda: any("digest written to" in n for n in notes(app)))
    data = json.loads((tmp_path / "digest-2024-11-14-at-1200.json").read_text(encoding="utf-8"))
    assert data["query"] == '(headline) source:"BBC World"'
    assert data["items"] and all("BBC World" in i["sources"] for i in data["items"])


async def test_d_hands_the_files_over_under_textual_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(10, settings=digest_settings(tmp_path))
    delivered: list[tuple[Path, str | None]] = []

    def deliver(path: Path, *, save_filename: str | None = None, **kw: object) -> str:
        delivered.append((path, save_filename))
        return "key"

    monkeypatch.setattr(MonitorApp, "is_web", property(lambda self: True))
    monkeypatch.setattr(app, "deliver_text", deliver)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await wait_for(pilot, lambda: len(delivered) == 2)
    assert [name for _, name in delivered] == [
        "digest-2024-11-14-at-1200.md",
        "digest-2024-11-14-at-1200.json",
    ]
    assert all(path.exists() for path, _ in delivered)


async def test_d_is_in_the_help_with_its_id(tmp_path: Path) -> None:
    app = make_app(5, settings=digest_settings(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        shown = screen_text(app)
        assert "app.digest" in shown and "Export today's digest" in shown


async def test_the_scheduled_digest_is_caught_up_on_start(tmp_path: Path) -> None:
    app = make_app(300, settings=digest_settings(tmp_path, at="07:00"))  # 12:00: after 07:00
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: (tmp_path / "digest-2024-11-13.md").exists())
        assert (tmp_path / "digest-2024-11-13.json").exists()
        data = json.loads((tmp_path / "digest-2024-11-13.json").read_text(encoding="utf-8"))
        assert data["date"] == "2024-11-13" and data["items"]
        assert app.session.next_digest is not None
