"""Whole-text search engines compared on one corpus: numpy positions, tantivy, SQLite FTS5.

    uv run --group bench python bench/search_engines.py [--items 100000] [--repeats 9]

Generates --items items once into a temp folder, seeded: a title of ~10 words, a summary
of ~30 and a full text of ~700 in paragraphs, words drawn with Zipf frequencies (see
VOCAB) over the words of the fundus pages in ../shared/corpus by their frequency there
(or a built-in French/English list without it), then made-up words for the long tail.
Known words are planted: a rare word in the last paragraph of 0.1% of the items, a
two-word phrase in 1%, two words at most 5 words apart (either order) in 1%. Every engine
gets the same text, folded with `monitor.core.fold.folded_words`, in two fields: title,
and body (summary then full text). Each item has an int64 key.

Engines, each in fresh processes (so memory is its own):
- numpy: a positional inverted index per chunk of 2,000 items (sorted distinct words,
  S16, and per word its (row, field, position) codes), one memory-mapped file per chunk;
- tantivy: the official Python bindings, whitespace tokenizer, positions, an i64 fast key;
- fts5 and fts5-noprefix: SQLite FTS5, contentless (content=''), detail=full, rowid = key,
  WAL; with prefix='2 3' and without.

Figures (medians over --repeats): build time and size on disk; adding 1,000 items to an
empty index and to the built one, and their ratio; open time in a fresh process; memory
after open and the queries; and per query, the time to get ALL matching keys as a numpy
int64 array (median, p95) and the number of hits. Every engine must return the same keys
for every query: the script asserts it and prints OK.
"""

from __future__ import annotations

import argparse
import collections
import importlib.metadata
import itertools
import json
import mmap
import os
import random
import re
import resource
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from monitor.core.fold import folded_words

ROOT = Path(__file__).resolve().parents[1]
FUNDUS = ROOT.parent / "shared" / "corpus" / "articles" / "fundus" / "test_data"

ENGINES = ("numpy", "tantivy", "fts5", "fts5-noprefix")
CHUNK = 2000  # items per numpy chunk, as monitor/core/index.py
NEW = 1000  # items per write
NEAR = 5  # NEAR/5: at most 5 words between the two
SEED = 7
# Word ranks drawn from a two-regime Zipf law, p(rank) ~ 1 / (rank + 2.7) up to rank
# 10,000 and falling as rank^-2 after it (the steeper tail of large corpora): ~70,000
# distinct words per 1.4M words and ~460,000 in 70M, the order of Heaps' law for news
# (English RCV1: ~46,000 and ~300,000; here four languages)
VOCAB = 2_000_000
ZIPF_Q, ZIPF_KNEE, ZIPF_TAIL = 2.7, 10_000, 2.0
RARE = "zorblaxe"  # never drawn: only where planted
TANTIVY_HEAP = 128_000_000  # the bindings' default
TANTIVY_THREADS = 1  # one indexing thread, as the other engines (merges run beside it)

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Codes = npt.NDArray[np.uint32]

FALLBACK = (  # folded
    "le la les de des du un une et en au aux dans sur pour avec par que qui est a ont "
    "the of and to in on for with by that is was has have it as at from be are "
    "gouvernement president ministre premier assemblee elections reforme budget securite "
    "defense economie croissance inflation chomage greve manifestation sommet accord "
    "negociations sanctions frontiere guerre paix armee troupes russie ukraine chine europe "
    "kremlin moscou kiev paris bruxelles washington crise energie petrole gaz prix marche "
    "banque centrale taux dette deficit hopital ecole justice proces enquete police "
    "government minister parliament election budget security defence economy growth strike "
    "protest summit deal talks border war peace army troops russia china energy oil prices "
    "market bank rates debt hospital school court trial inquiry attack victims refugees "
    "climate drought wildfires floods region city residents opposition majority vote law "
    "said announced warned rejected adopted signed monday tuesday wednesday thursday friday "
    "lundi mardi mercredi jeudi vendredi semaine annee contre entre selon apres avant"
)


# --- corpus ----------------------------------------------------------------------------


