"""What the commands share: the settings, the store, tables and untrusted text on a
terminal, queries with a caret under the mistake."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from monitor.config import ConfigError, Settings, find_config, load, parse_duration
from monitor.core.normalize import plain_line, plain_text

if TYPE_CHECKING:
    from datetime import timedelta

    from monitor.core.query import Context, Query
    from monitor.io.store import Store

EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAIL) -> None:
        super().__init__(message)
        self.code = code


def settings_of(args: argparse.Namespace) -> Settings:
    path = find_config(getattr(args, "config", None))
    if path is None:
        import platformdirs

        user = Path(platformdirs.user_config_dir("monitor")) / "config.toml"
        raise CliError(
            f"no config.toml found: give --config PATH, set $MONITOR_CONFIG, "
            f"or create ./config.toml or {user}",
            EXIT_CONFIG,
        )
    try:
        return load(path)
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_CONFIG) from None


def store_of(settings: Settings, *, readonly: bool = False) -> Store:
    from monitor.io.backends import open_store
    from monitor.io.store import StoreError

    try:
        return open_store(settings.storage, readonly=readonly)
    except StoreError as exc:
        raise CliError(str(exc)) from None


def table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """`rows` as aligned columns, the first a header; every cell through `one_line`."""
    rows = [[one_line(cell) for cell in row] for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        line = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        print(line, file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)


def clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def caret_columns(text: str) -> int:
    """Terminal columns of `text`, to put a caret under a character."""
    import unicodedata

    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def one_line(value: object) -> str:
    """The command line's gate: every untrusted text printed in a table or a line (source
    and actor names, titles, URLs, tags, error details) goes through here. It is the
    dashboard's `clean` (escape sequences, C0/C1 and bidi controls removed whole), on one
    line with white space squeezed. Nothing is markup on the command line, so "[red]"
    stays as written. JSON and CSV output is data and is left exact."""
    return plain_line(value)


def say(message: str, file: TextIO | None = None) -> None:
    """Print a message that may quote untrusted text (an error from a server, a path from
    the config), gated as `one_line` but keeping its line breaks."""
    print(plain_text(message, multiline=True), file=file or sys.stdout)


def parse_or_fail(text: str) -> Query:
    """The query language, or a CliError with a caret under the mistake."""
    from monitor.core.query import QueryError, parse_query

    try:
        return parse_query(text)
    except QueryError as exc:
        shown = "".join(c if c.isprintable() else " " for c in text)
        caret = " " * caret_columns(shown[: exc.position]) + "^"
        raise CliError(f"bad query: {exc.message}\n  {shown}\n  {caret}", EXIT_CONFIG) from None


def context_of(settings: Settings, store: Store, *queries: Query | None) -> Context:
    """What `queries` are evaluated with: the store's text index, the categories, and the
    analyst's triage when one of them asks about it (is:, tag:, has:note)."""
    from monitor.io.context import query_context

    triage = None
    if any(q is not None and q.uses_triage() for q in queries):
        from monitor.io.context import triage_state
        from monitor.io.triage import TriageError

        try:
            triage = triage_state(settings)
        except TriageError as exc:
            say(f"monitor: {exc}: no item counts as starred, tagged or read", file=sys.stderr)
    return query_context(settings, store, triage)


def write_lines(lines: list[str]) -> None:
    """Print `lines`, flushed: a reader that left (| head) stops the command here, before
    any note on stderr (see `main`)."""
    for line in lines:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()


def duration(text: str) -> timedelta:
    from datetime import timedelta

    return timedelta(seconds=parse_duration(text))


def save(path: Path, text: str | Iterable[str], *, force: bool) -> None:
    """Write `text` (or its pieces, in order) to `path` atomically; an existing file only
    with `force`."""
    from monitor.io.digest import write_file

    try:
        write_file(path, text, force=force)
    except FileExistsError:
        raise CliError(f"{path} exists; --force to overwrite it") from None
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc}") from None
