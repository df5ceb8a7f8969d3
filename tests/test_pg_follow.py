"""Dashboards anywhere: a session on a PostgreSQL store reads another process's commit
when it is NOTIFYed of it, not when its own schedule comes round."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from monitor.config import DatabaseSettings
from monitor.io.pg.connect import database
from monitor.io.pg.store import PgStore
from tests.support.dashboard import quiet_session
from tests.support.items import item, settings


@pytest.mark.anyio
async def test_a_commit_elsewhere_reaches_a_running_session(pg_url: str) -> None:
    db = DatabaseSettings(url=pg_url)
    sets = replace(settings(), database=db)
    mine, theirs = PgStore(database(db)), PgStore(database(db))
    never = asyncio.Event()

    async def asleep(_seconds: float) -> None:
        await never.wait()  # the schedule never comes round: only NOTIFY can wake it

    session = quiet_session(sets, mine, read_only=True, sleep=asleep)
    runner = asyncio.ensure_future(session.run())
    try:
        async with asyncio.timeout(10):
            while not session.loaded:
                await asyncio.sleep(0.01)
            assert session.entries == []
            await asyncio.to_thread(theirs.write, [item(1), item(2)], [])
            while len(session.entries) < 2:
                await asyncio.sleep(0.01)
        assert {e.id for e in session.entries} == {item(1).id, item(2).id}
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await session.close()
        theirs.close()
        mine.close()
