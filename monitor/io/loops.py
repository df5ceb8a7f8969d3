"""Running a coroutine on an event loop of its own, in a thread of its own."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


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
