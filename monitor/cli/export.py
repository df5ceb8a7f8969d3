"""`monitor export`: stored items (those matching a query), newest first, with the
analyst's triage, as JSON Lines, JSON or CSV; read from a read-only store, so it runs
while a poller holds the writer lock."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from monitor.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    CliError,
    duration,
    parse_or_fail,
    save,
    settings_of,
    store_of,
    stories_of,
    writing_stdout,
)
from monitor.config import Settings
from monitor.core.export import chunks
from monitor.core.names import apply_names, entry_names
from monitor.core.query import Query, StoryLookup
from monitor.io.context import query_context, triage_state
from monitor.io.store import Store
from monitor.io.triage import TriageError
from monitor.model import Item, TriageState


def cmd_export(args: argparse.Namespace) -> int:
    query = parse_or_fail(args.query) if args.query else None
    if args.bom and args.format != "csv":
        raise CliError("--bom: only with --format csv", EXIT_CONFIG)
    settings = settings_of(args)
    since = since_of(args.since)
    triage = triage_of(settings)
    store = store_of(settings, readonly=True)
    try:
        items = _Counted(selected_items(settings, store, query, since, triage))
        text = chunks(items, args.format, triage, bom=args.bom)
        if args.output in (None, "-"):
            _to_stdout(text)
        else:
            path = Path(args.output)
            save(path, text, force=args.force)
            print(f"{items.count} items written to {path}", file=sys.stderr)
    finally:
        store.close()
    return EXIT_OK


def _to_stdout(text: Iterable[str]) -> None:
    """Bytes as written: UTF-8 whatever the terminal's encoding, and CSV's CRLF kept."""
    out = getattr(sys.stdout, "buffer", None)
    if out is None:
        with writing_stdout():
            sys.stdout.writelines(text)
        return
    with writing_stdout():
        sys.stdout.flush()
    for piece in text:  # the store is read between writes: its errors are its own
        with writing_stdout():
            out.write(piece.encode("utf-8"))
    with writing_stdout():
        out.flush()


def triage_of(settings: Settings) -> TriageState:
    """The analyst's triage, for a command that reads it; a CliError if it cannot be."""
    try:
        return triage_state(settings)
    except TriageError as exc:
        raise CliError(str(exc)) from None


def since_of(age: str | None) -> datetime | None:
    """`--since AGE` as a moment; None for none, or further back than any date."""
    if not age:
        return None
    try:
        return datetime.now(UTC) - duration(age)
    except ValueError as exc:
        raise CliError(f"--since: {exc}", EXIT_CONFIG) from None
    except OverflowError:
        return None  # further back than any date: everything


def selected_items(
    settings: Settings,
    store: Store,
    query: Query | None,
    since: datetime | None,
    triage: TriageState,
    stories: StoryLookup | None = None,
) -> Iterator[Item]:
    """The items to export, newest first: all of them (from `since`), or those `query`
    matches, found in the store's index and read one by one. An actor has one spelling
    and one kind throughout (`entry_names`, from the index of the items exported).
    `stories`: those `story:` and `is:story-lead` ask about (read when not given)."""
    if query is None:
        names = entry_names(e for e in store.entries() if since is None or e.published >= since)
        for item in store.items(since=since):
            yield apply_names(item, names)
        return
    index = store.entry_index()
    if stories is None and query.uses_stories():
        stories = stories_of(settings, store)
    ctx = query_context(settings, store, triage, stories)
    found = index.rows(query.select(index, datetime.now(UTC), ctx))
    found.sort(key=lambda e: e.published, reverse=True)  # newest first, ties kept in order
    if since is not None:
        found = [e for e in found if e.published >= since]
    names = entry_names(found)
    for entry in found:
        got = store.get(entry.id)
        if got is not None:
            yield apply_names(got, names)


class _Counted:
    """Items, counted as they go by."""

    def __init__(self, items: Iterable[Item]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Iterator[Item]:
        for item in self._items:
            self.count += 1
            yield item
