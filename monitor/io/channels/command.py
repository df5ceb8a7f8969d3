"""The command channel: a program run without a shell, the alert as JSON on its stdin.

One alert is one JSON object, a batch one JSON array, followed by a newline, in UTF-8.
The program runs in its own process group so that a timeout kills it and whatever it
started; its stderr's first line explains a non-zero exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Sequence
from typing import Any

from monitor.config import AlertSettings
from monitor.io.channels import ChannelError
from monitor.io.channels.words import line, to_json

_STDERR_KEPT = 4096  # bytes of stderr read for the message; the rest is drained unread


async def send_command(alerts: Sequence[dict[str, Any]], settings: AlertSettings) -> None:
    argv = settings.command
    if not argv:
        raise ChannelError("no [alerts] command is configured", retry=False)
    await run(argv, to_json(alerts) + b"\n", settings.timeout, env=_environment(settings))


def _environment(settings: AlertSettings) -> dict[str, str]:
    """The program's environment: ours, without the SMTP password's variable."""
    env = dict(os.environ)
    if settings.email and settings.email.password_env:
        env.pop(settings.email.password_env, None)
    return env


async def run(
    argv: Sequence[str], stdin: bytes, timeout: float, *, env: dict[str, str] | None = None
) -> None:
    """Run `argv` with `stdin`; ChannelError unless it exits 0 within `timeout` seconds."""
    name = line(os.path.basename(argv[0]), 80) or "the command"
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own process group, killed whole on timeout
        )
    except FileNotFoundError:
        raise ChannelError(f"program not found: {line(argv[0], 200)}", retry=False) from None
    except PermissionError:
        raise ChannelError(f"{name}: not executable", retry=False) from None
    except OSError as exc:
        raise ChannelError(f"{name}: cannot start ({line(exc, 200)})", retry=False) from None
    try:
        async with asyncio.timeout(timeout):
            err = await _talk(proc, stdin)
            code = await proc.wait()
    except TimeoutError:
        await _kill(proc)
        raise ChannelError(f"{name} timed out after {timeout:g}s", retry=True) from None
    except BaseException:  # cancelled: leave nothing running
        await _kill(proc)
        raise
    if code != 0:
        first = next((s for s in (line(x, 300) for x in _lines(err)) if s), "")
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        raise ChannelError(f"{name} {how}" + (f": {first}" if first else ""), retry=True)


def _lines(data: bytes) -> list[str]:
    return data.decode("utf-8", "replace").splitlines()


async def _talk(proc: asyncio.subprocess.Process, data: bytes) -> bytes:
    """Write stdin (a program may exit without reading it), read the start of stderr and
    drain the rest, so a chatty program neither blocks nor fills our memory."""
    assert proc.stdin is not None and proc.stderr is not None

    async def write() -> None:
        assert proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.write(data)
            await proc.stdin.drain()
        proc.stdin.close()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            await proc.stdin.wait_closed()

    writer = asyncio.create_task(write())
    kept = b""
    try:
        while chunk := await proc.stderr.read(65536):
            if len(kept) < _STDERR_KEPT:
                kept += chunk[: _STDERR_KEPT - len(kept)]
    finally:
        if not writer.done():
            writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
    return kept


async def _kill(proc: asyncio.subprocess.Process) -> None:
    # the group even when the leader has exited: what it started may hold stderr open
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        elif proc.returncode is None:  # pragma: no cover - no process groups
            proc.kill()
    with contextlib.suppress(ProcessLookupError):
        await proc.wait()
