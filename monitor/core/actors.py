"""Names in text -> canonical actors: NER's names cleaned, confirmed where capitals prove
nothing, given their kind and linked (surnames, acronyms) beside the gazetteer's matches
(`core/gazetteer.py`), one spelling and one kind per actor.

Pure: the gazetteer, the NER spans and the noise lists come in as arguments
(`monitor.io.annotate` loads them). Offsets are character offsets into each field.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from monitor.core.fold import fold_text
from monitor.core.gazetteer import Folded, Gazetteer, letters_of, match_gazetteer
from monitor.core.headlines import (
    casing,
    confirmed_run,
    datelines,
    sentence_start,
)
from monitor.core.names import name_tokens, settle_names
from monitor.core.spans import (
    NEXT_WORD,
    POSSESSIVE,
    WORD,
    clean_span,
    cue,
    first_name,
    named,
    quoted,
    strong_words,
    word_before,
)
from monitor.model import Actor, ActorKind, Mention

_NAME_WORDS = re.compile(r"[^\W\d_][\w’'\-]*")
KINDS: dict[str, ActorKind] = {
    "PER": "person",
    "PERSON": "person",
    "ORG": "organisation",
    "LOC": "place",
    "GPE": "place",
    "FAC": "place",
}
# « Réunis au Maroc, … », « Interrogé par l’AFP, … »: a participle opening a sentence,
# capitalized only by its place, that NER takes for a name.
_COMMON = 3  # times an item writes a word in lower case that make it a word, not a name
_ONE = (["un"], ["une"], ["a"], ["an"])  # indefinite articles before a name

Span = tuple[int, int, str]  # start, end, NER label


def _headline_lines(text: str) -> list[tuple[int, int]]:
    """The lines of a text of several lines that are written like headlines: a list of
    other articles' titles or a subhead in Title Case ("Trump Says 'Hopefully Iran Will
    Make a Deal'"), where at least two capitalised words are words the text also writes
    in lower case. A byline or a caption of names is not one."""
    if "\n" not in text:
        return []  # a text of one line, a title, is the caller's to judge
    lower = {w for w in WORD.findall(text) if w.islower()}
    out = []
    start = 0
    for line in text.split("\n"):
        end = start + len(line)
        if casing(line) != "sentence":
            words = WORD.findall(line)[1:]
            if sum(1 for w in words if w[:1].isupper() and w.lower() in lower) >= 2:
                out.append((start, end))
        start = end + 1
    return out


def _bodies(
    text: str,
    fname: str,
    found: Sequence[_Found],
    skip: Sequence[tuple[int, int]],
    gaz: Gazetteer,
) -> list[_Found]:
    """The names NER missed that end with an organisation's word: "Sweden's Civil
    Contingencies Agency". Runs of capitalised words outside names found and headlines."""
    out = []
    for m in _CAPITALISED_RUN.finditer(text):
        a, b = m.span()
        owner = list(POSSESSIVE.finditer(text, a, b))
        if owner:  # "Sweden's Civil Contingencies Agency": the agency's name follows
            a = owner[-1].end()
        if any(x < b and a < y for x, y in skip) or any(f.start < b and a < f.end for f in found):
            continue
        last = fold_text(WORD.findall(m.group())[-1])
        if last not in gaz.organisation_words or last in gaz.generic:
            continue  # not "Members of Parliament"
        cleaned = clean_span(text, a, b, gaz)
        if cleaned is None or " " not in text[cleaned[0] : cleaned[1]]:
            continue
        a, b, _ = cleaned
        if sentence_start(text, a) and not strong_words(text[a:b], gaz, True, [(text, a, b)]):
            continue
        if quoted(text, a, b):
            continue  # “So High School,”: a song
        out.append(_Found(a, b, fname, " ".join(text[a:b].split()), "organisation", False))
    return out


@dataclass(frozen=True, slots=True)
class Annotation:
    actors: tuple[Actor, ...]
    mentions: tuple[Mention, ...]


@dataclass(slots=True)
class _Found:
    start: int
    end: int
    field: str
    name: str  # canonical (gazetteer) or surface (NER)
    kind: ActorKind
    known: bool  # from the gazetteer
    titled: bool = False  # a title stood before it (« M. Peskov », "Lord Alli")


