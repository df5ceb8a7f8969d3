"""The tests of single terms of the query language, on one entry or one name: words
in folded text, NEAR, sites, text status, triage, dates, languages, sources and actors.
Pure. `monitor.core.query` joins them into queries."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from monitor.core.fold import WORD, fold_text
from monitor.core.names import name_key
from monitor.core.query_syntax import DAWN, Near, Term
from monitor.model import Entry, TriageState

if TYPE_CHECKING:
    from monitor.core.query import StoryLookup

Pred = Callable[[Entry], bool]


class Memo(dict[Any, bool]):
    """Answers by key, computed on first sight: languages, sources and actors repeat."""

    def __init__(self, test: Callable[[Any], bool]) -> None:
        super().__init__()
        self.test = test

    def __missing__(self, key: Any) -> bool:
        hit = self[key] = self.test(key)
        return hit


def text_test(t: Term) -> Callable[[str], bool]:
    """Whether folded words separated by single spaces hold word or phrase term `t`."""
    # `in` decides it all; the first test alone rejects most texts, and fast.
    w = " ".join(t.words)
    sw = " " + w
    if t.kind == "word":  # the start of a word
        if len(w) <= 2:  # short: found inside most texts, so `w in s` rejects nothing
            return lambda s: sw in s or s.startswith(w)
        return lambda s: w in s and (sw in s or s.startswith(w))
    ws, sws = w + " ", sw + " "
    return lambda s: w in s and (sws in s or s.startswith(ws) or s.endswith(sw) or s == w)


def folded_title(e: Entry) -> str:
    return " ".join(WORD.findall(fold_text(e.title)))


def near_test(node: Near) -> Pred:
    """NEAR on the search text: the gap between the two, in words, is `distance` or less."""
    left, right, most = node.left, node.right, node.distance

    def test(e: Entry) -> bool:
        words = e.search.split(" ")
        at_left = positions(words, left)
        if not at_left:
            return False
        at_right = positions(words, right)
        a, b = len(left.words), len(right.words)
        return any(
            (j - i - a if j >= i else i - j - b) <= most and (j >= i + a or i >= j + b)
            for i in at_left
            for j in at_right
        )

    return test


def positions(words: list[str], t: Term) -> list[int]:
    """Where term `t` (a word: its last word a prefix; a phrase: whole words) starts."""
    want = t.words
    n = len(want)
    last = n - 1
    prefix = t.kind == "word"
    out = []
    for i in range(len(words) - n + 1):
        if all(
            words[i + k].startswith(want[k]) if prefix and k == last else words[i + k] == want[k]
            for k in range(n)
        ):
            out.append(i)
    return out


def category_test(t: Term, categories: Mapping[str, str]) -> Callable[[str], bool]:
    return lambda name: categories.get(name) == t.text


def site_test(site: str) -> Callable[[str | None], bool]:
    """Whether a link is on `site`: its host is the site or a subdomain of it; a site with
    no dot (`site:lemonde`) is one label of the host."""
    labels = "." not in site

    def test(url: str | None) -> bool:
        if not url:
            return False
        try:
            host = (urlsplit(url).hostname or "").rstrip(".")
        except ValueError:
            return False
        if labels:
            return site in host.split(".")
        return host == site or host.endswith("." + site)

    return test


def status_test(status: str) -> Pred:
    if status == "pending":
        return lambda e: e.text_status is None
    return lambda e: e.text_status == status or e.text_error == status


def triage_test(t: Term, triage: TriageState) -> Pred:
    if t.kind == "is":
        if t.text == "starred":
            starred = triage.starred
            return lambda e: e.id in starred
        if t.text == "new-angle":
            angles = triage.angles
            return lambda e: e.id in angles
        unread = t.text == "unread"
        return lambda e: triage.unread(e.id, e.first_seen) == unread
    if t.kind == "tag":
        tagged = triage.tags.get(t.text, frozenset())
        return lambda e: e.id in tagged
    if t.text == "note":  # has:
        notes = triage.notes
        return lambda e: e.id in notes
    if t.text == "tag":
        any_tag = frozenset().union(*triage.tags.values())
        return lambda e: e.id in any_tag
    return lambda e: e.has_text


def story_test(t: Term, stories: StoryLookup | None) -> Pred:
    """`story:ID`: the items of the story item ID is in; `is:story-lead`: the item of
    each story that ran it first (`StoryLookup.followers` are the others). An item in no
    story (or no `stories` at all) is a story of its own."""
    if t.kind == "is":  # is:story-lead
        followers = stories.followers() if stories is not None else frozenset()
        return lambda e: e.id not in followers
    story_of = stories.story_of if stories is not None else lambda _: None
    wanted = story_of(t.text) or t.text
    return lambda e: (story_of(e.id) or e.id) == wanted


def moment(t: Term, now: datetime) -> datetime:
    if t.seconds is None:
        return t.day
    try:
        return now - timedelta(seconds=t.seconds)
    except OverflowError:
        return DAWN  # further back than any date


def source_test(t: Term) -> Callable[[str], bool]:
    """Whether a source name holds the text of `source:` term `t`, folded; a name that
    folds to nothing (only `source_query` makes one) is matched whole."""
    needle = t.text
    if not needle:
        return lambda name: not fold_text(name).split()
    return lambda name: needle in " ".join(fold_text(name).split())


def actor_test(t: Term) -> Callable[[str], bool]:
    """Whether an actor name is the one of `actor:` term `t`: it holds the words, or it is
    the same name in another spelling, or the surname of it. A term with no words (only
    `actor_query` makes one) is matched whole."""
    if not t.words:
        return lambda name: " ".join(fold_text(name).split()) == t.text
    rx = re.compile(r"(?<!\w)" + r"\W+".join(map(re.escape, t.words)) + r"(?!\w)")
    key = name_key(t.text)
    first = t.words[0]

    def same_actor(name: str) -> bool:
        folded = fold_text(name)
        if first in folded and rx.search(folded) is not None:
            return True
        k = name_key(name)
        return k == key or key.endswith(" " + k)

    return same_actor


def language_test(code: str) -> Callable[[str | None], bool]:
    def test(got: str | None) -> bool:
        if not got:
            return False
        got = got.lower().replace("_", "-")
        return got == code or got.startswith(code + "-")

    return test


def any_name(test: Callable[[str], bool]) -> Callable[[tuple[str, ...]], bool]:
    return lambda names: any(test(n) for n in names)
