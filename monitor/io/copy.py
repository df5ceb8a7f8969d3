"""Copying a store into another, of either backend (`monitor store copy`): items and
source states, in batches through the target's own `write`, so that a copy run again
(after a failure, or to catch up) merges by identity and duplicates nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from monitor.io.store import Store
from monitor.model import Item

BATCH = 2_000  # items per write of the target


@dataclass(frozen=True, slots=True)
class Copied:
    items: int  # items read from the source
    new: int  # of those, new in the target
    states: int
    source_count: int
    target_count: int
    missing: int  # source items the target lacks at the end (should be 0)


def copy_store(
    source: Store, target: Store, progress: Callable[[int, int], None] | None = None
) -> Copied:
    """Copy every item and source state of `source` into `target`, then check that the
    target holds every item of the source."""
    total = source.count()
    done = new = 0
    batch: list[Item] = []

    def flush() -> None:
        nonlocal done, new
        outcomes = target.write(batch, [])
        new += outcomes.count("new")
        done += len(batch)
        batch.clear()
        if progress is not None:
            progress(done, total)

    for item in source.items():
        batch.append(item)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    states = list(source.states().values())
    target.write([], states)
    wanted = {e.id for e in source.entries()}
    held = {e.id for e in target.entries()}
    return Copied(
        items=done,
        new=new,
        states=len(states),
        source_count=total,
        target_count=target.count(),
        missing=len(wanted - held),
    )
