"""The command channel: a real program (this Python, a script in a temp folder), the
alert as JSON on stdin, timeouts that kill the whole process group, errors that say why."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from monitor.config import AlertSettings, EmailSettings
from monitor.io.channels import CHANNELS, ChannelError, send
from tests.support.channels import failing_send

ALERT: dict[str, Any] = {
    "watch": "Kremlin",
    "story": "s1",
    "title": "Le Kremlin répond \x1b]52;c;aGk=\x07[b]",
    "url": "https://example.org/a",
    "sources": ["Le Monde", "BBC"],
    "items": [
        {
            "id": "i1",
            "title": "t",
            "url": "https://example.org/a",
            "sources": ["Le Monde"],
            "published": "2026-12-04T09:00:00+00:00",
        }
    ],
    "matched": ["kremlin"],
    "context": "… le Kremlin a indiqué …",
    "at": "2026-12-04T10:00:00+00:00",
}


def script(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "prog.py"
    path.write_text(body, encoding="utf-8")
    return [sys.executable, str(path)]


def settings(argv: list[str], timeout: float = 10.0, **kw: Any) -> AlertSettings:
    return AlertSettings(command=tuple(argv), timeout=timeout, **kw)


def test_channel_names() -> None:
    assert CHANNELS == ("dashboard", "bell", "command", "webhook", "email")


def test_one_alert_is_one_object_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    argv = script(
        tmp_path,
        "import sys, os\n"
        f"open({str(out)!r}, 'wb').write(sys.stdin.buffer.read())\n"
        f"open({str(out)!r} + '.env', 'w').write(os.environ.get('SMTP_SECRET', 'unset'))\n",
    )
    email = EmailSettings(
        host="h", sender="a@b.c", to=("c@d.e",), user="u", password_env="SMTP_SECRET"
    )
    os.environ["SMTP_SECRET"] = "hunter2"
    try:
        asyncio.run(send("command", [ALERT], settings(argv, email=email)))
    finally:
        del os.environ["SMTP_SECRET"]
    raw = out.read_bytes()
    assert raw.endswith(b"\n")
    assert json.loads(raw.decode("utf-8")) == ALERT  # the contract, as given, in UTF-8
    assert "répond".encode() in raw
    # the SMTP password's variable is not handed to the program
    assert (tmp_path / "got.json.env").read_text() == "unset"


def test_a_batch_is_one_array(tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    argv = script(
        tmp_path, f"import sys\nopen({str(out)!r}, 'wb').write(sys.stdin.buffer.read())\n"
    )
    second = {**ALERT, "story": "s2", "title": "Autre"}
    asyncio.run(send("command", [ALERT, second], settings(argv)))
    got = json.loads(out.read_text("utf-8"))
    assert isinstance(got, list) and [a["story"] for a in got] == ["s1", "s2"]


def test_non_zero_exit_names_the_first_stderr_line(tmp_path: Path) -> None:
    argv = script(
        tmp_path,
        "import sys\nsys.stdin.read()\n"
        "sys.stderr.write('\\n  bad \\x1b[31mthing\\x1b[0m\\x07 happened\\r\\nsecond line\\n')\n"
        "sys.exit(3)\n",
    )
    with pytest.raises(ChannelError) as exc:
        asyncio.run(send("command", [ALERT], settings(argv)))
    err = exc.value
    assert err.retry
    assert "exited with status 3: bad thing happened" in err.message
    assert "second line" not in err.message
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in err.message)


def test_a_program_that_does_not_read_stdin_still_reports(tmp_path: Path) -> None:
    argv = script(tmp_path, "import sys\nsys.exit(0)\n")
    big = {**ALERT, "context": "x" * 500_000}  # more than a pipe holds
    asyncio.run(send("command", [big], settings(argv)))


def test_program_not_found_is_not_retried(tmp_path: Path) -> None:
    with pytest.raises(ChannelError) as exc:
        asyncio.run(send("command", [ALERT], settings([str(tmp_path / "no-such-program")])))
    assert not exc.value.retry and "program not found" in exc.value.message


def test_not_configured_and_screen_channels() -> None:
    with pytest.raises(ChannelError) as exc:
        asyncio.run(send("command", [ALERT], AlertSettings()))
    assert not exc.value.retry
    for channel in ("dashboard", "bell", "sms"):
        with pytest.raises(ValueError):
            asyncio.run(send(channel, [ALERT], AlertSettings()))
    asyncio.run(send("command", [], AlertSettings()))  # nothing to send: nothing run


def test_timeout_kills_the_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # the program starts a grandchild that would outlive it, then sleeps
    argv = script(
        tmp_path,
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n",
    )

    err, ticks, seconds = failing_send("command", [ALERT], settings(argv, timeout=1.0))
    assert err.retry and "timed out after 1s" in err.message
    assert ticks >= 10 and seconds < 5  # the loop kept running meanwhile
    pid = int(pidfile.read_text())
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        # a zombie until its parent is reaped: check its state
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z":
            break
        time.sleep(0.1)
    else:
        pytest.fail("the grandchild outlived the timeout")
