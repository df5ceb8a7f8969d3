"""kill -9 a writing process at random moments: the store must open with every committed item."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from monitor.io.tinystore import INDEX, LOCK, TinyStore
from monitor.model import Item, SourceState

REPO = Path(__file__).resolve().parents[1]
ROUNDS = 24
BATCH = 80
BASELINE = 200

# Shared by the test and the child: what batch `n` of round `r` writes.
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

_CHILD = (
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


def check(store: TinyStore, present: set[str], retitled: set[str]) -> None:
    seen = list(store.items())
    counts = Counter(it.id for it in seen)
    twice = [name for name, c in counts.items() if c > 1]
    assert not twice, f"stored twice: {twice[:5]}"
    missing = present - counts.keys()
    assert not missing, f"committed but missing: {sorted(missing)[:5]}"
    assert store.count() == len(counts)
    for it in seen:
        if it.id in retitled:
            assert it.title.endswith(" v2"), it
    for name in list(present)[:: max(1, len(present) // 50)]:
        assert store.get(name) is not None, name


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_kill_while_writing(tmp_path: Path) -> None:
    root = tmp_path / "monitor.db"
    rng = random.Random(20261125)
    baseline = [make(f"base-{k}", k % 5, text="base text") for k in range(BASELINE)]
    with TinyStore(root) as store:
        assert store.write(baseline, [SourceState("a", "https://a")]) == ["new"] * BASELINE
    present = {it.id for it in baseline}
    retitled: set[str] = set()
    killed_in_writes = unfinished = 0
    for r in range(ROUNDS):
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(REPO), str(root), str(r), str(BATCH), str(BASELINE)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stderr is not None
        seen = ""
        if r % 3 != 2:  # mostly while writing: after some batches, so the timing of the machine
            # does not decide whether a write was hit; every third round anywhere, opening included
            line = child.stdout.readline()
            assert line == "ready\n", child.stderr.read()
            for _ in range(rng.randint(1, 3)):
                seen += child.stdout.readline()
            time.sleep(rng.uniform(0, 0.15))
        else:
            time.sleep(rng.uniform(0, 0.3))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        out, err = child.communicate()
        assert child.returncode == -signal.SIGKILL, err
        done = [int(x) for x in (seen + out).split() if x.isdigit()]
        killed_in_writes += bool(done)
        for n in done:
            present.update(f"r{r}-b{n}-{k}" for k in range(BATCH))
            if n > 0:
                retitled.update(f"r{r}-b{n - 1}-{k}" for k in range(BATCH))
        last = (root / INDEX).read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        unfinished += b'"commit"' not in last  # killed between index append and commit
        # a reader first (it must not need the dead writer's repair), then a writer
        with TinyStore(root, readonly=True) as reader:
            check(reader, present, retitled)
        with TinyStore(root) as store:
            check(store, present, retitled)
        lock = FileLock(root / LOCK, timeout=0)
        lock.acquire()
        lock.release()
    assert killed_in_writes >= ROUNDS // 2
    assert unfinished >= 3
