"""OPML export: the configured sources as OPML 2.0 that other readers, and our own import, read back."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from monitor.cli import main
from monitor.config import load
from monitor.core.opml import read_opml, write_opml
from monitor.model import Source

ROOT = Path(__file__).resolve().parents[1]
CREATED = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)

SOURCES = [
    Source("« Le Monde – International »", "https://www.lemonde.fr/international/rss_full.xml"),
    Source('Tom & Jerry <"news">', "https://example.org/feed?a=1&b=2", category="Presse & <co>"),
    Source("L'Équipe", "https://www.lequipe.fr/rss/actu_rss.xml", category="Sport"),
    Source("Off", "https://off.example.org/rss", enabled=False, category="Presse & <co>"),
    Source("Evil\x07name\ufffe", "https://evil.example.org/rss"),
]

CONFIG = """\
[storage]
path = "data/monitor.db"

[[sources]]
name = "« Le Monde – International »"
url = "https://www.lemonde.fr/international/rss_full.xml"

[[sources]]
name = 'Tom & Jerry <"news">'
url = "https://example.org/feed?a=1&b=2"
category = "Presse & <co>"

[[sources]]
name = "L'Équipe"
url = "https://www.lequipe.fr/rss/actu_rss.xml"
category = "Sport"

[[sources]]
name = "Off"
url = "https://off.example.org/rss"
enabled = false
category = "Presse & <co>"
"""


def parse(data: bytes) -> etree._Element:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    assert root.tag == "opml" and root.get("version") == "2.0"
    head, body = root
    assert head.tag == "head" and body.tag == "body"
    assert head.findtext("title")
    assert head.findtext("dateCreated")
    return root


def test_round_trip() -> None:
    data = write_opml(SOURCES, title="mine & yours", created=CREATED)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = parse(data)
    assert root.findtext("head/dateCreated") == "Fri, 01 Mar 2024 12:30:00 +0000"
    assert root.findtext("head/title") == "mine & yours"
    got = [(f.name, f.url, f.category) for f in read_opml(data)]
    # document order: a category's sources together, where the category is first used
    assert got == [
        ("« Le Monde – International »", SOURCES[0].url, None),
        ('Tom & Jerry <"news">', SOURCES[1].url, "Presse & <co>"),
        ("Off", SOURCES[3].url, "Presse & <co>"),
        ("L'Équipe", SOURCES[2].url, "Sport"),
        ("Evilname", SOURCES[4].url, None),  # what XML 1.0 cannot hold is dropped
    ]


def test_categories_group_in_config_order() -> None:
    root = parse(write_opml(SOURCES, title="t", created=CREATED))
    top = root.find("body")
    assert top is not None
    assert [o.get("text") for o in top] == [
        "« Le Monde – International »",
        "Presse & <co>",
        "Sport",
        "Evilname",
    ]
    group = top[1]
    assert group.get("xmlUrl") is None
    assert [o.get("text") for o in group] == ['Tom & Jerry <"news">', "Off"]
    assert all(o.get("type") == "rss" for o in root.iter("outline") if o.get("xmlUrl"))


def test_shipped_config(capsys: pytest.CaptureFixture[str]) -> None:
    config = ROOT / "config.toml"
    assert main(["sources", "export", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    root = parse(out.encode("utf-8"))
    feeds = [o for o in root.iter("outline") if o.get("xmlUrl")]
    configured = tomllib.loads(config.read_text(encoding="utf-8"))["sources"]
    assert len(feeds) == len(configured) > 0
    assert [o.get("xmlUrl") for o in feeds] == [s["url"] for s in configured]


def test_output_file_and_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    out = tmp_path / "subs.opml"
    assert main(["sources", "export", "-o", str(out), "--config", str(cfg)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"4 sources written to {out}" in captured.err
    assert len(read_opml(out.read_bytes())) == 4

    out.write_text("mine", encoding="utf-8")
    assert main(["sources", "export", "-o", str(out), "--config", str(cfg)]) == 1
    assert "exists" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "mine"

    assert main(["sources", "export", "-o", str(out), "--force", "--config", str(cfg)]) == 0
    assert len(read_opml(out.read_bytes())) == 4
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_export_then_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    opml = tmp_path / "subs.opml"
    assert main(["sources", "export", "-o", str(opml), "--config", str(cfg)]) == 0
    empty = tmp_path / "empty.toml"
    empty.write_text('[storage]\npath = "data/monitor.db"\n', encoding="utf-8")
    assert main(["sources", "import", str(opml), "--config", str(empty)]) == 0
    capsys.readouterr()
    want = [(s.url, s.name, s.category) for s in load(cfg).sources]
    got = [(s.url, s.name, s.category) for s in load(empty).sources]
    assert sorted(got) == sorted(want)
