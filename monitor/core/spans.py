"""One NER span judged by itself and its surroundings: trimmed of what is no part of a
name, dropped when what is left is noise, and told which kind its own words or the
words around it say. Pure; `core/actors.py` decides with these what an item names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from monitor.core.fold import fold_text
from monitor.core.gazetteer import CYRILLIC, Gazetteer, letters_of
from monitor.core.headlines import capitalised_elsewhere, sentence_start
from monitor.model import ActorKind

WORD = re.compile(r"\w+")
POSSESSIVE = re.compile(r"['’‘]s\b")  # ‘ too, as some sites type it
NEXT_WORD = re.compile(r"\s+(\w+)")
_SENTENCE_END = '.!?…:;»"“”'
_PLURAL_BEFORE = {"les", "des", "aux", "the", "die", "los", "las"}
_DASH = re.compile(r"\s[-–—]\s")
# Words that never sit inside a name: a name found across one ends before it
_BREAK = re.compile(
    r"(?<=\s)(?:to|is|was|are|were|has|have|had|says|said|will|would|with|from|into|as|"
    r"est|sont|était|dit)(?=\s)"
)
_ELISION = re.compile(r"^\w{1,2}['’]", re.UNICODE)
_PARTICIPLE = re.compile(r"(?:é|ée|és|ées|is|ies|us|ues)$")
_PREPOSITIONS = {
    "à", "au", "aux", "en", "dans", "par", "pour", "sur", "chez", "depuis", "lors",
    "après", "avant", "devant", "contre", "avec", "sous", "entre", "de", "du", "des",
}  # fmt: skip
_QUOTES = {"«": "»", "“": "”", '"': '"', "‘": "’"}
_QUOTED_HEAD = re.compile(r"([«“\"‘])\s*(?:\w{1,3}\s+)?$")  # the quote, maybe a small word


def clean_span(text: str, start: int, end: int, gaz: Gazetteer) -> tuple[int, int, bool] | None:
    """Trim a NER span of leading function words, titles, elisions and punctuation.

    Returns (start, end, titled): `titled` when a title (« M. », "Sir") stood before the
    name. None when what is left is noise."""
    titled = False
    while True:
        span = text[start:end]
        m = _ELISION.match(span)  # "L’équipe", "d'Amérique", "C’"
        if m:
            start += m.end()
            continue
        first = WORD.match(span)
        after = span[first.end() :] if first else ""
        if first and after.startswith((" ", ". ")):
            word = fold_text(first.group())
            skip = first.end() + (2 if after.startswith(".") else 1)
            if skip < len(span) and word in gaz.titles:
                follows = WORD.match(span, skip)  # « ministre de la Défense »: an office
                titled = follows is None or fold_text(follows.group()) not in gaz.leading
                start += skip
                continue
            capital = first.group()[:1].isupper()
            if skip < len(span) and word in gaz.leading and not (capital and word in gaz.articles):
                start += skip
                continue
        break
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    span = text[start:end]
    cut = POSSESSIVE.search(span) or _DASH.search(span)
    if cut:
        end = start + cut.start()
        span = text[start:end]
    cut = next((m for m in _BREAK.finditer(span) if m.start() > 0), None)
    if cut:  # 'Trump to COP30': a headline's verb or preposition ends the name
        end = start + len(span[: cut.start()].rstrip())
        span = text[start:end]
    words = span.split()
    if len(words) > 1 and words[-1][:1].islower():
        return None  # 'Maduro grey': names end with a capital
    last = fold_text(words[-1]) if len(words) > 1 else ""
    if last in gaz.titles and last in gaz.generic:  # « Alphonse Président »: no surname
        end = start + span.rindex(words[-1])
        end = len(text[:end].rstrip())
        span = text[start:end]
    ahead = text[max(0, start - 2) : start]
    if (
        text[end : end + 1] == "."
        and (ahead == ", " or ahead.endswith("-"))
        and fold_text(span.replace(".", "")) in gaz.qualifiers
    ):
        return None  # "Windham, N.H.", "R-Wis.": a state qualifying a name
    letters = letters_of(span)
    if len(letters) < 2 or (not span[:1].isupper() and not CYRILLIC.match(span[:1])):
        return None
    folded = fold_text(span)
    if folded in gaz.generic or folded in gaz.leading or folded in gaz.titles:
        return None
    if any(folded == e or folded.endswith(" " + e) for e in gaz.events):
        return None  # "Lunar New Year", "Winter Olympics": a time, not an actor
    if " " not in span and _opens_with_participle(text, start, end):
        return None
    before = WORD.findall(fold_text(text[max(0, start - 12) : start]))
    if " " not in span and span.endswith("s") and before and before[-1] in _PLURAL_BEFORE:
        return None  # "les Américains", "the Democrats": a group, not an actor
    if before and before[-1] in gaz.titles:
        titled = True
    return start, end, titled


def cue(name: str, gaz: Gazetteer) -> ActorKind | None:
    """The kind a word of a name of several words says ('Anti-Violence Project' is an
    organisation, 'Strait of Hormuz' a place), if one does."""
    words = WORD.findall(fold_text(name))
    if len(words) < 2:
        return None
    if any(w in gaz.organisation_words for w in words):
        return "organisation"
    if any(w in gaz.place_words for w in words):
        return "place"
    return None


def word_before(text: str, start: int) -> str:
    """The folded word just before `start`, if it is written in lower case and only
    spaces stand between ('the town X', not 'the Village X')."""
    words = WORD.findall(text[max(0, start - 16) : start])
    if not words or not words[-1].islower() or not text[:start].endswith(" "):
        return ""
    return fold_text(words[-1])


def quoted(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is the whole of a quotation, but for a small word before it
    or a comma in it: «Orechnik», “So High School,”."""
    head = _QUOTED_HEAD.search(text, max(0, start - 8), start)
    if head is None:
        return False
    tail = text[end : end + 4].lstrip().lstrip(",.!?;:")[:1]
    return _QUOTES[head.group(1)] == tail


