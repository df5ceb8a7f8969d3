"""The writer's text indexer: it brings the text index (`io/fts.py`) in step with the
days' files, in a thread, day by day (a whole store takes minutes)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from monitor.io.fts import TextIndex
from monitor.io.tinystore.days import Day, day_files, index_stamp
from monitor.io.tinystore.files import CorruptFile, Record

log = logging.getLogger(__name__)


def _ignore(path: Path, exc: CorruptFile) -> None:
    """The indexer reads days as a reader would: a file that does not parse is the
    writer's to handle."""


def _skip(path: Path, rec: Record, reason: str) -> None:
    """So is a record that is no item: the indexer leaves it out."""


class Indexer:
    """Indexes the days whose files differ from what the text index recorded; `committed`
    is the store's id -> day map (a moved item's old copy is not indexed)."""

    def __init__(self, root: Path, text: TextIndex, committed: Callable[[], dict[str, str]]):
        self.root = root
        self.text = text
        self.committed = committed
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def stamps(self) -> dict[str, str]:
        """Every day's files' signatures, as the text index records them."""
        return {day: index_stamp(self.root, day) for day in day_files(self.root)}

    def start(self) -> None:
        """Mark the index complete when no day is stale, else index them in a thread;
        queries use the index once it covers every day."""
        if self._thread is not None and self._thread.is_alive():
            return  # it checks for stale days again before it stops
        if not self.text.stale_days(self.stamps()):
            self.text.set_complete(True)
            return
        self.text.set_complete(False)
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="monitor-text-index", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Until the thread (if one runs) is done."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        self._thread = None
        self._stop.clear()

    def run(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Index every stale day, again until none is (a write may touch a day meanwhile);
        then mark the index complete. Returns the items indexed."""
        done = 0
        try:
            while not self._stop.is_set():
                stale = self.text.stale_days(self.stamps())
                if not stale:
                    self.text.set_complete(True)
                    return done
                self.text.set_complete(False)
                for n, day in enumerate(stale):
                    if self._stop.is_set():
                        return done
                    stamp = index_stamp(self.root, day)
                    found = Day(self.root, day, True, _ignore, _skip)
                    items = found.read(None, None, self.committed())
                    self.text.index_day(day, items, stamp)
                    done += len(items)
                    if progress is not None:
                        progress(n + 1, len(stale))
        except Exception:
            log.exception("store %s: indexing the texts failed", self.root)
        return done
