"""Stories: items that carry the same text, grouped across sources.

Each item becomes a set of word shingles (3 consecutive folded words) of its title and
the start of its body (full text when present, else the summary), each shingle a 32-bit
hash. MinHash signatures and LSH banding find candidate pairs cheaply; a candidate pair
joins one story when the exact Jaccard similarity of the two shingle sets reaches
THRESHOLD. The threshold and the choice of a numpy MinHash over datasketch's are
justified by measurements in docs/digest.md (bench/digest.py).
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from monitor.core.fold import fold_text
from monitor.model import Item

THRESHOLD = 0.3  # exact Jaccard of shingle sets; see docs/digest.md for the measurements
SHINGLE = 3  # words per shingle
BODY_WORDS = 120  # words of the body read after the title: wire copy differs later, if at all
BODY_CHARS = 1500  # enough characters for BODY_WORDS words, folded
NUM_PERM = 64  # MinHash permutations
LSH_BANDS = 32  # bands of 2 rows: a pair at Jaccard 0.3 is a candidate with p = 0.95
MIN_SHINGLES = 5  # a text shorter than this (a bare URL, one word) joins only its exact copy
BUCKET_PAIRS = 40  # a band bucket up to this size has all its pairs checked
SEED = 1
_MASK = (1 << 32) - 1

_WORD = re.compile(r"\w+")


def shingles(item: Item) -> set[int]:
    """The item's shingles, hashed: 3-word runs of its folded title and body start."""
    body = (item.text or item.summary or "")[:BODY_CHARS]
    words = _WORD.findall(fold_text(item.title)) + _WORD.findall(fold_text(body))[:BODY_WORDS]
    return word_shingles(words)


def word_shingles(words: Sequence[str]) -> set[int]:
    """The hashed 3-word runs of folded words (the one run of fewer, if that is all)."""
    ids = [zlib.crc32(w.encode()) for w in words]
    if len(ids) < SHINGLE:
        return {hash(tuple(ids)) & _MASK} if ids else set()
    return {hash((a, b, c)) & _MASK for a, b, c in zip(ids, ids[1:], ids[2:], strict=False)}


def jaccard(a: AbstractSet[int], b: AbstractSet[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def same_story(a: AbstractSet[int], b: AbstractSet[int], threshold: float = THRESHOLD) -> bool:
    """Whether two shingle sets tell the same story (a short one: only its exact copy)."""
    short = min(len(a), len(b)) < MIN_SHINGLES
    return jaccard(a, b) >= (1.0 if short else threshold)


def cluster(items: Sequence[Item], threshold: float = THRESHOLD) -> list[list[int]]:
    """Groups of indexes into `items` that tell the same story, each group in index order,
    groups ordered by their first index. Every item is in exactly one group."""
    sets = [shingles(it) for it in items]
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in _candidates(sets):
        ri, rj = root(i), root(j)
        if ri != rj and same_story(sets[i], sets[j], threshold):
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = {}
    for i in range(len(items)):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def signatures(sets: Sequence[set[int]]) -> Any:
    """MinHash signatures of non-empty sets: an (n, NUM_PERM) uint32 array."""
    import numpy as np

    rng = np.random.default_rng(SEED)  # multiply-shift hashing: (a*x + b) mod 2^64, high half
    a = rng.integers(0, 1 << 63, size=NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, size=NUM_PERM, dtype=np.uint64)
    values = np.fromiter((h for s in sets for h in s), dtype=np.uint64)
    starts = np.cumsum([0] + [len(s) for s in sets[:-1]], dtype=np.int64)
    out = np.empty((len(sets), NUM_PERM), dtype=np.uint32)
    for k in range(NUM_PERM):  # one permutation over every shingle at once
        permuted = (values * a[k] + b[k]) >> np.uint64(32)
        out[:, k] = np.minimum.reduceat(permuted, starts)
    return out


def _candidates(sets: Sequence[set[int]]) -> list[tuple[int, int]]:
    """Pairs (i < j) whose MinHash signatures agree on at least one band."""
    import numpy as np

    present = [i for i, s in enumerate(sets) if s]
    if len(present) < 2:
        return []
    index = np.array(present)
    bands = np.ascontiguousarray(signatures([sets[i] for i in present])).view(
        np.dtype((np.void, 4 * NUM_PERM // LSH_BANDS))
    )
    pairs: set[tuple[int, int]] = set()
    for band in range(LSH_BANDS):
        column = bands[:, band]
        order = np.argsort(column, kind="stable")
        ranked = column[order]
        same = ranked[1:] == ranked[:-1]
        if not same.any():
            continue
        # runs of equal band values: one bucket each, members in index order
        edges = np.flatnonzero(np.diff(np.concatenate(([False], same, [False])).astype(np.int8)))
        starts, stops = edges[::2], edges[1::2]
        two = stops - starts == 1  # buckets of two, the most common: one pair each
        a, b = index[order[starts[two]]], index[order[stops[two]]]
        pairs.update(zip(np.minimum(a, b).tolist(), np.maximum(a, b).tolist(), strict=True))
        for start, stop in zip(starts[~two].tolist(), stops[~two].tolist(), strict=True):
            _bucket_pairs(sorted(index[order[start : stop + 1]].tolist()), pairs)
    return sorted(pairs)


def _bucket_pairs(members: list[int], pairs: set[tuple[int, int]]) -> None:
    if len(members) <= BUCKET_PAIRS:
        pairs.update((a, b) for n, a in enumerate(members) for b in members[n + 1 :])
    else:  # a crowded bucket: enough pairs to chain its members, not all of them
        pairs.update(itertools.pairwise(members))
        pairs.update((members[0], b) for b in members[2:])
