"""ids.log, the append-only identity index: which day each item id lives in and which id
each key resolves to.

Each line says that an id lives in a day and which new keys resolve to it, or that an id is
dropped, or that the batch before it is complete (a commit line). Lines after the last
commit line are a batch a writer has not finished: `tail` keeps the day each of their ids
was in before, so that they can be checked against the day files and undone (a drop
whose item is still in its day is undone too: retention drops it again later).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import msgspec

from monitor.io.tinystore.files import (
    DECODE_ERRORS,
    Record,
    move_aside,
    no_gc,
    timestamp,
    write_atomic,
)

log = logging.getLogger(__name__)

Holds = Callable[[str, str], bool]  # (day, id): whether the day's items file holds the item


class Line(msgspec.Struct, omit_defaults=True):
    """One ids.log line: `id` lives in `day` and `keys` resolve to it; or `drop`: the item
    is not stored; or `commit`: the batch before this line is complete."""

    id: str | None = None
    day: str | None = None
    keys: list[str] = msgspec.field(default_factory=list)
    drop: str | None = None
    commit: str | None = None


def decode_lines(data: bytes) -> tuple[list[Line], int]:
    """Complete index lines, and how many lines did not parse (skipped)."""
    if not data.strip():
        return [], 0
    try:  # all at once as one JSON array: much faster than line by line
        return msgspec.json.decode(
            b"[" + data.rstrip(b"\n").replace(b"\n", b",") + b"]", type=list[Line]
        ), 0
    except DECODE_ERRORS:
        pass
    out: list[Line] = []
    bad = 0
    decoder = msgspec.json.Decoder(Line)
    for raw in data.splitlines():
        try:
            out.append(decoder.decode(raw))
        except DECODE_ERRORS:
            bad += 1
    if bad:
        log.warning("ids.log: %d lines do not parse", bad)
    return out, bad


def lines_from_days(days: Iterable[tuple[str, Iterable[Record]]]) -> list[Line]:
    """Index lines for the records of these days (day, records), oldest day first: an item
    stored in several days is placed in the one whose copy changed last."""
    best: dict[str, tuple[str, str, list[str]]] = {}  # id -> (changed, day, keys)
    for day, records in days:
        for rec in records:
            changed = rec.get("updated_at") or rec.get("first_seen") or ""
            rid = rec["id"]
            if rid not in best or changed > best[rid][0]:
                best[rid] = (changed, day, list(rec.get("keys", ())))
    return [Line(id=rid, day=day, keys=keys) for rid, (_, day, keys) in best.items()]


class IdLog:
    """ids.log and what its lines say. The writer appends to it; readers follow it."""

    def __init__(self, path: Path, readonly: bool) -> None:
        self.path = path
        self.readonly = readonly
        self.key_id: dict[str, str] = {}
        self.id_day: dict[str, str] = {}
        self.tail: dict[str, str | None] = {}  # uncommitted lines: id -> day before
        self.reverted: dict[str, str] = {}  # tail lines undone (readers only): id -> day
        self.undropped: dict[str, str] = {}  # tail drops undone (readers only): id -> day
        self._fd: int | None = None
        self._pos = 0
        self.garbled = 0  # lines of the file that do not parse (it must be made again)
        self._end = 0  # the writer: where its last whole line ends

    def load(self) -> bool:
        """Read the whole file again; the writer drops a torn last line and opens the file
        to append. Returns whether it holds no complete line."""
        self.close()
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            data = b""
        end = data.rfind(b"\n") + 1
        self.key_id, self.id_day, self.tail, self.reverted = {}, {}, {}, {}
        self.undropped = {}
        with no_gc():  # many small objects, no cycles: collecting would only slow this down
            lines, self.garbled = decode_lines(data[:end])
            self.replay(lines)
        self._pos = end
        if not self.readonly:
            if end < len(data):
                log.warning("ids.log: dropping a torn last line")
                os.truncate(self.path, end)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._end = end
        return not end

    def catch_up(self, moved: set[str] | None) -> bool:
        """Readers: apply the lines appended since the last read, adding the days items
        moved in or out of to `moved`. False if the file is shorter than what was read (it
        was made again): then it must be loaded whole."""
        try:
            size = os.stat(self.path).st_size
        except FileNotFoundError:
            size = 0
        if size < self._pos:
            return False
        if size > self._pos:
            with open(self.path, "rb") as f:
                f.seek(self._pos)
                chunk = f.read(size - self._pos)
            end = chunk.rfind(b"\n") + 1
            lines, bad = decode_lines(chunk[:end])
            if bad:
                return False  # load it whole, and find out
            self.replay(lines, moved)
            self._pos += end
        return True

    def replay(self, lines: Iterable[Line], moved: set[str] | None = None) -> None:
        """Apply index lines; add the days items moved in or out of to `moved`."""
        id_day, key_id, tail, reverted = self.id_day, self.key_id, self.tail, self.reverted
        undropped = self.undropped
        for line in lines:
            rid = line.id
            if rid is not None and line.day is not None:
                before = id_day.get(rid)
                if rid not in tail:
                    tail[rid] = before
                id_day[rid] = line.day
                for k in line.keys:
                    key_id[k] = rid
                if reverted:
                    reverted.pop(rid, None)
                if undropped:
                    undropped.pop(rid, None)
                if moved is not None and before != line.day:
                    moved.add(line.day)
                    if before is not None:
                        moved.add(before)
            elif line.drop is not None:
                rid = line.drop
                before = id_day.pop(rid, None)
                if rid not in tail:
                    tail[rid] = before
                reverted.pop(rid, None)
                undropped.pop(rid, None)
                if moved is not None and before is not None:
                    moved.add(before)
            elif line.commit is not None:
                # a writer finished the batch a reader saw unfinished
                if moved is not None:
                    for rid, day in reverted.items():
                        moved.add(day)
                        if rid in id_day:
                            moved.add(id_day[rid])
                id_day.update(reverted)
                for rid, day in undropped.items():
                    id_day.pop(rid, None)
                    if moved is not None:
                        moved.add(day)
                reverted.clear()
                undropped.clear()
                tail.clear()

    def verify_tail(self, holds: Holds) -> list[Line]:
        """Check the lines of an unfinished batch against the day files.

        A line whose item is not in its day is undone: the item stays where it was before
        the batch, or is forgotten if it was new. A drop whose item is still in the day it
        was in is undone too (the item stays). Returns the lines that say so.
        """
        fixes: list[Line] = []
        for rid, before in self.tail.items():
            day = self.id_day.get(rid)
            if day is None:
                if before is not None and holds(before, rid):  # dropped, but still there
                    self.id_day[rid] = before
                    fixes.append(Line(id=rid, day=before))
                    self.undropped[rid] = before
                continue
            if holds(day, rid):
                continue
            if before is not None and holds(before, rid):
                self.id_day[rid] = before
                fixes.append(Line(id=rid, day=before))
            else:
                del self.id_day[rid]
                fixes.append(Line(drop=rid))
            self.reverted[rid] = day
        self.tail.clear()
        return fixes

    def close_tail(self, holds: Holds) -> None:
        """The writer, on open: correct an unfinished batch in the file and commit it."""
        had_tail = bool(self.tail)
        fixes = self.verify_tail(holds)
        if had_tail:
            self.append([*fixes, Line(commit=timestamp())])
        self.reverted.clear()
        self.undropped.clear()

    def rebuild(self, days: Iterable[tuple[str, Iterable[Record]]]) -> None:
        """The file is gone, or holds lines that do not parse, but days exist: index every
        stored item again (`lines_from_days`). The writer replaces the file with those
        lines (the old one is kept as ids.log.corrupt); a reader only replays them."""
        log.warning("ids.log is missing or damaged; rebuilding it from the day files")
        lines = lines_from_days(days)
        self.key_id, self.id_day, self.tail = {}, {}, {}
        self.replay(lines)
        self.tail.clear()
        if self.readonly:
            return  # `garbled` still says why: `monitor check` reports it
        encode = msgspec.json.Encoder().encode
        data = b"".join(encode(line) + b"\n" for line in [*lines, Line(commit=timestamp())])
        self.close()
        if self.path.exists() and self.path.stat().st_size:
            move_aside(self.path)  # kept, unused
        write_atomic(self.path, data)
        self._pos = self._end = len(data)
        self.garbled = 0
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def unfinished_drops(self) -> set[str]:
        """The days the items dropped by an unfinished batch lived in."""
        id_day = self.id_day
        return {day for rid, day in self.tail.items() if day is not None and rid not in id_day}

    def drop_ids(self, ids: Sequence[str]) -> None:
        """The writer: forget these items (their records are lost)."""
        lost = [rid for rid in ids if rid in self.id_day]
        if lost:
            self.append([Line(drop=rid) for rid in lost])
            for rid in lost:
                del self.id_day[rid]

    def append(self, lines: Sequence[Line]) -> None:
        """Write whole lines at the end. A write that fails half way (a full disk) is cut
        off again, so that the next lines do not follow a torn one."""
        assert self._fd is not None
        encode = msgspec.json.Encoder().encode
        data = b"".join(encode(line) + b"\n" for line in lines)
        good = os.lseek(self._fd, 0, os.SEEK_END)
        if good > self._end:  # a torn line a failed append could not cut off
            os.ftruncate(self._fd, self._end)
            good = self._end
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
            os.fsync(self._fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, good)
            raise
        self._end = good + len(data)

    def commit(self) -> None:
        """Close the batch: the lines before this one are complete."""
        self.append([Line(commit=timestamp())])

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
