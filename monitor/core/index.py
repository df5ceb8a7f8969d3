"""An index over timeline entries, so that filters and counts never scan every entry. Pure.

A `Part` indexes a run of entries; a store keeps one per day, saved beside the day's
entries, so that only the days a write touches are indexed again. It holds:
- the sorted distinct words of the entries' search texts (UTF-8, cut at `WORD_BYTES`),
  and for each word the rows holding it. The words that start with a prefix are one slice
  of the sorted words, so their rows are one slice of the postings: a prefix costs the
  same as a word.
- per row: the publication time (microseconds since the epoch) and the language; per
  (row, name) pair: the sources and the actors, as ids into small vocabularies.

An `EntryIndex` joins parts in order (row numbers run on from one part to the next) over
the list of entries they were made from, and answers in boolean masks over all rows.
`core.query.Query.select` evaluates a query with it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any, NamedTuple

import msgspec
import numpy as np
import numpy.typing as npt

from monitor.core.entries import doc_key
from monitor.core.names import merge_names
from monitor.model import Entry

WORD_BYTES = 16  # a longer word is kept as its first 16 bytes; matches on it are checked
CHUNK = 2000  # entries per part when a plain list is indexed

Mask = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WORD = np.dtype(f"S{WORD_BYTES}")
_HIGH = b"\xff"  # never in UTF-8: above every continuation of a prefix


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, exactly: comparisons agree with datetime's."""
    return (moment - _EPOCH) // MICROSECOND


class Names(NamedTuple):
    """Names given to rows (sources, actors): `vocab[id[i]]` is given to row `row[i]`;
    the pairs come in row order."""

    vocab: list[str]
    row: np.ndarray  # int32
    id: np.ndarray  # int32


def _rows_dtype(size: int) -> np.dtype[Any]:
    return np.dtype(np.uint16 if size <= 0xFFFF else np.uint32)


class _PartFile(msgspec.Struct, array_like=True):
    size: int
    words: bytes
    starts: bytes
    rows: bytes
    published: bytes
    languages: list[str]
    language: bytes
    sources: list[str]
    source_row: bytes
    source_id: bytes
    actors: list[str]
    actor_row: bytes
    actor_id: bytes
    actor_count: bytes


_PART_FILE = msgspec.msgpack.Decoder(_PartFile)
_PARTS = msgspec.msgpack.Decoder(list[bytes])


