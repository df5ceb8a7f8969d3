"""The hand-annotated gold sets of tests/gold and the Items they stand for.

A gold document names a piece of text in ../shared/corpus, never copies it:
- a fundus passage: {"file": "fr/LeMonde.json", "version": "V1", "paragraphs": [a, b]},
  the body paragraphs [a, b) of that entry joined by blank lines;
- a readability passage: {"page": "readability/lemonde-1", "paragraphs": [a, b]}, the
  <p> elements [a, b) of the page's expected.html, empty ones left out;
- a feed item: {"feed": "fastfeedparser/78f77fae2e1ffc14", "guid": "..."}, the entry
  with that guid (or that link, when it has no guid), as monitor parses and normalizes it.
Passages become text-only Items; feed items become Items with their title and summary.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import cast

from msgspec import structs

from monitor.core.normalize import normalize_feed
from monitor.core.parse import parse_feed
from monitor.model import Item, Source

GOLD = Path(__file__).resolve().parents[1] / "gold"
ACTORS = GOLD / "actors.json"
HEADLINES = GOLD / "headlines.json"
BLIND = GOLD / "blind.json"  # annotated blind, after the rules: see its "about"
KINDS = ("person", "organisation", "place")
WHEN = datetime(2024, 1, 1, tzinfo=UTC)
# What only an annotated text would hold: a gold document carries none of it.
TEXT_KEYS = frozenset({"text", "title", "summary", "body"})


@dataclass(frozen=True, slots=True)
class GoldDoc:
    """One annotated document: where its text is, its language and its actors by kind."""

    ref: dict[str, object]
    language: str
    actors: dict[str, tuple[str, ...]]

    @property
    def source(self) -> str:
        """The file, page or feed the document comes from."""
        return str(self.ref.get("file") or self.ref.get("page") or self.ref.get("feed"))


def load(path: Path) -> list[GoldDoc]:
    """The documents of one gold file."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    docs: list[GoldDoc] = []
    for d in cast("list[dict[str, object]]", raw["documents"]):
        actors = {k: tuple(cast("list[str]", d[k])) for k in KINDS}
        ref = {k: v for k, v in d.items() if k not in KINDS and k != "language"}
        docs.append(GoldDoc(ref=ref, language=str(d["language"]), actors=actors))
    return docs


def raw_documents(path: Path) -> list[dict[str, object]]:
    """The documents of one gold file as written, for checks of the file itself."""
    return cast(
        "list[dict[str, object]]", json.loads(path.read_text(encoding="utf-8"))["documents"]
    )


def _range(doc: GoldDoc) -> tuple[int, int]:
    start, end = cast("list[int]", doc.ref["paragraphs"])
    return start, end


class _Paragraphs(HTMLParser):
    """The text of every <p> element of a page, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p":
            self._close()
            self._open = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self._close()

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)

    def _close(self) -> None:
        if self._open is not None:
            self.paragraphs.append(re.sub(r"\s+", " ", "".join(self._open)).strip())
            self._open = None

    def close(self) -> None:
        super().close()
        self._close()


def html_paragraphs(html: str) -> list[str]:
    """The text of each <p> element of `html`, empty ones included (they keep the index)."""
    parser = _Paragraphs()
    parser.feed(html)
    parser.close()
    return parser.paragraphs


def passage(corpus: Path, doc: GoldDoc) -> str:
    """The text of a fundus or readability passage."""
    start, end = _range(doc)
    if "page" in doc.ref:
        kind, name = str(doc.ref["page"]).split("/", 1)
        page = corpus / "articles" / kind / "test-pages" / name / "expected.html"
        paras = html_paragraphs(page.read_text(encoding="utf-8"))
    else:
        path = corpus / "articles" / "fundus" / "test_data" / str(doc.ref["file"])
        entry = json.loads(path.read_text(encoding="utf-8"))[str(doc.ref["version"])]
        paras = [p for s in entry["body"]["sections"] for p in s["paragraphs"]]
    return "\n\n".join(p for p in paras[start:end] if p)


def feed_item(corpus: Path, doc: GoldDoc) -> Item:
    """The feed entry a headline document names, as monitor normalizes it (no body text)."""
    name = str(doc.ref["feed"])
    guid = str(doc.ref["guid"])
    feed = parse_feed((corpus / "feeds" / name).read_bytes())
    found = [e for e in feed.entries if (e.guid or e.link) == guid]
    assert len(found) == 1, f"{name}: {len(found)} entries with guid {guid}"
    source = Source(name=name, url=f"https://gold.invalid/{name}", language=doc.language)
    (item,) = normalize_feed(replace(feed, entries=(found[0],)), source, now=WHEN)
    return structs.replace(item, text=None)


def to_item(corpus: Path, doc: GoldDoc, n: int) -> Item:
    """Gold document `doc` as the Item monitor would annotate, with id `n`."""
    if "feed" in doc.ref:
        return structs.replace(feed_item(corpus, doc), id=str(n))
    return Item(
        id=str(n),
        title="",
        url=None,
        sources=("gold",),
        published=WHEN,
        published_raw=None,
        date_flag=None,
        language=doc.language,
        summary="",
        first_seen=WHEN,
        text=passage(corpus, doc),
    )
