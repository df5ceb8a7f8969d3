"""Source leases: pollers on any number of hosts share the sources, each due source
fetched by one of them. A poller leases the due sources it means to fetch (`take`), for a
while; writing a source's state clears its lease (the store's write). A poller that dies
leaves its leases to expire, and the next poller to pass takes its sources over.

The rows are locked with `FOR UPDATE SKIP LOCKED`: two pollers asking at once each get
their own share and neither waits on the other. The database decides what is still due
(`next_due`), not the poller's copy of the states, which another poller may have made
stale a moment ago. Leases run on the database's clock, so that hosts whose clocks
differ agree on when one expires; what is due is the pollers' (they set `next_due`).

A source never polled has no row yet: `take` makes one, with an empty `state` (no state
yet; `states()` leaves such rows out)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Collection
from datetime import datetime, timedelta

import psycopg

log = logging.getLogger(__name__)

# A pass that wakes a moment before a source is due still takes it; not more. With many
# pollers one wakes every few seconds: were it `schedule.DUE_GRACE` (30 s, for a lone
# poller run by a timer), a source of a 1-minute interval would be fetched every 30 s.
EARLY = timedelta(seconds=5)
MARGIN = 2.0  # a lease lasts the poll timeout times this; it is renewed while fetching
SHORTEST = 10.0  # seconds: no lease is shorter


def seconds_for(timeout: float) -> float:
    """How long a lease lasts: long enough for a fetch (`timeout`, the poll's deadline)
    with a margin; the poller renews it every third of that while it fetches. A dead
    poller's sources are free again after it."""
    return max(SHORTEST, timeout * MARGIN)


def take(
    conn: psycopg.Connection,
    owner: str,
    due_names: Collection[str],
    now: datetime,
    seconds: float,
    *,
    force: bool = False,
) -> list[str]:
    """Lease to `owner` those of `due_names` that are due at `now` (any, with `force`) and
    not leased to another poller (or whose lease has expired), for `seconds`, and
    renew the leases `owner` still holds (written sources hold none: calling it again
    while fetching renews, never takes a source back). Returns the names leased. One
    transaction."""
    if not due_names:
        return []
    names = sorted(set(due_names))  # rows made and locked in one order: no deadlock
    with conn.transaction():
        conn.execute(
            "INSERT INTO sources(name, state) SELECT unnest(%s::text[]), ''::bytea"
            " ON CONFLICT (name) DO NOTHING",
            (names,),
        )
        rows = conn.execute(
            """
            UPDATE sources
            SET lease_owner = %(owner)s, lease_until = now() + %(seconds)s * interval '1 s'
            WHERE name IN (
                SELECT name FROM sources
                WHERE name = ANY(%(names)s)
                  AND (lease_owner = %(owner)s
                       OR ((%(force)s OR next_due IS NULL OR next_due <= %(due_by)s)
                           AND (lease_until IS NULL OR lease_until <= now())))
                ORDER BY name
                FOR UPDATE SKIP LOCKED)
            RETURNING name
            """,
            {
                "owner": owner,
                "names": names,
                "force": force,
                "due_by": now + EARLY,
                "seconds": seconds,
            },
        ).fetchall()
    return sorted(r[0] for r in rows)


def release(conn: psycopg.Connection, owner: str, names: Collection[str]) -> None:
    """Give back `owner`'s leases on `names` (a poll cancelled before its write): the
    sources are free at once for the next poller."""
    if not names:
        return
    conn.execute(
        "UPDATE sources SET lease_owner = NULL, lease_until = NULL"
        " WHERE name = ANY(%s) AND lease_owner = %s",
        (sorted(set(names)), owner),
    )


@contextlib.asynccontextmanager
async def renewing(renew: Callable[[], object], seconds: float) -> AsyncIterator[None]:
    """Call `renew` (in a thread) every third of `seconds` while the block runs: leases
    of that length last as long as the work, and expire soon after a worker dies."""

    async def keep() -> None:
        while True:
            await asyncio.sleep(seconds / 3)
            try:
                await asyncio.to_thread(renew)
            except Exception:  # the next renewal may succeed; the lease lasts meanwhile
                log.warning("renewing leases failed", exc_info=True)

    keeper = asyncio.ensure_future(keep())
    try:
        yield
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
