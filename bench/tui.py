"""Dashboard benchmark: first paint, filter keys, memory at 100k items; keys during a poll.

    uv run python bench/tui.py [--items 100000] [--feeds 500] [--repeats 5] [--no-pty]
    uv run python bench/tui.py --parts poll --poll-store big  # only the poll, into 100k items
    uv run python bench/tui.py --why                       # where the loop stalls, and why
    uv run python bench/tui.py --poll-variants as-is,no-sniffio-search+parse-in-processes
    uv run python bench/tui.py --filter-variants as-is,gc-freeze --poll-store big

1. First paint: a store of `--items` items (bench/store.py's generator, 1,000 a day, so
   ~100 days; one title in three starts with a topic word of known frequency, so that
   filters have common and rare words to find) is built once in a temp folder. Then, in
   fresh processes, the dashboard (`App.run_test(size=(120, 40))`, no polling) is timed
   from the process start until the first frame that holds timeline rows: interpreter
   start, `import monitor.tui.app`, opening the store, app start, `store.entry_index()` (in
   the app's thread) and the rest. Also the real `monitor` in a pseudo-terminal of the
   same size, until the newest title is written to the terminal (`--no-pty` skips it).
   Both with Python's bytecode cache (kept in the temp folder: a normal install after its
   first run) and with the environment as it is (with PYTHONDONTWRITEBYTECODE set and no
   __pycache__ beside the installed packages, they are compiled at every start).
2. Filter keystrokes: `/`, then each query typed one key at a time; for each key, the time
   until the frame that shows the new view: raw (with the app's 150 ms debounce) and from
   the debounce firing (parse, filter in a thread, repaint). Event-loop lag and garbage
   collections are recorded meanwhile.
3. Memory: VmRSS and VmHWM (peak) of the app process after the first paint and after the
   filters.
4. Poll: bench/feedserver.py in its own process (`--feeds` feeds over 50 loopback
   addresses, 100 ms latency), a fresh store (1,000 items, so that the cursor can move)
   and the real poller. `j` is pressed every 50 ms from a thread, as a terminal's input
   thread would, first for 3 s idle, then from `r` until the poll's result is painted
   and the live stories have taken its items in (in a worker thread, after the paint);
   each press is timed until the frame that shows the moved cursor. Event-loop lag (a
   callback every 10 ms) and garbage collections are recorded per phase.

`--why` samples, while the loop is more than 50 ms late, where the loop's thread and the
other threads are, notes where the other threads stood each time the loop woke up more
than 40 ms late (one of them held the GIL), and lists each phase's slowest keys with the
loop's lateness and the garbage collections around them. `--poll-variants` and
`--filter-variants` rerun those parts with a change applied from outside the app (see
--help), to measure a fix before making it.

Hooks are taken from outside (wrapped methods on the app instance, a timing store proxy):
the app is not changed. Everything lives in a temp folder that is removed afterwards; the
feed server is killed on exit.
"""

from __future__ import annotations

import time

T_SCRIPT = time.time()  # as early as possible: the child's own start

import argparse  # noqa: E402
import asyncio  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pyenv import cached_bytecode_env  # noqa: E402

SIZE = (120, 40)
SOURCES = 60  # bench/store.py's items come from "News 0" … "News 59"
# (word, share of items whose title starts with it): one topic at most per item.
TOPICS = (
    ("Ukraine", 0.15),
    ("Election", 0.08),
    ("Kremlin", 0.04),
    ("Gaza", 0.02),
    ("Tariffs", 0.01),
    ("Earthquake", 0.002),
    ("Zeppelin", 0.0003),
)
QUERIES = (
    ("common word", "budget"),  # in nearly every item's text ("budgets")
    ("rare word", "earthquake"),  # ~0.2% of titles
    ("two words", "kremlin talks"),
    ("OR query", "gaza OR tariffs"),
)
PRESS_EVERY = 0.05
LAG_EVERY = 0.01
IDLE_BASELINE = 3.0
TARGETS = {"paint": 1.5, "key": 0.1, "rss": 500.0}


# --- helpers shared by parent and children ---------------------------------------------------


def proc_status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak) in MB, from /proc."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": statistics.median(values) if values else 0.0,
        "p95": pct(values, 95),
        "max": max(values) if values else 0.0,
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def write_config(
    path: Path, store: str, *, enabled: bool, database: str | None = None, window: str = ""
) -> None:
    """A config for the built store: its 60 sources, on a loopback port nobody serves."""
    lines = [f'[storage]\npath = "{store}"\n']
    if database:
        lines.append(f'backend = "postgresql"\nurl = "{database}"\n')
        if window:
            lines.append(f'window = "{window}"\n')
    for n in range(SOURCES):
        lines.append(
            f'[[sources]]\nname = "News {n}"\nurl = "http://127.0.0.1:9/news{n}.xml"\n'
            f"enabled = {'true' if enabled else 'false'}\n"
        )
    path.write_text("\n".join(lines), encoding="utf-8")


