"""What the commands share: the settings, the store, tables and untrusted text on a
terminal, queries with a caret under the mistake, writing output, and `dispatch`, which
turns what the world refuses (a full disk, a missing folder) into one line and a status."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from monitor.config import ConfigError, Settings, find_config, load, parse_duration
from monitor.core.normalize import plain_line, plain_text

if TYPE_CHECKING:
    from datetime import timedelta

    from monitor.core.query import Context, Query, StoryLookup
    from monitor.io.store import Store

# The statuses (README, Commands): 1 when the command could not do its work (the store
# unreadable or in use, the output not writable: a full disk, a missing folder, a reader
# gone from a socket); 2 when what it was asked is wrong (the config, a malformed query or
# date, a query over the length limits). 130 on Ctrl+C.
EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2
EXIT_USAGE = EXIT_CONFIG
EXIT_INTERRUPTED = 130


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
        # absolute: a relative store path would reach sqlite as a relative file URI
        return load(path.absolute())
    except ConfigError as exc:
        raise CliError(str(exc), EXIT_CONFIG) from None


def store_of(settings: Settings, *, readonly: bool = False) -> Store:
    from monitor.io.backends import open_store
    from monitor.io.store import StoreError

    if readonly:  # a reader opens lazily: what is wrong with the path, said now
        _readable(settings.storage)
    try:
        return open_store(settings, readonly=readonly)
    except StoreError as exc:
        raise CliError(str(exc)) from None


def _readable(path: Path) -> None:
    """A CliError unless `path` is a folder, or nothing yet (an empty store)."""
    import stat

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:  # nothing polled yet: an empty store
        return
    except OSError as exc:  # a parent is a file (ENOTDIR), no permission …
        raise CliError(f"cannot read store {path}: {reason(exc)}") from None
    if not stat.S_ISDIR(mode):
        raise CliError(f"store {path} is not a folder")


class Bar:
    """A one-line progress bar on a terminal; plain lines otherwise."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()

    def bar(self, done: int, total: int, label: str) -> None:
        width = 30
        fill = int(width * done / max(total, 1))
        self.out.write(f"\r\x1b[K[{'#' * fill}{'.' * (width - fill)}] {done}/{total} {label}")
        if done == total:
            self.out.write("\r\x1b[K")
        self.out.flush()

    def line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    """`rows` as aligned columns, the first a header; every cell through `one_line`."""
    rows = [[one_line(cell) for cell in row] for row in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    with writing_stdout():
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
    from monitor.core.query import QueryError, QueryTooLong, parse_query

    try:
        return parse_query(text)
    except QueryTooLong as exc:  # no caret under a query that long: one line
        raise CliError(f"bad query: {exc.message}", EXIT_USAGE) from None
    except QueryError as exc:
        shown = "".join(c if c.isprintable() else " " for c in text)
        caret = " " * caret_columns(shown[: exc.position]) + "^"
        raise CliError(f"bad query: {exc.message}\n  {shown}\n  {caret}", EXIT_CONFIG) from None


def stories_of(settings: Settings, store: Store) -> StoryLookup:
    """The stories of the recent items, as the writer saved them (`io.live_stories`)."""
    from monitor.io.context import saved_stories

    return saved_stories(settings, store)


def context_of(
    settings: Settings, store: Store, *queries: Query | None, stories: bool = False
) -> Context:
    """What `queries` are evaluated with: the store's text index, the categories, the
    analyst's triage when one of them asks about it (is:, tag:, has:note), and the
    stories when one asks about them (story:, is:story-lead) or `stories` (the digest)."""
    from monitor.io.context import query_context

    triage = None
    if any(q is not None and q.uses_triage() for q in queries):
        from monitor.io.context import triage_state
        from monitor.io.triage import TriageError

        try:
            triage = triage_state(settings)
        except TriageError as exc:
            say(f"monitor: {exc}: no item counts as starred, tagged or read", file=sys.stderr)
    if not stories:
        stories = any(q is not None and q.uses_stories() for q in queries)
    return query_context(settings, store, triage, stories_of(settings, store) if stories else None)


def write_lines(lines: list[str]) -> None:
    """Print `lines`, flushed: a reader that left (| head) stops the command here, before
    any note on stderr (see `dispatch`)."""
    with writing_stdout():
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()


@contextmanager
def writing_stdout() -> Iterator[None]:
    """Around writes to stdout: an error there (a full disk) as a CliError that says
    standard output; a broken pipe is left to `dispatch`, which knows `| head`."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise CliError(f"cannot write to standard output: {reason(exc)}") from None


def reason(exc: OSError) -> str:
    """An OSError in words, without the errno: "No space left on device"."""
    return exc.strerror or str(exc)


def duration(text: str) -> timedelta:
    from datetime import timedelta

    return timedelta(seconds=parse_duration(text))


def save(path: Path, text: str | Iterable[str], *, force: bool) -> None:
    """Write `text` (or its pieces, in order) to `path` atomically; an existing file only
    with `force`."""
    from monitor.io.files import Unwritable, write_file

    try:
        write_file(path, text, force=force)
    except FileExistsError:
        raise CliError(f"{path} exists; --force to overwrite it") from None
    except Unwritable as exc:
        raise CliError(str(exc)) from None
    except FileNotFoundError:  # -o never makes folders: a mistyped one would be made
        raise CliError(f"cannot write {path}: no folder {path.parent}") from None
    except OSError as exc:
        raise CliError(f"cannot write {path}: {reason(exc)}") from None


def dispatch(command: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run `command`: its status, or what went wrong in one line on stderr and its status.
    Only what the world refuses is caught here (CliError, OSError); a bug keeps its
    traceback."""
    try:
        code = command(args)
        with writing_stdout():
            sys.stdout.flush()  # a reader that left shows here rather than at exit
        return code
    except BrokenPipeError:
        left = _reader_left()
        _drop_stdout()
        if left:  # not an error, as for `git log | head`
            return EXIT_OK
        return _fail("cannot write to standard output: broken pipe", EXIT_FAIL)
    except CliError as exc:
        return _fail(str(exc), exc.code)
    except OSError as exc:  # the store or a file it reads: its name, and why
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{reason(exc)}", EXIT_FAIL)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED)


def _fail(message: str, code: int) -> int:
    _flushes()
    say(f"monitor: {message}", file=sys.stderr)  # may quote the config, a server, a file
    return code


def _flushes() -> bool:
    """Flush stdout; False when it fails. What is still buffered then would fail again
    when the interpreter flushes it at exit, with a traceback: it goes to devnull."""
    try:
        sys.stdout.flush()
    except OSError:
        _drop_stdout()
        return False
    return True


def _drop_stdout() -> None:
    """Point stdout at devnull: nothing more is written, nor fails, at exit."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # no file behind it (a test's capture)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _reader_left() -> bool:
    """Whether stdout is a pipe whose reader has gone (`monitor export | head`)."""
    import select
    import stat

    try:
        fd = sys.stdout.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
    except (OSError, ValueError):
        return False
    if not hasattr(select, "poll"):
        return True
    poll = select.poll()
    poll.register(fd, select.POLLOUT)
    # a pipe without a reader polls as an error: a broken pipe from elsewhere is not hidden
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poll.poll(0))
