"""`monitor search`: the query engine run headless over the store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.io.backends import open_store
from monitor.model import Actor
from tests.support.search_table import ITEMS, NOW, QUERIES, item

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z  .+  .+")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    store = open_store(tmp_path / "db")
    store.write(ITEMS, [])
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[storage]\npath = "db"\n\n[[sources]]\nname = "BBC News – World"\n'
        'url = "https://feeds.bbci.co.uk/news/world/rss.xml"\n',
        encoding="utf-8",
    )
    return cfg


def search(config: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "search", *argv, "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=config.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )


def run(config: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["search", *argv, "--config", str(config)])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_lines_newest_first(config: Path) -> None:
    done = search(config, "russ OR etats-unis OR ukraine")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and all(LINE.fullmatch(line) for line in lines)
    assert (
        lines[0]
        == f"{NOW - timedelta(hours=1):%Y-%m-%d %H:%M}Z  Le Monde – International  Les États-Unis et la Russie"
    )
    assert lines[1].endswith("  BBC News – World  Russia and Ukraine")  # the SGR gone whole
    assert lines[2].endswith("  Ukraine: talks stall")
    assert done.stderr == ""


def test_json_is_the_item_contract(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(config, capsys, "russie OR moscou", "--format", "json")
    assert code == 0
    assert json.loads(out) == [ITEMS[0].to_json(), ITEMS[4].to_json()]


def test_jsonl_one_item_a_line(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(config, capsys, "lang:en", "--format", "jsonl")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["id4", "id2"]


@pytest.mark.parametrize(("argv", "ids"), QUERIES)
def test_queries_over_the_store(
    config: Path, capsys: pytest.CaptureFixture[str], argv: list[str], ids: list[str]
) -> None:
    code, out, err = run(config, capsys, *argv, "--format", "jsonl")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == ids
    assert ("nothing matches" in err) == (not ids)


def test_limit(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(config, capsys, "", "--limit", "2")
    assert code == 0 and len(out.splitlines()) == 2
    assert "5 matches, the newest 2 shown" in err
    code, out, err = run(config, capsys, "", "--limit", "0")
    assert code == 0 and len(out.splitlines()) == 5 and err == ""
    code, out, err = run(config, capsys, "", "--limit", "-1")
    assert code == 2 and out == "" and "--limit" in err


def test_default_limit_is_50(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(tmp_path / "db")
    store.write([item(n, f"Article {n}", hours=n) for n in range(60)], [])
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text('[storage]\npath = "db"\n', encoding="utf-8")
    code, out, err = run(cfg, capsys, "article", "--format", "jsonl")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == [f"id{n}" for n in range(50)]
    assert "60 matches" in err


@pytest.mark.parametrize(
    ("query", "position", "words"),
    [
        ("russie (ukraine", 7, "never closed"),
        ("russie OR", 7, "OR needs something after"),
        ("foo:bar", 0, 'unknown field "foo:"'),
        ("since:3x russie", 6, "since:"),
        ('actor:"Vladimir', 6, "quote is never closed"),
    ],
)
def test_bad_query_exits_2_with_a_caret(
    config: Path, query: str, position: int, words: str
) -> None:
    done = search(config, query)
    assert done.returncode == 2
    assert done.stdout == ""
    message, shown, caret = done.stderr.splitlines()
    assert message.startswith("monitor: bad query: ") and words in message
    assert shown == "  " + query
    assert caret == " " * (2 + position) + "^"


def test_caret_counts_wide_characters(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(config, capsys, "北京 (ukraine")
    assert code == 2
    assert err.splitlines()[2] == " " * (2 + 5) + "^"


def test_bad_query_needs_no_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(tmp_path / "missing.toml", capsys, "(")
    assert code == 2 and "bad query" in err


def test_several_arguments_make_one_query(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(config, capsys, "tour", "OR", "moscou", "--format", "jsonl")
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["id3", "id5"]
    argv = ["search", "--config", str(config), "--format", "jsonl", "--", "-russ", "lang:en"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["id2"]


def test_reads_while_a_poll_holds_the_store(config: Path) -> None:
    writer = open_store(config.parent / "db")  # the write lock, as a running poll holds it
    try:
        done = search(config, "tour")
    finally:
        writer.close()
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("  L'Équipe  Le Tour de France repart\n")


def test_empty_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[storage]\npath = "db"\n', encoding="utf-8")
    code, out, err = run(cfg, capsys, "russie", "--format", "json")
    assert code == 0 and json.loads(out) == [] and "nothing matches" in err


def test_actors_command(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = open_store(config.parent / "db")
    store.write(
        [
            item(
                6,
                "Poutine et Trump",
                hours=3,
                actors=(Actor("Vladimir Putin", "person", 2), Actor("Donald Trump", "person", 1)),
            ),
            item(7, "Trump", hours=50, actors=(Actor("Donald Trump", "person", 1),)),
        ],
        [],
    )
    store.close()
    assert main(["actors", "--format", "json", "--config", str(config)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["items"], r["last_hour"], r["last_24h"], r["last_7d"]) for r in rows] == [
        ("Donald Trump", 2, 0, 1, 2),  # ties by name
        ("Vladimir Putin", 2, 0, 2, 2),
    ]
    assert rows[1]["with"] == ["Donald Trump"] and rows[1]["rising"] == 3.0
    said = [
        (r["mentions"], r["mentions_last_hour"], r["mentions_last_24h"], r["mentions_last_7d"])
        for r in rows
    ]
    assert said == [(2, 0, 1, 2), (5, 0, 5, 5)]  # Putin: named 3 times in item 1, twice in 6
    assert sum(rows[1]["series_24h"]) == 2
    assert main(["actors", "lang:fr", "trump", "--config", str(config)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == [
        *("items", "1h", "24h", "7d", "named", "24h", "rising", "actor", "(seen", "with)")
    ]
    assert [line.split()[-3:] for line in out[1:]] == [
        ["Trump", "(Vladimir", "Putin)"],
        ["Putin", "(Donald", "Trump)"],
    ]
    assert main(["actors", "(", "--config", str(config)]) == 2
    assert "bad query" in capsys.readouterr().err
