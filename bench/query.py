"""Query benchmark: how long does filtering the whole timeline take?

    uv run python bench/query.py [--entries 100000] [--repeats 9]

Builds that many entries (French and English titles and summaries, ~390 characters of
search text each, 18 sources, 0-3 actors, dates over the last 90 days, newest first),
then indexes them as a store does (`core.index.Part` per 1,000 entries, about a day) and
prints the time to build, encode, decode and join the parts, and the index's size. Then,
for each kind of query, the median time of `Query.select` on the index plus
`EntryIndex.rows` (what the dashboard does on a filter key) beside `filter_entries`
(a scan of every entry), and the number of matches (checked to be the same). Also times
parsing and `highlight_spans` on an article.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

from monitor.core.entries import search_text
from monitor.core.index import EntryIndex, Part
from monitor.core.query import filter_entries, highlight_spans, parse_query
from monitor.model import Actor, Entry, Item

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def words(text: str) -> list[str]:
    return text.split()


FR_SMALL = words(
    "le la les un une des du de et à au aux en dans sur pour avec par selon après avant "
    "contre entre sans sous lors depuis qui que est a ont été sera"
)
FR_NEWS = words(
    "gouvernement président ministre premier assemblée "
    "élections réforme budget sécurité défense économie croissance inflation chômage grève "
    "manifestation sommet accord négociations sanctions frontière guerre paix armée troupes "
    "Russie Ukraine États-Unis Chine Allemagne Europe Kremlin Moscou Kiev Paris Bruxelles "
    "Washington Pékin l'Union européenne l'OTAN l'ONU crise énergétique pétrole gaz prix "
    "marché banque centrale taux d'intérêt dette déficit hôpital école justice procès "
    "enquête police attentat victimes réfugiés migrants climat sécheresse incendies "
    "inondations région ville habitants opposition majorité député sénateur vote loi "
    "déclaré annoncé affirmé estimé dénoncé rejeté adopté signé rencontré prévenu cœur "
    "lundi mardi mercredi jeudi vendredi samedi dimanche semaine année été hiver"
)
EN_SMALL = words(
    "the a an of and to in on for with by from after before against between without "
    "during since who that is was has have been will"
)
EN_NEWS = words(
    "government president minister prime parliament election reform budget "
    "security defence economy growth inflation unemployment strike protest summit deal "
    "talks sanctions border war peace army troops Russia Ukraine United States China "
    "Germany Europe Kremlin Moscow Kyiv London Brussels Washington Beijing European Union "
    "NATO UN crisis energy oil gas prices market central bank interest rates debt deficit "
    "hospital school court trial inquiry police attack victims refugees migrants climate "
    "drought wildfires floods region city residents opposition majority lawmaker senator "
    "vote law said announced warned claimed rejected adopted signed met Monday Tuesday "
    "Wednesday Thursday Friday weekend year summer winter sport football match"
)
FR_PHRASES = [
    "le premier ministre",
    "la banque centrale",
    "Vladimir Poutine",
    "l'Union européenne",
    "le président de la République",
    "la guerre en Ukraine",
    "les États-Unis",
    "le Conseil de sécurité",
]
EN_PHRASES = [
    "the prime minister",
    "the central bank",
    "Vladimir Putin",
    "the European Union",
    "the White House",
    "the war in Ukraine",
    "the United States",
    "the Security Council",
]
SOURCES = (
    "Le Monde – International",
    "Le Figaro – International",
    "France 24",
    "Libération",
    "Les Échos",
    "Ouest-France",
    "RFI",
    "BBC News – World",
    "The Guardian – World",
    "Reuters",
    "Al Jazeera English",
    "NPR News",
    "Deutsche Welle",
    "Tagesschau",
    "El País",
    "la Repubblica",
    "Meduza",
    "TASS",
)
ACTORS = (
    "Vladimir Putin",
    "Volodymyr Zelensky",
    "Emmanuel Macron",
    "Olaf Scholz",
    "Xi Jinping",
    "Joe Biden",
    "Ursula von der Leyen",
    "European Union",
    "NATO",
    "United Nations",
    "Kremlin",
    "Élisabeth Borne",
    "Giorgia Meloni",
    "Recep Tayyip Erdoğan",
    "António Guterres",
)
QUERIES = (
    ("two words", "russie ukraine"),
    ("one word, prefix", "russ"),
    ("phrase", '"premier ministre"'),
    ("actor OR word", 'actor:"Vladimir Putin" OR kremlin'),
    ("lang, since, word", "lang:fr since:24h élections"),
    ("word NOT word", "ukraine -guerre"),
    ("hyphenated word", "etats-unis"),
    ("source", "source:monde"),
    ("rare word", "sécheresse"),
    ("absent word", "zanzibar"),
    ("complex", "(russie OR ukraine OR kremlin) lang:en -sport since:7d"),
    ("first letter typed", "g"),
    ("two letters typed", "gu"),
    ("OR, a letter typed", "guerre OR t"),
)


SYLLABLES = words(
    "ba be bi bo ca co de di do fa fe fi ga go la le li lo ma me mi mo na ne ni no pa pe pi po ra re ri ro sa se si so ta te ti to va ve vi vo tion ment ter"
)


class Words:
    """Words of one language: small words everywhere, news words five times as likely as
    each of 3,000 rarer made-up words, so a news word is in a few percent of entries, and
    a set phrase in one entry in ten."""

    def __init__(
        self, rng: random.Random, small: list[str], news: list[str], phrases: list[str]
    ) -> None:
        self.phrases = phrases
        rare = ["".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(3000)]
        self.small = small
        self.rest = news + rare
        self.cum = list(itertools.accumulate([5.0] * len(news) + [1.0] * len(rare)))

    def sentence(self, rng: random.Random, chars: int) -> str:
        n = chars // 7
        picked = rng.choices(self.rest, cum_weights=self.cum, k=n)
        for i in range(0, n, 2):
            picked[i] = rng.choice(self.small)
        if rng.random() < 0.1:
            picked[rng.randrange(n)] = rng.choice(self.phrases)
        text = " ".join(picked)[:chars].rsplit(" ", 1)[0]
        return text[0].upper() + text[1:] + "."


def make_items(n: int, seed: int = 1) -> list[Item]:
    rng = random.Random(seed)
    fr, en = Words(rng, FR_SMALL, FR_NEWS, FR_PHRASES), Words(rng, EN_SMALL, EN_NEWS, EN_PHRASES)
    items = []
    for i in range(n):
        lang = "fr" if rng.random() < 0.5 else "en" if rng.random() < 0.8 else "de"
        vocab = fr if lang == "fr" else en
        published = NOW - timedelta(seconds=90 * 86400 * i / n)
        sources = (rng.choice(SOURCES),) if rng.random() < 0.9 else tuple(rng.sample(SOURCES, 2))
        title, summary = vocab.sentence(rng, 80), vocab.sentence(rng, 380)
        actors = rng.sample(ACTORS, rng.choice((0, 0, 1, 1, 2, 3)))
        items.append(
            Item(
                id=f"id{i}",
                title=title,
                url=f"https://news.example.com/{i}",
                sources=sources,
                published=published,
                published_raw=None,
                date_flag=None,
                language=lang,
                summary=summary,
                first_seen=published,
                actors=tuple(Actor(name, "person", 1) for name in actors),
            )
        )
    return items


def make_entries(n: int, seed: int = 1) -> list[Entry]:
    return [
        Entry(
            id=item.id,
            published=item.published,
            title=item.title,
            sources=item.sources,
            language=item.language,
            date_flag=None,
            first_seen=item.first_seen,
            url=item.url,
            actors=tuple(a.name for a in item.actors),
            search=search_text(item),
        )
        for item in make_items(n, seed)
    ]


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args()

    t = time.perf_counter()
    entries = make_entries(args.entries)
    built = time.perf_counter() - t
    chars = statistics.mean(len(e.search) for e in entries)
    print(f"{len(entries):,} entries, {chars:.0f} characters of search text on average")
    print(f"(built in {built:.1f} s)\n")
    day = 1000
    t = time.perf_counter()
    parts = [Part.build(entries[i : i + day]) for i in range(0, len(entries), day)]
    build = time.perf_counter() - t
    blobs = [p.encode() for p in parts]
    t = time.perf_counter()
    decoded = [Part.decode(b) for b in blobs]
    decode = time.perf_counter() - t
    t = time.perf_counter()
    index = EntryIndex(entries, decoded)
    join = time.perf_counter() - t
    size = sum(map(len, blobs)) / 2**20
    print(
        f"index: {len(parts)} parts of {day:,} entries: build {build / len(parts) * 1000:.0f} ms"
        f" a part, encoded {size:.1f} MB; decode all {decode * 1000:.0f} ms, join"
        f" {join * 1000:.0f} ms\n"
    )
    print(f"{'query kind':<20} {'query':<52} {'index ms':>8} {'scan ms':>8} {'matches':>8}")
    for kind, text in QUERIES:
        query = parse_query(text)
        ms = median_ms(partial(filter_entries, entries, query, NOW), args.repeats)
        found = filter_entries(entries, query, NOW)
        fast = median_ms(lambda q=query: index.rows(q.select(index, NOW)), args.repeats)
        assert index.rows(query.select(index, NOW)) == found, text
        print(f"{kind:<20} {text:<52} {fast:>8.1f} {ms:>8.1f} {len(found):>8,}")

    texts = [text for _, text in QUERIES]
    per_parse = median_ms(lambda: [parse_query(t) for t in texts], args.repeats) / len(texts)
    print(f"\nparse_query: {per_parse * 1000:.0f} µs per query")
    rng = random.Random(2)
    fr = Words(rng, FR_SMALL, FR_NEWS, FR_PHRASES)
    article = " ".join(fr.sentence(rng, 280) + " " + FR_PHRASES[i % 8] for i in range(20))
    words = parse_query('russ états-unis "premier ministre" guerre -sport').highlights()
    ms = median_ms(lambda: highlight_spans(article, words), args.repeats)
    spans = len(highlight_spans(article, words))
    print(f"highlight_spans: {ms:.2f} ms for {len(article):,} characters ({spans} spans)")


if __name__ == "__main__":
    main()
