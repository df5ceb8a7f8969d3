"""`monitor demo`: sample feeds served from inside the process, and a config that polls them.

Nothing here needs the network: the feeds come from `DemoServer` on 127.0.0.1 and the
real poller, parser and store read them as they would any other source.
"""

from __future__ import annotations

import json
from pathlib import Path

from monitor.demo.samples import FEEDS
from monitor.demo.server import DemoServer, Published

__all__ = ["DemoServer", "Published", "demo_config"]

ACTORS = (
    ("Vladimir Putin", "person", ("Poutine", "Putin", "Путин", "Vladimir Poutine")),
    ("Donald Trump", "person", ("Trump", "Donald J. Trump")),
    ("Kremlin", "organisation", ("Kreml",)),
    ("European Union", "organisation", ("EU", "UE", "Union européenne", "Europäische Union")),
    ("New Zealand", "place", ("Nouvelle-Zélande", "Neuseeland")),
)
TAGS = (("Russia", 'actor:"Vladimir Putin" OR Kremlin OR Moscou OR Moscow OR Moskau'),)
WATCHES = (("Earthquake", "earthquake OR séisme OR Erdbeben OR tsunami"),)
FILTERS = (
    ("1", "Russie", 'actor:"Vladimir Putin" OR Russie OR Kremlin'),
    ("2", "Climat", "climat OR Klima OR Marrakech OR Marrakesch OR COP22"),
)


def _q(s: str) -> str:
    """A TOML basic string."""
    return json.dumps(s, ensure_ascii=False)


def demo_config(base_url: str, folder: Path) -> Path:
    """Write `folder`/config.toml: the sample feeds at `base_url`, the store in `folder`,
    a few actors, saved filters and an auto-tag, and a short interval so polling shows.
    Returns its path."""
    base = base_url.rstrip("/")
    lines = [
        "# monitor demo: sample feeds served by `monitor demo` on this computer.",
        "",
        "[storage]",
        'path = "data"',
        "",
        "[poll]",
        'interval = "1m"',
        'timeout = "10s"',
    ]
    for feed in FEEDS:
        lines += [
            "",
            "[[sources]]",
            f"name = {_q(feed.name)}",
            f"url = {_q(base + feed.path)}",
            f"language = {_q(feed.language)}",
            "full_text = false  # the sample links lead nowhere",
        ]
        if feed.category:
            lines.append(f"category = {_q(feed.category)}")
    for name, kind, aliases in ACTORS:
        lines += [
            "",
            f"[actors.{_q(name)}]",
            f"aliases = [{', '.join(_q(a) for a in aliases)}]",
            f"kind = {_q(kind)}",
        ]
    for name, query in TAGS:
        lines += ["", "[[tags]]", f"name = {_q(name)}", f"query = {_q(query)}"]
    for name, query in WATCHES:
        lines += [
            "",
            "[[watches]]",
            f"name = {_q(name)}",
            f"query = {_q(query)}",
            'notify = ["dashboard", "bell"]',
        ]
    lines += ["", "[filters]"]
    lines += [f"{key} = {{ name = {_q(name)}, query = {_q(q)} }}" for key, name, q in FILTERS]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
