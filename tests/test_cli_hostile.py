"""Hostile names never reach the terminal raw: the real CLI in a subprocess, feeds from a
server on 127.0.0.1, and names holding OSC, CSI/SGR (whole and cut), C1 and bidi controls
and Rich markup. The config refuses such names; the commands' gate holds on its own too
(a child that swaps the names in after the config is read)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.io.backends import open_store
from monitor.model import Item
from tests.support.servers import FeedServer, static

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[1]
MARKUP = "[red]x[/] [@click=app.quit]q[/]"
# what each source is called once the config is read; the markup one must show as written
HOSTILE = [
    "OSC\x1b]0;pwned\x07 title",
    "SGR \x1b[31mred\x1b[0m",
    "cut SGR \x1b[31",
    "C1 \x9b31m \x9d0;x\x9c \x85end",
    "bidi \u202egnp.exe\u202c \u2066x\u2069 \u200f",
    MARKUP,
]
# anything a terminal would act on: C0 (but newline), DEL, C1, bidi controls
FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)
RSS = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    b"<item><title>One story</title><link>https://news.example/1</link>"
    b"<guid>https://news.example/1</guid></item></channel></rss>"
)
# The real CLI, with the configured names swapped for hostile ones after the config is
# read and checked: what the commands print when a name got past validation.
CHILD = """
import json, sys
from dataclasses import replace
import monitor.cli.common as common
from monitor.cli import main
from monitor.config import load

names = json.loads(sys.argv[1])

def hostile(path):
    settings = load(path)
    sources = tuple(replace(s, name=names.get(s.name, s.name)) for s in settings.sources)
    return replace(settings, sources=sources)

