"""What the reading commands do when the world says no: a full disk on stdout, an output
path that cannot be written, a day at the end of the calendar, a store under a file, a
query too long to parse. One line on stderr and a documented status, never a traceback.
The real command runs in a subprocess, as a shell would run it."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest

from monitor.core.query import MAX_LENGTH
from monitor.io.backends import open_store
from monitor.model import Actor, Item

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
FULL = Path("/dev/full")
needs_full = pytest.mark.skipif(not FULL.exists(), reason="no /dev/full here")


def item(n: int) -> Item:
    when = NOW - timedelta(minutes=10 * n)
    return Item(
        id=f"id{n}",
        title=f"Russie : la dépêche numéro {n}",
        url=f"https://example.com/{n}",
        sources=("Le Monde",),
        published=when,
        published_raw=None,
        date_flag=None,
        language="fr",
        summary="Un résumé de la dépêche. " * 4,
        first_seen=when,
        keys=(f"u:https://example.com/{n}",),
        actors=(Actor("Vladimir Poutine", "person", 1),),
        annotated=True,
    )


def write_config(folder: Path, storage: str) -> Path:
    cfg = folder / "config.toml"
    cfg.write_text(
        f'[storage]\npath = "{storage}"\n\n[[sources]]\nname = "Le Monde"\n'
        'url = "https://lemonde.example/rss"\n',
        encoding="utf-8",
    )
    return cfg


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("errors")
    store = open_store(folder / "db")
    store.write([item(n) for n in range(200)], [])
    store.close()
    return write_config(folder, "db")


def monitor(
    config: Path, *argv: str, stdout: IO[bytes] | int | None = subprocess.PIPE
) -> tuple[int, str, str]:
    """Run `monitor argv --config config`: (status, stdout, stderr)."""
    run = subprocess.run(
        [sys.executable, "-m", "monitor", *argv, "--config", str(config)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=config.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )
    out = run.stdout.decode("utf-8", "replace") if run.stdout is not None else ""
    return run.returncode, out, run.stderr.decode("utf-8", "replace")


def one_line(err: str) -> str:
    """The single line of `err`, checked to be the command's own words."""
    assert "Traceback" not in err and "Exception ignored" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("monitor: "), err
    return lines[0]


def last_line(err: str) -> str:
    """The last line of `err` (notes such as "nothing matches" may come before it)."""
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err.endswith("\n") and err.splitlines()[-1].startswith("monitor: "), err
    return err.splitlines()[-1]


READERS = [
    ("export",),
    ("export", "--format", "csv"),
    ("export", "--query", "russie"),
    ("search", "russie"),
    ("search", "russie", "--format", "json"),
    ("actors",),
    ("tags",),
    ("digest", "--tz", "UTC"),
]


# --- finding 13: a full disk, a reader gone, a path that cannot be written -----------------


@needs_full
@pytest.mark.parametrize(
    "argv",
    [*(a for a in READERS if a != ("tags",)), ("sources",), ("sources", "export")],
    ids=" ".join,
)  # no tags yet: `tags` writes nothing to stdout
def test_a_full_disk_on_stdout_is_one_line_status_1(config: Path, argv: tuple[str, ...]) -> None:
    with FULL.open("wb") as full:
        code, _, err = monitor(config, *argv, stdout=full)
    assert "standard output" in last_line(err) and "No space left" in err
    assert code == 1


def test_a_broken_pipe_not_from_a_pipe_is_one_line_status_1(config: Path) -> None:
    """A socket whose reader closed is not `| head`: the output was lost, and it says so."""
    ours, theirs = socket.socketpair()
    theirs.close()
    try:
        code, _, err = monitor(config, "export", stdout=ours.fileno())
    finally:
        ours.close()
    assert "standard output" in last_line(err)
    assert code == 1


@pytest.mark.parametrize("command", ["export", "digest", "sources export"])
def test_an_output_in_a_missing_folder_is_refused(config: Path, command: str) -> None:
    path = config.parent / "missing" / "out"
    code, _, err = monitor(config, *command.split(), "-o", str(path))
    assert str(path) in one_line(err)
    assert code == 1
    assert not path.parent.exists()  # a mistyped folder is not made


@pytest.mark.parametrize("command", ["export", "digest"])
def test_an_output_under_a_file_is_refused(config: Path, command: str) -> None:
    path = config / "out"  # config.toml is a regular file
    code, _, err = monitor(config, command, "-o", str(path), "--force")
    line = one_line(err)
    assert str(path) in line and "exists" not in line
    assert code == 1


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "9999-12-30", "0001-01-02"])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_a_day_at_the_ends_of_the_calendar(config: Path, day: str, zone: str) -> None:
    code, out, err = monitor(config, "digest", "--date", day, "--tz", zone)
    if code == 0:  # a day whose neighbours exist: an empty digest
        assert day in out
    else:
        assert "--date" in one_line(err)
        assert code == 2


