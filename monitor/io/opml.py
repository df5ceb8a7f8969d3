"""Add OPML feeds to config.toml, keeping the file's comments and layout."""

from __future__ import annotations

import os
import tempfile
import tomllib
from pathlib import Path

import tomlkit

from monitor.config import parse as parse_config
from monitor.core.opml import PRIVATE, OpmlFeed, OpmlRead, read_opml, read_outlines
from monitor.io.netguard import host_of, literal_address, refused_reason

__all__ = ["add_sources", "local_host", "read_import", "read_opml", "unique_name"]

# Names that lead to this machine or its network, whatever they resolve to.
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".localdomain")


def local_host(url: str) -> str | None:
    """PRIVATE when the host of `url` is a loopback, private or link-local address (in any
    spelling netguard knows), a local name like "localhost", or a name without a dot;
    None otherwise. No lookup is made: a public name is judged again when it is fetched."""
    host = host_of(url)
    address = literal_address(host)
    if address is not None:
        return PRIVATE if refused_reason(address) else None
    if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES) or "." not in host:
        return PRIVATE
    return None


def read_import(data: bytes, *, allow_private: bool = False) -> OpmlRead:
    """The feeds of an OPML file to import: private and local addresses are skipped unless
    `allow_private`. OpmlError (a ValueError) when the file is not usable OPML."""
    return read_outlines(data, refuse=None if allow_private else local_host)


def unique_name(base: str, taken: set[str], next_number: dict[str, int]) -> str:
    """`base`, or "base (2)", "base (3)" … the first not in `taken`, which it joins.

    `next_number` remembers where each base's numbering stopped, so that a thousand feeds
    of one title cost a thousand look-ups, not half a million."""
    name = base
    if name in taken:
        n = next_number.get(base, 2)
        name = f"{base} ({n})"
        while name in taken:
            n += 1
            name = f"{base} ({n})"
        next_number[base] = n + 1
    taken.add(name)
    return name


def _toml_table(feed: OpmlFeed, name: str) -> str:
    lines = ["", "[[sources]]", f"name = {_toml_string(name)}", f"url = {_toml_string(feed.url)}"]
    if feed.category:
        lines.append(f"category = {_toml_string(feed.category)}")
    return "\n".join(lines) + "\n"


def _toml_string(value: str) -> str:
    return tomlkit.string(value).as_string()


def add_sources(
    config: Path, feeds: list[OpmlFeed], *, dry_run: bool = False
) -> tuple[list[str], int]:
    """Append the feeds not yet configured (by URL) as [[sources]] at the end of the file,
    which is otherwise kept as it is, comments included. Returns (added names, already
    present).

    The result is validated as a whole before it replaces the file, atomically.
    """
    text = config.read_text(encoding="utf-8")
    # The tables are written as text: tomlkit's document model costs ~0.3 ms a table.
    try:
        configured = tomllib.loads(text).get("sources", [])
    except tomllib.TOMLDecodeError:
        configured = []  # parse_config below says what is wrong, and where
    if not isinstance(configured, list):
        configured = []
    tables = [s for s in configured if isinstance(s, dict)]
    urls = {str(s.get("url", "")).strip() for s in tables}
    names = {str(s.get("name", "")).strip() for s in tables}
    numbers: dict[str, int] = {}
    added: list[str] = []
    parts = [text if not text or text.endswith("\n") else text + "\n"]
    for feed in feeds:
        if feed.url in urls:
            continue
        name = unique_name(feed.name, names, numbers)
        parts.append(_toml_table(feed, name))
        urls.add(feed.url)
        added.append(name)
    new_text = "".join(parts)
    parse_config(new_text, config)  # raises ConfigError: nothing is written
    if added and not dry_run:
        fd, tmp = tempfile.mkstemp(prefix=".config.", dir=config.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(new_text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, config)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return added, len(feeds) - len(added)
