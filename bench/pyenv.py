"""Child-process environments for benchmarks that time whole commands."""

from __future__ import annotations

import os
from pathlib import Path


def cached_bytecode_env(prefix: Path) -> dict[str, str]:
    """The environment for children with Python's compiled-bytecode cache in `prefix`,
    written and then reused: what a normal install has after its first run. (Where
    PYTHONDONTWRITEBYTECODE is set and the installed packages carry no __pycache__, every
    start compiles them again, which is not what a user's machine does.)"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    return env