class Part:
    """The index of one run of entries; see the module's docstring."""

    __slots__ = (
        "actor_count",
        "actors",
        "language",
        "languages",
        "published",
        "rows",
        "size",
        "sources",
        "starts",
        "words",
    )

    def __init__(
        self,
        size: int,
        words: np.ndarray,
        starts: np.ndarray,
        rows: np.ndarray,
        published: np.ndarray,
        languages: list[str],
        language: np.ndarray,
        sources: Names,
        actors: Names,
        actor_count: np.ndarray,
    ) -> None:
        self.size = size
        self.words = words  # sorted, distinct, S16
        self.starts = starts  # rows of words[i] are rows[starts[i]:starts[i + 1]]
        self.rows = rows
        self.published = published  # int64 microseconds, per row
        self.languages = languages  # "" for none
        self.language = language  # int32 per row, into languages
        self.sources = sources
        self.actors = actors
        self.actor_count = actor_count  # int32 per actor pair: the item's mentions of it

    @classmethod
    def build(cls, entries: Sequence[Entry]) -> Part:
        n = len(entries)
        tokens: list[str] = []
        counts: list[int] = []
        for e in entries:
            found = set(e.search.split(" "))
            found.discard("")
            tokens.extend(found)
            counts.append(len(found))
        raw = np.array(" ".join(tokens).encode().split(b" ") if tokens else [], dtype=_WORD)
        token_row = np.repeat(np.arange(n, dtype=np.int64), counts)
        words, which = np.unique(raw, return_inverse=True)
        pairs = np.unique(which.astype(np.int64) * max(n, 1) + token_row)  # cut words may repeat
        word_of = pairs // max(n, 1)
        starts = np.searchsorted(word_of, np.arange(len(words) + 1)).astype(np.int32)
        rows = (pairs % max(n, 1)).astype(_rows_dtype(n))
        published = np.fromiter((micros(e.published) for e in entries), np.int64, n)
        languages, language = _ids([e.language or "" for e in entries])
        actor_count = np.array([c for e in entries for c in entry_mentions(e)], np.int32)
        return cls(
            n,
            words,
            starts,
            rows,
            published,
            languages,
            language,
            _names([e.sources for e in entries]),
            _names([e.actors for e in entries]),
            actor_count,
        )

    def encode(self) -> bytes:
        return msgspec.msgpack.encode(
            _PartFile(
                self.size,
                self.words.tobytes(),
                self.starts.tobytes(),
                self.rows.tobytes(),
                self.published.tobytes(),
                self.languages,
                self.language.tobytes(),
                self.sources.vocab,
                self.sources.row.tobytes(),
                self.sources.id.tobytes(),
                self.actors.vocab,
                self.actors.row.tobytes(),
                self.actors.id.tobytes(),
                self.actor_count.tobytes(),
            )
        )

    @classmethod
    def decode(cls, data: bytes | memoryview) -> Part:
        """A part from `encode`; raises ValueError when the data is not one."""
        try:
            f = _PART_FILE.decode(data)
            i32 = np.int32

            def arr(raw: bytes, dtype: Any) -> np.ndarray:
                return np.frombuffer(raw, dtype=dtype)

            part = cls(
                f.size,
                arr(f.words, _WORD),
                arr(f.starts, i32),
                arr(f.rows, _rows_dtype(f.size)),
                arr(f.published, np.int64),
                f.languages,
                arr(f.language, i32),
                Names(f.sources, arr(f.source_row, i32), arr(f.source_id, i32)),
                Names(f.actors, arr(f.actor_row, i32), arr(f.actor_id, i32)),
                arr(f.actor_count, i32),
            )
        except (msgspec.DecodeError, ValueError) as exc:
            raise ValueError(f"not an index part: {exc}") from None
        if not (
            len(part.starts) == len(part.words) + 1
            and len(part.published) == len(part.language) == part.size
            and len(part.sources.row) == len(part.sources.id)
            and len(part.actors.row) == len(part.actors.id) == len(part.actor_count)
            and (len(part.starts) == 0 or int(part.starts[-1]) == len(part.rows))
        ):
            raise ValueError("not an index part: its arrays disagree")
        if not part.valid():
            raise ValueError("not an index part: a value is out of range")
        return part

    def valid(self) -> bool:
        """Whether every value points where it may: rows within the part, ids within
        their vocabularies, words sorted, runs in order (what a search indexes with)."""
        n = self.size

        def within(values: np.ndarray, limit: int) -> bool:
            return not len(values) or (int(values.min()) >= 0 and int(values.max()) < limit)

        def ordered(values: np.ndarray, strict: bool = False) -> bool:
            if len(values) < 2:
                return True
            step = values[1:] > values[:-1] if strict else values[1:] >= values[:-1]
            return bool(np.all(step))

        starts = self.starts
        return (
            n >= 0
            and (not len(starts) or int(starts[0]) == 0)
            and ordered(starts)
            and ordered(self.words, strict=True)
            and within(self.rows, max(n, 1))
            and within(self.language, max(len(self.languages), 1))
            and all(
                within(names.row, max(n, 1))
                and ordered(names.row)
                and within(names.id, max(len(names.vocab), 1))
                for names in (self.sources, self.actors)
            )
            and (not len(self.actor_count) or int(self.actor_count.min()) >= 0)
        )


def build_parts(entries: Sequence[Entry]) -> list[Part]:
    """`entries` indexed in parts of `CHUNK`. Building is mostly single numpy and bytes
    calls, each holding the GIL: on a day of 25,000 entries in one part they kept the
    dashboard's loop waiting for 100 ms; a part of 2,000 takes a few."""
    return [Part.build(entries[i : i + CHUNK]) for i in range(0, len(entries), CHUNK)]


def encode_parts(parts: Sequence[Part]) -> bytes:
    return msgspec.msgpack.encode([p.encode() for p in parts])


