"""kill -9 a writing process at random moments: the store must open with every committed item."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from filelock import FileLock

from monitor.io.tinystore import INDEX, LOCK, TinyStore
from monitor.model import SourceState
from tests.support.writer import BASELINE, CHILD, REPO, make

ROUNDS = 24
BATCH = 80


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
            [sys.executable, "-c", CHILD, str(REPO), str(root), str(r), str(BATCH), str(BASELINE)],
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
