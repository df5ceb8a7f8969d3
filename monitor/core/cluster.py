"""Stories: items that carry the same text, grouped across sources.

Each item becomes a set of word shingles (3 consecutive folded words) of its title and
the start of its body (full text when present, else the summary), each shingle a 32-bit
hash (words hashed once, each run of three mixed arithmetically, for a batch of texts at
once: `shingle_arrays`; the same hashes as sets for the digest and the alerts ledger).
MinHash signatures and LSH banding find candidate pairs cheaply; a candidate pair
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
from typing import TYPE_CHECKING, Any, cast

from monitor.core.fold import fold_text
from monitor.model import Item

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Shingles = npt.NDArray[np.uint32]  # sorted distinct 32-bit shingles (`shingle_arrays`)

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
_PAD = 1 << 32  # a word hash no word has (CRC-32 is below it): pads a text of < 3 words

_WORD = re.compile(r"\w+")


def shingles(item: Item) -> set[int]:
    """The item's shingles, hashed: 3-word runs of its folded title and body start."""
    return set(shingle_arrays([item_words(item)])[0].tolist())


def item_words(item: Item) -> list[str]:
    """The folded words shingles are made of: the title's, then the body start's."""
    body = (item.text or item.summary or "")[:BODY_CHARS]
    return _WORD.findall(fold_text(item.title)) + _WORD.findall(fold_text(body))[:BODY_WORDS]


def word_shingles(words: Sequence[str]) -> set[int]:
    """The hashed 3-word runs of folded words (the one run of fewer, if that is all)."""
    return set(shingle_arrays([words])[0].tolist())


def shingle_arrays(texts: Sequence[Sequence[str]]) -> list[Shingles]:
    """The shingles of many texts (each a sequence of folded words) at once, each as a
    sorted array of distinct uint32: the compact form, about a tenth of a set's memory.

    Each word is hashed once (CRC-32) and each run of three word hashes is mixed into
    32 bits with integer arithmetic over the whole batch: no Python object per shingle.
    A text of one or two words makes one shingle, its words padded."""
    import numpy as np

    n = len(texts)
    if not n:
        return []
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    total = int(lengths.sum())
    words = np.fromiter(
        map(zlib.crc32, map(str.encode, itertools.chain.from_iterable(texts))),
        dtype=np.uint64,
        count=total,
    )
    # every text's words followed by two pads, so that a run never spans two texts
    padded = np.full(total + 2 * n, _PAD, dtype=np.uint64)
    text_of_word = np.repeat(np.arange(n, dtype=np.int64), lengths)
    padded[np.arange(total, dtype=np.int64) + 2 * text_of_word] = words
    starts = np.cumsum(lengths + 2) - (lengths + 2)
    runs = np.where(lengths >= SHINGLE, lengths - (SHINGLE - 1), np.minimum(lengths, 1))
    text_of_run = np.repeat(np.arange(n, dtype=np.int64), runs)
    first_run = np.cumsum(runs) - runs
    at = np.arange(int(runs.sum()), dtype=np.int64) + np.repeat(starts - first_run, runs)
    mixed = _mix(padded[at], padded[at + 1], padded[at + 2])
    # one sort makes each text's shingles distinct and in order; the keys are already in
    # text order, which the stable sort (a merge sort) profits from
    keyed = (text_of_run.astype(np.uint64) << np.uint64(32)) | mixed
    keyed.sort(kind="stable")
    keyed = keyed[np.concatenate((keyed[:1] == keyed[:1], keyed[1:] != keyed[:-1]))]
    bounds = np.searchsorted(keyed >> np.uint64(32), np.arange(1, n, dtype=np.uint64))
    values = (keyed & np.uint64(_MASK)).astype(np.uint32)
    return list(np.split(values, bounds))


def _mix(a: Any, b: Any, c: Any) -> Any:
    """Three 32-bit word hashes (uint64 arrays) into one 32-bit shingle hash (uint64):
    a weighted sum, then a 64-bit finaliser (splitmix64's); its high half."""
    import numpy as np

    with np.errstate(over="ignore"):
        h = a * np.uint64(0x9E3779B97F4A7C15) + b * np.uint64(0xC2B2AE3D27D4EB4F) + c
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return h >> np.uint64(32)


def jaccard(a: AbstractSet[int], b: AbstractSet[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def same_story(a: AbstractSet[int], b: AbstractSet[int], threshold: float = THRESHOLD) -> bool:
    """Whether two shingle sets tell the same story (a short one: only its exact copy)."""
    return _same(len(a & b), len(a), len(b), threshold)


def same_story_arrays(a: Shingles, b: Shingles, threshold: float = THRESHOLD) -> bool:
    """`same_story` for shingle arrays (`shingle_arrays`): the shared shingles counted by
    a binary search of one sorted array for the other's, without a set."""
    if not len(a) or not len(b):
        return False
    common = int((b.take(b.searchsorted(a), mode="clip") == a).sum())
    return _same(common, len(a), len(b), threshold)


def _same(common: int, na: int, nb: int, threshold: float) -> bool:
    """The one test: the Jaccard similarity of two shingle sets of `na` and `nb` shingles
    with `common` in common reaches `threshold`; 1.0 (an exact copy) for a short set."""
    if not na or not nb:
        return False
    short = min(na, nb) < MIN_SHINGLES
    return common / (na + nb - common) >= (1.0 if short else threshold)


def cluster(items: Sequence[Item], threshold: float = THRESHOLD) -> list[list[int]]:
    """Groups of indexes into `items` that tell the same story, each group in index order,
    groups ordered by their first index. Every item is in exactly one group."""
    sets = [set(a.tolist()) for a in shingle_arrays([item_words(it) for it in items])]
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


def signatures(sets: Sequence[AbstractSet[int]] | Sequence[Shingles]) -> Any:
    """MinHash signatures of non-empty sets (or shingle arrays): an (n, NUM_PERM) uint32
    array."""
    import numpy as np

    rng = np.random.default_rng(SEED)  # multiply-shift hashing: (a*x + b) mod 2^64, high half
    a = rng.integers(0, 1 << 63, size=NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, size=NUM_PERM, dtype=np.uint64)
    if isinstance(sets[0], np.ndarray):
        values = np.concatenate(cast("Sequence[Shingles]", sets)).astype(np.uint64)
    else:
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
