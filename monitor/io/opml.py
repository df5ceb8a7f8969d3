"""Add OPML feeds to config.toml, keeping the file's comments and layout."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import tomlkit
from tomlkit.items import AoT

from monitor.config import parse as parse_config
from monitor.core.opml import OpmlFeed, read_opml

__all__ = ["add_sources", "read_opml"]


def add_sources(
    config: Path, feeds: list[OpmlFeed], *, dry_run: bool = False
) -> tuple[list[str], int]:
    """Append the feeds not yet configured (by URL) as [[sources]]. Returns (added names, skipped).

    The result is validated as a whole before it replaces the file, atomically.
    """
    text = config.read_text(encoding="utf-8")
    doc = tomlkit.parse(text)
    sources = doc.get("sources")
    if sources is None:
        sources = tomlkit.aot()
        doc.append("sources", sources)
    assert isinstance(sources, AoT)
    urls = {str(s.get("url", "")).strip() for s in sources}
    names = {str(s.get("name", "")).strip() for s in sources}
    added: list[str] = []
    for feed in feeds:
        if feed.url in urls:
            continue
        name, n = feed.name, 2
        while name in names:
            name, n = f"{feed.name} ({n})", n + 1
        table = tomlkit.table()
        table.add("name", name)
        table.add("url", feed.url)
        if feed.category:
            table.add("category", feed.category)
        sources.append(table)
        urls.add(feed.url)
        names.add(name)
        added.append(name)
    new_text = tomlkit.dumps(doc)
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
