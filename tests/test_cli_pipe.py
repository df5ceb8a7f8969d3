"""A reader that leaves early (`monitor export | head -1`) ends the command quietly, status 0.
The real command runs in a subprocess, its stdout a real pipe closed after one line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.io.backends import open_store
from monitor.model import Actor, Item

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
COUNT = 3000  # every command below writes well over a pipe's buffer (64 KiB on Linux)


def item(n: int) -> Item:
    when = NOW - timedelta(minutes=n)
    return Item(
        id=f"id{n}",
        title=f"Russie : le titre numéro {n} d'une longue série de dépêches",
        url=f"https://example.com/{n}",
        sources=("Le Monde",),
        published=when,
        published_raw=None,
        date_flag=None,
        language="fr",
        summary="Un résumé de la dépêche. " * 8,
        first_seen=when,
        keys=(f"u:https://example.com/{n}",),
        actors=(Actor(f"Personne numéro {n}", "person", 1),),  # one line each in `actors`
        annotated=True,
    )


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pipe")
    store = open_store(folder / "db")
    store.write([item(n) for n in range(COUNT)], [])
    store.close()
    cfg = folder / "config.toml"
    cfg.write_text(
        '[storage]\npath = "db"\n\n[[sources]]\nname = "Le Monde"\n'
        'url = "https://lemonde.example/rss"\n',
        encoding="utf-8",
    )
    return cfg


def first_line_then_close(config: Path, *argv: str) -> tuple[int, bytes, str]:
    """Run `monitor argv`, read one line of its stdout, close the pipe; (status, the line,
    stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", *argv, "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=config.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        line = proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", "replace")
        return proc.wait(timeout=120), line, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    ("argv", "first"),
    [
        (("export",), b'{"id": "id0"'),
        (("export", "--format", "json"), b"["),
        (("search", "russie", "--limit", "0"), b"Le Monde"),
        (("search", "russie", "--limit", "0", "--format", "jsonl"), b'{"id": "id0"'),
        (("actors", "--limit", str(COUNT)), b"items"),
        (("actors", "--limit", str(COUNT), "--format", "json"), b"["),
        # a whole day of the items (one a minute, for 50 hours): well over a pipe's buffer
        (("digest", "--tz", "UTC", "--date", f"{NOW - timedelta(hours=25):%Y-%m-%d}"), b"#"),
    ],
    ids=["export", "export-json", "search", "search-jsonl", "actors", "actors-json", "digest"],
)
def test_a_reader_that_leaves_ends_the_command_quietly(
    config: Path, argv: tuple[str, ...], first: bytes
) -> None:
    code, line, err = first_line_then_close(config, *argv)
    assert first in line
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert "Exception ignored" not in err, err  # nor at the interpreter's final flush
    assert code == 0


def test_the_whole_output_still_comes_through(config: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "search", "russie", "--limit", "0", "--config", config],
        capture_output=True,
        cwd=config.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )
    assert run.returncode == 0
    assert len(run.stdout.splitlines()) == COUNT
    assert len(run.stdout) > 128 * 1024  # more than a pipe holds: the tests above need it
