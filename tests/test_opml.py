"""OPML import: feeds read from real subscription lists, added to config.toml with comments kept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.config import load
from monitor.core.opml import read_opml
from monitor.io.opml import add_sources

ROOT = Path(__file__).resolve().parents[1]

CONFIG = """\
# my sources, hand-written
[storage]
path = "data/monitor.db"  # beside this file

[[sources]]
name = "Le Monde.fr - Actualités et Infos en France et dans le monde"
url = "https://www.lemonde.fr/rss/une.xml"  # already here
"""


def test_read_real_opml(corpus: Path) -> None:
    feeds = read_opml((corpus / "opml/countries/with_category/France.opml").read_bytes())
    assert len(feeds) >= 10
    urls = {f.url for f in feeds}
    assert "https://www.lemonde.fr/rss/une.xml" in urls
    assert all(f.url.startswith(("http://", "https://")) for f in feeds)
    assert all(f.category for f in feeds)


def test_not_opml() -> None:
    with pytest.raises(ValueError):
        read_opml(b"<html><body>no</body></html>")


def test_entities_not_expanded() -> None:
    data = b"""<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&x;" xmlUrl="https://a.org/feed"/></body></opml>"""
    (feed,) = read_opml(data)
    assert "root:" not in feed.name


def test_add_sources_keeps_comments(corpus: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    feeds = read_opml((corpus / "opml/countries/with_category/France.opml").read_bytes())
    added, skipped = add_sources(cfg, feeds)
    assert skipped == 1 and len(added) == len(feeds) - 1
    text = cfg.read_text(encoding="utf-8")
    assert "# my sources, hand-written" in text and "# already here" in text
    settings = load(cfg)
    assert len(settings.sources) == len(feeds)
    again, skipped = add_sources(cfg, feeds)
    assert again == [] and skipped == len(feeds)


def test_cli_import_dry_run(corpus: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    opml = corpus / "opml/countries/with_category/Germany.opml"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "sources",
            "import",
            str(opml),
            "--dry-run",
            "--config",
            str(cfg),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "would add" in run.stdout
    assert cfg.read_text(encoding="utf-8") == CONFIG