def annotate_fields(
    fields: Sequence[tuple[str, str]],
    spans: Mapping[str, Sequence[Span]],
    gaz: Gazetteer,
    folds: Mapping[str, Folded] | None = None,
    *,
    shaky: Collection[str] = (),
    known: Callable[[str], bool] | None = None,
) -> Annotation:
    """Actors and mentions of one item. `fields`: (field name, text) in reading order;
    `spans`: NER spans per field name (none for languages without a model); `folds`:
    `fold_indexed` of the fields' texts by field name, where the caller has them.

    `shaky`: the fields whose capitals prove nothing (a Title Case headline): a NER name
    there keeps only the run of its words that the other fields, or `known` (name keys
    found elsewhere, in other items), confirm. A one-word NER name opening a sentence
    needs the same confirmation anywhere."""
    found: list[_Found] = []
    names: set[str] = set()  # keys of the names found so far, and surnames of people

    def confirmed(key: str) -> bool:
        return key in names or (known is not None and known(key))

    lower = Counter(w for _, t in fields if t for w in WORD.findall(t) if w.islower())
    order = sorted(range(len(fields)), key=lambda n: fields[n][0] in shaky)  # sure ones first
    for n_field in order:
        fname, text = fields[n_field]
        if not text:
            continue
        hits = match_gazetteer(text, gaz, folds.get(fname) if folds else None)
        others = [(t, 0, 0) for f, t in fields if f != fname and t]
        headline_lines = _headline_lines(text) if spans.get(fname) else []
        beaten: set[int] = set()
        here: list[_Found] = []
        towns = datelines(text) if spans.get(fname) else []
        for a, b, filed_from in towns:
            if not any(x < b and a < y for x, y, _ in hits):
                here.append(_Found(a, b, fname, filed_from, "place", False))
        for start, end, label in spans.get(fname, ()):
            if any(a < end and start < b for a, b, _ in towns):
                continue  # the dateline's capitals are no clue
            kind = KINDS.get(label)
            cleaned = clean_span(text, start, end, gaz) if kind is not None else None
            if kind is None or cleaned is None:
                continue
            a, b, titled = cleaned
            word = text[a:b]
            town = kind != "person" and gaz.places.find(word) is not None
            lone = not titled and not town and " " not in word and not letters_of(word).isupper()
            headline = fname in shaky or any(x <= a < y for x, y in headline_lines)
            if headline or (lone and sentence_start(text, a)):
                run = confirmed_run(
                    text, a, b, confirmed, [*others, (text, a, b)], lambda r: named(r, gaz)
                )
                if run is None:
                    continue
                a, b = run
            if kind != "organisation" and quoted(text, a, b):
                continue  # «Orechnik», "Maduro grey": a missile's, a work's, a nickname
            # a title says a person: « le PDG, Pekka Lundmark »
            kind = cue(text[a:b], gaz) or ("person" if titled else kind)
            if kind == "organisation" and lower[text[a:b].lower()] >= _COMMON:
                continue  # "in Search", where the item often writes "search": a word
            if kind == "person" and not titled and word_before(text, a) in gaz.place_before:
                kind = "place"  # "the party town Van Vieng"
            if kind != "place" and WORD.findall(text[max(0, a - 5) : a])[-1:] in _ONE:
                after = NEXT_WORD.match(text, b)
                if kind == "person" or after is None or fold_text(after.group(1)) in gaz.leading:
                    continue  # « un Baron Noir », "an Unfair Labor Practice a few days later"
            if kind == "organisation" and gaz.places.find(text[a:b]) == "city":
                kind = "place"  # « Soumy » or "Nottingham" tagged as an organisation
            over = [n for n, (x, y, _) in enumerate(hits) if a < y and x < b]
            if over:
                inside = all(a <= hits[n][0] and hits[n][1] <= b for n in over)
                rest = text[a:b]
                for n in sorted(over, reverse=True):
                    x, y, _ = hits[n]
                    rest = rest[: x - a] + " " * (y - x) + rest[y - a :]
                same = (
                    all(hits[n][2].kind == kind for n in over)
                    or kind == "organisation"
                    or (
                        kind == "person"
                        and all(hits[n][2].kind == "place" for n in over)
                        and first_name(text, a, [*others, (text, a, b)])
                    )
                )  # 'François Hollande' is not Holland, 'Paris Hilton' not Paris
                opening = sentence_start(text, a)
                strong = strong_words(rest, gaz, opening, [*others, (text, a, b)])
                product = (
                    kind == "organisation"
                    and hits[over[0]][0] == a
                    and hits[over[0]][2].kind == "organisation"
                    and cue(text[a:b], gaz) is None
                )  # 'Google Search' is Google's; 'Reuters Institute' is its own
                if not inside or not same or not strong or product:
                    continue  # the gazetteer already named it
                beaten.update(over)  # 'New Jersey' is not Jersey
            name = " ".join(text[a:b].split())
            here.append(_Found(a, b, fname, name, kind, False, titled))
        for n, (a, b, spec) in enumerate(hits):
            if n not in beaten:
                here.append(_Found(a, b, fname, spec.name, spec.kind, True))
        if spans.get(fname) and fname not in shaky:
            here.extend(_bodies(text, fname, here, headline_lines, gaz))
        for f in here:
            names.update(confirming_keys(f.name, f.kind))
        found.extend(here)
    _acronyms(found, dict(fields))
    rank = {fname: i for i, (fname, _) in enumerate(fields)}
    found.sort(key=lambda f: (rank[f.field], f.start))
    _link(found, gaz)
    found = [f for f in found if not _lone_surname(f)]
    # one spelling and one kind per name ('Orban', 'Orbán'): the gazetteer's, else the
    # one most of the mentions give
    settled = settle_names(
        ((f.name, f.kind, 1) for f in found), {f.name: f.kind for f in found if f.known}
    )
    counts: Counter[str] = Counter()
    kinds: dict[str, ActorKind] = {}
    for f in found:
        f.name, kind = settled[f.name]
        counts[f.name] += 1
        kinds[f.name] = kind or f.kind
    order_of = {n: i for i, n in reversed(list(enumerate(f.name for f in found)))}
    ranked = sorted(counts, key=lambda n: (-counts[n], order_of[n]))
    actors = tuple(Actor(n, kinds[n], counts[n]) for n in ranked)
    mentions = tuple(Mention(f.name, f.start, f.end, f.field) for f in found)
    return Annotation(actors, mentions)


