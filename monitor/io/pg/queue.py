"""Work queues: what stored items still need (their actors, their article page), as jobs
that workers on any host take (`monitor work --actors`, `--texts`).

A job is a row per item and kind. The store's writes keep the table true: an item
written needing work gets a job (`note_written`, in the write's own transaction), one
written with the work done has its job marked done, whoever did it (a poller that
annotates itself, a worker). Items stored before there were jobs are found by
`find_backlog`. Workers take jobs as pollers take sources: `FOR UPDATE SKIP LOCKED`, a
lease on the database's clock, renewed while they work; a job whose worker died is
taken again once its lease expires, and one taken `TRIES` times without being done is
given up. Doing a job twice writes the same result: the work reads the item as stored."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

import psycopg

from monitor.core.backlog import TEXT_RECENT, page_pending
from monitor.io.annotate import current
from monitor.model import Item

Kind = Literal["actors", "text"]
KINDS: tuple[Kind, ...] = ("actors", "text")
TRIES = 3  # a job taken this often without being done is given up (it kills its worker)
KEEP = TEXT_RECENT  # done jobs are kept this long (a page is not wanted after it anyway)
BACKLOG = 2_000  # items without a job given one per kind and turn of `find_backlog`

_AGAIN = (  # a job done earlier is wanted again (the item changed): a fresh start
    "ON CONFLICT (kind, id) DO UPDATE SET queued = now(), tries = 0, done = NULL,"
    " gave_up = false, lease_owner = NULL, lease_until = NULL WHERE work.done IS NOT NULL"
)


def needs(item: Item) -> list[Kind]:
    """The work `item`, as stored, still needs."""
    out: list[Kind] = []
    if not current(item):
        out.append("actors")
    if page_pending(item):
        out.append("text")
    return out


def note_written(conn: psycopg.Connection, items: Sequence[Item]) -> None:
    """In the store's write transaction, with the items as written: a job for each kind
    of work an item needs, and those it no longer needs marked done."""
    if not items:
        return
    needed = [(it.id, needs(it)) for it in items]
    for kind in KINDS:
        wanted = [i for i, kinds in needed if kind in kinds]
        done = [i for i, kinds in needed if kind not in kinds]
        if wanted:
            conn.execute(
                f"INSERT INTO work(kind, id) SELECT %s, unnest(%s::text[]) {_AGAIN}",
                (kind, sorted(wanted)),
            )
        if done:
            conn.execute(
                "UPDATE work SET done = now(), lease_owner = NULL, lease_until = NULL"
                " WHERE kind = %s AND id = ANY(%s) AND done IS NULL",
                (kind, done),
            )


def take(conn: psycopg.Connection, owner: str, kind: Kind, limit: int, seconds: float) -> list[str]:
    """Lease to `owner`, for `seconds`, up to `limit` jobs of `kind` that no worker holds
    (newest first); returns their item ids. Jobs taken `TRIES` times whose last lease
    ran out are given up first."""
    with conn.transaction():
        conn.execute(
            "UPDATE work SET done = now(), gave_up = true, lease_owner = NULL,"
            " lease_until = NULL WHERE kind = %s AND done IS NULL AND tries >= %s"
            " AND lease_until <= now()",
            (kind, TRIES),
        )
        rows = conn.execute(
            """
            UPDATE work
            SET lease_owner = %(owner)s, lease_until = now() + %(seconds)s * interval '1 s',
                tries = tries + 1
            WHERE (kind, id) IN (
                SELECT kind, id FROM work
                WHERE kind = %(kind)s AND done IS NULL
                  AND (lease_until IS NULL OR lease_until <= now())
                ORDER BY queued DESC
                LIMIT %(limit)s
                FOR UPDATE SKIP LOCKED)
            RETURNING id
            """,
            {"owner": owner, "seconds": seconds, "kind": kind, "limit": limit},
        ).fetchall()
    return [r[0] for r in rows]


def renew(
    conn: psycopg.Connection, owner: str, kind: Kind, ids: Collection[str], seconds: float
) -> None:
    """Extend `owner`'s leases on these jobs (those not done yet)."""
    conn.execute(
        "UPDATE work SET lease_until = now() + %s * interval '1 s'"
        " WHERE kind = %s AND id = ANY(%s) AND lease_owner = %s AND done IS NULL",
        (seconds, kind, list(ids), owner),
    )


def finish(conn: psycopg.Connection, kind: Kind, ids: Collection[str]) -> None:
    """These jobs are done (their result stored, or nothing was left to do)."""
    conn.execute(
        "UPDATE work SET done = now(), lease_owner = NULL, lease_until = NULL"
        " WHERE kind = %s AND id = ANY(%s) AND done IS NULL",
        (kind, list(ids)),
    )


def release(conn: psycopg.Connection, owner: str, kind: Kind, ids: Collection[str]) -> None:
    """Give back `owner`'s jobs not done (a worker stopping): free at once, and this try
    not counted."""
    conn.execute(
        "UPDATE work SET lease_owner = NULL, lease_until = NULL, tries = greatest(tries - 1, 0)"
        " WHERE kind = %s AND id = ANY(%s) AND lease_owner = %s AND done IS NULL",
        (kind, list(ids), owner),
    )


def find_backlog(conn: psycopg.Connection, limit: int = BACKLOG) -> dict[Kind, int]:
    """Jobs for stored items that need work and have none (stored before the queue, or
    copied in), newest first, up to `limit` per kind; and the done jobs older than
    `KEEP` pruned. Returns how many jobs were made per kind."""
    made: dict[Kind, int] = {}
    with conn.transaction():
        conn.execute("DELETE FROM work WHERE done < now() - %s", (KEEP,))
        # a page is never wanted after TEXT_RECENT: nor is a job for it that no one took
        conn.execute(
            "DELETE FROM work WHERE kind = 'text' AND done IS NULL AND lease_owner IS NULL"
            " AND queued < now() - %s",
            (KEEP,),
        )
        made["actors"] = conn.execute(
            "INSERT INTO work(kind, id) SELECT 'actors', i.id FROM items i"
            " WHERE NOT i.annotated AND NOT EXISTS"
            " (SELECT 1 FROM work w WHERE w.kind = 'actors' AND w.id = i.id)"
            " ORDER BY i.published DESC LIMIT %s ON CONFLICT DO NOTHING",
            (limit,),
        ).rowcount
        # which of these want their page is the worker's to say (`backlog.text_job`)
        made["text"] = conn.execute(
            "INSERT INTO work(kind, id) SELECT 'text', i.id FROM items i"
            " WHERE i.first_seen > now() - %s AND NOT i.has_text AND NOT EXISTS"
            " (SELECT 1 FROM work w WHERE w.kind = 'text' AND w.id = i.id)"
            " ORDER BY i.first_seen DESC LIMIT %s ON CONFLICT DO NOTHING",
            (TEXT_RECENT, limit),
        ).rowcount
    return made


def pending(conn: psycopg.Connection) -> dict[Kind, int]:
    """Jobs not done yet, per kind (those being worked on included)."""
    rows = conn.execute(
        "SELECT kind, count(*) FROM work WHERE done IS NULL GROUP BY kind"
    ).fetchall()
    found: dict[str, int] = {str(kind): int(n) for kind, n in rows}
    return {kind: found.get(kind, 0) for kind in KINDS}
