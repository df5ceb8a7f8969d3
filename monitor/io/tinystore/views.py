"""The store's entries: every day's items as `Entry`s and their index, kept in memory,
read from the entry files, made again from a day's files when those changed, and followed
by readers as a writer commits. A part of `TinyStore` (`store.py`), which holds the state
declared here."""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path

from monitor.io.tinystore.days import Day, day_files, day_sigs
from monitor.io.tinystore.entries import (
    DayEntries,
    build_entries,
    entry_file_stale,
    read_entry_file,
    updated_entries,
    write_entry_file,
)
from monitor.io.tinystore.files import CorruptFile, Sig
from monitor.io.tinystore.idlog import IdLog
from monitor.io.tinystore.quarantine import Quarantine
from monitor.model import Item

log = logging.getLogger(__name__)


class EntryViews:
    """The entries part of `TinyStore`."""

    path: Path
    readonly: bool
    _days: OrderedDict[str, Day]
    _entries: dict[str, DayEntries]  # by day; loaded by entries(), kept by writes
    _entries_all: bool  # the writer has every day's entries in _entries
    _moved: set[str]  # days whose items moved in or out since rows were made
    _ids: IdLog
    _quarantine: Quarantine

    # what `TinyStore` does, that its entries need
    def _corrupt(self, path: Path, exc: CorruptFile) -> None: ...

    def _refresh(self) -> None: ...

    def _check_open(self) -> None: ...

    def _read_entries(self, day: str, items: Sig | None, text: Sig | None) -> DayEntries | None:
        """The day's entry file, if made from files with these signatures. Every read and
        write of an entry file goes through this method and `_save_entries`."""
        return read_entry_file(self.path, day, items, text)

    def _save_entries(self, day: str, entries: DayEntries) -> None:
        try:
            write_entry_file(self.path, day, entries)
        except OSError as exc:  # derived: made again on a later open; memory has them
            log.warning("store %s: cannot write the entries of %s (%s)", self.path, day, exc)

    def _build_entries(self, name: str) -> DayEntries:
        """The day's entries made from its items and text files (slow: reads the text)."""
        day = self._days.get(name) if not self.readonly else None
        if day is None:  # not cached: an old day must not push recent ones out
            day = Day(self.path, name, self.readonly, self._corrupt, self._quarantine.add)
        return build_entries(day)

    def _load_entries(self, day: str) -> DayEntries:
        """The day's entries from its entry file, else rebuilt (and saved by the writer)."""
        items, text = day_sigs(self.path, day)
        found = self._read_entries(day, items, text)
        if found is None:
            found = self._build_entries(day)
        if not found.indexed and not self.readonly:  # new, or from before indexes
            self._save_entries(day, found)
        return found

    def _forget_entries_all(self) -> None:
        self._entries.clear()
        self._entries_all = False

    def _forget_entries(self, day: str) -> None:
        self._entries.pop(day, None)
        self._entries_all = False

    def _repair_entries(self) -> None:
        """Writer open: make the entry file of every day that lacks one or has one older
        than its items or text file (a store from before entry files, or a crash between
        the two)."""
        stale = [day for day in day_files(self.path) if entry_file_stale(self.path, day)]
        if stale:
            log.info("store %s: building the entry files of %d days", self.path, len(stale))
        for day in stale:
            self._save_entries(day, self._build_entries(day))

    def _sync_entries(self) -> None:
        """Bring `_entries` up to date with the files: every day, each read once."""
        if not self.readonly:
            if not self._entries_all:
                for day in day_files(self.path):
                    if day not in self._entries:
                        self._entries[day] = self._load_entries(day)
                self._entries_all = True
            return
        days = day_files(self.path)
        for day in self._entries.keys() - set(days):
            del self._entries[day]
        for day in days:
            known = self._entries.get(day)
            items, text = day_sigs(self.path, day)
            if known is not None and known.items == items and known.text == text:
                continue
            found = self._read_entries(day, items, text)
            if found is None:
                if known is not None and self._writing():
                    continue  # the writer is between this day's files: keep the last view
                found = self._build_entries(day)
            self._entries[day] = found

    def _writing(self) -> bool:
        """Readers: whether a writer's batch is under way (index lines without a commit)."""
        self._refresh()
        return bool(self._ids.tail)

    def _update_entries(self, day: Day, changed: dict[str, Item]) -> None:
        """After a day's files were written: its entries, made again only for `changed`
        items, into memory and its entry file."""
        entries = updated_entries(self.path, day, self._entries.get(day.name), changed)
        self._save_entries(day.name, entries)
        self._entries[day.name] = entries

    def _synced_days(self) -> list[str]:
        """With `_entries` up to date: its days, newest first. Under the mutex."""
        self._check_open()
        self._refresh()
        self._sync_entries()
        for day in self._moved:
            if day in self._entries:
                self._entries[day].rows = None
        self._moved.clear()
        return sorted(self._entries, reverse=True)