def corpus_words() -> tuple[list[str], str]:
    """Distinct folded words of the fundus pages, most frequent first, and where from."""
    counts: collections.Counter[str] = collections.Counter()
    for path in sorted(FUNDUS.glob("*/*.json")):
        for article in json.loads(path.read_text(encoding="utf-8")).values():
            body = article.get("body") or {}
            texts = [article.get("title") or "", *body.get("summary", [])]
            for section in body.get("sections", []):
                texts.extend(section.get("headline", []))
                texts.extend(section.get("paragraphs", []))
            counts.update(folded_words(" ".join(texts)).split())
    # ASCII letters and digits only: every engine's tokenizer splits those alike
    plain = re.compile(r"[a-z0-9]+")
    words = [
        w for w, _ in sorted(counts.items(), key=lambda c: (-c[1], c[0])) if plain.fullmatch(w)
    ]
    if words:
        return words, f"the fundus pages of ../shared/corpus ({len(words):,} distinct words)"
    return list(dict.fromkeys(FALLBACK.split())), "a built-in French/English list"


def vocabulary(rnd: random.Random) -> tuple[list[str], str]:
    """`VOCAB` words by rank: the real ones first, then made-up ones spliced from them
    (the long tail of names and rare words a real corpus has)."""
    words, origin = corpus_words()
    seen = set(words) | {RARE}
    out = list(words)
    letters = "abcdefghijklmnopqrstuvwxyz"
    ends = ["", *letters, *(a + b for a in letters for b in letters)]  # room for 2M words
    while len(out) < VOCAB:
        need = VOCAB - len(out)
        for a, b, e in zip(
            rnd.choices(words, k=need),
            rnd.choices(words, k=need),
            rnd.choices(ends, k=need),
            strict=True,
        ):
            w = a[: max(2, len(a) // 2)] + b[len(b) // 2 :] + e
            if w not in seen:
                seen.add(w)
                out.append(w)
    return out, origin


class Plan(msgspec.Struct):
    """What the corpus holds and what to ask it."""

    items: int
    words: int
    origin: str
    distinct: int
    queries: list[tuple[str, str, list[str]]]  # (label, kind, words)
    planted: dict[str, list[int]]  # query label -> keys planted


def generate(work: Path, n: int) -> Plan:
    """Write `n` items to work/corpus.tsv and `NEW` more to work/new.tsv (key, title, body
    a line), and return the plan."""
    rnd = random.Random(SEED)
    rng = np.random.default_rng(SEED)
    vocab, origin = vocabulary(rnd)
    rank = np.arange(1, len(vocab) + 1) + ZIPF_Q
    knee = ZIPF_KNEE + ZIPF_Q
    weights = np.where(rank <= knee, 1 / rank, (1 / knee) * (rank / knee) ** -ZIPF_TAIL)
    prob = weights / weights.sum()
    cum = np.cumsum(prob)
    cum[-1] = 1.0
    table = np.array(vocab, dtype=object)

    # words picked by the share of items expected to hold them (~715 words an item)
    df = 1.0 - (1.0 - prob) ** 715
    used: set[str] = set()

    def pick(share: float) -> str:
        for i in np.argsort(np.abs(df - share)).tolist():
            word: str = vocab[i]
            if word not in used and len(word) > 2:
                used.add(word)
                return word
        raise AssertionError("vocabulary too small")

    common = pick(0.5)
    phrase = [pick(0.2), pick(0.15)]
    near = [pick(0.1), pick(0.08)]
    both = [pick(0.4), pick(0.3), pick(0.2)]
    either = [pick(0.03), pick(0.02)]
    queries = [
        ("rare word (last paragraph)", "word", [RARE]),
        ("common word", "word", [common]),
        ("3-letter prefix", "prefix", ["con"]),
        ("2-word phrase", "phrase", phrase),
        (f"NEAR/{NEAR}", "near", near),
        ("3 words AND", "and", both),
        ("2 words OR", "or", either),
        ("1-letter prefix", "prefix", ["s"]),
    ]
    keys = 10**12 + np.cumsum(rng.integers(1, 5, n + NEW))  # increasing, with gaps
    rare = set(rng.choice(n, max(1, n // 1000), replace=False).tolist())
    phr = set(rng.choice(n, max(1, n // 100), replace=False).tolist())
    nea = set(rng.choice(n, max(1, n // 100), replace=False).tolist())
    total = 0
    drawn = np.zeros(len(vocab), np.bool_)
    batch = 2000
    with (
        (work / "corpus.tsv").open("w", encoding="utf-8") as out,
        (work / "new.tsv").open("w", encoding="utf-8") as new,
    ):
        for start in range(0, n + NEW, batch):
            m = min(batch, n + NEW - start)
            title_len = rng.integers(6, 15, m)
            summary_len = rng.integers(20, 41, m)
            paragraphs = rng.integers(6, 10, m)
            para_len = rng.integers(70, 111, int(paragraphs.sum()))
            count = int(title_len.sum() + summary_len.sum() + para_len.sum())
            ids = np.searchsorted(cum, rng.random(count))
            tokens: list[str] = table[ids].tolist()
            # the words of the first n items (not the new ones), in the order drawn
            old = max(0, min(m, n - start))
            per_item = title_len + summary_len
            np.add.at(per_item, np.repeat(np.arange(m), paragraphs), para_len)
            drawn[ids[: int(per_item[:old].sum())]] = True
            c = p = 0
            for j in range(m):
                i = start + j
                title = tokens[c : c + title_len[j]]
                c += int(title_len[j])
                summary = tokens[c : c + summary_len[j]]
                c += int(summary_len[j])
                paras = []
                for length in para_len[p : p + paragraphs[j]].tolist():
                    paras.append(tokens[c : c + length])
                    c += length
                p += int(paragraphs[j])
                if i in rare:
                    last = paras[-1]
                    last.insert(rnd.randrange(len(last) + 1), RARE)
                if i in phr:
                    para = rnd.choice(paras)
                    at = rnd.randrange(len(para) + 1)
                    para[at:at] = phrase
                if i in nea:
                    para = rnd.choice(paras)
                    gap = rnd.randrange(NEAR + 1)
                    at = rnd.randrange(len(para) - gap + 1)
                    a, b = near if rnd.random() < 0.5 else near[::-1]
                    para.insert(at + gap, b)
                    para.insert(at, a)
                text = "\n\n".join(" ".join(para) for para in paras)
                t = folded_words(" ".join(title))
                body = folded_words(" ".join(summary) + "\n\n" + text)
                if i < n:
                    total += t.count(" ") + body.count(" ") + 2
                (out if i < n else new).write(f"{keys[i]}\t{t}\t{body}\n")
    planted = {
        queries[0][0]: sorted(keys[sorted(rare)].tolist()),
        queries[3][0]: sorted(keys[sorted(phr)].tolist()),
        queries[4][0]: sorted(keys[sorted(nea)].tolist()),
    }
    return Plan(n, total, origin, int(drawn.sum()) + 1, queries, planted)  # + RARE


def read_items(path: Path) -> tuple[Ints, list[str], list[str]]:
    keys: list[int] = []
    titles: list[str] = []
    bodies: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            key, title, body = line.rstrip("\n").split("\t")
            keys.append(int(key))
            titles.append(title)
            bodies.append(body)
    return np.array(keys, np.int64), titles, bodies


# --- engines -----------------------------------------------------------------------------


class Engine(Protocol):
    def add(self, keys: Ints, titles: list[str], bodies: list[str]) -> None:
        """Index the items and make them searchable (committed, durable)."""

    def search(self, kind: str, words: list[str]) -> Ints:
        """The keys of every matching item."""

    def settle(self) -> None:
        """Finish background work after a build (merges, checkpoint)."""

    def close(self) -> None: ...


# numpy: per chunk, the sorted distinct words and, per word, one sorted uint32 code per
# occurrence: row << 17 | field << 16 | position. A row's title and body never meet, and
# position +-(NEAR + 1) never leaves the field while positions stay under POS_LIMIT.
POS_LIMIT = 65536 - 16
_ALIGN = 64


def _round(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """One file: an 8-byte header length, a msgpack header, then each array 64-byte
    aligned, so that it maps straight into numpy. Written to a temp name, synced, renamed."""
    header: list[tuple[str, str, int, int]] = []
    offset = 0
    for name, a in arrays.items():
        header.append((name, a.dtype.str, len(a), offset))
        offset += _round(a.nbytes)
    head = msgspec.msgpack.encode(header)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)
        f.write(b"\0" * (_round(8 + len(head)) - 8 - len(head)))
        for a in arrays.values():
            f.write(a.tobytes())
            f.write(b"\0" * (_round(a.nbytes) - a.nbytes))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    with path.open("rb") as f:
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    (size,) = struct.unpack_from("<Q", mm, 0)
    base = _round(8 + size)
    out: dict[str, np.ndarray] = {}
    for name, dtype, count, offset in msgspec.msgpack.decode(mm[8 : 8 + size]):
        dt = np.dtype(dtype)
        out[name] = (
            np.frombuffer(mm, dt, count, base + offset) if count else np.zeros(0, dt)
        )  # the arrays keep the map open
    return out


WORD_BYTES = 16  # as monitor/core/index.py; longer words are told apart by a side table
_WORD = np.dtype(f"S{WORD_BYTES}")


class Chunk:
    __slots__ = ("codes", "keys", "long_at", "long_words", "size", "starts", "words")

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.keys: Ints = arrays["keys"]
        # the distinct words in order, cut to 16 bytes (cutting keeps the order; two long
        # words may then look alike)
        self.words = arrays["words"]
        self.starts = arrays["starts"]  # codes of words[i]: codes[starts[i]:starts[i + 1]]
        self.codes = arrays["codes"]
        self.long_at = arrays["long_at"]  # the entries of words of 16 bytes or more,
        self.long_words = arrays["long_words"]  # and those words whole
        self.size = len(self.keys)

    @staticmethod
    def arrays(keys: Ints, titles: list[str], bodies: list[str]) -> dict[str, np.ndarray]:
        fields = [f for pair in zip(titles, bodies, strict=True) for f in pair]
        lens = np.array([f.count(" ") + 1 if f else 0 for f in fields], np.int64)
        tokens = " ".join(f for f in fields if f).split(" ")
        vocab: dict[str, int] = {}
        ids = np.fromiter((vocab.setdefault(w, len(vocab)) for w in tokens), np.int64, len(tokens))
        raw = [w.encode() for w in vocab]
        distinct = np.array(raw, f"S{max((len(w) for w in raw), default=1)}")
        order = np.argsort(distinct)
        whole = distinct[order]
        long_at = np.flatnonzero(
            np.fromiter(map(len, raw), np.int64, len(raw))[order] >= WORD_BYTES
        )
        long_words = whole[long_at]
        long_words = long_words.astype(f"S{max(long_words.dtype.itemsize, 1)}")
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        field = np.repeat(np.arange(len(fields), dtype=np.int64), lens)
        pos = np.arange(len(tokens), dtype=np.int64) - np.repeat(np.cumsum(lens) - lens, lens)
        if len(pos) and int(pos.max()) >= POS_LIMIT:
            raise ValueError(f"a field of more than {POS_LIMIT} words")
        code = (field >> 1) << 17 | (field & 1) << 16 | pos  # row, field, position
        both = np.sort(rank[ids] << 32 | code)
        return {
            "keys": keys.astype(np.int64),
            "words": whole.astype(_WORD),
            "long_at": long_at.astype(np.uint32),
            "long_words": long_words,
            "starts": np.searchsorted(both >> 32, np.arange(len(order) + 1)).astype(np.uint32),
            "codes": (both & 0xFFFFFFFF).astype(np.uint32),
        }

    def span(self, word: str, prefix: bool) -> tuple[int, int]:
        """The codes of `word`, or of every word starting with it: one slice."""
        key = word.encode()
        a, b = _between(self.words, key[:WORD_BYTES], prefix and len(key) < WORD_BYTES)
        if len(key) >= WORD_BYTES and a < b:
            # entries a..b are words of 16 bytes or more, all in the side table: narrow
            # them down with the whole words
            i = int(np.searchsorted(self.long_at, a))
            c, d = _between(self.long_words[i : i + b - a], key, prefix)
            a, b = a + c, a + d
        return int(self.starts[a]), int(self.starts[b])

    def occurrences(self, word: str) -> Codes:
        a, b = self.span(word, False)
        return self.codes[a:b]

    def rows(self, kind: str, words: list[str]) -> Mask:
        mask = np.zeros(self.size, np.bool_)
        if kind in ("word", "prefix"):
            a, b = self.span(words[0], kind == "prefix")
            mask[self.codes[a:b] >> 17] = True
        elif kind == "phrase":
            first, second = self.occurrences(words[0]), self.occurrences(words[1])
            if len(first) and len(second):
                mask[_followed(first, second) >> 17] = True
        elif kind == "near":
            first, second = self.occurrences(words[0]), self.occurrences(words[1])
            if len(first) and len(second):
                if len(second) < len(first):  # probe with the shorter list
                    first, second = second, first
                at = first.astype(np.int64)
                low = np.searchsorted(second, at - (NEAR + 1), "left")
                high = np.searchsorted(second, at + (NEAR + 1), "right")
                mask[first[high > low] >> 17] = True
        elif kind == "and":
            mask[:] = True
            for w in words:
                mask &= self.rows("word", [w])
        elif kind == "or":
            for w in words:
                mask |= self.rows("word", [w])
        else:
            raise ValueError(kind)
        return mask


def _between(words: np.ndarray, key: bytes, prefix: bool) -> tuple[int, int]:
    """The entries of sorted `words` equal to `key`, or starting with it (`prefix`)."""
    width = words.dtype.itemsize
    if len(key) > width:
        return 0, 0
    low = np.array(key, words.dtype)
    a = int(np.searchsorted(words, low, "left"))
    if prefix and len(key) < width:
        high = np.array(key + b"\xff", words.dtype)  # above every longer word with the prefix
        return a, int(np.searchsorted(words, high, "left"))
    return a, int(np.searchsorted(words, low, "right"))


def _followed(first: Codes, second: Codes) -> Codes:
    """Codes of `first` directly followed by one of `second` (both sorted); the shorter
    one is looked up in the longer one."""
    out: Codes
    if len(first) <= len(second):
        nxt = first + np.uint32(1)
        at = np.minimum(np.searchsorted(second, nxt), len(second) - 1)
        out = first[second[at] == nxt]
    else:
        prev = second - np.uint32(1)
        at = np.minimum(np.searchsorted(first, prev), len(first) - 1)
        out = first[at][first[at] == prev]
    return out


class NumpyIndex:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.chunks = [Chunk(load_arrays(f)) for f in sorted(path.glob("*.chunk"))]

    def add(self, keys: Ints, titles: list[str], bodies: list[str]) -> None:
        for i in range(0, len(keys), CHUNK):
            part = slice(i, i + CHUNK)
            file = self.path / f"{len(self.chunks):06d}.chunk"
            save_arrays(file, Chunk.arrays(keys[part], titles[part], bodies[part]))
            self.chunks.append(Chunk(load_arrays(file)))

    def search(self, kind: str, words: list[str]) -> Ints:
        found = [c.keys[c.rows(kind, words)] for c in self.chunks]
        return np.concatenate(found) if found else np.zeros(0, np.int64)

    def settle(self) -> None:
        pass

    def close(self) -> None:
        self.chunks = []


class TantivyIndex:
    def __init__(self, path: Path) -> None:
        import tantivy

        self.t = tantivy
        path.mkdir(parents=True, exist_ok=True)
        if tantivy.Index.exists(str(path)):
            self.index = tantivy.Index.open(str(path))
        else:
            sb = tantivy.SchemaBuilder()
            # the text comes folded, words split by single spaces: split on spaces only
            sb.add_text_field("title", tokenizer_name="whitespace", index_option="position")
            sb.add_text_field("body", tokenizer_name="whitespace", index_option="position")
            sb.add_integer_field("key", fast=True)
            self.index = tantivy.Index(sb.build(), path=str(path))
        self.schema = self.index.schema
        self.writer: Any = None
        self.searcher = self.index.searcher()

    def add(self, keys: Ints, titles: list[str], bodies: list[str]) -> None:
        t = self.t
        if self.writer is None:
            self.writer = self.index.writer(heap_size=TANTIVY_HEAP, num_threads=TANTIVY_THREADS)
        for key, title, body in zip(keys.tolist(), titles, bodies, strict=True):
            doc = t.Document()
            doc.add_integer("key", key)
            doc.add_text("title", title)
            doc.add_text("body", body)
            self.writer.add_document(doc)
        self.writer.commit()
        self.index.reload()
        self.searcher = self.index.searcher()

    def open_writer(self) -> None:
        """Writers are long-lived: one is made before the writes that are timed."""
        if self.writer is None:
            self.writer = self.index.writer(heap_size=TANTIVY_HEAP, num_threads=TANTIVY_THREADS)

    def query(self, kind: str, words: list[str]) -> Any:
        t, schema = self.t, self.schema

        def either(make: Callable[[str], Any]) -> Any:  # title or body
            return t.Query.boolean_query([(t.Occur.Should, make(f)) for f in ("title", "body")])

        if kind == "word":
            return either(lambda f: t.Query.term_query(schema, f, words[0]))
        if kind == "prefix":
            return either(lambda f: t.Query.regex_query(schema, f, re.escape(words[0]) + ".*"))
        if kind == "phrase":
            return either(lambda f: t.Query.phrase_query(schema, f, words))
        if kind == "near":
            # slop counts moves: in order, `slop` words may come between; in reverse order
            # only slop - 2. Both orders at slop NEAR make "at most NEAR between, any order".
            return t.Query.boolean_query(
                [
                    (t.Occur.Should, t.Query.phrase_query(schema, f, w, slop=NEAR))
                    for f in ("title", "body")
                    for w in (words, words[::-1])
                ]
            )
        occur = t.Occur.Must if kind == "and" else t.Occur.Should
        return t.Query.boolean_query([(occur, self.query("word", [w])) for w in words])

    def search(self, kind: str, words: list[str]) -> Ints:
        searcher = self.searcher
        # every hit: limit = all documents; ordering by the fast key field hands the key
        # back with each hit (no stored document to read, no score)
        hits = searcher.search(
            self.query(kind, words),
            limit=max(searcher.num_docs, 1),
            count=False,
            order_by_field="key",
        ).hits
        return np.fromiter((h[0] for h in hits), np.int64, len(hits))

    def settle(self) -> None:
        if self.writer is not None:
            self.writer.wait_merging_threads()  # consumes the writer
            self.writer = None
            self.index.writer(heap_size=15_000_000, num_threads=1).garbage_collect_files()
        self.index.reload()
        self.searcher = self.index.searcher()

    def close(self) -> None:
        self.writer = None


class Fts5Index:
    def __init__(self, path: Path, prefix: bool) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path / "fts.db", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        option = ", prefix='2 3'" if prefix else ""
        self.db.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS t USING fts5("
            f"title, body, content='', detail=full{option})"
        )

    def add(self, keys: Ints, titles: list[str], bodies: list[str]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany(
            "INSERT INTO t(rowid, title, body) VALUES (?, ?, ?)",
            zip(keys.tolist(), titles, bodies, strict=True),
        )
        self.db.execute("COMMIT")

    @staticmethod
    def expression(kind: str, words: list[str]) -> str:
        quoted = [f'"{w}"' for w in words]  # quoted: a word is never taken for AND, OR, NOT
        if kind == "word":
            return quoted[0]
        if kind == "prefix":
            return quoted[0] + "*"
        if kind == "phrase":
            return '"' + " ".join(words) + '"'
        if kind == "near":
            return f"NEAR({' '.join(quoted)}, {NEAR})"
        return f" {kind.upper()} ".join(quoted)

    def search(self, kind: str, words: list[str]) -> Ints:
        rows = self.db.execute(
            "SELECT rowid FROM t WHERE t MATCH ?", (self.expression(kind, words),)
        )
        return np.fromiter(itertools.chain.from_iterable(rows), np.int64)

    def settle(self) -> None:
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.db.close()


def open_engine(name: str, path: Path) -> Engine:
    if name == "numpy":
        return NumpyIndex(path)
    if name == "tantivy":
        return TantivyIndex(path)
    return Fts5Index(path, prefix=name == "fts5")


def engine_version(name: str) -> str:
    if name == "tantivy":
        return f"tantivy {importlib.metadata.version('tantivy')}"
    if name.startswith("fts5"):
        return f"SQLite {sqlite3.sqlite_version}"
    return f"numpy {np.__version__}"


# --- measures, each run in a fresh process ------------------------------------------------------


def _memory() -> dict[str, float]:
    """MB: resident now (all, anonymous, file-backed) and the peak."""
    status = Path("/proc/self/status").read_text()
    got = {k: int(v) / 1024 for k, v in re.findall(r"^(\w+):\s+(\d+) kB$", status, re.M)}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "hwm": got.get("VmHWM", 0.0),
        "rss": got.get("VmRSS", 0.0),
        "anon": got.get("RssAnon", 0.0),
        "file": got.get("RssFile", 0.0),
        "peak": peak,
    }


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure_build(name: str, path: Path, work: Path) -> dict[str, Any]:
    keys, titles, bodies = read_items(work / "corpus.tsv")
    loaded = _memory()["rss"]
    wall, cpu = time.perf_counter(), time.process_time()
    engine = open_engine(name, path)
    engine.add(keys, titles, bodies)
    added = time.perf_counter() - wall
    engine.settle()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.close()
    return {
        "wall": wall,
        "added": added,
        "cpu": cpu,
        "bytes": _size(path),
        "corpus": loaded,
        "peak": _memory()["hwm"] - loaded,  # what building added to the loaded corpus
    }


def measure_open(name: str, path: Path, plan: Plan) -> dict[str, Any]:
    t0 = time.perf_counter()
    engine = open_engine(name, path)
    opened = time.perf_counter() - t0
    _, kind, words = plan.queries[0]
    t0 = time.perf_counter()
    engine.search(kind, words)
    return {"open": opened, "first": time.perf_counter() - t0}


def measure_queries(name: str, path: Path, plan: Plan, repeats: int, out: Path) -> dict[str, Any]:
    engine = open_engine(name, path)
    found: dict[str, Ints] = {}
    times: dict[str, list[float]] = {}
    for label, kind, words in plan.queries:
        found[label] = engine.search(kind, words)  # warm-up; its keys are compared
        times[label] = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            keys = engine.search(kind, words)
            times[label].append(time.perf_counter() - t0)
            assert keys.dtype == np.int64 and len(keys) == len(found[label])
    memory = _memory()
    np.savez(out, *(found[label] for label, _, _ in plan.queries))  # arr_0, arr_1, ...
    engine.close()
    return {"times": times, "memory": memory, "hits": {k: len(v) for k, v in found.items()}}


def measure_add(name: str, path: Path, work: Path, repeats: int) -> dict[str, Any]:
    keys, titles, bodies = read_items(work / "new.tsv")
    step = int(keys[-1] - keys[0]) + 1

    def timed(engine: Engine, shift: int) -> float:
        if isinstance(engine, TantivyIndex):
            engine.open_writer()
        t0 = time.perf_counter()
        engine.add(keys + shift, titles, bodies)
        return time.perf_counter() - t0

    empty: list[float] = []
    for r in range(repeats):
        fresh = open_engine(name, path.parent / f"{path.name}-empty-{r}")
        empty.append(timed(fresh, 0))
        fresh.close()
        shutil.rmtree(path.parent / f"{path.name}-empty-{r}")
    full: list[float] = []
    engine = open_engine(name, path)
    for r in range(repeats):
        full.append(timed(engine, r * step))
    engine.close()
    return {"empty": empty, "full": full}


def _child(*args: str) -> Any:
    """Run this file with `args` in a fresh process; its last line of output, as JSON."""
    done = subprocess.run(
        [sys.executable, __file__, *args], check=False, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- report -----------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 100 else f"{ms:,.0f}"


def _p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(header), *map(list, rows)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "| "
        + " | ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        + " |"
        for r in rows
    ]
    lines.insert(
        1, "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--engines", default=",".join(ENGINES), help=argparse.SUPPRESS)
    parser.add_argument(
        "--child", nargs=4, metavar=("WHAT", "ENGINE", "PATH", "WORK"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        what, name, path, work = args.child
        if what == "generate":
            t0 = time.perf_counter()
            plan = generate(Path(work), args.items)
            (Path(work) / "plan.json").write_bytes(msgspec.json.encode(plan))
            print(json.dumps(time.perf_counter() - t0))
            return
        plan = msgspec.json.decode((Path(work) / "plan.json").read_bytes(), type=Plan)
        if what == "build":
            result = measure_build(name, Path(path), Path(work))
        elif what == "open":
            result = measure_open(name, Path(path), plan)
        elif what == "query":
            result = measure_queries(
                name, Path(path), plan, args.repeats, Path(work) / f"keys-{name}.npz"
            )
        else:
            result = measure_add(name, Path(path), Path(work), args.repeats)
        print(json.dumps(result))
        return
    if args.repeats < 3:
        parser.error("--repeats must be at least 3")
    engines = args.engines.split(",")
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="search-engines-"))
    try:
        # in a child too: a child's ru_maxrss starts from its parent's when it forks
        made = _child("--items", str(args.items), "--child", "generate", "-", "-", str(work))
        plan = msgspec.json.decode((work / "plan.json").read_bytes(), type=Plan)
        print(
            f"corpus: {plan.items:,} items, {plan.words / 1e6:.1f}M words "
            f"({plan.words / plan.items:.0f} an item), {plan.distinct:,} distinct; Zipf ranks "
            f"over {VOCAB:,} words, the first ones from {plan.origin}; "
            f"generated in {made:.0f} s"
        )
        print(f"{_load()} (other work on the machine shows here)")
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
            + ", ".join(dict.fromkeys(engine_version(e) for e in engines))
        )
        print(
            f"tantivy writer: heap {TANTIVY_HEAP / 1e6:.0f} MB, {TANTIVY_THREADS} indexing thread\n"
        )
        results: dict[str, dict[str, Any]] = {}
        for name in engines:
            path = work / name
            rep = str(args.repeats)
            t0 = time.perf_counter()
            built = _child("--child", "build", name, str(path), str(work))
            opens = [
                _child("--child", "open", name, str(path), str(work)) for _ in range(args.repeats)
            ]
            queried = _child("--repeats", rep, "--child", "query", name, str(path), str(work))
            added = _child("--repeats", rep, "--child", "add", name, str(path), str(work))
            shutil.rmtree(path)
            results[name] = {"build": built, "opens": opens, "queries": queried, "add": added}
            print(f"{name}: measured in {time.perf_counter() - t0:.0f} s", flush=True)

        check(plan, engines, work)
        print()
        report(plan, engines, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nwhole run: {time.perf_counter() - started:.0f} s; {_load()}")


def _load() -> str:
    return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def check(plan: Plan, engines: list[str], work: Path) -> None:
    """Same key sets from every engine; the planted keys among them."""
    found = {name: np.load(work / f"keys-{name}.npz") for name in engines}
    for i, (label, _, _) in enumerate(plan.queries):
        sets = {name: np.sort(found[name][f"arr_{i}"]) for name in engines}
        first = sets[engines[0]]
        assert len(np.unique(first)) == len(first), f"{label}: a key twice"
        for name in engines[1:]:
            assert np.array_equal(first, sets[name]), f"{label}: {engines[0]} and {name} differ"
        planted = np.array(plan.planted.get(label, []), np.int64)
        assert np.isin(planted, first).all(), f"{label}: a planted item is missing"
        if label == plan.queries[0][0]:
            assert np.array_equal(first, planted), f"{label}: not exactly the planted items"
    print(f"\nsame keys from {', '.join(engines)} for all {len(plan.queries)} queries: OK")


def report(plan: Plan, engines: list[str], results: dict[str, dict[str, Any]]) -> None:
    med = statistics.median
    n = plan.items

    def row(label: str, value: Callable[[dict[str, Any]], str]) -> list[str]:
        return [label, *(value(results[e]) for e in engines)]

    def ratio(r: dict[str, Any]) -> str:
        return f"{med(r['add']['full']) / med(r['add']['empty']):.2f}"

    rows = [
        row("build, committed (s)", lambda r: f"{r['build']['added']:.1f}"),
        row("build, settled (s)", lambda r: f"{r['build']['wall']:.1f}"),
        row("build, CPU (s)", lambda r: f"{r['build']['cpu']:.1f}"),
        row("build, peak RSS above the corpus (MB)", lambda r: f"{r['build']['peak']:,.0f}"),
        row("size on disk (bytes/item)", lambda r: f"{r['build']['bytes'] / n:,.0f}"),
        row("size on disk (MB)", lambda r: f"{r['build']['bytes'] / 1e6:,.1f}"),
        row(f"add {NEW:,} to empty (ms)", lambda r: _ms(med(r["add"]["empty"]))),
        row(f"add {NEW:,} to {n:,} (ms)", lambda r: _ms(med(r["add"]["full"]))),
        row(f"add {NEW:,} to {n:,}, max (ms)", lambda r: _ms(max(r["add"]["full"]))),
        row("ratio (target <= 2)", ratio),
        row("open, fresh process (ms)", lambda r: _ms(med(o["open"] for o in r["opens"]))),
        row("first query after open (ms)", lambda r: _ms(med(o["first"] for o in r["opens"]))),
        row("VmRSS after queries (MB)", lambda r: f"{r['queries']['memory']['rss']:,.0f}"),
        row("  of which anonymous (MB)", lambda r: f"{r['queries']['memory']['anon']:,.0f}"),
        row("  of which file-backed (MB)", lambda r: f"{r['queries']['memory']['file']:,.0f}"),
        row("VmHWM, peak (MB)", lambda r: f"{r['queries']['memory']['hwm']:,.0f}"),
        row("ru_maxrss (MB)", lambda r: f"{r['queries']['memory']['peak']:,.0f}"),
    ]
    print(f"{n:,} items, medians of the repeats\n")
    print(_table(["", *engines], rows))
    print("\nqueries: all matching keys as numpy int64, median / p95 (ms)\n")
    qrows = []
    for label, kind, words in plan.queries:
        hits = results[engines[0]]["queries"]["hits"][label]
        cells = [f"{label}: `{Fts5Index.expression(kind, words)}`", f"{hits:,}"]
        for e in engines:
            t = results[e]["queries"]["times"][label]
            cells.append(f"{_ms(med(t))} / {_ms(_p95(t))}")
        qrows.append(cells)
    print(_table(["query", "hits", *engines], qrows))


if __name__ == "__main__":
    main()
