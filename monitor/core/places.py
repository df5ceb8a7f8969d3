"""Is this name a town? Sorted 64-bit digests of town names (monitor/data/places.bin,
made by scripts/make_places.py from GeoNames), looked up by binary search. The lowest
bit of a digest says whether the town is a city of 100,000 people or more. Pure: the
array comes in as an argument."""

from __future__ import annotations

import hashlib
from typing import Literal

import numpy as np
import numpy.typing as npt

from monitor.core.fold import fold_text

CODE_LONGEST = 4  # letters of the longest code among GeoNames' alternate names (ICAO)
BIG = 100_000  # people in a city whose name outweighs an organisation label


def place_key(name: str) -> str:
    """Case and accents folded, words joined by one space: 'Kourakhové' -> 'kourakhove'."""
    return " ".join(fold_text(name).replace("-", " ").split())


def digest(key: str, big: bool) -> int:
    """A `place_key`'s 64-bit digest, its lowest bit set for a big city."""
    d = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
    return (d & ~1) | int(big)


class Places:
    """Town names, by `place_key`."""

    def __init__(self, digests: npt.NDArray[np.uint64]) -> None:
        self._digests = digests

    @classmethod
    def from_bytes(cls, data: bytes) -> Places:
        return cls(np.frombuffer(data, dtype="<u8"))

    def __len__(self) -> int:
        return len(self._digests)

    def find(self, name: str) -> Literal["city", "town"] | None:
        """'city' for a town of `BIG` people or more, 'town' for a smaller one, else None.
        A short name in capitals ('GOP', an airport's code among a town's names) is none;
        a longer one is a dateline's ('INDIANAPOLIS')."""
        key = place_key(name)
        if len(key) < 3 or (name.isupper() and len(key) < CODE_LONGEST + 1):
            return None
        d = digest(key, False)
        i = int(np.searchsorted(self._digests, np.uint64(d)))
        found = [int(x) for x in self._digests[i : i + 2] if int(x) | 1 == d | 1]
        if not found:
            return None
        return "city" if any(x & 1 for x in found) else "town"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None
