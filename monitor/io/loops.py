"""Work off the caller's event loop: a coroutine on a loop of its own in a thread of its
own, CPU work in a worker process (or a thread)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


async def on_own_loop(fn: Callable[..., Coroutine[Any, Any, T]], *args: Any, **kw: Any) -> T:
    """`await fn(*args, **kw)`, run by a new event loop in a thread.

    For network work that would crowd the caller's loop: hundreds of responses arriving
    at once are hundreds of callbacks per turn of the loop that runs them, and every
    hop of a keypress through the dashboard waits for a turn. Cancelling this cancels
    the coroutine there and waits for it to finish (its clean-up runs)."""
    box: dict[str, Any] = {}
    ready = threading.Event()

    def run() -> T:
        loop = asyncio.new_event_loop()
        try:
            task = loop.create_task(fn(*args, **kw))
            box["loop"], box["task"] = loop, task
            ready.set()
            return loop.run_until_complete(task)
        finally:
            ready.set()
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    done = asyncio.ensure_future(asyncio.to_thread(run))
    try:
        return await asyncio.shield(done)
    except asyncio.CancelledError:
        await asyncio.to_thread(ready.wait)
        loop, task = box.get("loop"), box.get("task")
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already closed
                loop.call_soon_threadsafe(task.cancel)
        with contextlib.suppress(BaseException):
            await done
        raise


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: leave when the parent is gone, even after a SIGKILL."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def parse_pool() -> ProcessPoolExecutor:
    """A one-process pool for parsing, for a long-running process such as the dashboard.

    Parsing in threads holds the GIL in pure-Python parts and starves the event loop
    (keys waited up to 700 ms during a 500-feed poll); a process keeps the loop free.
    The caller shuts it down; its worker also exits if the caller dies.
    """
    return ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    )


async def off_loop(executor: Executor | None, fn: Callable[..., T], *args: Any) -> T:
    """Run CPU work in `executor` (a process pool, see `parse_pool`), else in a thread;
    a broken pool falls back to a thread."""
    if executor is not None:
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)
        except (BrokenExecutor, OSError, RuntimeError):
            log.warning("worker process unavailable; working in a thread", exc_info=True)
    return await asyncio.to_thread(fn, *args)