def build_store(path: Path, size: int) -> float:
    """bench/store.py's items, PER_DAY a day before today, some titles led by a topic word."""
    from datetime import UTC, datetime, timedelta

    from msgspec.structs import replace

    from bench.store import PER_DAY, Gen
    from monitor.io.tinystore import TinyStore
    from monitor.model import Item, SourceState

    class TopicGen(Gen):
        def item(self, tag: str, i: int, published: datetime, now: datetime) -> Item:
            it = super().item(tag, i, published, now)
            r = self.rng.random()
            for word, share in TOPICS:
                if r < share:
                    return replace(it, title=f"{word}: {it.title}")
                r -= share
            return it

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    gen = TopicGen(seed=size + 7)
    t0 = time.perf_counter()
    with TinyStore(path) as store:
        store.write(
            [],
            [SourceState(f"News {n}", f"http://127.0.0.1:9/news{n}.xml") for n in range(SOURCES)],
        )
        done, day = 0, 1
        while done < size:
            n = min(PER_DAY, size - done)
            base = today - timedelta(days=day)
            batch = [
                gen.item(f"h{day}-", k, base + timedelta(seconds=k * 86_000 // n), base)
                for k in range(n)
            ]
            store.write(batch, [])
            done += n
            day += 1
    return time.perf_counter() - t0


# --- in the child: probes taken from outside the app -----------------------------------------


class TimedStore:
    """Forwards to the real store; records when entry_index() (or entries()), states() and
    write() ran."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.calls: list[tuple[str, float, float]] = []

    def _timed(self, name: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kw)
        finally:
            self.calls.append((name, t0, time.perf_counter()))

    def entries(self) -> Any:
        return self._timed("entries", self._store.entries)

    def entry_index(self) -> Any:
        return self._timed("entries", self._store.entry_index)

    def states(self) -> Any:
        return self._timed("states", self._store.states)

    def write(self, items: Any, states: Any) -> Any:
        return self._timed("write", self._store.write, items, states)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def first(self, name: str) -> tuple[float, float] | None:
        for n, a, b in self.calls:
            if n == name:
                return a, b
        return None


class Probe:
    """Wraps methods on the instances (the app's _display, the main screen's apply_view and
    set_filter) to timestamp them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.frames: list[tuple[float, int]] = []  # (time, rows in the timeline)
        self.views: list[tuple[float, float, str, int]] = []  # start, end, filter, rows
        self.filters: list[tuple[float, float, str, bool]] = []  # start, end, value, ok
        self.rows = 0
        self._wrap(app, "_display", self._on_display)
        self._wrap(app.main, "apply_view", self._on_view)
        self._wrap(app.main, "set_filter", self._on_filter)

    def _wrap(self, owner: Any, name: str, after: Callable[..., Any]) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kw: Any) -> Any:
            t0 = time.perf_counter()
            result = original(*args, **kw)
            after(t0, time.perf_counter(), result, *args)
            return result

        setattr(owner, name, wrapper)

    def _on_display(self, t0: float, t1: float, result: Any, screen: Any, renderable: Any) -> None:
        if renderable is not None:
            self.frames.append((t1, self.rows))

    def _on_view(self, t0: float, t1: float, result: Any, view: Any) -> None:
        self.rows = len(view.entries)
        self.views.append((t0, t1, self.app.session.filter.text, self.rows))

    def _on_filter(self, t0: float, t1: float, ok: Any, value: str, *rest: Any) -> None:
        self.filters.append((t0, t1, value, bool(ok)))

    def frame_after(self, moment: float) -> float | None:
        for t, _ in self.frames:
            if t >= moment:
                return t
        return None


class LagMonitor:
    """A callback every 10 ms on the event loop; how late each one runs."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (when, lateness in seconds)
        self.cpu: list[tuple[float, float]] = []  # (when, CPU seconds of the loop's thread)
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self.last = 0.0  # when the loop last ran this callback
        self.culprits: list[tuple[float, float, list[str]]] | None = None  # set by --why

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.last = time.perf_counter()
        self._due = self.last + LAG_EVERY
        self._handle = loop.call_later(LAG_EVERY, self._tick)

    def _tick(self) -> None:
        now = self.last = time.perf_counter()
        self.samples.append((now, max(0.0, now - self._due)))
        if self.culprits is not None and now - self._due > 0.04:
            # the threads just stopped: one of them held the GIL while the loop waited
            main = threading.get_ident()
            names = {t.ident: t.name for t in threading.enumerate()}
            others = [
                f"[{names.get(i, '?')}] {_where(f, 3)}"
                for i, f in sys._current_frames().items()
                if i != main
                and not any(m in _where(f, 1) for m in IDLE)
                and names.get(i) not in ("keys", "stall-sampler")
            ]
            self.culprits.append((now, now - self._due, others))
        self.cpu.append((now, time.thread_time()))
        self._due = now + LAG_EVERY
        self._handle = asyncio.get_running_loop().call_later(LAG_EVERY, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()

    def between(self, a: float, b: float) -> dict[str, float]:
        out = stats([lag for t, lag in self.samples if a <= t <= b])
        inside = [(t, c) for t, c in self.cpu if a <= t <= b]
        if len(inside) > 1 and inside[-1][0] > inside[0][0]:
            (t0, c0), (t1, c1) = inside[0], inside[-1]
            out["cpu"] = (c1 - c0) / (t1 - t0)  # share of a core used by the loop's thread
        return out


class GcWatch:
    """Every garbage collection: when, how long, which generation, in which thread."""

    def __init__(self) -> None:
        self.events: list[tuple[float, float, int, str]] = []
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            took = time.perf_counter() - self._start
            name = threading.current_thread().name
            self.events.append((self._start, took, info["generation"], name))

    def start(self) -> None:
        gc.callbacks.append(self._callback)

    def stop(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)

    def between(self, a: float, b: float) -> dict[str, Any]:
        inside = [e for e in self.events if a <= e[0] <= b]
        full = [e for e in inside if e[2] == 2]
        return {
            "count": len(inside),
            "seconds": sum(e[1] for e in inside),
            "gen2": len(full),
            "gen2_seconds": sum(e[1] for e in full),
            "gen2_max": max((e[1] for e in full), default=0.0),
            "gen2_threads": dict(Counter(e[3] for e in full)),
            "max": max((e[1] for e in inside), default=0.0),
            "longest": [
                (round(e[1] * 1000, 1), e[2], e[3]) for e in sorted(inside, key=lambda e: -e[1])[:4]
            ],
        }


def _where(frame: Any, depth: int) -> str:
    """The innermost `depth` frames of a stack, as 'file:line function' from the inside out;
    the import machinery's frames are folded into one "(import)"."""
    parts: list[str] = []
    while frame is not None and len(parts) < depth:
        path = frame.f_code.co_filename
        if path.startswith("<frozen importlib"):
            if not parts or parts[-1] != "(import)":
                parts.append("(import)")
            frame = frame.f_back
            continue
        if frame.f_code is GcWatch._callback.__code__:
            parts.append("(garbage collection)")
            frame = frame.f_back
            continue
        path = re.sub(r"^.*?/(site-packages|lib/python3\.\d+)/", "", path)
        path = path.removeprefix(str(ROOT) + "/")
        parts.append(f"{path}:{frame.f_lineno} {frame.f_code.co_name}")
        frame = frame.f_back
    return " < ".join(parts)


IDLE = ("selectors.py", "threading.py", "queue.py", "futures/thread.py")  # waiting, not running


class StallSampler:
    """While the loop is late by more than 50 ms, samples every 5 ms where the loop's thread
    is and where the other threads are (the GIL holder is among them)."""

    def __init__(self, lag: LagMonitor, threshold: float = 0.05, every: float = 0.005) -> None:
        self.lag, self.threshold, self.every = lag, threshold, every
        self.samples: list[tuple[float, str, tuple[str, ...]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        main = threading.main_thread().ident
        me = threading.get_ident()
        names = {}
        while not self._stop.wait(self.every):
            now = time.perf_counter()
            if now - self.lag.last < self.threshold:
                continue
            frames = sys._current_frames()
            if not names or len(names) != len(frames):
                names = {t.ident: t.name for t in threading.enumerate()}
            others = []
            for ident, f in frames.items():
                inner = _where(f, 1)
                if (
                    ident in (main, me)
                    or names.get(ident) == "keys"
                    or any(m in inner for m in IDLE)
                ):
                    continue
                others.append(f"[{names.get(ident, '?')}] {_where(f, 2)}")
            self.samples.append((now, _where(frames.get(main), 4), tuple(sorted(others))))

    def top(self, a: float, b: float, n: int = 6) -> dict[str, Any]:
        inside = [s for s in self.samples if a <= s[0] <= b]
        loop = Counter(s[1] for s in inside)
        workers: Counter[str] = Counter()
        for s in inside:
            workers.update(set(s[2]))
        return {
            "samples": len(inside),
            "every": self.every,
            "loop": loop.most_common(n),
            "workers": workers.most_common(n),
        }


def key_event(app: Any, char: str) -> Any:
    from textual import events

    names = {" ": "space", "/": "slash", "\x1b": "escape"}
    event = events.Key(names.get(char, char), char)
    event.set_sender(app)
    return event


def send_key(app: Any, char: str) -> float:
    """As a terminal's input thread does: through the driver. Returns the send time."""
    t = time.perf_counter()
    app._driver.send_message(key_event(app, char))
    return t


async def wait_for(cond: Callable[[], Any], timeout: float, step: float = 0.002) -> Any:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        value = cond()
        if value:
            return value
        await asyncio.sleep(step)
    return None


def load_app(config: Path, t_start: float) -> tuple[Any, TimedStore, dict[str, float]]:
    """Import the dashboard and open the store, timing each; returns the app (not started)."""
    marks: dict[str, float] = {"start": t_start, "script": T_SCRIPT}
    GC.start()
    marks["import0"] = time.time()
    from monitor.tui.app import MonitorApp

    marks["import1"] = time.time()
    from monitor.config import load
    from monitor.io.backends import open_store

    settings = load(config)
    store = TimedStore(open_store(settings, held=True))
    marks["opened"] = time.time()
    app = MonitorApp(settings, store, autopoll=False)  # type: ignore[arg-type]
    return app, store, marks


async def first_paint(app: Any, store: TimedStore, marks: dict[str, float]) -> dict[str, Any]:
    """Runs inside run_test: waits for the first frame with rows; the phases, in seconds."""
    probe = app._bench_probe
    got = await wait_for(lambda: next((t for t, rows in probe.frames if rows), None), 60)
    if got is None:
        raise SystemExit("no timeline rows within 60 s")
    # perf_counter -> wall clock, to line up with the process start
    offset = time.time() - time.perf_counter()
    ent = store.first("entries")
    view = probe.views[0]
    out = {
        "interpreter": marks["script"] - marks["start"],
        "before_import": marks["import0"] - marks["script"],
        "import": marks["import1"] - marks["import0"],
        "open_store": marks["opened"] - marks["import1"],
        "app_start": (ent[0] + offset) - marks["opened"] if ent else 0.0,
        "entries": ent[1] - ent[0] if ent else 0.0,
        "view": view[0] - ent[1] if ent else 0.0,  # id set, compute_view, worker hops
        "apply_view": view[1] - view[0],
        "to_frame": got - view[1],
        "total": got + offset - marks["start"],
        "since_import": got + offset - marks["import0"],
        "gc": GC.between(0, got),
        "rows": probe.rows,
        "title": app.main.timeline.entries[0].title if app.main.timeline.entries else "",
    }
    out.update({f"rss_{k}": v for k, v in proc_status().items()})
    return out


async def type_query(app: Any, probe: Probe, text: str) -> list[dict[str, Any]]:
    """Types `text` one key at a time, waiting for each key's effect; one record per key."""
    records = []
    for i, char in enumerate(text):
        value = text[: i + 1]
        n_filters = len(probe.filters)
        t_key = send_key(app, char)
        got = await wait_for(
            lambda n=n_filters, v=value, t=t_key: next(
                (f for f in probe.filters[n:] if f[2] == v and f[0] >= t), None
            ),
            10,
        )
        if got is None:
            records.append({"value": value, "timeout": True})
            continue
        f0, f1, _, ok = got
        rec: dict[str, Any] = {"value": value, "ok": ok, "debounce": f0 - t_key}
        if ok:
            want = value.strip()
            view = await wait_for(
                lambda t=f0, w=want: next(
                    (v for v in probe.views if v[0] >= t and v[2] == w), None
                ),
                30,
            )
            if view is None:
                rec["timeout"] = True
                records.append(rec)
                continue
            frame = await wait_for(lambda v=view: probe.frame_after(v[1]), 10)
            rec.update(
                rows=view[3],
                set_filter=f1 - f0,
                filtering=view[0] - f1,
                apply_view=view[1] - view[0],
                to_frame=(frame or view[1]) - view[1],
                after_debounce=(frame or view[1]) - f0,
                raw=(frame or view[1]) - t_key,
            )
        else:  # a query that does not parse yet ("gaza OR"): the error is shown, no filtering
            frame = await wait_for(lambda t=f1: probe.frame_after(t), 10)
            rec.update(after_debounce=(frame or f1) - f0, raw=(frame or f1) - t_key)
        records.append(rec)
        await asyncio.sleep(0.03)
    return records


GC = GcWatch()


async def child_app(
    config: Path, t_start: float, filters: bool, why: bool, variant: str = "as-is"
) -> dict[str, Any]:
    app, store, marks = load_app(config, t_start)
    app._bench_probe = Probe(app)
    result: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        result["paint"] = await first_paint(app, store, marks)
        if filters:
            if variant == "gc-freeze":
                gc.freeze()
            probe: Probe = app._bench_probe
            lag = LagMonitor()
            lag.start()
            sampler = StallSampler(lag)
            if why:
                sampler.start()
            await pilot.pause(0.2)
            runs = {}
            t0 = time.perf_counter()
            for label, query in QUERIES:
                send_key(app, "/")
                await wait_for(lambda: app.main.filter_bar.display, 5)
                await asyncio.sleep(0.05)
                runs[label] = {"query": query, "keys": await type_query(app, probe, query)}
                n = len(probe.views)
                send_key(app, "\x1b")  # clear: back to every item
                await wait_for(lambda n=n: len(probe.views) > n and probe.views[-1][2] == "", 30)
                await asyncio.sleep(0.1)
            t1 = time.perf_counter()
            result["filters"] = runs
            result["filter_lag"] = lag.between(t0, t1)
            result["filter_gc"] = GC.between(t0, t1)
            lag.stop()
            if why:
                sampler.stop()
                result["filter_stalls"] = sampler.top(t0, t1)
            result["rss_after_filters"] = proc_status()
        await pilot.press("q")
    return result


def _parse_remote(*args: Any) -> Any:
    """In a worker process: the poller's own parse + normalize (not patched there)."""
    from monitor.io import poller

    return poller._parse_and_normalize(*args)


def _warm() -> int:
    import monitor.core.normalize
    import monitor.core.parse  # noqa: F401

    return os.getpid()


VARIANTS = {
    "as-is": "the app unchanged",
    "switch-1ms": "sys.setswitchinterval(0.001): the loop's thread gets the GIL back sooner",
    "no-sniffio-search": 'sys.modules["sniffio"] = None: httpcore\'s `import sniffio`, which '
    "fails when sniffio is not installed, fails at once instead of searching sys.path",
    "parse-in-processes": "the poller's parse + normalize sent to a pool of one process a CPU",
    "parse-in-1-process": "the same with one worker process, leaving a CPU to the dashboard",
    "gc-freeze": "gc.freeze() after the first paint: full collections skip what was loaded",
    "app-loop": "the poll's requests on the dashboard's event loop, not on one of their own",
    "no-full-gc": "no full collection while the poll runs (gc threshold 2 raised, then restored)",
    "nice": "the parse worker, the poll's thread and its executor's threads at nice 10",
}


def apply_variant(variant: str) -> Callable[[], None]:
    """Changes made from outside the app for an experiment ("a+b" combines); returns the undo."""
    undos = [_apply_one(v) for v in variant.split("+")]

    def undo_all() -> None:
        for undo in reversed(undos):
            undo()

    return undo_all


def _apply_one(variant: str) -> Callable[[], None]:
    if variant == "switch-1ms":
        before = sys.getswitchinterval()
        sys.setswitchinterval(0.001)
        return lambda: sys.setswitchinterval(before)
    if variant == "no-sniffio-search":
        if "sniffio" in sys.modules:
            return lambda: None
        sys.modules["sniffio"] = None  # type: ignore[assignment]

        def forget() -> None:
            sys.modules.pop("sniffio", None)

        return forget
    if variant in ("parse-in-processes", "parse-in-1-process"):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        from monitor.io import poller

        workers = 1 if variant == "parse-in-1-process" else os.cpu_count() or 2
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("forkserver"))
        for f in [pool.submit(_warm) for _ in range(workers)]:  # started and imported
            f.result()
        real = poller._parse_and_normalize

        def in_a_process(*args: Any) -> Any:  # still called in a thread by the poller
            return pool.submit(_parse_remote, *args).result()

        poller._parse_and_normalize = in_a_process  # type: ignore[assignment]

        def undo() -> None:
            poller._parse_and_normalize = real
            pool.shutdown()

        return undo
    return lambda: None  # as-is; gc-freeze is applied by the caller after the first paint


async def child_poll(config: Path, why: bool, variant: str) -> dict[str, Any]:
    """The real poller on the feed server; `j` every 50 ms from a thread."""
    from monitor.config import load
    from monitor.io.backends import open_store
    from monitor.io.loops import on_own_loop, parse_pool
    from monitor.io.poller import poll_once
    from monitor.tui.app import MonitorApp
    from monitor.tui.widgets.timeline import Timeline

    undo = apply_variant(variant)
    GC.start()
    settings = load(config)
    for v in variant.split("+"):
        if v.startswith("concurrency-"):
            from dataclasses import replace

            n = int(v.removeprefix("concurrency-"))
            settings = replace(settings, poll=replace(settings.poll, concurrency=n))
    store = TimedStore(open_store(settings, held=True))
    span: dict[str, float] = {}

    # as the app does without a poll= argument: parsing in its worker process (the
    # parse-in-* variants replace the parse function instead)
    executor = None if "parse-in" in variant else parse_pool()

    niced = "nice" in variant.split("+")
    if niced and executor is not None:
        executor.submit(os.nice, 10).result()

    def nice_thread() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)

    async def poll_niced(*args: Any, **kw: Any) -> Any:
        from concurrent.futures import ThreadPoolExecutor

        nice_thread()
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(initializer=nice_thread))
        return await poll_once(*args, **kw)

    async def timed_poll(settings: Any, store: Any, **kw: Any) -> Any:
        span["poll0"] = time.perf_counter()
        thresholds = gc.get_threshold()
        if "no-full-gc" in variant.split("+"):
            gc.set_threshold(thresholds[0], thresholds[1], 1_000_000)
        # as the app's own poll: on a loop of its own, the actors found after it
        try:
            if "app-loop" in variant.split("+"):
                return await poll_once(settings, store, executor=executor, annotate=False, **kw)
            return await on_own_loop(
                poll_niced if niced else poll_once,
                settings,
                store,
                executor=executor,
                annotate=False,
                **kw,
            )
        finally:
            span["poll1"] = time.perf_counter()
            gc.set_threshold(*thresholds)

    handled: list[tuple[float, int]] = []
    original_down = Timeline.action_cursor_down

    def cursor_down(self: Any) -> None:
        original_down(self)
        handled.append((time.perf_counter(), self.cursor))

    Timeline.action_cursor_down = cursor_down  # type: ignore[method-assign]
    app = MonitorApp(settings, store, poll=timed_poll, autopoll=False)  # type: ignore[arg-type]
    probe = Probe(app)
    sent: list[float] = []
    stop = threading.Event()

    def presser() -> None:
        next_at = time.perf_counter()
        while not stop.is_set():
            next_at += PRESS_EVERY
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent.append(send_key(app, "j"))

    result: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(lambda: any(rows for _, rows in probe.frames), 60)
        if "gc-freeze" in variant.split("+"):
            gc.freeze()
        await pilot.pause(0.3)
        lag = LagMonitor()
        lag.start()
        sampler = StallSampler(lag)
        if why:
            lag.culprits = []
            sampler.start()
        # the live stories take in the poll's items after its result is painted, in a
        # worker thread: keys are timed until they have (StoriesUpdated)
        stories_done: list[float] = []
        session_emit = app.session.emit

        def emit(event: Any) -> None:
            if type(event).__name__ == "StoriesUpdated" and event.added and "poll1" in span:
                stories_done.append(time.perf_counter())
            session_emit(event)

        app.session.emit = emit  # type: ignore[method-assign]
        thread = threading.Thread(target=presser, name="keys", daemon=True)
        t_idle = time.perf_counter()
        thread.start()
        await asyncio.sleep(IDLE_BASELINE)
        n_views = len(probe.views)
        t_r = send_key(app, "r")
        ok = await wait_for(lambda: "poll1" in span, 600, step=0.05)
        if not ok:
            raise SystemExit("the poll did not finish within 600 s")
        view = await wait_for(
            lambda: next((v for v in probe.views[n_views:] if v[0] >= span["poll1"]), None), 120
        )
        t_shown = probe.frame_after(view[1]) if view else None
        t_end = t_shown or time.perf_counter()
        await wait_for(lambda: stories_done, 120, step=0.05)
        t_stories = max(stories_done[0], t_end) if stories_done else t_end
        stop.set()
        thread.join()
        await pilot.pause(0.3)
        lag.stop()
        if why:
            sampler.stop()
        rss = proc_status()
        report = app.session.last_report
        await pilot.press("q")
    Timeline.action_cursor_down = original_down  # type: ignore[method-assign]
    undo()
    if executor is not None:
        executor.shutdown()

    # keys are handled in the order they were sent: pair them up
    keys = []
    for t_sent, (t_handled, _cursor) in zip(sent, handled, strict=False):
        t_frame = probe.frame_after(t_handled)
        keys.append((t_sent, t_handled - t_sent, (t_frame or t_handled) - t_sent))
    p0, p1 = span["poll0"], span["poll1"]
    write = [(a, b) for n, a, b in store.calls if n == "write" and a >= p0]

    def phase(a: float, b: float) -> dict[str, Any]:
        inside = [k for k in keys if a <= k[0] < b]
        worst = sorted(inside, key=lambda k: -k[2])[:5]
        return {
            "worst": [
                {
                    "at": round(k[0] - a, 3),
                    "to_action": round(k[1] * 1000),
                    "to_frame": round(k[2] * 1000),
                    "lags": [
                        (round((t - k[0]) * 1000), round(lag * 1000))
                        for t, lag in lag.samples
                        if k[0] - 0.02 <= t <= k[0] + k[2] + 0.02 and lag > 0.005
                    ],
                    "gc": [
                        (round((e[0] - k[0]) * 1000), round(e[1] * 1000, 1), e[2], e[3])
                        for e in GC.events
                        if k[0] - 0.05 <= e[0] <= k[0] + k[2] and e[1] > 0.002
                    ],
                }
                for k in worst
            ],
            "seconds": b - a,
            "key_to_frame": stats([k[2] for k in inside]),
            "key_to_action": stats([k[1] for k in inside]),
            "loop_lag": lag.between(a, b),
            "gc": GC.between(a, b),
            **({"stalls": sampler.top(a, b)} if why else {}),
            "culprits": [
                (round(late * 1000), where) for t, late, where in lag.culprits or [] if a <= t <= b
            ],
        }

    result["idle"] = phase(t_idle + 0.2, t_r)
    result["poll"] = phase(t_r, p1)
    if write:
        result["fetch_parse"] = phase(t_r, write[0][0])
        result["store_write"] = phase(write[0][0], write[0][1])
    result["after_poll"] = phase(p1, t_end)
    result["stories_after"] = phase(t_end, t_stories)
    result["whole"] = phase(t_r, t_stories)
    result["poll_seconds"] = p1 - p0
    result["apply_view_after_poll"] = [
        round((b - a) * 1000, 1) for a, b, *_ in probe.views if a >= p1
    ]
    result["key_r_to_poll"] = p0 - t_r
    result["shown_after_poll"] = t_end - p1
    result["write_seconds"] = write[0][1] - write[0][0] if write else None
    result["keys_sent"] = len(sent)
    result["keys_handled"] = len(handled)
    result["rss"] = rss
    result["rows"] = probe.rows
    if report is not None:
        result["report"] = {
            "new": report.new,
            "failed": len(report.failed),
            "sources": len(report.results),
        }
    return result