common.load = hostile
sys.exit(main(sys.argv[2:]))
"""


def inert(*streams: str) -> None:
    for text in streams:
        found = FORBIDDEN.findall(text)
        assert not found, f"controls reached the terminal: {found!r} in {text!r}"
        assert "pwned" not in text  # an OSC goes whole, its text too


def toml(s: str) -> str:
    return json.dumps(s)  # a JSON string with \\u escapes is a TOML basic string


def _closed_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as srv:
        for n in range(len(HOSTILE)):
            srv.route(f"/feed{n}.xml", static(RSS.replace(b"/1<", f"/{n}<".encode())))
        yield srv


def write_config(folder: Path, names: list[str], urls: list[str]) -> Path:
    text = '[storage]\npath = "store"\n\n[poll]\ntimeout = "2s"\n\n'
    for name, url in zip(names, urls, strict=True):
        text += f"[[sources]]\nname = {toml(name)}\nurl = {toml(url)}\n\n"
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def plain_config(folder: Path, srv: FeedServer) -> tuple[Path, dict[str, str]]:
    """A valid config (sources s0…s5 and a refused one) and the hostile name of each."""
    urls = [srv.url(f"/feed{n}.xml") for n in range(len(HOSTILE))]
    urls.append(f"http://127.0.0.1:{_closed_port()}/feed.xml")
    names = [f"s{n}" for n in range(len(urls))]
    swap = dict(zip(names, [*HOSTILE, "refused \x1b]0;pwned\x1b\\ \x1b[2J"], strict=True))
    return write_config(folder, names, urls), swap


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}


def run_swapped(cfg: Path, swap: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(swap), *argv, "--config", str(cfg)],
        capture_output=True,
        text=True,
        cwd=cfg.parent,
        env=env(),
        timeout=100,
    )


def run_cli(cfg: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *argv, "--config", str(cfg)],
        capture_output=True,
        text=True,
        cwd=cfg.parent,
        env=env(),
        timeout=100,
    )


def test_config_refuses_hostile_names_and_says_where(tmp_path: Path) -> None:
    for n, name in enumerate(HOSTILE[:-1]):
        cfg = write_config(tmp_path, ["fine", name], ["https://a.example/f", "https://b.example/f"])
        run = run_cli(cfg, "sources")
        assert run.returncode == 2, run.stderr
        assert f"{cfg}, line 12, key sources[1].name:" in run.stderr, (n, run.stderr)
        assert "control character U+" in run.stderr
        inert(run.stdout, run.stderr)
    # markup is no control: the name is kept, and shown as written
    cfg = write_config(tmp_path, [MARKUP], ["https://a.example/f"])
    run = run_cli(cfg, "sources")
    assert run.returncode == 0, run.stderr
    assert MARKUP in run.stdout


def test_sources_table_is_inert(tmp_path: Path, server: FeedServer) -> None:
    cfg, swap = plain_config(tmp_path, server)
    run = run_swapped(cfg, swap, "sources")
    assert run.returncode == 0, run.stderr
    inert(run.stdout, run.stderr)
    assert MARKUP in run.stdout and "OSC title" in run.stdout and "SGR red" in run.stdout


def test_poll_table_and_progress_are_inert(tmp_path: Path, server: FeedServer) -> None:
    cfg, swap = plain_config(tmp_path, server)
    run = run_swapped(cfg, swap, "poll", "--all", "--no-text", "--no-actors")
    assert run.returncode == 0, run.stderr
    inert(run.stdout, run.stderr)
    assert MARKUP in run.stdout and "OSC title" in run.stdout  # the table
    assert (
        f"{MARKUP}: ok" in run.stderr and "refused: error (connect)" in run.stderr
    )  # progress lines
    # then the sources table, with the errors the poll left
    run = run_swapped(cfg, swap, "sources")
    inert(run.stdout, run.stderr)


def test_poll_watch_lines_are_inert(tmp_path: Path, server: FeedServer) -> None:
    cfg, swap = plain_config(tmp_path, server)
    argv = ["poll", "--watch", "--no-text", "--no-actors", "--config", str(cfg)]
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, json.dumps(swap), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cfg.parent,
        env=env(),
    )
    assert proc.stdout is not None
    try:
        lines = [proc.stdout.readline()]  # "monitor: watching …"
        deadline = time.monotonic() + 60
        while "fetched" not in lines[-1] and time.monotonic() < deadline:
            lines.append(proc.stdout.readline())
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "fetched" in lines[-1], lines
    inert("".join(lines) + out, err)


def test_import_dry_run_is_inert(tmp_path: Path) -> None:
    opml = tmp_path / "feeds.opml"
    outlines = "".join(
        f'<outline type="rss" text="{name}" title="{name}" xmlUrl="https://x{n}.example/f"/>'
        for n, name in enumerate(
            [
                "OSC&#x1b;]0;pwned&#x7; title",
                "SGR &#x1b;[31mred",
                "bidi \u202egnp.exe",
                "C1 \u009b31m end",
                "[red]x[/]",
            ]
        )
    )
    opml.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><opml version="2.0"><head/><body>{outlines}'
        "</body></opml>",
        encoding="utf-8",
    )
    cfg = write_config(tmp_path, ["fine"], ["https://a.example/f"])
    before = cfg.read_text(encoding="utf-8")
    run = run_cli(cfg, "sources", "import", str(opml), "--dry-run")
    inert(run.stdout, run.stderr)  # whether the OPML reader or the config check has the say
    assert cfg.read_text(encoding="utf-8") == before


def test_import_dry_run_prints_through_the_gate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whatever names the OPML code hands back, the lines printed are inert."""
    import monitor.io.opml as opml_io

    monkeypatch.setattr(opml_io, "read_opml", lambda data: [])
    monkeypatch.setattr(opml_io, "add_sources", lambda path, feeds, dry_run: (HOSTILE, 0))
    cfg = write_config(tmp_path, ["fine"], ["https://a.example/f"])
    opml = tmp_path / "feeds\x1b]0;pwned\x07.opml"
    opml.write_text("<opml/>", encoding="utf-8")
    assert main(["sources", "import", str(opml), "--dry-run", "--config", str(cfg)]) == 0
    out, err = capsys.readouterr()
    inert(out, err)
    assert f"would add: {MARKUP}" in out and "would add: OSC title" in out


def test_digest_html_sources_line_is_inert(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    store = open_store(tmp_path / "store")
    hostile = [*HOSTILE, "<script>alert(1)</script>"]
    items = []
    for n in range(3):  # one story, carried by every hostile source
        when = now - timedelta(minutes=n)
        items.append(
            Item(
                id=f"id{n}",
                title="Summit in Geneva ends without a deal",
                url=f"https://news.example/{n}",
                sources=tuple(hostile),
                published=when,
                published_raw=None,
                date_flag=None,
                language="en",
                summary="The summit ended.",
                first_seen=when,
                keys=(f"u:https://news.example/{n}",),
            )
        )
    store.write(items, [])
    store.close()
    cfg = write_config(tmp_path, ["fine"], ["https://a.example/f"])
    run = run_cli(cfg, "digest", "--format", "html", "--tz", "UTC", "--date", "today")
    assert run.returncode == 0, run.stderr
    inert(run.stdout, run.stderr)
    assert "<script>alert" not in run.stdout and "&lt;script&gt;alert(1)" in run.stdout
    assert "OSC title" in run.stdout and "[red]x[/]" in run.stdout
    assert f"{len(hostile)} sources:" in run.stdout  # the story's sources line is there