def decode_parts(data: bytes | memoryview) -> list[Part]:
    """Parts from `encode_parts`, or from one `Part.encode` (files from before parts);
    raises ValueError when the data is neither."""
    try:
        chunks = _PARTS.decode(data)
    except msgspec.DecodeError:
        return [Part.decode(data)]
    return [Part.decode(c) for c in chunks]


def entry_mentions(e: Entry) -> tuple[int, ...]:
    """Mentions per actor of `e`: 1 each where the entry does not say."""
    if len(e.mentions) == len(e.actors):
        return e.mentions
    return (1,) * len(e.actors)


def _ids(values: list[str]) -> tuple[list[str], np.ndarray]:
    vocab: dict[str, int] = {}
    ids = np.fromiter((vocab.setdefault(v, len(vocab)) for v in values), np.int32, len(values))
    return list(vocab), ids


def _names(names: list[tuple[str, ...]]) -> Names:
    vocab: dict[str, int] = {}
    rows: list[int] = []
    ids: list[int] = []
    for r, group in enumerate(names):
        for name in group:
            rows.append(r)
            ids.append(vocab.setdefault(name, len(vocab)))
    return Names(list(vocab), np.array(rows, np.int32), np.array(ids, np.int32))


class EntryIndex:
    """`entries` with the parts made from them, in order (their sizes add up)."""

    def __init__(self, entries: list[Entry], parts: Sequence[Part]) -> None:
        if sum(p.size for p in parts) != len(entries):
            raise ValueError("the parts do not cover the entries")
        self.entries = entries
        self.parts = tuple(parts)
        self.offsets = list(accumulate((p.size for p in self.parts), initial=0))
        self.size = len(entries)
        self.published = _cat([p.published for p in self.parts], np.int64)
        self.languages, self.language = _join_ids(self.parts)
        self.sources = _join_names([p.sources for p in self.parts], self.offsets)
        self.actors = _join_names([p.actors for p in self.parts], self.offsets)
        self.actor_count = _cat([p.actor_count for p in self.parts], np.int32)
        self._memo: dict[Any, Any] = {}

    @classmethod
    def build(cls, entries: Sequence[Entry]) -> EntryIndex:
        """The index of a plain list of entries, made in parts of `CHUNK`."""
        rows = list(entries)
        return cls(rows, build_parts(rows))

    def none(self) -> Mask:
        return np.zeros(self.size, np.bool_)

    def every(self) -> Mask:
        return np.ones(self.size, np.bool_)

    def word(self, word: str, prefix: bool) -> tuple[Mask, bool]:
        """Rows holding `word` as a whole word, or as the start of one (`prefix`); and
        whether the answer is exact (False: a long word, only its first bytes compared)."""
        key = word.encode()
        exact = len(key) < WORD_BYTES
        low = np.array(key[:WORD_BYTES], _WORD)
        high = np.array(key + _HIGH, _WORD) if exact and prefix else low
        mask = self.none()
        for part, offset in zip(self.parts, self.offsets, strict=False):
            words = part.words
            a = int(np.searchsorted(words, low, "left"))
            b = int(np.searchsorted(words, high, "left" if exact and prefix else "right"))
            if a < b:
                mask[offset : offset + part.size][part.rows[part.starts[a] : part.starts[b]]] = True
        return mask, exact

    def keyed(self, keys: Ints) -> Mask:
        """Rows whose item has one of `keys` (`core.entries.doc_key`); unknown keys (items
        a text index has and this index has not yet) are left out."""
        order, known = self.key_order()
        mask = self.none()
        if len(keys) and len(known):
            at = np.searchsorted(known, keys).clip(0, len(known) - 1)
            hit = known[at] == keys
            mask[order[at[hit]]] = True
        return mask

    def key_order(self) -> tuple[Ints, Ints]:
        """The rows in the order of their keys, and the keys in that order (made on first
        use, ~50 ms at 100,000 rows: a reader of the store makes it beside the index)."""
        found: tuple[Ints, Ints] = self.memo("keys", self._keys)
        return found

    def _keys(self) -> tuple[Ints, Ints]:
        keys = np.fromiter((doc_key(e.id) for e in self.entries), np.int64, self.size)
        order = np.argsort(keys, kind="stable")
        return order, keys[order]

    def ids_in(self, ids: frozenset[str] | set[str]) -> Mask:
        """Rows whose id is in `ids`."""
        entries = self.entries
        return np.fromiter((e.id in ids for e in entries), np.bool_, self.size)

    def named(self, names: Names, test: Callable[[str], bool]) -> Mask:
        """Rows given a name of `names` (`self.sources`, `self.actors`) for which `test`
        is true; each distinct name is tested once."""
        hit = np.fromiter(map(test, names.vocab), np.bool_, len(names.vocab))
        mask = self.none()
        if hit.any():
            mask[names.row[hit[names.id]]] = True
        return mask

    def language_is(self, test: Callable[[str | None], bool]) -> Mask:
        hit = np.fromiter((test(v or None) for v in self.languages), np.bool_, len(self.languages))
        return hit[self.language] if len(hit) else self.none()

    def since(self, moment: datetime) -> Mask:
        return self.published >= micros(moment)

    def rows(self, mask: Mask) -> list[Entry]:
        """The entries of `mask`, in order."""
        entries = self.entries
        return [entries[i] for i in np.flatnonzero(mask).tolist()]

    def check(self, mask: Mask, test: Callable[[Entry], bool]) -> Mask:
        """`mask` with the rows whose entry fails `test` turned off."""
        idx = np.flatnonzero(mask)
        entries = self.entries
        keep = np.fromiter((test(entries[i]) for i in idx.tolist()), np.bool_, len(idx))
        out = mask.copy()
        out[idx[~keep]] = False
        return out

    def count_sources(self, mask: Mask) -> dict[str, int]:
        """Items per source among the rows of `mask`."""
        vocab, row, ids = self.sources
        got = np.bincount(ids[mask[row]], minlength=len(vocab))
        return {vocab[i]: int(got[i]) for i in np.flatnonzero(got).tolist()}

    def source_rows(self, name: str) -> Mask:
        return self.named(self.sources, name.__eq__)

    def groups(self) -> tuple[list[str], Ints, Ints, Ints]:
        """Actor names that are one actor across documents (`names.merge_names` over the
        whole index), as (shown names, and per (row, group) pair: its row, its group, the
        row's mentions of the group): a row naming one actor in two spellings is one pair,
        its mentions added up."""
        found: tuple[list[str], Ints, Ints, Ints] = self.memo("groups", self._groups)
        return found

    def _groups(self) -> tuple[list[str], Ints, Ints, Ints]:
        vocab, row, ids = self.actors
        counts = np.bincount(ids, minlength=len(vocab))
        shown_as = merge_names({n: int(c) for n, c in zip(vocab, counts, strict=True)})
        shown: dict[str, int] = {}
        group_of = np.fromiter(
            (shown.setdefault(shown_as[n], len(shown)) for n in vocab), np.int64, len(vocab)
        )
        g = group_of[ids] if len(group_of) else np.zeros(0, np.int64)
        size = max(len(shown), 1)
        pairs, which = np.unique(row.astype(np.int64) * size + g, return_inverse=True)
        said = np.bincount(which, weights=self.actor_count, minlength=len(pairs))
        return list(shown), pairs // size, pairs % size, said.astype(np.int64)

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """A value cached with this index (it is immutable)."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]


def _cat(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)


def _join_ids(parts: Sequence[Part]) -> tuple[list[str], np.ndarray]:
    vocab: dict[str, int] = {}
    out = []
    for part in parts:
        table = np.array([vocab.setdefault(v, len(vocab)) for v in part.languages], np.int32)
        out.append(table[part.language] if len(table) else part.language)
    return list(vocab), _cat(out, np.int32)


def _join_names(names: Sequence[Names], offsets: list[int]) -> Names:
    """The parts' names as one, their rows moved on by the parts' offsets."""
    vocab: dict[str, int] = {}
    rows, ids = [], []
    for (words, row, idx), offset in zip(names, offsets, strict=False):
        table = np.array([vocab.setdefault(v, len(vocab)) for v in words], np.int32)
        rows.append(row.astype(np.int32) + offset)
        ids.append(table[idx] if len(table) else idx)
    return Names(list(vocab), _cat(rows, np.int32), _cat(ids, np.int32))
