"""Records that are valid JSON but no item (a field no parser reads, no id): set aside.

A day file that parses but holds such a record must not stop anything that reads the
store. Readers skip the record and count it; the writer also keeps a copy of it, with
why, in quarantine.jsonl, once, so that nothing is lost when a new poll of the same
item replaces it or `monitor check --repair` removes it."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import msgspec

from monitor.io.tinystore.files import DECODE_ERRORS, Record, timestamp

log = logging.getLogger(__name__)

QUARANTINE = "quarantine.jsonl"


class SetAside(msgspec.Struct):
    """One line of quarantine.jsonl."""

    at: str
    file: str  # relative to the store: items/2026-11-25.json
    reason: str
    record: Record
    digest: str


class Quarantine:
    """The bad records seen since the store was opened, by (file, id or digest)."""

    def __init__(self, root: Path, readonly: bool) -> None:
        self.path = root / QUARANTINE
        self.readonly = readonly
        self.found: dict[tuple[str, str], str] = {}  # -> reason
        self._kept: set[str] | None = None  # digests already in the file: the writer's
        self._unkept = 0  # copies that could not be written (a full disk)

    def add(self, path: Path, rec: Record, reason: str) -> None:
        """A record of `path` that cannot be read, and why."""
        file = f"{path.parent.name}/{path.name}"
        raw = msgspec.json.encode(rec)
        digest = hashlib.blake2b(file.encode() + b"\0" + raw, digest_size=12).hexdigest()
        rid = rec.get("id")
        key = (file, rid if isinstance(rid, str) and rid else f"#{digest}")
        if key in self.found:
            return
        self.found[key] = reason
        log.warning("store: a record of %s cannot be read (%s); set aside", file, reason)
        if not self.readonly:
            self._keep(SetAside(timestamp(), file, reason, rec, digest))

    def healed(self, path: Path, rid: str) -> None:
        """The item `rid` of `path` was written anew: its bad record is gone."""
        self.found.pop((f"{path.parent.name}/{path.name}", rid), None)

    def count(self) -> int:
        return len(self.found)

    def kept(self) -> bool:
        """Whether every bad record seen has its copy in quarantine.jsonl."""
        return not self.readonly and not self._unkept

    def forget(self, path: Path) -> None:
        """The bad records of `path` were taken out of it (their copies are kept)."""
        file = f"{path.parent.name}/{path.name}"
        self.found = {k: v for k, v in self.found.items() if k[0] != file}

    def lines(self) -> list[str]:
        """Each bad record, in words."""
        return [
            f"{file}: a record ({rid}) cannot be read and is set aside: {reason}"
            for (file, rid), reason in sorted(self.found.items())
        ]

    def _keep(self, line: SetAside) -> None:
        if self._kept is None:
            self._kept = {s.digest for s in read_quarantine(self.path)}
        if line.digest in self._kept:
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, msgspec.json.encode(line) + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:  # a full disk must not stop reading: the record stays put
            log.warning("store: cannot keep a copy in %s (%s)", self.path.name, exc)
            self._unkept += 1
            return
        self._kept.add(line.digest)


def read_quarantine(path: Path) -> list[SetAside]:
    """The lines of quarantine.jsonl that decode; a torn or garbled one is skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    out = []
    decoder = msgspec.json.Decoder(SetAside)
    for line in data.splitlines():
        try:
            out.append(decoder.decode(line))
        except DECODE_ERRORS:
            continue
    return out
