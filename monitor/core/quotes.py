"""Quotes and who said them, where the sentence makes it clear. Pure.

Attributed patterns, in one sentence:
- a speech cue (« a dit », « s'est dit », "said", « selon ») before the quote, and a
  person named before it: the nearest such person, unless only a complement
  (« avec X », "with X") names them;
- « selon X, "…" » / "according to X, …";
- "X said: …" (the rest of the sentence is the quote);
- « "…", a déclaré X » / '"…," X said' (the person right after the quote).
Quotes under four words (« "normaliser" ») are words in quotes, not quotes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise

from monitor.core.fold import fold_text
from monitor.model import ActorKind, Mention, Quote

_QUOTE = re.compile(r"«\s*([^«»]+?)\s*»|\"([^\"]+)\"|“([^“”]+)”|„([^„“”]+)[“”]")
_CUES = re.compile(
    r"\b(dit|dire|declare|affirme|estime|explique|assure|ajoute|indique|souligne|annonce|"
    r"parle|confirme|souhait|repondu|previent|averti|martele|ecrit|selon|promet|"
    r"said|says|say|told|tells|added|adds|stated|declared|announced|warned|wrote|insisted|"
    r"according|sagte|sagt|erklarte|erklart|betonte|laut|zufolge|dijo|afirmo|segun|"
    r"заявил|заявила|сказал|сказала|по словам)\b"
)
_COMPLEMENT = re.compile(r"\b(avec|contre|with|against|mit|gegen|con|с|против)\s+$")
_SELON = re.compile(r"(selon|according to|laut|segun|по словам)\s*$")
_SAID_COLON = re.compile(r"^\s*(said|says|told \w+|a dit|a declare|declare|sagte|erklarte)\s*:\s*")
_AFTER = re.compile(
    r"^[\s,.]*(a dit|a declare|a affirme|a assure|a explique|a ajoute|dit|declare|said|says|"
    r"told|added|sagte|erklarte|dijo)\s*,?\s*$"
)
_SENTENCE = re.compile(r"(?<=[.!?»\"”])\s+(?=[A-ZÀ-ÝА-Я«\"“])|\n+")
MIN_WORDS = 4


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans, never cutting inside a quote (a line break always cuts)."""
    cuts = [0]
    for m in _SENTENCE.finditer(text):
        part = text[cuts[-1] : m.start()]
        open_ = part.count("«") > part.count("»") or part.count("“") > part.count("”")
        if "\n" in m.group() or not (open_ or part.count('"') % 2):
            cuts.append(m.end())
    cuts.append(len(text))
    return [(a, b) for a, b in pairwise(cuts) if b > a]


def find_quotes(text: str, mentions: Sequence[Mention], kinds: dict[str, ActorKind]) -> list[Quote]:
    """Attributed quotes in `text`; `mentions` are those of this text, `kinds` by actor."""
    people = sorted((m for m in mentions if kinds.get(m.actor) == "person"), key=lambda m: m.start)
    out: list[Quote] = []
    seen: set[tuple[str, str]] = set()

    def add(actor: str, quote: str) -> None:
        quote = " ".join(quote.split()).strip(" ,")
        if len(quote.split()) >= MIN_WORDS and (actor, quote) not in seen:
            seen.add((actor, quote))
            out.append(Quote(actor, quote))

    for s_start, s_end in _sentences(text):
        here = [m for m in people if s_start <= m.start < s_end]
        if not here:
            continue
        for q in _QUOTE.finditer(text, s_start, s_end):
            quote = next(g for g in q.groups() if g is not None)
            before = [m for m in here if m.end <= q.start()]
            after = [m for m in here if m.start >= q.end()]
            speaker = _speaker_before(text, s_start, q.start(), before)
            if speaker is None and after:
                gap = fold_text(text[q.end() : after[0].start])
                if _AFTER.match(gap):
                    speaker = after[0].actor
            if speaker is not None:
                add(speaker, quote)
        for m in here:  # X said: the rest of the sentence
            tail = text[m.end : s_end]
            said = _SAID_COLON.match(fold_text(tail))
            if said and not _QUOTE.match(tail[said.end() :].lstrip()):
                add(m.actor, tail[said.end() :].rstrip())
    return out


def _speaker_before(text: str, s_start: int, q_start: int, before: list[Mention]) -> str | None:
    if not before:
        return None
    last = before[-1]
    gap = fold_text(text[last.end : q_start])
    if _SELON.search(fold_text(text[s_start : last.start])) and len(gap.strip(" ,:")) == 0:
        return last.actor  # selon X, « … »
    if not _CUES.search(fold_text(text[s_start:q_start])):
        return None
    for m in reversed(before):
        if not _COMPLEMENT.search(fold_text(text[max(s_start, m.start - 12) : m.start])):
            return m.actor
    return None
