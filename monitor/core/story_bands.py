"""The LSH band buckets of the live stories (`core.stories`), in two numpy arrays. Pure.

Each recent item has LSH_BANDS band keys (two MinHash rows and the band's number); two
items that share a key are candidates for one story. The keys of all recent items are
held sorted in one uint64 array, beside the item's slot (a uint32 number given in the
order items are added): 12 bytes a key, where a dict of Python ints cost about ten times
that. A poll's keys are looked up and inserted at once, with `searchsorted`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from monitor.core.cluster import LSH_BANDS, NUM_PERM, signatures

if TYPE_CHECKING:
    import numpy.typing as npt

    from monitor.core.cluster import Shingles

    Slots = npt.NDArray[np.uint32]

BUCKET_CHECK = 40  # members of one bucket compared with a new item, newest first
_BAND = np.uint64(0x9E3779B97F4A7C15)  # spreads the band number over the key
_LOW = np.uint64(0xFFFF_FFFF)
assert NUM_PERM // LSH_BANDS == 2  # two 32-bit rows make a band's 64-bit value


def band_keys(sets: Sequence[Shingles]) -> Any:
    """The band keys of non-empty shingle arrays: an (n, LSH_BANDS) uint64 array."""
    if not sets:
        return np.zeros((0, LSH_BANDS), dtype=np.uint64)
    values = np.ascontiguousarray(signatures(sets)).view(np.uint64)
    with np.errstate(over="ignore"):
        return values + np.arange(LSH_BANDS, dtype=np.uint64) * _BAND


class Bands:
    """The band keys of the recent items, sorted, each with its item's slot."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.uint64)
        self.slots: Slots = np.zeros(0, dtype=np.uint32)

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, keys: Any, slots: Slots) -> tuple[list[int], list[int]]:
        """Insert the keys of new items (one row a slot, slots above all held ones) and
        return the candidate pairs: (slot, an earlier slot with one of its keys), the
        BUCKET_CHECK newest of each bucket, sorted by slot and the earlier one newest
        first, without repeats."""
        if not len(slots):
            return [], []
        flat = np.ascontiguousarray(keys).ravel()
        owners = np.repeat(slots, LSH_BANDS)
        order = np.lexsort((owners, flat))
        flat, owners = flat[order], owners[order]
        # after the equal keys held (they are older): each bucket stays in slot order
        where = np.searchsorted(self.keys, flat, side="right")
        self.keys = np.insert(self.keys, where, flat)
        self.slots = np.insert(self.slots, where, owners)
        at = where + np.arange(len(flat))  # where each new key now is
        mine: list[Any] = []
        theirs: list[Any] = []
        for _ in range(BUCKET_CHECK):  # step back through each bucket, all keys at once
            at = at - 1
            same = at >= 0
            same[same] = self.keys[at[same]] == flat[same]
            if not same.any():
                break
            at, flat, owners = at[same], flat[same], owners[same]
            mine.append(owners)
            theirs.append(self.slots[at])
        if not mine:
            return [], []
        a = np.concatenate(mine).astype(np.uint64)
        b = np.concatenate(theirs).astype(np.uint64)
        a, b = a[a != b], b[a != b]  # an item whose keys collide is not its own candidate
        pairs = (a << np.uint64(32)) | (~b & _LOW)  # by slot, then the other newest first
        pairs.sort()
        pairs = pairs[np.concatenate((pairs[:1] == pairs[:1], pairs[1:] != pairs[:-1]))]
        return (pairs >> np.uint64(32)).tolist(), (~pairs & _LOW).tolist()

    def remove(self, slots: Slots) -> None:
        """Take these items' keys out."""
        if len(slots) and len(self.slots):
            keep = ~np.isin(self.slots, slots)
            self.keys, self.slots = self.keys[keep], self.slots[keep]
