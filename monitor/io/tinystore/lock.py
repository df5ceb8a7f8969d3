"""The writer lock, `lock`, and `owner.json`, which says who holds it: a second writer is
told which process to stop instead of waiting."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from filelock import FileLock, Timeout

from monitor.io.store import StoreLocked, StoreUnwritable
from monitor.io.tinystore.files import DECODE_ERRORS, LOCK, OWNER, Record, timestamp, write_atomic

log = logging.getLogger(__name__)


class WriterLock:
    """The lock of the store at `root`, not yet taken."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = FileLock(root / LOCK, timeout=0, thread_local=False)

    def acquire(self) -> None:
        """Take the lock at once, or raise StoreLocked naming its holder."""
        try:
            self._lock.acquire()
        except Timeout:
            raise StoreLocked(in_use(self.root)) from None
        except OSError as exc:
            raise StoreUnwritable(f"cannot lock store {self.root}: {exc.strerror}") from exc

    def claim(self) -> None:
        """Holding the lock: say who holds it (only said: a full disk does not stop it)."""
        owner = {"pid": os.getpid(), "argv": sys.argv, "since": timestamp()}
        try:
            write_atomic(self.root / OWNER, msgspec.json.encode(owner))
        except OSError as exc:
            log.warning("store %s: cannot write %s (%s)", self.root, OWNER, exc.strerror)

    def release(self) -> None:
        with contextlib.suppress(OSError, *DECODE_ERRORS):
            owner = msgspec.json.decode((self.root / OWNER).read_bytes(), type=Record)
            if owner.get("pid") == os.getpid():
                (self.root / OWNER).unlink()
        self._lock.release()


def in_use(root: Path) -> str:
    """Why the lock cannot be taken: who holds it, as owner.json says."""
    try:
        owner = msgspec.json.decode((root / OWNER).read_bytes(), type=Record)
        since = datetime.fromisoformat(owner["since"]).astimezone(UTC)
        with contextlib.suppress(PermissionError):  # alive, someone else's
            os.kill(int(owner["pid"]), 0)  # a dead pid: the file is a dead writer's
        return (
            f"store {root} is in use by pid {owner['pid']} "
            f"({_command(owner.get('argv') or [])}, since {since:%Y-%m-%d %H:%M} UTC)"
        )
    except (OSError, *DECODE_ERRORS, KeyError, TypeError, ValueError):
        return f"store {root} is in use by another process"


def _command(argv: Sequence[str]) -> str:
    if not argv:
        return "?"
    prog = os.path.basename(argv[0])
    if prog == "__main__.py":
        prog = os.path.basename(os.path.dirname(argv[0]))
    cmd = " ".join([prog, *argv[1:]])
    return cmd if len(cmd) <= 60 else cmd[:59] + "…"
