"""`monitor star|unstar|tag|untag|note|tags`, and the triage in `monitor search` queries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.io.backends import open_store
from monitor.io.triage import Triage
from monitor.model import Item

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.now(UTC).replace(second=0, microsecond=0)

IDS = {
    "sanctions": "5c0e12ab34cd56ef7890aa11",
    "talks": "abcdef0123456789aaaa0001",
    "tour": "abcdef0199999999bbbb0002",  # shares "abcdef01" with the one above
    "later": "77aa88bb99cc00dd11ee22ff",
}


def item(key: str, title: str, hours: float, *, first_seen: datetime | None = None) -> Item:
    when = NOW - timedelta(hours=hours)
    return Item(
        id=IDS[key],
        title=title,
        url=f"https://example.com/{key}",
        sources=("Le Monde",),
        published=when,
        published_raw=None,
        date_flag=None,
        language="fr",
        summary=f"résumé {key}",
        first_seen=first_seen or when,
        keys=(f"u:https://example.com/{key}",),
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    store = open_store(tmp_path / "db")
    store.write(
        [
            item("sanctions", "New sanctions on oil", 1),
            item("talks", "Talks resume in Geneva", 2),
            item("tour", "Le Tour de France repart", 3),
            # first seen after any triage began: unread
            item("later", "A story still unread", 4, first_seen=NOW + timedelta(days=1)),
        ],
        [],
    )
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text('[storage]\npath = "db"\n', encoding="utf-8")
    return cfg


def run(config: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--config", str(config)])
    out, err = capsys.readouterr()
    return code, out, err


def cli(config: Path, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", *argv, "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=config.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def state(config: Path) -> Triage:
    return Triage(config.parent / "db")


def titles(out: str) -> set[str]:
    return {line.split("  ", 2)[2] for line in out.splitlines()}


def test_star_tag_note_and_tags(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sanctions, talks = IDS["sanctions"], IDS["talks"]
    assert run(config, capsys, "star", sanctions, "abcdef0123") == (0, "starred 2 items\n", "")
    assert run(config, capsys, "star", sanctions)[1] == "1 item already starred\n"
    assert run(config, capsys, "unstar", talks)[1] == "unstarred 1 item\n"
    assert run(config, capsys, "tag", "Sanctions", sanctions, "5c0e12")[1] == (
        "tagged 1 item Sanctions\n"  # the same item twice is once
    )
    assert run(config, capsys, "tag", "energy", sanctions, talks)[1] == "tagged 2 items energy\n"
    assert run(config, capsys, "tag", "ENERGY", talks)[1] == "1 item already tagged energy\n"
    assert run(config, capsys, "untag", "Energy", talks)[1] == (
        "removed the tag energy from 1 item\n"
    )
    assert run(config, capsys, "untag", "Energy", talks)[1] == (
        "1 item without the tag energy: nothing removed\n"
    )
    assert run(config, capsys, "note", "5c0e12ab", "call", "the", "desk")[1] == (
        f"note saved on {sanctions}\n"
    )
    code, out, err = run(config, capsys, "tags")
    assert code == 0 and err == ""
    assert out == "     1  energy\n     1  Sanctions\n"  # most used first, then by name
    run(config, capsys, "tag", "Sanctions", talks)
    code, out, _ = run(config, capsys, "tags", "--format", "json")
    assert json.loads(out) == [{"tag": "Sanctions", "items": 2}, {"tag": "energy", "items": 1}]
    run(config, capsys, "untag", "Sanctions", talks)

    t = state(config)
    got = t.state()
    t.close()
    assert got.starred == {sanctions}
    assert got.tags == {"sanctions": {sanctions}, "energy": {sanctions}}
    assert got.notes == {sanctions: "call the desk"}

    assert run(config, capsys, "note", sanctions, "")[1] == f"note removed from {sanctions}\n"
    assert run(config, capsys, "note", sanctions, "")[1] == f"note on {sanctions} unchanged\n"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["star", "5c0e12ab34cd56ef7890aa11", "nothere1"], "no stored item nothere1"),
        (["star", "5c0e1"], "no stored item 5c0e1 (a prefix needs 6 characters or more)"),
        (["tag", "x", "abcdef01", "5c0e12"], "several items start with abcdef01"),
        (["note", "zzzzzzzz", "text"], "no stored item zzzzzzzz"),
        (
            ["unstar", "abcdef", "qqqqqqq", "5c0e12"],
            "no stored item qqqqqqq; several items start with abcdef",
        ),
    ],
)
def test_unknown_or_ambiguous_ids_change_nothing(
    config: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err = run(config, capsys, *argv)
    assert code == 1 and out == ""
    assert words in err and err.rstrip().endswith("nothing changed")
    t = state(config)
    got = t.state()
    t.close()
    assert not got.starred and not got.tags and not got.notes


def test_an_empty_tag_is_refused(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(config, capsys, "tag", "  ", IDS["talks"])
    assert code == 2 and "a tag needs a name" in err


def test_no_tags_yet(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(config, capsys, "tags") == (0, "", "monitor: no tags yet\n")


def test_while_a_dashboard_holds_the_store_and_two_at_once(config: Path) -> None:
    """The writer's lock is held (a dashboard or a poller): the commands open the store
    read-only to find the ids, and two of them starring at the same moment both count."""
    writer = open_store(config.parent / "db")
    try:
        runs = [
            cli(config, "star", IDS["sanctions"]),
            cli(config, "star", IDS["talks"]),
            cli(config, "tag", "Wire", IDS["tour"]),
        ]
        results = [p.communicate(timeout=60) for p in runs]
    finally:
        writer.close()
    assert [p.returncode for p in runs] == [0, 0, 0], results
    assert [out for out, _ in results] == [
        "starred 1 item\n",
        "starred 1 item\n",
        "tagged 1 item Wire\n",
    ]
    t = state(config)
    got = t.state()
    t.close()
    assert got.starred == {IDS["sanctions"], IDS["talks"]}
    assert got.tags == {"wire": {IDS["tour"]}}


def test_search_finds_the_triage(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(config, capsys, "star", IDS["sanctions"])
    run(config, capsys, "tag", "Geneva desk", IDS["talks"], IDS["tour"])
    run(config, capsys, "note", IDS["tour"], "follow", "up")
    for query, expected in [
        ("is:starred", {"New sanctions on oil"}),
        ('tag:"geneva DESK"', {"Talks resume in Geneva", "Le Tour de France repart"}),
        ("has:note", {"Le Tour de France repart"}),
        ("has:tag -has:note", {"Talks resume in Geneva"}),
        ("is:unread", {"A story still unread"}),
        ("is:read is:starred", {"New sanctions on oil"}),
    ]:
        code, out, err = run(config, capsys, "search", query)
        assert code == 0, err
        assert titles(out) == expected, query
    code, out, _ = run(config, capsys, "actors", "is:starred", "--format", "json")
    assert code == 0 and json.loads(out) == []  # no actors in these items: the query ran


def test_poll_applies_and_reports_auto_tags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.servers import FeedServer, static

    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>'
        "<item><title>Oil embargo widens</title><link>https://example.com/1</link>"
        "<description>An embargo.</description></item>"
        "<item><title>Weather</title><link>https://example.com/2</link>"
        "<description>Rain.</description></item></channel></rss>"
    )
    with FeedServer() as srv:
        srv.route("/feed.xml", static(rss.encode()))
        cfg = tmp_path / "config.toml"
        cfg.write_text(
            '[storage]\npath = "db"\n\n'
            f'[[sources]]\nname = "Wire"\nurl = "{srv.url("/feed.xml")}"\n\n'
            '[[tags]]\nname = "Sanctions"\nquery = "sanctions OR embargo"\n',
            encoding="utf-8",
        )
        code, out, err = run(cfg, capsys, "poll", "--no-text", "--no-actors")
    assert code == 0, err
    assert "auto-tags: Sanctions 1" in out
    code, out, _ = run(cfg, capsys, "search", "tag:sanctions")
    assert titles(out) == {"Oil embargo widens"}
