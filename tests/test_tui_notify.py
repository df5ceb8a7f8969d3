"""The bell and desktop notification bytes: hostile titles never reach the terminal as
anything but text inside the sequences built here; which terminal gets which sequence."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from monitor.tui.notify import NotifySupport, bell_bytes, notify_support
from monitor.tui.text import terminal_text

HOSTILE = [
    "[b]bold[/b] [@click=app.quit]x[/]",
    "\x1b]52;c;ZWNobyBwd25lZA==\x07 clipboard",
    "\x1b]52;c;ZWNobyBwd25lZA==\x1b\\ clipboard ST",
    "\x9b31mC1 CSI\x9b0m \x9d0;title\x9c",
    "bidi \u202eevil\u202c \u2066x\u2069 \u200f",
    "\x1b[2J\x1b[H clear \x1bP1$r\x1b\\ dcs",
    "bell\x07 del\x7f nul\x00 cr\r lf\n tab\t ls\u2028 ps\u2029",
    "a;b;c 777;notify;forged;x",
    "\x1bPtmux;\x1b\x1b]9;forged\x07\x1b\\",
    "9;4;1;50 progress",
    "x" * 5000,
]
ROOT = Path(__file__).resolve().parents[1]
HOSTILE_TITLE = "Kremlin \x1b]52;c;ZWNobyBwd25lZA==\x07 \u202eevil \x9b31m"
OURS = re.compile(
    r"\x1b\]9;(?P<osc9>[^\x07\x1b]*)\x07"
    r"|\x1b\]777;notify;(?P<t>[^;\x07\x1b]*);(?P<b>[^;\x07\x1b]*)\x07"
)
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def unwrap(out: str) -> list[str]:
    """The tmux DCS envelopes, opened: each inner sequence with its ESCs halved."""
    inner = re.findall(r"\x1bPtmux;((?:[^\x1b]|\x1b\x1b)*)\x1b\\", out)
    rest = re.sub(r"\x1bPtmux;(?:[^\x1b]|\x1b\x1b)*\x1b\\", "", out)
    assert rest == "\x07", repr(rest)  # nothing outside the envelopes but the bell
    return [s.replace("\x1b\x1b", "\x1b") for s in inner]


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("tmux", [False, True])
def test_hostile_text_survives_only_as_text(hostile: str, tmux: bool) -> None:
    out = bell_bytes(hostile, hostile, osc9=True, osc777=True, tmux=tmux)
    assert out.startswith("\x07")
    sequences = unwrap(out) if tmux else [m.group() for m in OURS.finditer(out[1:])]
    if not tmux:
        assert "".join(sequences) == out[1:]  # every byte after BEL is in a sequence of ours
    assert len(sequences) == 2
    for seq in sequences:
        m = OURS.fullmatch(seq)
        assert m, repr(seq)
        for text in (m.group("osc9"), m.group("t"), m.group("b")):
            if text is None:
                continue
            assert not CONTROL.search(text), repr(text)
            assert "52;c;" not in text or "\x1b" not in text
            assert len(text) <= 300
    if "[b]" in hostile:
        assert "[b]bold[/b]" in out  # markup is inert here: shown literally, never parsed
    if hostile.startswith("9;4"):
        assert "\x1b]9; 9;4;1;50" in out  # never read as a ConEmu/Windows Terminal subcommand


def test_bell_alone_and_the_two_forms() -> None:
    assert bell_bytes("t", "b", osc9=False, osc777=False, tmux=True) == "\x07"
    assert bell_bytes("Kremlin", "Le Kremlin répond", osc9=True, osc777=False, tmux=False) == (
        "\x07\x1b]9;Kremlin: Le Kremlin répond\x07"
    )
    assert bell_bytes("Kremlin", "a; b", osc9=False, osc777=True, tmux=False) == (
        "\x07\x1b]777;notify;Kremlin;a, b\x07"
    )
    assert bell_bytes("Kremlin", "x", osc9=True, osc777=False, tmux=True) == (
        "\x07\x1bPtmux;\x1b\x1b]9;Kremlin: x\x07\x1b\\"
    )
    assert bell_bytes("", "", osc9=True, osc777=False, tmux=False) == "\x07\x1b]9;monitor\x07"


def test_terminal_text_cuts_and_cleans() -> None:
    assert terminal_text("a\x1b[31mb\u202e  c\n\td", 100) == "ab c d"
    cut = terminal_text("x" * 500, 80)
    assert len(cut) == 80 and cut.endswith("…")
    assert terminal_text(None, 10) == ""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TERM_PROGRAM": "iTerm.app", "TERM": "xterm-256color"}, (True, False, False)),
        ({"TERM_PROGRAM": "WezTerm"}, (True, False, False)),
        ({"TERM_PROGRAM": "ghostty", "TERM": "xterm-ghostty"}, (True, False, False)),
        ({"TERM": "xterm-kitty"}, (True, False, False)),
        ({"TERM": "foot"}, (False, True, False)),
        ({"TERM": "rxvt-unicode-256color"}, (False, True, False)),
        ({"TERM": "xterm-256color", "VTE_VERSION": "7600"}, (False, True, False)),
        ({"TERM": "xterm-256color", "VTE_VERSION": "3800"}, (False, False, False)),
        ({"TERM": "xterm-256color"}, (False, False, False)),
        ({"TERM": "linux"}, (False, False, False)),
        ({"TERM_PROGRAM": "Apple_Terminal"}, (False, False, False)),
        ({}, (False, False, False)),
        # inside tmux: TERM_PROGRAM is tmux's; the outer terminal shows through its variables
        (
            {"TMUX": "/tmp/tmux-1/default,1,0", "TERM_PROGRAM": "tmux", "TERM": "tmux-256color"},
            (False, False, True),
        ),
        (
            {"TMUX": "/tmp/t,1,0", "TERM_PROGRAM": "tmux", "LC_TERMINAL": "iTerm2"},
            (True, False, True),
        ),
        (
            {"TMUX": "/tmp/t,1,0", "TERM": "screen-256color", "KITTY_WINDOW_ID": "3"},
            (True, False, True),
        ),
    ],
)
def test_notify_support(env: dict[str, str], expected: tuple[bool, bool, bool]) -> None:
    assert notify_support(env) == NotifySupport(*expected)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_through_a_real_tmux(tmp_path: Path) -> None:
    """A pane writes the bytes for a hostile title; what tmux sends to the terminal outside
    (a pty read here) has the bell and the OSC 9 with clean text, and none of the payload."""
    (tmp_path / "tmux.conf").write_text("set -g allow-passthrough on\nset -g status off\n")
    prog = tmp_path / "emit.py"
    prog.write_text(
        "import sys, time\nfrom monitor.tui.notify import bell_bytes\ntime.sleep(0.3)\n"
        f"sys.stdout.write(bell_bytes({HOSTILE_TITLE!r}, 'body [b]x', osc9=True, osc777=False, tmux=True))\n"
        "sys.stdout.flush()\ntime.sleep(5)\n",
        encoding="utf-8",
    )
    sock = f"notify-check-{os.getpid()}"
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "TMUX"} | {"TERM": "xterm-256color"}
    proc = subprocess.Popen(
        [
            "tmux",
            "-L",
            sock,
            "-f",
            str(tmp_path / "tmux.conf"),
            "new-session",
            "-x",
            "80",
            "-y",
            "24",
            f"{sys.executable} {prog}",
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    out = b""
    try:
        end = time.monotonic() + 10
        while time.monotonic() < end and b"\x1b]9;" not in out:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    break
                if not data:
                    break
                out += data
        time.sleep(0.2)
        with contextlib.suppress(OSError):
            out += os.read(master, 65536)
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True, timeout=10)
        proc.wait(timeout=10)
        os.close(master)
    assert b"\x1b]9;Kremlin evil: body [b]x\x07" in out, out[-500:]
    assert b"\x07" in out.replace(b"\x1b]9;Kremlin evil: body [b]x\x07", b"")  # the bell too
    assert b"ZWNv" not in out and b"52;c" not in out
    assert "\u202e".encode() not in out


def test_ring_writes_through_the_driver_and_not_when_headless() -> None:
    from monitor.tui.notify import ring

    class Driver:
        def __init__(self) -> None:
            self.written: list[str] = []

        def write(self, data: str) -> None:
            self.written.append(data)

    class FakeApp:
        is_headless = False
        _driver: Driver | None = Driver()

    app = FakeApp()
    out = ring(app, HOSTILE_TITLE, "body", env={"TERM_PROGRAM": "WezTerm"})  # type: ignore[arg-type]
    assert app._driver is not None and app._driver.written == [out]
    assert out == "\x07\x1b]9;Kremlin evil: body\x07"
    app.is_headless = True
    assert ring(app, "t", "b", env={}) == ""  # type: ignore[arg-type]