@pytest.mark.parametrize(
    "argv",
    [*READERS, ("sources",), ("watches", "test", "russie"), ("star", "id0"), ("reindex",), ()],
    ids=lambda a: " ".join(a) or "dashboard",
)
def test_a_store_under_a_regular_file(tmp_path: Path, argv: tuple[str, ...]) -> None:
    (tmp_path / "file.txt").write_text("not a folder\n", encoding="utf-8")
    cfg = write_config(tmp_path, "file.txt/store")
    code, _, err = monitor(cfg, *argv)
    assert "file.txt" in last_line(err)
    assert code == 1


def test_a_relative_config_path_reads_the_store(config: Path) -> None:
    """./config.toml found in the current folder: the store's path is not left relative."""
    run = subprocess.run(
        [sys.executable, "-m", "monitor", "search", "russie", "--limit", "1"],
        capture_output=True,
        text=True,
        cwd=config.parent,
        env={**{k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}},
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "Russie" in run.stdout


# --- finding 14: -o on what is not a regular file --------------------------------------------


def drain(fd: int, done: threading.Event, got: bytearray) -> None:
    """Read the non-blocking `fd` into `got` until `done` is set and nothing is left; a
    FIFO without a writer reads as empty, before the writer opens it as after."""
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            data = None
        if data:
            got.extend(data)
        elif done.is_set():
            return
        else:
            time.sleep(0.02)


@pytest.mark.parametrize("command", ["export", "digest"])
def test_force_writes_through_a_fifo(config: Path, tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so that the writer's open returns
    done = threading.Event()
    got = bytearray()
    try:
        reading = threading.Thread(target=drain, args=(reader, done, got))
        reading.start()
        try:
            code, _, err = monitor(config, command, "-o", str(fifo), "--force")
        finally:
            done.set()
            reading.join(timeout=60)
    finally:
        os.close(reader)
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still a FIFO, not replaced by a file
    assert b"Russie" in got or b"Poutine" in got


@pytest.mark.parametrize("command", ["export", "digest"])
def test_a_device_behind_a_link_is_written_through(config: Path, command: str) -> None:
    """/proc/self/fd/1 links to this test's pipe, as /dev/stdout does."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("no /proc here")
    code, out, err = monitor(config, command, "-o", "/proc/self/fd/1", "--force")
    assert code == 0, err
    assert "Russie" in out or "Poutine" in out


@pytest.mark.parametrize("command", ["export", "digest"])
@pytest.mark.parametrize("force", [True, False])
def test_a_symlink_is_refused(config: Path, tmp_path: Path, command: str, force: bool) -> None:
    target = tmp_path / "target.txt"
    target.write_text("kept\n", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    code, _, err = monitor(config, command, "-o", str(link), *(["--force"] if force else []))
    assert ("symbolic link" if force else "exists; --force") in one_line(err)
    assert code == 1
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "kept\n"


def test_a_folder_is_refused(config: Path, tmp_path: Path) -> None:
    code, _, err = monitor(config, "digest", "-o", str(tmp_path), "--force")
    assert "folder" in one_line(err)
    assert code == 1
    assert tmp_path.is_dir()


def test_force_still_replaces_a_regular_file(config: Path, tmp_path: Path) -> None:
    path = tmp_path / "d.md"
    path.write_text("old\n", encoding="utf-8")
    code, _, err = monitor(config, "digest", "-o", str(path), "--force")
    assert code == 0, err
    assert path.read_text(encoding="utf-8").startswith("#")


# --- finding 15: a query too long to parse -----------------------------------------------


@pytest.mark.parametrize("command", ["search", "actors"])
def test_a_megabyte_query_is_a_usage_error(config: Path, command: str) -> None:
    # one argument holds at most 128 KiB on Linux: the words come in several
    words = " ".join(f"w{n}" for n in range(10_000))
    argv = [words] * (1_000_000 // len(words) + 1)
    code, _, err = monitor(config, command, *argv)
    line = one_line(err)
    assert f"{MAX_LENGTH}" in line.replace(",", "") and len(line) < 200
    assert code == 2


def test_a_megabyte_query_option_is_a_usage_error(config: Path) -> None:
    words = " ".join(f"w{n}" for n in range(10_000))
    for option in (("export", "--query"), ("digest", "--query")):
        code, _, err = monitor(config, *option, words)
        assert "query" in one_line(err) and len(err) < 300
        assert code == 2