# --- the parent -------------------------------------------------------------------------------


AS_IS = "environment as is"  # the other start-up mode: this environment unchanged


def run_child(
    *args: str, why: bool = False, env: dict[str, str] | None = None, timeout: float = 900
) -> Any:
    """This file in a fresh process; its last line of output, as JSON."""
    extra = ["--why"] if why else []
    start = time.time()
    run = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            *args,
            *extra,
            "--t0",
            repr(start),
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if run.returncode != 0:
        raise SystemExit(f"child {args[0]} failed ({run.returncode}):\n{run.stderr[-4000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def pty_paint(
    config: Path, needle: str, base: dict[str, str], timeout: float = 30
) -> dict[str, float]:
    """The real `monitor` in a pseudo-terminal: seconds until `needle` is on the screen."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    env = {**base, "TERM": "xterm-256color", "COLUMNS": str(SIZE[0]), "LINES": str(SIZE[1])}
    code = "import sys; from monitor.cli import main; sys.exit(main(sys.argv[1:]))"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "--config", str(config)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
        start_new_session=True,
    )
    os.close(slave)
    out = bytearray()
    want = needle.encode()
    seen: float | None = None
    rss: dict[str, float] = {}
    try:
        while time.perf_counter() - t0 < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 1 << 16)
                except OSError:
                    break
                if not chunk:
                    break
                out.extend(chunk)
                if want in out:
                    seen = time.perf_counter() - t0
                    break
            elif proc.poll() is not None:
                break
        if seen is not None:
            time.sleep(0.5)  # settled: the memory of a dashboard on screen
            rss = proc_status(proc.pid)
        os.write(master, b"q")
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    if seen is None:
        tail = bytes(out[-300:]).decode("utf-8", "replace")
        raise RuntimeError(f"the title never showed (exit {proc.returncode}): {tail!r}")
    return {"seconds": seen, **rss}


def seed_store(path: Path, size: int) -> None:
    build_store(path, size)


def show_gc(label: str, g: dict[str, Any]) -> None:
    print(
        f"  {label}: {g['count']} collections, {ms(g['seconds'])} in all; {g['gen2']} full "
        f"(gen 2) taking {ms(g['gen2_seconds'])}, the longest {ms(g['gen2_max'])}"
        + (
            f" (run by: {', '.join(f'{k} {v}' for k, v in g['gen2_threads'].items())})"
            if g["gen2"]
            else ""
        )
    )


def show_stalls(label: str, st: dict[str, Any] | None) -> None:
    """Where the threads were while the loop was more than 50 ms late (--why)."""
    if not st or not st["samples"]:
        return
    every = st["every"]
    print(f"  {label}: loop stalled > 50 ms for ~{st['samples'] * every:.1f} s of samples")
    print("    the loop's thread was in (innermost first):")
    for where, n in st["loop"]:
        print(f"      {n * every * 1000:6.0f} ms  {where}")
    print("    other running threads:")
    for where, n in st["workers"]:
        print(f"      {n * every * 1000:6.0f} ms  {where}")


def show_keys(runs: dict[str, Any]) -> list[float]:
    """Prints the per-key lines of the filter runs; returns every post-debounce latency."""
    after: list[float] = []
    for label, run in runs.items():
        print(f"  {label}: {run['query']!r}")
        for rec in run["keys"]:
            if rec.get("timeout"):
                print(f"    {rec['value']!r:<20} timed out")
                continue
            if not rec["ok"]:
                print(
                    f"    {rec['value']!r:<20} (does not parse yet: error shown) "
                    f"raw {ms(rec['raw'])}, after debounce {ms(rec['after_debounce'])}"
                )
                continue
            after.append(rec["after_debounce"])
            print(
                f"    {rec['value']!r:<20} {rec['rows']:>7,} rows  raw {ms(rec['raw']):>7}  "
                f"after debounce {ms(rec['after_debounce']):>6} = parse {ms(rec['set_filter'])}"
                f" + filter {ms(rec['filtering'])} + apply {ms(rec['apply_view'])}"
                f" + paint {ms(rec['to_frame'])}"
            )
    return after


Summary = list[tuple[str, str, str, bool | None]]


def bench_paint(
    config: Path, repeats: int, summary: Summary, env: dict[str, str], mode: str
) -> dict[str, Any]:
    print(f"\nfirst paint, {mode}, {repeats} fresh processes (run_test, {SIZE[0]}x{SIZE[1]}):")
    if mode == AS_IS and os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print(
            "  (PYTHONDONTWRITEBYTECODE is set: packages without __pycache__ beside them are "
            "compiled at every start, as on the first run after an install)"
        )
    paints = [run_child("paint", str(config), env=env)["paint"] for _ in range(repeats)]
    phases = [
        ("interpreter", "interpreter start"),
        ("before_import", "stdlib imports of this script"),
        ("import", "import monitor.tui.app"),
        ("open_store", "load config + open store"),
        ("app_start", "app start until entry_index() runs"),
        ("entries", "store.entry_index() (in a thread)"),
        ("view", "ids + compute_view + hops"),
        ("apply_view", "apply_view (on the loop)"),
        ("to_frame", "until the frame with rows"),
        ("total", "TOTAL from process start"),
        ("since_import", "from before the import"),
    ]
    for key, label in phases:
        values = [p[key] for p in paints]
        print(
            f"  {label:<32} median {ms(statistics.median(values)):>8}   "
            f"({', '.join(f'{v * 1000:.0f}' for v in values)})"
        )
    paint = statistics.median(p["total"] for p in paints)
    target = TARGETS["paint"]
    rows = paints[0]["rows"]
    summary.append(
        (
            f"first paint at {rows:,} items, {mode} (run_test)",
            f"< {target} s",
            f"{paint:.2f} s",
            paint < target,
        )
    )
    rss = statistics.median(p["rss_VmRSS"] for p in paints)
    hwm = statistics.median(p["rss_VmHWM"] for p in paints)
    print(f"  RSS after first paint: {rss:.0f} MB (peak {hwm:.0f} MB)")
    middle = sorted((p["gc"] for p in paints), key=lambda g: g["seconds"])[len(paints) // 2]
    show_gc("garbage collection until then (median run)", middle)
    limit = TARGETS["rss"]
    if mode == "bytecode cached":
        summary.append(("RSS after first paint", f"< {limit:.0f} MB", f"{rss:.0f} MB", rss < limit))
    return paints[0]


def bench_pty(
    config: Path, needle: str, repeats: int, summary: Summary, env: dict[str, str], mode: str
) -> None:
    print(f"\nfirst paint of the real `monitor` in a {SIZE[0]}x{SIZE[1]} pty, {mode}:")
    label, target = f"first paint, real app in a pty, {mode}", TARGETS["paint"]
    try:
        ptys = [pty_paint(config, needle, env) for _ in range(repeats)]
    except Exception as exc:
        print(f"  not measured: {exc}")
        summary.append((label, f"< {target} s", "n/a", None))
        return
    secs = [p["seconds"] for p in ptys]
    med = statistics.median(secs)
    print(
        f"  until the newest title is written: median {ms(med)}  "
        f"({', '.join(f'{v * 1000:.0f}' for v in secs)}); RSS then "
        f"{statistics.median(p['VmRSS'] for p in ptys):.0f} MB "
        f"(peak {statistics.median(p['VmHWM'] for p in ptys):.0f} MB)"
    )
    summary.append((label, f"< {target} s", f"{med:.2f} s", med < target))


def bench_filters(
    config: Path, runs: int, why: bool, summary: Summary, env: dict[str, str], variant: str
) -> None:
    print(f"\nfilter keystrokes, {variant} ({runs} fresh processes; the app debounces 150 ms):")
    after: list[float] = []
    raw: list[float] = []
    rss: list[dict[str, float]] = []
    lags: list[dict[str, float]] = []
    for run in range(runs):
        res = run_child(f"filter:{variant}", str(config), why=why, env=env)
        print(f" run {run + 1}:")
        after += show_keys(res["filters"])
        raw += [
            k["raw"]
            for r in res["filters"].values()
            for k in r["keys"]
            if not k.get("timeout") and k["ok"]
        ]
        rss.append(res["rss_after_filters"])
        lags.append(res["filter_lag"])
        show_gc("garbage collection while filtering", res["filter_gc"])
        show_stalls("stalls while filtering", res.get("filter_stalls"))
    a, r = stats(after), stats(raw)
    print(
        f"  after the debounce: median {ms(a['median'])}, p95 {ms(a['p95'])}, max {ms(a['max'])}"
        f" | raw (with it): median {ms(r['median'])}, p95 {ms(r['p95'])}, max {ms(r['max'])}"
    )
    print(
        f"  event-loop lag while filtering: max {ms(max(x['max'] for x in lags))}, "
        f"p95 {ms(max(x['p95'] for x in lags))}"
    )
    key, limit = TARGETS["key"], TARGETS["rss"]
    name = "filter keystroke" + ("" if variant == "as-is" else f", {variant}")
    for stat in ("median", "p95"):
        summary.append(
            (f"{name}, after debounce ({stat})", f"< {ms(key)}", ms(a[stat]), a[stat] < key)
        )
    summary.append((f"{name}, raw (p95)", "(info)", ms(r["p95"]), None))
    now = max(x["VmRSS"] for x in rss)
    hwm = max(x["VmHWM"] for x in rss)
    print(f"  RSS after the filters: {now:.0f} MB, peak {hwm:.0f} MB")
    if variant == "as-is":
        summary.append(("RSS after filters", f"< {limit:.0f} MB", f"{now:.0f} MB", now < limit))
        summary.append(
            ("peak RSS (VmHWM) after filters", f"< {limit:.0f} MB", f"{hwm:.0f} MB", hwm < limit)
        )


POLL_PHASES = (
    ("idle", "idle, before the poll"),
    ("poll", "during poll_once"),
    ("fetch_parse", "  fetch + parse"),
    ("store_write", "  store write"),
    ("after_poll", "reload + repaint after"),
    ("stories_after", "stories take the poll in"),
)


def bench_poll(
    tmp: Path,
    feeds: int,
    variants: list[str],
    why: bool,
    summary: Summary,
    servers: list[subprocess.Popen[str]],
    env: dict[str, str],
    big: Path | None = None,
    watches: int = 0,
) -> None:
    from bench.feedserver import feed_url
    from bench.poll import start_server
    from bench.poll import write_config as poll_config

    server, port, hosts = start_server(feeds, 50, 0.1)
    servers.append(server)  # killed by the caller, whatever happens
    urls = [feed_url(n, hosts, port) for n in range(feeds)]
    for n, variant in enumerate(variants):
        poll_dir = tmp / f"poll-{n}-{variant}"  # a variant may be listed twice
        poll_dir.mkdir()
        cfg = poll_dir / "config.toml"
        poll_config(cfg, urls)
        with cfg.open("a", encoding="utf-8") as f:
            for w in range(watches):  # each the items of one feed: "Item k of feed n: …"
                f.write(f'\n[[watches]]\nname = "watch {w}"\nquery = \'"feed {w * 7}"\'\n')
        if big is not None:
            shutil.copytree(big, poll_dir / "store")
            os.sync()
        else:
            seed_store(poll_dir / "store", 1000)
        where = "the big store" if big is not None else "a fresh store of 1,000 items"
        if watches:
            where += f", {watches} watches"
        print(
            f"\nkeypress latency during a poll of {feeds} feeds into {where}, {variant} "
            f"(50 loopback addresses, 100 ms latency; `j` every {ms(PRESS_EVERY)}):"
        )
        res = run_child(f"poll:{variant}", str(cfg), why=why, env=env)
        for key, label in POLL_PHASES:
            if key not in res:
                continue
            ph = res[key]
            kf, lag, g = ph["key_to_frame"], ph["loop_lag"], ph["gc"]
            print(
                f"  {label:<24} {ph['seconds']:5.1f} s {kf['n']:>4} keys: key->frame median "
                f"{ms(kf['median']):>6} p95 {ms(kf['p95']):>6} max {ms(kf['max']):>7} | "
                f"loop lag p95 {ms(lag['p95']):>6} max {ms(lag['max']):>6}, "
                f"its thread's CPU {lag.get('cpu', 0) * 100:3.0f}% | "
                f"GC {ms(g['seconds'])}, {g['gen2']} full, longest {ms(g['gen2_max'])}"
            )
            if why:
                for w in ph.get("worst", []):
                    print(f"    worst: {w}")
                for late, where in ph.get("culprits", []):
                    print(f"    loop {late} ms late; other threads: {where}")
            if why and g.get("longest"):
                print(f"    longest collections (ms, generation, thread): {g['longest']}")
        rep = res.get("report", {})
        print(
            f"  poll_once {res['poll_seconds']:.1f} s ({rep.get('new', '?')} new items, "
            f"{rep.get('failed', '?')} failed of {rep.get('sources', '?')}); store write "
            f"{res['write_seconds'] or 0:.1f} s; result painted {res['shown_after_poll']:.1f} s "
            f"after; {res['keys_handled']}/{res['keys_sent']} keys handled; "
            f"RSS {res['rss']['VmRSS']:.0f} MB (peak {res['rss']['VmHWM']:.0f} MB)"
        )
        if why:
            print(f"  apply_view after the poll (ms): {res.get('apply_view_after_poll')}")
        for key in ("fetch_parse", "store_write", "after_poll", "stories_after"):
            show_stalls(f"stalls, {key.replace('_', ' ')}", res.get(key, {}).get("stalls"))
        whole, target = res["whole"]["key_to_frame"], TARGETS["key"]
        name = f"key, {feeds}-feed poll{', big store' if big else ''}, {variant}"
        for stat in ("median", "p95", "max"):
            summary.append(
                (f"{name} ({stat})", f"< {ms(target)}", ms(whole[stat]), whole[stat] < target)
            )
        summary.append(
            (f"poll_once duration, {variant}", "(info)", f"{res['poll_seconds']:.1f} s", None)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument(
        "--watches",
        type=int,
        default=0,
        help="[[watches]] in the poll's config, each matching the items of one feed",
    )
    parser.add_argument("--repeats", type=int, default=5, help="first-paint runs")
    parser.add_argument("--filter-runs", type=int, default=2)
    parser.add_argument("--no-pty", action="store_true", help="skip the real app in a pty")
    parser.add_argument(
        "--parts",
        default="paint,filters,poll",
        help="comma-separated subset of paint,filters,poll (the store is always built)",
    )
    parser.add_argument(
        "--why",
        action="store_true",
        help="sample the stacks while the event loop is stalled (perturbs the timings a little)",
    )
    parser.add_argument(
        "--poll-variants",
        default="as-is",
        help="comma-separated experiments for the poll benchmark, each applied from outside "
        "the app, '+' to combine: "
        + "; ".join(f"{k}: {v}" for k, v in VARIANTS.items())
        + "; concurrency-N: [poll] concurrency = N",
    )
    parser.add_argument(
        "--poll-store",
        choices=("fresh", "big"),
        default="fresh",
        help="poll into a fresh store of 1,000 items (default) or a copy of the --items store",
    )
    parser.add_argument(
        "--filter-variants",
        default="as-is",
        help="comma-separated: as-is; gc-freeze (gc.freeze() after the first paint, from outside)",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="paint and filters on this PostgreSQL database, built before (bench/pg_scale.py)",
    )
    parser.add_argument(
        "--window", default="", help="with --database: [storage] window, e.g. 30d (default: all)"
    )
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--t0", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, config = args.child
        if mode.startswith("poll:"):
            out = asyncio.run(child_poll(Path(config), args.why, mode.split(":", 1)[1]))
        else:
            kind, _, variant = mode.partition(":")
            out = asyncio.run(
                child_app(Path(config), args.t0, kind == "filter", args.why, variant or "as-is")
            )
        print(json.dumps(out))
        return
    variants = [v.strip() for v in args.poll_variants.split(",") if v.strip()]
    unknown = {v for x in variants for v in x.split("+") if not v.startswith("concurrency-")} - set(
        VARIANTS
    )
    filter_variants = [v.strip() for v in args.filter_variants.split(",") if v.strip()]
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    unknown |= parts - {"paint", "filters", "poll"}
    unknown |= set(filter_variants) - {"as-is", "gc-freeze"}
    if unknown:
        parser.error(f"unknown variant: {', '.join(sorted(unknown))}")

    load = os.getloadavg()
    print(
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(other work on the machine slows every figure below)",
        flush=True,
    )
    tmp = Path(tempfile.mkdtemp(prefix="tui-bench-"))
    servers: list[subprocess.Popen[str]] = []
    summary: Summary = []
    try:
        store_dir = tmp / "store"
        config = tmp / "config.toml"
        write_config(config, "store", enabled=True, database=args.database, window=args.window)
        if args.database is None:
            built = build_store(store_dir, args.items)
            os.sync()  # the build's writeback must not slow the timings
            print(f"\nbuilt {args.items:,} items in {built:.0f} s", flush=True)
            from bench.store import _child as store_child

            warm = store_child("--start", str(store_dir))  # also writes any missing entry files
            print(
                f"the store alone (bench/store.py --start, no UI): open {ms(warm['open'])}, "
                f"entries() {ms(warm['entries'])}, RSS {warm['rss_mb']:.0f} MB"
            )

        cached = cached_bytecode_env(tmp / "pycache")
        modes = [("bytecode cached", cached), (AS_IS, dict(os.environ))]
        run_child("paint", str(config), env=cached)  # writes the bytecode cache; not counted
        pty_config = tmp / "pty.toml"
        write_config(pty_config, "store", enabled=False, database=args.database, window=args.window)
        for mode, env in modes if "paint" in parts else []:
            first = bench_paint(config, args.repeats, summary, env, mode)
            if not args.no_pty:
                bench_pty(pty_config, first["title"][:14], args.repeats, summary, env, mode)
        for variant in filter_variants if "filters" in parts else []:
            bench_filters(config, args.filter_runs, args.why, summary, cached, variant)
        if "poll" in parts:
            big = store_dir if args.poll_store == "big" else None
            bench_poll(
                tmp, args.feeds, variants, args.why, summary, servers, cached, big, args.watches
            )

        width = max(len(row[0]) for row in summary)
        print("\nsummary")
        print(f"  {'measure':<{width}} {'target':>10} {'measured':>10}")
        for label, target, measured, ok in summary:
            mark = "" if ok is None else ("  ok" if ok else "  MISSED")
            print(f"  {label:<{width}} {target:>10} {measured:>10}{mark}")
    finally:
        for server in servers:
            server.kill()
            server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