_ACRONYM = re.compile(r"\(([A-Z][\w&.\-]{1,11})\)")
_INITIALS = re.compile(r"[^\W\d_]+")
_SPELT_OUT = 12  # words before an acronym in brackets that may spell it out
# Capitalised words, with the small words a long name keeps between them
_CAPITALISED_RUN = re.compile(
    r"[A-Z][\w'’\-]*(?:\s+(?:(?:of|for|and|the|on|a|de|du|des|la|le|et)\s+)*[A-Z][\w'’\-]*)+"
)


def _acronyms(found: list[_Found], texts: Mapping[str, str]) -> None:
    """'Commission nationale de l'informatique et des libertés (CNIL)': the item's
    mentions of CNIL take the name written out before the brackets, a name found there or
    the words whose initials spell it (then a name of its own: NER often cuts a long one
    short)."""
    full: dict[str, _Found] = {}
    for fname, text in texts.items():
        if "(" not in text:
            continue
        for m in _ACRONYM.finditer(text):
            acronym = m.group(1)
            letters = letters_of(acronym)
            if acronym in full or not (letters.isupper() or len(letters) <= 6):
                continue
            end = len(text[: m.start()].rstrip())
            before = [
                f
                for f in found
                if f.field == fname
                and f.end == end
                and " " in text[f.start : end]
                and (
                    _abbreviates(letters.lower(), text[f.start : end])
                    or "".join(filter(str.isupper, acronym)) == _capitals(text[f.start : end])
                )  # 'DonNU': Donetsk National University
            ]
            if before:  # a name found there spells it
                full[acronym] = before[0]
                continue
            spelt = _spelt_out(text, end, letters.lower())
            if spelt is not None:
                kinds = [f.kind for f in found if f.name == acronym]
                long = _Found(
                    spelt,
                    end,
                    fname,
                    " ".join(text[spelt:end].split()),
                    kinds[0] if kinds else "organisation",
                    False,
                )
                found[:] = [
                    f for f in found if not (f.field == fname and spelt <= f.start and f.end <= end)
                ]  # its parts: "Democratic Union" in "Teamsters for a Democratic Union"
                found.append(long)
                full[acronym] = long
                continue
            written = [
                f
                for f in found
                if f.field == fname
                and f.end == end
                and f.kind == "organisation"
                and " " in f.name
                and letters.isupper()
            ]
            if written:  # its own language's acronym: "Netherlands Organisation for ... (TNO)"
                full[acronym] = written[0]
    longs = [f for f in found if f.kind == "organisation" and " " in f.name]
    runs = {_capitals(m.group()) for t in texts.values() for m in _CAPITALISED_RUN.finditer(t)}
    things: set[int] = set()
    for f in found:
        letters = f.name.replace(".", "")
        if f.known or f.name in full or not (1 < len(letters) <= 6 and letters.isupper()):
            continue
        spelling = [g for g in longs if _capitals(g.name) == letters]
        if spelling:  # "United Parcel Service" ... "UPS"
            full[f.name] = spelling[0]
        elif letters in runs:  # spelt out, but no actor: "National Labor Relations Act"
            things.add(id(f))
    found[:] = [f for f in found if id(f) not in things]
    for acronym, long in full.items():
        sure = [f for f in found if f.known and texts[f.field][f.start : f.end] == acronym]
        if sure:  # the gazetteer knows the acronym: its name is the actor's ('OPEC')
            long.name, long.kind, long.known = sure[0].name, sure[0].kind, True
    for f in found:
        named = full.get(f.name)
        if named is not None and f is not named:
            f.name, f.kind, f.known = named.name, named.kind, named.known


