"""A child process that writes batches to a store until it is killed, and the items it
writes, for the kill -9 tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor.model import Item

REPO = Path(__file__).resolve().parents[2]
BASELINE = 200

# Shared by the tests and the child: what batch `n` of round `r` writes.
_ITEMS = '''
from datetime import UTC, datetime, timedelta
from monitor.model import Item

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def make(name: str, day: int, source: str = "a", title: str = "", text: str | None = None) -> Item:
    url = f"https://example.com/{name}"
    return Item(
        id=name,
        title=title or f"title of {name}",
        url=url,
        sources=(source,),
        published=T0 - timedelta(days=day),
        published_raw=None,
        date_flag=None,
        language="en",
        summary="a summary " * 20,
        first_seen=T0,
        keys=(f"u:{url}", f"g:feed|{name}"),
        text=text,
    )


def batch(r: int, n: int, size: int, baseline: int) -> list[Item]:
    """New items, the previous batch's items again from their own feed (retitled, moved a day),
    and some old ones seen in another feed."""
    day = (r * 3 + n) % 12
    new = [make(f"r{r}-b{n}-{k}", day + k % 2, text="body " * 50) for k in range(size)]
    again = [
        make(f"r{r}-b{n - 1}-{k}", (day + k % 2) % 12, "a", title=f"r{r}-b{n - 1}-{k} v2")
        for k in range(size)
        if n > 0
    ]
    old = [make(f"base-{(r * 7 + n * 5 + k) % baseline}", k % 5, f"s{r}") for k in range(10)]
    return new + again + old
'''

CHILD = (
    """
import sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from monitor.io.tinystore import TinyStore
from monitor.model import SourceState
"""
    + _ITEMS
    + """
root, r, size, baseline = Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
store = TinyStore(root)
print("ready", flush=True)
n = 0
while True:
    store.write(batch(r, n, size, baseline), [SourceState(f"s{r}", f"https://{r}.{n}")])
    print(n, flush=True)
    n += 1
"""
)

_ns: dict[str, Any] = {}
exec(_ITEMS, _ns)
make: Callable[..., Item] = _ns["make"]