def first_name(text: str, start: int, others: Sequence[tuple[str, int, int]]) -> bool:
    """Whether the word at `start` is capitalised for itself: not opening a sentence, or
    written with a capital elsewhere ('Mountainous Nepal' is not a person)."""
    if not sentence_start(text, start):
        return True
    word = WORD.match(text, start)
    return word is not None and capitalised_elsewhere(word.group(), others, initial_ok=False)


def named(run: str, gaz: Gazetteer) -> bool:
    """Whether a part of a NER name can stand as a name: not a generic or leading word."""
    folded = fold_text(run)
    return folded not in gaz.generic and folded not in gaz.leading and folded not in gaz.titles


def _opens_with_participle(text: str, start: int, end: int) -> bool:
    """Whether the one word at text[start:end] opens a sentence, looks like a French
    participle and is followed by a preposition: « Réunis au Maroc »."""
    if not _PARTICIPLE.search(text[start:end].lower()):
        return False
    head = text[:start].rstrip()[-1:]
    if head and head not in _SENTENCE_END:
        return False
    after = NEXT_WORD.match(text, end)
    return after is not None and after.group(1) in _PREPOSITIONS


def strong_words(
    rest: str, gaz: Gazetteer, opening: bool = False, others: Sequence[tuple[str, int, int]] = ()
) -> bool:
    """Whether `rest` (a NER span outside its gazetteer matches) has a name word of its own:
    'New' in 'New Jersey', 'Agence' in 'Agence France-Presse', not 'La' in 'La Russie' nor
    'Northern' in 'Northern Italy' nor 'European' in 'European NATO'. With `opening` (the
    span opens a sentence), its first word counts only when written with a capital
    elsewhere: not 'Hopefully' in « Hopefully Iran will come to the table ».
    """
    weak = gaz.articles | gaz.titles | gaz.leading | gaz.directions | gaz.generic
    for n, m in enumerate(WORD.finditer(rest)):
        w = m.group()
        if not w[:1].isupper() or fold_text(w) in weak:
            continue
        opens = n == 0 and m.start() == 0 and opening
        if opens and not capitalised_elsewhere(w, others, initial_ok=False):
            continue
        return True
    return False
