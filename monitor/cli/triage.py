"""`monitor star|unstar|tag|untag|note|tags`: the analyst's triage from the command line.

Ids are full item ids or unique prefixes of at least `MIN_PREFIX` characters, resolved
against the store opened read-only: these work while a dashboard or a poller holds the
store. An unknown or ambiguous id changes nothing. The triage file takes its own writes
(`io.triage`), so a running dashboard shows them at its next read of the store."""

from __future__ import annotations

import argparse
import bisect
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from monitor.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    CliError,
    one_line,
    settings_of,
    store_of,
    write_lines,
)
from monitor.config import Settings
from monitor.model import tag_key

if TYPE_CHECKING:
    from monitor.io.triage import Triage

MIN_PREFIX = 6


def items(n: int) -> str:
    return f"{n} item" if n == 1 else f"{n:,} items"


def resolve(known: Iterable[str], wanted: Sequence[str]) -> list[str]:
    """The stored ids that `wanted` name (full ids, or unique prefixes of at least
    MIN_PREFIX characters), each once, in order; a CliError naming every one that names
    none or several."""
    ids = sorted(known)
    found: list[str] = []
    unknown: list[str] = []
    ambiguous: list[str] = []
    for raw in wanted:
        key = raw.strip()
        i = bisect.bisect_left(ids, key)
        if i < len(ids) and ids[i] == key:
            found.append(key)
            continue
        matches = []
        while len(key) >= MIN_PREFIX and i < len(ids) and ids[i].startswith(key):
            matches.append(ids[i])
            i += 1
            if len(matches) > 1:
                break
        if len(matches) == 1:
            found.append(matches[0])
        elif matches:
            ambiguous.append(key)
        else:
            unknown.append(key)
    problems = []
    if unknown:
        short = [k for k in unknown if len(k) < MIN_PREFIX]
        problems.append("no stored item " + ", ".join(map(one_line, unknown)))
        if short:
            problems[-1] += f" (a prefix needs {MIN_PREFIX} characters or more)"
    if ambiguous:
        problems.append("several items start with " + ", ".join(map(one_line, ambiguous)))
    if problems:
        raise CliError("; ".join(problems) + ": nothing changed")
    return list(dict.fromkeys(found))


def _ids(settings: Settings, wanted: Sequence[str]) -> list[str]:
    store = store_of(settings, readonly=True)
    try:
        return resolve((e.id for e in store.entries()), wanted)
    finally:
        store.close()


def _with_triage(settings: Settings, act: Callable[[Triage], str]) -> int:
    from monitor.io.backends import open_triage
    from monitor.io.triage import TriageError

    try:
        triage = open_triage(settings)
    except TriageError as exc:
        raise CliError(str(exc)) from None
    try:
        message = act(triage)
    except TriageError as exc:
        raise CliError(str(exc)) from None
    finally:
        triage.close()
    print(message)
    return EXIT_OK


def _tag_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise CliError("a tag needs a name", EXIT_CONFIG)
    return name


def cmd_star(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    ids = _ids(settings, args.ids)
    on: bool = args.on
    word = "starred" if on else "unstarred"

    def act(triage: Triage) -> str:
        n = triage.star(ids, on)
        left = len(ids) - n
        if not n:
            return f"{items(left)} already {word}"
        return f"{word} {items(n)}" + (f" ({left} already)" if left else "")

    return _with_triage(settings, act)


def cmd_tag(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    name = _tag_name(args.name)
    ids = _ids(settings, args.ids)
    on: bool = args.on

    def act(triage: Triage) -> str:
        # a tag keeps its first spelling: say that one
        shown = one_line(triage.state().tag_names.get(tag_key(name), name))
        n = triage.tag(name, ids, on)
        left = len(ids) - n
        if on:
            if not n:
                return f"{items(left)} already tagged {shown}"
            return f"tagged {items(n)} {shown}" + (f" ({left} already)" if left else "")
        if not n:
            return f"{items(left)} without the tag {shown}: nothing removed"
        return f"removed the tag {shown} from {items(n)}" + (
            f" ({left} did not have it)" if left else ""
        )

    return _with_triage(settings, act)


def cmd_note(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    (item_id,) = _ids(settings, [args.id])
    text = " ".join(args.text)

    def act(triage: Triage) -> str:
        if not triage.note(item_id, text):
            return f"note on {item_id} unchanged"
        return f"note removed from {item_id}" if not text.strip() else f"note saved on {item_id}"

    return _with_triage(settings, act)


def cmd_tags(args: argparse.Namespace) -> int:
    """Every tag with its number of items, most used first."""
    from monitor.io.backends import open_triage
    from monitor.io.triage import TriageError

    settings = settings_of(args)
    try:
        triage = open_triage(settings)
        try:
            found = triage.tags()
        finally:
            triage.close()
    except TriageError as exc:
        raise CliError(str(exc)) from None
    if args.format == "json":
        rows = [{"tag": name, "items": n} for name, n in found.items()]
        write_lines([json.dumps(rows, ensure_ascii=False, indent=2)])
    else:
        write_lines([f"{n:>6}  {one_line(name)}" for name, n in found.items()])
        if not found:
            print("monitor: no tags yet", file=sys.stderr)
    return EXIT_OK


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """The triage commands, under `sub`."""
    idhelp = f"item ids, or unique prefixes of {MIN_PREFIX} characters or more"
    for name, on, what in (("star", True, "star items"), ("unstar", False, "unstar items")):
        p = sub.add_parser(name, parents=[common], help=what)
        p.add_argument("ids", nargs="+", metavar="ID", help=idhelp)
        p.set_defaults(func=cmd_star, on=on)
    for name, on, what in (
        ("tag", True, "tag items (case-insensitive; the first spelling stays)"),
        ("untag", False, "remove a tag from items"),
    ):
        p = sub.add_parser(name, parents=[common], help=what)
        p.add_argument("name", metavar="NAME", help="the tag")
        p.add_argument("ids", nargs="+", metavar="ID", help=idhelp)
        p.set_defaults(func=cmd_tag, on=on)
    p = sub.add_parser("note", parents=[common], help='set an item\'s note ("" removes it)')
    p.add_argument("id", metavar="ID", help=f"an item id, or a unique prefix of {MIN_PREFIX}+")
    p.add_argument(
        "text", nargs="+", metavar="TEXT", help='the note, in one or more words; "" removes it'
    )
    p.set_defaults(func=cmd_note)
    p = sub.add_parser("tags", parents=[common], help="the tags in use, most used first")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_tags)
