"""A real PostgreSQL server for the tests, in a temporary folder, on 127.0.0.1.

Debian's `postgresql` package (initdb, pg_ctl, with contrib for `unaccent`) is what CI
installs. PostgreSQL refuses to run as root, and CI runs as root: the server then runs
as the `postgres` system user (`runuser`), its folder handed to it. Without the
binaries, the tests that need it skip and say why.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

USER = "monitor"  # the database user the tests connect as (trust on loopback)
DATABASE = "monitor_test"
START_WAIT = 30.0  # seconds for the server to accept connections


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, or Debian's newest version."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    return Path(versions[-1]).parent if versions else None


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _as_server(argv: list[str]) -> list[str]:
    """The command as the user the server may run as: `postgres` when we are root."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@contextlib.contextmanager
def running_server() -> Iterator[str]:
    """Start a server in a new temporary folder; yield the URL of an empty database on it;
    stop it and remove the folder afterwards."""
    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found; CI installs them")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: PostgreSQL refuses to run as root")
    folder = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    data, sockets = folder / "data", folder / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(sockets, "postgres")
        folder.chmod(0o700)
    port = _free_port()
    log = folder / "server.log"
    try:
        subprocess.run(
            _as_server(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    USER,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            check=True,
            capture_output=True,
        )
        options = f"-h 127.0.0.1 -p {port} -k {sockets} -F -c fsync=off"
        subprocess.run(
            _as_server(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "start"]
            ),
            check=True,
            capture_output=True,
            timeout=START_WAIT,
        )
        url = f"postgresql://{USER}@127.0.0.1:{port}/postgres"
        _wait(url)
        _create_database(url)
        yield f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
                timeout=START_WAIT,
            )
        shutil.rmtree(folder, ignore_errors=True)


def _wait(url: str) -> None:
    import psycopg

    deadline = time.monotonic() + START_WAIT
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _create_database(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {DATABASE}")


_made = 0


def fresh_database(url: str) -> str:
    """A new, empty database on the server of `url` (a test's own); its URL."""
    import psycopg

    global _made
    _made += 1
    name = f"t{os.getpid()}_{_made}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    return url.rsplit("/", 1)[0] + "/" + name