def _spelt_out(text: str, end: int, letters: str) -> int | None:
    """Where the words before `end` that `letters` abbreviate begin, the nearest start
    with a capital; None when no run of up to `_SPELT_OUT` words does."""
    words = list(_NAME_WORDS.finditer(text, max(0, end - 200), end))[-_SPELT_OUT:]
    for i in range(len(words) - 1, -1, -1):
        word = words[i].group()
        if not word[:1].isupper() or fold_text(word[:1]) != letters[:1]:
            continue
        run = text[words[i].start() : end]
        capitals = sum(1 for w in words[i:] if w.group()[:1].isupper())
        if capitals > len(letters) or not _abbreviates(letters, run):
            continue  # every capitalised word of the name gives a letter
        if capitals < 2 and sentence_start(text, words[i].start()):
            return None  # "Robotic process automation (RPA)": a thing, not a name
        return words[i].start()
    return None


def _capitals(name: str) -> str:
    """The first letters of a name's capitalised words: 'UPS' for 'United Parcel Service'."""
    return "".join(w[0] for w in _INITIALS.findall(name) if w[:1].isupper())


def _abbreviates(letters: str, name: str) -> bool:
    """Whether `letters` are, in order, first letters of `name`'s words, the first
    word's among them ('afp' for 'Agence France-Presse')."""
    initials = [w[0] for w in _INITIALS.findall(fold_text(name))]
    if len(letters) < 2 or not initials or initials[0] != letters[0]:
        return False
    i = 0
    for c in initials:
        if i < len(letters) and c == letters[i]:
            i += 1
    return i == len(letters)


def confirming_keys(name: str, kind: ActorKind) -> tuple[str, ...]:
    """The `name_key`s a name found where capitals can be trusted confirms in a headline:
    its own, and a person's surname."""
    toks = name_tokens(name)
    key = " ".join(toks)
    return (key, toks[-1]) if kind == "person" and len(toks) > 1 else (key,)


def _lone_surname(f: _Found) -> bool:
    """A one-word NER person that no full name explains and no title introduces: most often
    a place or a brand the model took for a person ('Valencia', 'Publicis')."""
    return not f.known and f.kind == "person" and not f.titled and len(f.name.split()) == 1


def _link(found: list[_Found], gaz: Gazetteer) -> None:
    """Within one item: a shorter form takes the name of the one longer person name it ends
    (or starts) with, 'Trump' -> 'Donald Trump', 'Clinton' -> 'Hillary Clinton'. A form two
    people share stays as it is."""
    bodies = {tuple(name_tokens(f.name)): f for f in found if f.kind == "organisation"}
    for f in found:
        toks = tuple(name_tokens(f.name))
        if f.known or f.kind != "organisation" or len(toks) < 2:
            continue
        longer = {
            b.name: b for k, b in bodies.items() if len(k) > len(toks) and k[-len(toks) :] == toks
        }
        if len(longer) == 1:  # 'Communist Party' ... 'Chinese Communist Party'
            (body,) = longer.values()
            f.name, f.known = body.name, body.known
    surnames = {name_tokens(f.name)[-1:] for f in found if f.kind == "person"}
    for f in found:
        toks = name_tokens(f.name)
        if (
            f.kind != "person"
            and not f.known
            and len(toks) >= 2
            and toks[-1:] in surnames
            and cue(f.name, gaz) is None
        ):  # 'Kassym-Jomart Tokaïev' ... « le président Tokaïev »
            f.kind = "person"
    people: dict[tuple[str, ...], str] = {}
    for f in found:
        if f.kind == "person":
            toks = name_tokens(f.name)
            if len(toks) >= 2:
                people.setdefault(toks, f.name)
    for f in found:
        if f.known:
            continue
        toks = name_tokens(f.name)
        if not toks:
            continue
        if f.kind == "person" and len(toks) >= 2:
            continue
        owners = {
            people[p]
            for p in people
            if len(p) > len(toks) and (p[-len(toks) :] == toks or p[: len(toks)] == toks)
        }
        if len(owners) == 1:
            f.name = owners.pop()
            f.kind = "person"
            continue
        spec = gaz.by_name.get(f.name)
        if spec is not None:
            f.kind = spec.kind
