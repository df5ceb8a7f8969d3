"""kill -9 between match and delivery, again and again: every match has an alert, every
alert is delivered, and the only copies are those of the at-least-once window (the
program ran, the process died before `mark_sent`), which the alert's "id" lets the
program drop."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monitor.io.ledger import Ledger
from tests.support.writer import REPO

CHUNKS = 4  # passes of the writer, each recording PER matches then delivering them
PER = 4  # two per watch: each delivery is a batch of two alerts (a JSON array)
WATCHES = ("W0", "W1")

# The command channel's program: it appends what it got, only when the JSON is whole.
PROGRAM = """
import json, sys
data = sys.stdin.buffer.read()
json.loads(data)
with open(sys.argv[1], "ab") as out:
    out.write(data.rstrip(b"\\n") + b"\\n")
"""

# The writer: one pass records a chunk of matches (again: a re-poll, which the ledger
# ignores) and delivers what is due, as the session does after `watch`. It kills itself
# at step `kill_at`: after a record commits, after the program ran (before `mark_sent`),
# or after `mark_sent` commits. It says what it sent and marked, so that the test knows
# what was in the window when it died.
CHILD = """
import asyncio, os, signal, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from monitor.config import AlertSettings
from monitor.io import channels
from monitor.io.deliver import deliver_due
from monitor.io.ledger import Ledger
from tests.test_ledger import NOW, match

root, kill_at, out, program = Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
chunks, per, watches = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8].split(",")
steps = 0
last = []

def step(what):
    global steps
    steps += 1
    print(what, flush=True)
    if steps == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

real_record, real_sent, real_send = Ledger.record, Ledger.mark_sent, channels.send

def record(self, *args, **kw):
    done = real_record(self, *args, **kw)
    step("recorded")
    return done

def mark_sent(self, *args, **kw):
    real_sent(self, *args, **kw)
    step("marked " + " ".join(last))

async def send(channel, alerts, settings):
    await real_send(channel, alerts, settings)
    last[:] = [str(a["id"]) for a in alerts]
    step("sent " + " ".join(last))

Ledger.record, Ledger.mark_sent, channels.send = record, mark_sent, send

async def main():
    ledger = Ledger(root)
    settings = AlertSettings(command=(sys.executable, "-c", program, out))
    due = {w: {"command": NOW} for w in watches}
    await deliver_due(ledger, settings, NOW)  # what a crash left unsent
    for c in range(chunks):
        found = [
            match(watches[n % len(watches)], n, f"S{n}", f"story {n} " * 8)
            for n in range(c * per, (c + 1) * per)
        ]
        ledger.record(found, due, NOW)
        await deliver_due(ledger, settings, NOW)
    ledger.close()
    print("done", flush=True)

asyncio.run(main())
"""


def run_child(root: Path, kill_at: int, out: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-c", CHILD, str(REPO), str(root), str(kill_at), str(out), PROGRAM]
    argv += [str(CHUNKS), str(PER), ",".join(WATCHES)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=REPO)


def delivered(out: Path) -> list[dict[str, Any]]:
    """Every alert the program got, one line per batch (an object, or an array)."""
    got: list[dict[str, Any]] = []
    for line in out.read_text(encoding="utf-8").splitlines():
        data = json.loads(line)
        got.extend(data if isinstance(data, list) else [data])
    return got


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_kill_between_match_and_delivery_delivers_once_but_the_window(tmp_path: Path) -> None:
    rng = random.Random(20261205)
    out = tmp_path / "delivered.jsonl"
    window: Counter[int] = Counter()  # alert id -> kills after the program ran, before marking
    kinds: Counter[str] = Counter()  # the steps killed at
    rounds = 0
    while True:
        rounds += 1
        assert rounds <= 40, "the writer never finished"
        done = run_child(tmp_path, rng.randint(1, 6), out)
        lines = done.stdout.splitlines()
        if done.returncode == 0:
            assert lines[-1] == "done", done.stderr
            break
        assert done.returncode == -signal.SIGKILL, (done.stdout, done.stderr)
        what, *ids = lines[-1].split()  # the step it died at
        kinds[what] += 1
        if what == "sent":
            window.update(int(i) for i in ids)

    ledger = Ledger(tmp_path)
    try:
        alerts = ledger.alerts()
        deliveries = [d for a in alerts for d in ledger.deliveries(a.id)]
    finally:
        ledger.close()
    # every match has its alert, once
    n = CHUNKS * PER
    assert sorted(a.story for a in alerts) == sorted(f"id{k:06d}" for k in range(n))
    assert {a.watch for a in alerts} == set(WATCHES)
    assert [(d.channel, d.state) for d in deliveries] == [("command", "sent")] * n
    # every alert delivered; a copy only for a kill in the window, as many as those kills
    got = Counter(int(a["id"]) for a in delivered(out))
    assert set(got) == {a.id for a in alerts}
    assert {i: c - 1 for i, c in got.items() if c > 1} == dict(window)
    assert kinds["recorded"] and kinds["sent"] and kinds["marked"], kinds
    assert sum(window.values()) >= 2  # the window was hit, and its copies keep their id
    by_id = {a.id: a.story for a in alerts}
    assert all(by_id[int(a["id"])] == a["story"] for a in delivered(out))
