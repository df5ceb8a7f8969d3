"""The query language's test tables: three entries (their items too, for a store) and
what each query selects of them; tests/test_query.py asks the query language itself,
tests/test_query_backends.py every store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.core.entries import entry_of
from monitor.model import Actor, Entry, Item

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def item(
    id: str,
    title: str,
    summary: str = "",
    *,
    sources: tuple[str, ...] = ("Le Monde – International",),
    language: str | None = "fr",
    actors: tuple[str, ...] = (),
    published: datetime = NOW,
    text: str | None = None,
) -> Item:
    return Item(
        id=id,
        title=title,
        url=None,
        sources=sources,
        published=published,
        published_raw=None,
        date_flag=None,
        language=language,
        summary=summary,
        first_seen=published,
        text=text,
        actors=tuple(Actor(name, "person", 1) for name in actors),
    )


def entry(*args: Any, **kw: Any) -> Entry:
    """The entry of `item(*args, **kw)`."""
    return entry_of(item(*args, **kw))


A_ITEM = item(
    "A",
    "Les États-Unis et la Russie : « cœur » du sommet",
    "Vladimir Poutine a reçu l’envoyé américain à Moscou.",
    actors=("Vladimir Putin",),
    published=NOW - timedelta(hours=2),
)
B_ITEM = item(
    "B",
    "Ukraine war: Kyiv says talks with Russia stalled",
    "The Kremlin denied the report on Monday.",
    sources=("BBC News – World",),
    language="en-GB",
    actors=("Volodymyr Zelensky", "Kremlin"),
    published=datetime(2016, 11, 14, 19, 5, tzinfo=UTC),
)
C_ITEM = item(
    "C",
    "Le Tour de France repart de Paris",
    "Sport : l'étape du jour, 180 km.",
    sources=("L'Équipe",),
    language="fr",
    published=NOW - timedelta(days=3),
)
ITEMS = (A_ITEM, B_ITEM, C_ITEM)  # the items of the entries: the same for a store
A, B, C = ALL = tuple(map(entry_of, ITEMS))


# query, the ids it selects of ALL
MATCHES = [
    # words: prefix of a word, case and accents ignored
    ("russie", "A"),
    ("RUSSIE", "A"),
    ("russ", "AB"),
    ("ussie", ""),
    ("etats-unis", "A"),
    ("États-Unis", "A"),
    ("etats-uni", "A"),
    ("unis", "A"),
    ("etat", "A"),
    ("coeur", "A"),
    ("cœur", "A"),
    ("envoye", "A"),
    ("l'envoye", "A"),
    ("l’envoyé", "A"),
    ("180", "C"),
    ("&", "ABC"),
    ("", "ABC"),
    ("   ", "ABC"),
    # phrases: whole consecutive words, punctuation between them ignored
    ('"etat"', ""),
    ('"etats"', "A"),
    ('"etats unis"', "A"),
    ('"ukraine war kyiv"', "B"),
    ('"war: kyiv"', "B"),
    ('"kyiv war"', ""),
    ('"kyi"', ""),
    ('"l envoye americain"', "A"),
    ('"vladimir poutine a recu"', "A"),
    ('""', "ABC"),
    # AND, OR, NOT
    ("ukraine russia", "B"),
    ("ukraine russie", ""),
    ("russie AND coeur", "A"),
    ("russie OR ukraine", "AB"),
    ("tour or ukraine", ""),
    ("NOT russie", "BC"),
    ("-russie", "BC"),
    ("-russ -tour", ""),
    ("not russie", ""),
    ('-"etats unis"', "BC"),
    ("- russie", "A"),
    ("--russie", "A"),
    ("NOT NOT russie", "A"),
    # precedence: NOT > AND > OR
    ("tour ukraine OR russie", "A"),
    ("russie OR tour ukraine", "A"),
    ("tour (ukraine OR russie)", ""),
    ("(tour OR ukraine) russ", "B"),
    ("NOT tour russ", "AB"),
    ("-tour OR paris", "ABC"),
    ("-(tour OR russie)", "B"),
    ("NOT (tour OR russie) kremlin", "B"),
    ("xq OR zz OR russie OR qqq", "A"),
    # actor: names, folded and word-bounded, never the text
    ("actor:putin", "A"),
    ("actor:PUTIN", "A"),
    ('actor:"Vladimir Putin"', "A"),
    ('actor:"vladimir  putin"', "A"),
    ("actor:vlad", ""),
    ("actor:poutine", ""),
    ('actor:"putin vladimir"', ""),
    ("actor:kremlin", "B"),
    ("actor:zelensky OR actor:putin", "AB"),
    ("-actor:putin", "BC"),
    # source: folded substring of any source name
    ("source:monde", "A"),
    ('source:"Le Monde"', "A"),
    ('source:"le monde – international"', "A"),
    ("source:equipe", "C"),
    ("source:l'equipe", "C"),
    ("Source:BBC", "B"),
    ("source:cnn", ""),
    # lang:
    ("lang:fr", "AC"),
    ("lang:en", "B"),
    ("lang:EN", "B"),
    ("lang:en-gb", "B"),
    ("lang:en_GB", "B"),
    ("lang:en-us", ""),
    ("lang:de", ""),
    # time: since: an age or a day; after: includes its day; before: excludes it
    ("since:24h", "A"),
    ("since:90m", ""),
    ("since:3h", "A"),
    ("since:4d", "AC"),
    ("since:1d12h", "A"),
    ("since:1w", "AC"),
    ("since:999999999w", "ABC"),
    ("since:999999999w999999999d", "ABC"),
    ("since:2016-11-14", "ABC"),
    ("since:2016-11-15", "AC"),
    ("after:2016-11-14", "ABC"),
    ("after:2016-11-15", "AC"),
    ("before:2016-11-15", "B"),
    ("before:2016-11-14", ""),
    ("after:2016-11-14 before:2016-11-15", "B"),
    ("-since:24h", "BC"),
    # mixed
    ("source:monde OR lang:en", "AB"),
    ("lang:fr -sport", "A"),
    ("lang:fr since:7d paris", "C"),
    ('(actor:"Vladimir Putin" OR kremlin) -tour', "AB"),
]


class Stories:
    """A story lookup: A and C are one story (A the earliest), B is in none."""

    def story_of(self, entry_id: str) -> str | None:
        return {"A": "A", "C": "A"}.get(entry_id)

    def members(self, entry_id: str) -> list[str]:
        return ["A", "C"] if self.story_of(entry_id) else []

    def followers(self) -> list[str]:
        return ["C"]


# query, the ids it selects with Stories, and without stories
STORY_MATCHES = [
    ("story:A", "AC", "A"),
    ("story:C", "AC", "C"),  # any item of the story names it
    ("story:B", "B", "B"),  # an item in no story is a story of its own
    ("story:nothing", "", ""),
    ('story:"C"', "AC", "C"),
    ("is:story-lead", "AB", "ABC"),  # one row per story
    ("-is:story-lead", "C", ""),
    ("is:story-lead lang:fr", "A", "AC"),
    ("story:C -is:story-lead", "C", ""),
    ("story:A OR story:B", "ABC", "AB"),
]
