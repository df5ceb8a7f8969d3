"""Names in headlines and at the start of sentences: capitals that prove nothing.

US and UK feeds write titles in Title Case ("Trump Threatens Military Action"), and
some in capitals; every word then looks like a name to NER, which returns headline
fragments. A word opening a sentence is capitalised by its place (« Résumé »,
"Tributes"). Such a NER name is kept only as far as something else confirms it: the
longest run of its words that the item's other text writes with capitals, or that is
a name found elsewhere (`known`). Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from monitor.core.names import name_key, name_tokens

Casing = Literal["sentence", "title", "upper"]

# Words a Title Case headline may leave in lower case; they say nothing either way.
_SMALL = frozenset(
    """a an and as at but by for from in into is it its nor of off on onto or per so than
    that the their to up upon via vs with yet""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W\d_][\w'’.\-]*")
_NAME_WORD = re.compile(r"\S+")
_SENTENCE_END = '.!?…:;»"“”\n'
TITLE_SHARE = 0.75  # capitalised share of a headline's content words that makes it Title Case
FEED_SHARE = 0.5  # share of a feed's Title Case headlines that makes all its headlines suspect
FEED_MIN = 3  # headlines needed to judge a feed


def casing(title: str) -> Casing:
    """How a headline is written: 'upper' (all capitals), 'title' (Title Case: most
    content words after the first capitalised) or 'sentence'. Short ones are 'sentence'."""
    words = _WORD.findall(title)
    letters = [c for c in title if c.isalpha()]
    if len(words) >= 3 and len(letters) >= 8 and all(c.isupper() for c in letters):
        return "upper"
    content = [w for w in words[1:] if w.lower() not in _SMALL]
    if len(content) < 3:
        return "sentence"
    caps = sum(1 for w in content if w[:1].isupper())
    return "title" if caps >= TITLE_SHARE * len(content) else "sentence"


def title_case_feeds(titles: Iterable[tuple[str, str]]) -> set[str]:
    """The feeds (from (feed, title) pairs) that write most of their headlines in Title
    Case or capitals: even their headlines that look like sentences are suspect."""
    seen: dict[str, list[int]] = {}
    for feed, title in titles:
        counts = seen.setdefault(feed, [0, 0])
        counts[0] += 1
        counts[1] += casing(title) != "sentence"
    return {f for f, (n, t) in seen.items() if n >= FEED_MIN and t >= FEED_SHARE * n}


def sentence_start(text: str, start: int) -> bool:
    """Whether text[start:] opens the text, a line or a sentence."""
    head = text[:start].rstrip(" \t«“\"'‘(")
    return not head or head[-1] in _SENTENCE_END


def capitalised_elsewhere(
    run: str, texts: Sequence[tuple[str, int, int]], *, initial_ok: bool
) -> bool:
    """Whether `run` is written elsewhere with every word capitalised: in `texts`, as
    (text, start, end) where the (start, end) part of a text is the run's own place and
    does not count. A one-word run at the start of a sentence proves nothing unless
    `initial_ok`."""
    pattern = re.compile(r"(?<!\w)" + re.escape(run) + r"(?!\w)", re.IGNORECASE)
    for text, own_start, own_end in texts:
        for m in pattern.finditer(text):
            if own_start <= m.start() < own_end:
                continue
            words = m.group().split()
            if not all(w[:1].isupper() or not w[:1].isalpha() for w in words):
                continue
            if not initial_ok and sentence_start(text, m.start()):
                continue
            return True
    return False


def confirmed_run(
    text: str,
    start: int,
    end: int,
    known: Callable[[str], bool],
    others: Sequence[tuple[str, int, int]],
    allowed: Callable[[str], bool] = lambda run: True,
) -> tuple[int, int] | None:
    """The longest run of words of the NER name text[start:end] (leftmost of equals) that
    is confirmed, as (start, end); None when no run is. A run is confirmed when `known`
    takes its `name_key`, or when `others` write it with capitals (see
    `capitalised_elsewhere`; one word must not open a sentence there). Runs begin and end
    with a capitalised word, and `allowed` must take them ('Israeli' is no name)."""
    words = [(m.start(), m.end()) for m in _NAME_WORD.finditer(text, start, end)]
    for size in range(len(words), 0, -1):
        for i in range(len(words) - size + 1):
            a, b = words[i][0], words[i + size - 1][1]
            while b > a and not text[b - 1].isalnum():
                b -= 1  # "Trump," -> "Trump"
            run = text[a:b]
            parts = run.split()
            if not parts or not parts[0][:1].isupper() or not parts[-1][:1].isupper():
                continue
            if not name_tokens(run) or not allowed(run):
                continue
            if known(name_key(run)) or capitalised_elsewhere(run, others, initial_ok=size > 1):
                return a, b
    return None


# "LA CROSSE, Wis. (AP) —", "KYIV, Ukraine (AP) —", "LONDON, Dec 4 (Reuters) -": the
# town an agency's report is filed from, in capitals, opening a paragraph.
_DATELINE = re.compile(
    r"^([A-Z][A-Z'’.\-]*(?: [A-Z][A-Z'’.\-]*){0,3})(?:, [^()\n]{1,30})?"
    r" \((?:AP|AFP|Reuters|UPI|dpa|Bloomberg|CNN)\) ?[—–-]",
    re.MULTILINE,
)


def datelines(text: str) -> list[tuple[int, int, str]]:
    """The towns of a text's datelines: (start, end, name written as a name), 'La Crosse'
    for "LA CROSSE, Wis. (AP) —". Capitals there say nothing of what the words are."""
    out = []
    for m in _DATELINE.finditer(text):
        name = " ".join(w.capitalize() for w in m.group(1).split())
        out.append((m.start(1), m.end(1), name))
    return out
