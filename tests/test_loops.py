"""`on_own_loop`: a coroutine on an event loop of its own, in a thread."""

from __future__ import annotations

import asyncio
import threading

import pytest

from monitor.io.loops import on_own_loop


async def _where(value: int) -> tuple[int, int, asyncio.AbstractEventLoop]:
    await asyncio.sleep(0)
    return value, threading.get_ident(), asyncio.get_running_loop()


def test_runs_on_another_loop_in_another_thread() -> None:
    async def main() -> None:
        value, thread, loop = await on_own_loop(_where, 7)
        assert value == 7
        assert thread != threading.get_ident()
        assert loop is not asyncio.get_running_loop()
        assert loop.is_closed()

    asyncio.run(main())


def test_an_exception_reaches_the_caller() -> None:
    async def fails() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        asyncio.run(on_own_loop(fails))


def test_cancelling_cancels_there_and_waits_for_the_clean_up() -> None:
    started, cleaned = threading.Event(), threading.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.sleep(0.05)  # clean-up that itself awaits
            cleaned.set()

    async def main() -> None:
        task = asyncio.create_task(on_own_loop(slow))
        await asyncio.to_thread(started.wait, 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cleaned.is_set()  # the cancel returned only after the clean-up ran

    asyncio.run(main())


def test_cancelled_at_once() -> None:
    """Cancelled while the thread may not have made its loop yet: still a clean cancel."""

    async def main() -> None:
        task = asyncio.create_task(on_own_loop(asyncio.sleep, 60))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
