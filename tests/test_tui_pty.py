"""The real `monitor` in a pseudo-terminal: feed escape sequences never reach the terminal."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.io.backends import open_store
from monitor.model import Item

pty = pytest.importorskip("pty", reason="needs a POSIX pseudo-terminal")

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = [
    "A\x1b]52;c;SGVsbG8=\x07B",
    "C\x1b]8;;http://x\x1b\\D",
    "E\x1b[2JF",
    "G\x9b31mH",
    "I\u202eJ [@click=app.quit]x[/]",
]
FORBIDDEN = {
    b"\x1b]52": "OSC 52 (clipboard)",
    b"\x1b]8;;http://x": "OSC 8 hyperlink",
    b"\xc2\x9b": "C1 CSI",
    b"\x9b31m": "C1 CSI 31m",
    b"\xe2\x80\xae": "U+202E",
    b"\x1b[2J": "clear screen",
}


def _store(path: Path) -> None:
    now = datetime.now(UTC)
    store = open_store(path)
    try:
        items = [
            Item(
                id=f"hostile{n}",
                title=f"Title {title}",
                url=f"https://example.com/{n}",
                sources=(f"Source {title}",),
                published=now - timedelta(minutes=n),
                published_raw=None,
                date_flag=None,
                language="en",
                summary=f"Summary {title}",
                first_seen=now,
                text=f"Text {title}\n\nEnd.",
                annotated=True,  # nothing to catch up after the poll: the screen stays idle
            )
            for n, title in enumerate(HOSTILE)
        ]
        store.write(items, [])
    finally:
        store.close()


def _read(fd: int, out: bytearray, seconds: float, until: bytes | None = None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            out.extend(chunk)
            if until is not None and until in out:
                return


def test_real_app_in_a_pty_emits_no_feed_escape(tmp_path: Path) -> None:
    _store(tmp_path / "store")
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "store"\n', encoding="utf-8")

    import fcntl
    import struct
    import termios

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config)],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
    )
    os.close(child)
    out = bytearray()
    try:
        _read(main, out, 20, until=b"Title A")
        assert b"Title A" in out, out[-2000:].decode("utf-8", "replace")
        _read(main, out, 1.0)
        idle = bytearray()
        _read(main, idle, 1.5)
        assert len(idle) < 64, f"{len(idle)} bytes written while idle: {bytes(idle[:200])!r}"
        os.write(main, b"/")  # the filter line open: still no redraw while idle
        _read(main, out, 0.8)
        idle.clear()
        _read(main, idle, 1.5)
        assert len(idle) < 64, f"{len(idle)} bytes written while idle: {bytes(idle[:200])!r}"
        os.write(main, b"\x1b")
        _read(main, out, 0.5)
        for key in (b"j", b"\r", b"j", b"\t", b"\t", b"\r", b"s"):
            os.write(main, key)
            _read(main, out, 0.4)
        os.write(main, b"\x1b")
        _read(main, out, 0.4)
        os.write(main, b"q")
        proc.wait(timeout=15)
        _read(main, out, 1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    assert proc.returncode == 0, out[-2000:].decode("utf-8", "replace")
    found = [name for seq, name in FORBIDDEN.items() if seq in out]
    assert not found, f"feed escape sequences reached the terminal: {found}"
    for visible in (b"AB", b"CD", b"EF", b"GH", b"[@click=app.quit]x[/]"):
        assert visible in out


def test_real_app_in_a_pty_shows_300_generated_titles_inert(tmp_path: Path) -> None:
    """Seeded hostile titles and sources (tests/support/hostile.py), the timeline paged to
    its end: no payload of a feed's escape sequence reaches the terminal."""
    import fcntl
    import random
    import re
    import struct
    import termios

    from tests.support.hostile import MARKER, hostile_string

    rng = random.Random(7)
    now = datetime.now(UTC)

    def plain(s: str) -> str:  # a store holds UTF-8: no lone surrogate
        return re.sub("[\ud800-\udfff]", "", s)

    store = open_store(tmp_path / "store")
    try:
        store.write(
            [
                Item(
                    id=f"fuzz{n}",
                    title=plain(f"P{n:03d} {hostile_string(rng)}\x1b]0;{MARKER}-{n}\x07"),
                    url=f"https://example.com/{n}",
                    sources=(plain(f"Source {hostile_string(rng, 4)}"),),
                    published=now - timedelta(minutes=n),
                    published_raw=None,
                    date_flag=None,
                    language="en",
                    summary=plain(hostile_string(rng)),
                    first_seen=now,
                    annotated=True,
                )
                for n in range(300)
            ],
            [],
        )
    finally:
        store.close()
    config = tmp_path / "config.toml"
    config.write_text('[storage]\npath = "store"\n', encoding="utf-8")
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config)],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
    )
    os.close(child)
    out = bytearray()
    try:
        _read(main, out, 20, until=b"P000 ")
        assert b"P000 " in out, out[-2000:].decode("utf-8", "replace")
        for _ in range(30):  # page to the end, 13 rows a page
            os.write(main, b"\x1b[6~")
            _read(main, out, 0.15)
        os.write(main, b"G")
        _read(main, out, 1.0, until=b"P299 ")
        os.write(main, b"q")
        proc.wait(timeout=15)
        _read(main, out, 1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    assert proc.returncode == 0, out[-2000:].decode("utf-8", "replace")
    assert b"P299 " in out and b"P150 " in out, "the timeline was not paged to its end"
    assert MARKER.encode() not in out, "an OSC payload from a title reached the terminal"
    found = [name for seq, name in FORBIDDEN.items() if seq in out]
    assert not found, f"feed escape sequences reached the terminal: {found}"
