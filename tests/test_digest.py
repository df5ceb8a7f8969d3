"""The daily digest: building, clustering, the three formats, hostile text, the schedule."""

from __future__ import annotations

import json
import os
import random
import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.cli import main
from monitor.config import parse
from monitor.core.cluster import cluster, jaccard, shingles
from monitor.core.digest import (
    build_digest,
    day_bounds,
    next_run,
    parse_day,
    scheduled_day,
    to_json,
)
from monitor.core.digest_render import (
    clean_html,
    md_escape,
    render_html,
    render_json,
    render_markdown,
)
from monitor.core.query import parse_query
from monitor.io.backends import open_store
from monitor.io.digest import file_name, run_schedule, template
from monitor.io.files import write_file
from monitor.model import Actor, Item, Quote, SourceState, TriageState

GOLDEN = Path(__file__).parent / "golden"
PARIS = ZoneInfo("Europe/Paris")
DAY = date(2016, 11, 14)
NOW = datetime(2016, 11, 15, 6, 0, tzinfo=UTC)  # 07:00 in Paris, the next morning
UPDATE = bool(os.environ.get("UPDATE_GOLDEN"))


def item(n: int, title: str, at: datetime, **kw: object) -> Item:
    fields: dict[str, object] = {
        "id": f"id{n}",
        "title": title,
        "url": f"https://example.com/{n}",
        "sources": ("Le Monde",),
        "published": at,
        "published_raw": None,
        "date_flag": None,
        "language": "fr",
        "summary": f"Résumé de l'article {n}.",
        "first_seen": at,
        "keys": (f"u:https://example.com/{n}",),
    }
    fields.update(kw)
    return Item(**fields)  # type: ignore[arg-type]


def at(hour: int, minute: int = 0, day: int = 14) -> datetime:
    """A moment of November 2016 given in Paris time (UTC+1), stored in UTC."""
    return datetime(2016, 11, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


PUTIN = Actor("Vladimir Putin", "person", 3)
TRUMP = Actor("Donald Trump", "person", 2)
KREMLIN = Actor("Kremlin", "organisation", 1)
WIRE = (
    "Vladimir Poutine et Donald Trump se sont entretenus par téléphone lundi et sont "
    "convenus de normaliser les relations entre Moscou et Washington, a annoncé le Kremlin "
    "dans un communiqué publié dans la soirée."
)


def dataset() -> list[Item]:
    """A fixed day: wire copy in three outlets, a shared link, actors, quotes, the day
    before (for the actors' changes) and the day after (left out)."""
    return [
        item(
            1,
            "Poutine et Trump veulent normaliser les relations",
            at(9, 5),
            summary=WIRE,
            actors=(PUTIN, TRUMP, KREMLIN),
            quotes=(Quote("Vladimir Putin", "Nous sommes prêts au dialogue."),),
        ),
        item(
            2,
            "Poutine et Trump veulent normaliser leurs relations",
            at(9, 40),
            sources=("Le Figaro",),
            summary=WIRE.replace("lundi", "ce lundi"),
            actors=(PUTIN, TRUMP),
        ),
        item(
            3,
            "Trump et Poutine veulent normaliser les relations",
            at(10, 15),
            sources=("20 Minutes", "Ouest-France"),
            summary=WIRE + " Les détails suivent.",
            actors=(PUTIN,),
            quotes=(
                Quote("Donald Trump", "Des relations fortes et durables."),
                Quote("Vladimir Putin", "Nous sommes prêts au dialogue."),
            ),
        ),
        item(
            4,
            "Magnitude 7.8 earthquake strikes New Zealand",
            at(11, 30),
            sources=("World Wire",),
            language="en",
            summary="The quake struck just after midnight local time near Kaikoura.",
        ),
        item(
            5,
            "Climat : la COP22 s'ouvre à Marrakech",
            at(14, 0),
            summary="Les négociateurs veulent préserver l'élan de l'accord de Paris.",
        ),
        item(6, "Le Kremlin dément", at(23, 50, day=13), actors=(KREMLIN, KREMLIN)),
        item(
            7,
            "Poutine la veille",
            at(18, 0, day=13),
            actors=(Actor("Vladimir Putin", "person", 5),),
        ),
        item(8, "Le lendemain", at(0, 10, day=15)),
    ]


def states() -> dict[str, SourceState]:
    return {
        "Le Monde": SourceState(
            "Le Monde", "https://lemonde.example/rss", last_attempt=at(12), last_success=at(11)
        ),
        "Libération": SourceState(
            "Libération",
            "https://liberation.example/rss",
            last_attempt=at(12),
            last_success=at(8, day=13),
            last_error="timeout",
            last_error_detail="no answer in 30 s",
            failures=4,
        ),
        "Old Feed": SourceState(
            "Old Feed",
            "https://old.example/rss",
            last_attempt=at(12, day=12),
            last_error="dns",
            failures=9,
        ),
    }


SOURCES = [
    "Le Monde",
    "Le Figaro",
    "20 Minutes",
    "Ouest-France",
    "World Wire",
    "Libération",
    "Old Feed",
]
FILTERS = [
    ("Russie", 'actor:"Vladimir Putin" OR Russie OR Kremlin'),
    ("Climat", "climat OR COP22"),
    ("Cassé", "(russie"),
]


def triage() -> TriageState:
    """The analyst starred the first story and the day after's item, tagged an item by
    hand and one by a `[[tags]]` query, and wrote a note on an item they did not clip."""
    return TriageState(
        starred=frozenset({"id1", "id8"}),
        tags={
            "diplomatie": frozenset({"id1", "id3"}),
            "séisme": frozenset({"id4"}),  # an auto-tag: everyone's
        },
        tag_names={"diplomatie": "Diplomatie", "séisme": "Séisme"},
        notes={"id1": "À citer dans la note du matin.\nVoir aussi l'AFP.", "id5": "sans suite"},
    )


def digest(items: list[Item] | None = None, **kw: object):  # type: ignore[no-untyped-def]
    all_items = dataset() if items is None else items
    args: dict[str, object] = {
        "day": DAY,
        "zone": PARIS,
        "zone_name": "Europe/Paris",
        "generated_at": NOW,
        "previous": all_items,
        "states": states(),
        "source_names": SOURCES,
        "filters": FILTERS,
    }
    args.update(kw)
    return build_digest(all_items, **args)  # type: ignore[arg-type]


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs (UPDATE_GOLDEN=1 to refresh)"


# --- building -------------------------------------------------------------------------------


def test_the_day_and_its_contents() -> None:
    d = digest()
    assert [it.id for it in d.items] == ["id1", "id2", "id3", "id4", "id5"]
    assert d.sources == ("20 Minutes", "Le Figaro", "Le Monde", "Ouest-France", "World Wire")
    assert [n for n, _ in d.failed] == ["Libération"]  # Old Feed failed before that day
    top = d.stories[0]
    assert top.sources == ("Le Monde", "Le Figaro", "20 Minutes", "Ouest-France")
    assert [it.id for it in top.items] == ["id1", "id2", "id3"]
    assert top.title == "Trump et Poutine veulent normaliser les relations"  # most sources
    assert top.first_seen == at(9, 5)
    assert top.actors == ("Vladimir Putin", "Donald Trump", "Kremlin")
    assert [len(s.sources) for s in d.stories] == [4, 1, 1]
    assert [s.items[0].id for s in d.stories[1:]] == ["id5", "id4"]  # then the most recent


def test_actors_of_the_day_against_the_day_before() -> None:
    by_name = {a.name: a for a in digest().actors}
    assert by_name["Vladimir Putin"].mentions == 9
    assert by_name["Vladimir Putin"].delta == 4 and not by_name["Vladimir Putin"].new
    assert by_name["Donald Trump"].new and by_name["Donald Trump"].delta == 4
    assert by_name["Kremlin"].delta == -1
    assert next(a.name for a in digest().actors) == "Vladimir Putin"


def test_quotes_by_actor_each_once() -> None:
    quotes = [(q.actor, q.text, q.item_id) for q in digest().quotes]
    assert quotes == [
        ("Vladimir Putin", "Nous sommes prêts au dialogue.", "id1"),
        ("Donald Trump", "Des relations fortes et durables.", "id3"),
    ]


def test_sections_follow_the_saved_filters() -> None:
    secs = {s.name: s for s in digest().sections}
    assert [it.id for it in secs["Russie"].items] == ["id1", "id2", "id3"]
    assert [it.id for it in secs["Climat"].items] == ["id5"]
    assert secs["Cassé"].items == () and secs["Cassé"].error


def test_query_restricts_everything() -> None:
    d = digest(query=parse_query("lang:en"))
    assert [it.id for it in d.items] == ["id4"]
    assert d.query == "lang:en" and d.actors == () and not d.has_actors


def test_clippings_are_the_days_starred_and_tagged_items() -> None:
    d = digest(triage=triage())
    clipped = [(c.item.id, c.starred, c.tags, c.note) for c in d.clippings]
    assert clipped == [
        ("id1", True, ("Diplomatie",), "À citer dans la note du matin.\nVoir aussi l'AFP."),
        ("id3", False, ("Diplomatie",), None),
        ("id4", False, ("Séisme",), None),  # auto-tags count; id8 is another day's
    ]  # id5 has a note but is neither starred nor tagged
    assert digest().clippings == () and digest(triage=TriageState()).clippings == ()
    assert [c.item.id for c in digest(triage=triage(), query=parse_query("lang:en")).clippings] == [
        "id4"
    ]


def test_clippings_in_every_format() -> None:
    d = digest(triage=triage())
    md = render_markdown(d)
    part = md.split("## Clippings\n\n")[1].split("\n\n## ")[0].splitlines()
    assert part == [
        "- 09:05 · Le Monde · fr · [Poutine et Trump veulent normaliser les relations]"
        "(<https://example.com/1>)  ",
        "  ★ starred · tags: Diplomatie  ",
        "  Note: À citer dans la note du matin. Voir aussi l'AFP.",
        "- 10:15 · 20 Minutes, Ouest-France · fr · [Trump et Poutine veulent normaliser les"
        " relations](<https://example.com/3>)  ",
        "  tags: Diplomatie",
        "- 11:30 · World Wire · en · [Magnitude 7.8 earthquake strikes New Zealand]"
        "(<https://example.com/4>)  ",
        "  tags: Séisme",
    ]
    page = render_html(d, template())
    section = page.split("<h2>Clippings</h2>")[1].split("</section>")[0]
    assert section.count("<li>") == 3 and section.count('class="star"') == 1
    assert '<span class="tag">Diplomatie</span>' in section
    assert "À citer dans la note du matin.<br>Voir aussi l&#39;AFP." in section
    data = json.loads(render_json(d))
    assert data["stats"]["clippings"] == 3
    first = data["clippings"][0]
    assert first == {
        "starred": True,
        "tags": ["Diplomatie"],
        "note": "À citer dans la note du matin.\nVoir aussi l'AFP.",
        "item": dataset()[0].to_json(),
    }
    assert [c["item"]["id"] for c in data["clippings"]] == ["id1", "id3", "id4"]
    empty = digest()
    assert "## Clippings\n\nNothing starred or tagged that day." in render_markdown(empty)
    assert "Nothing starred or tagged that day." in render_html(empty, template())
    assert json.loads(render_json(empty))["clippings"] == []


def test_timezone_edges() -> None:
    late = item(1, "Tard le soir", datetime(2016, 11, 14, 23, 30, tzinfo=UTC))
    assert digest([late]).items == ()  # 00:30 on the 15th in Paris
    assert [it.id for it in digest([late], day=date(2016, 11, 15)).items] == ["id1"]
    assert [it.id for it in digest([late], zone=UTC, zone_name="UTC").items] == ["id1"]
    start, end = day_bounds(date(2016, 10, 30), PARIS)  # the clocks go back: 25 hours
    assert end - start == timedelta(hours=25)
    assert parse_day("yesterday", datetime(2016, 11, 14, 23, 30, tzinfo=UTC), PARIS) == DAY
    assert parse_day("today", datetime(2016, 11, 14, 23, 30, tzinfo=UTC), UTC) == DAY
    with pytest.raises(ValueError):
        parse_day("14/11/2016", NOW, PARIS)


# --- clustering -------------------------------------------------------------------------------


def test_founding_example_in_three_sources_is_one_story(seed: Path) -> None:
    text = (seed / "article-fr-trump-poutine.txt").read_text(encoding="utf-8").strip()
    copy2 = text.replace("ce lundi", "lundi").replace("superpuissances", "puissances")
    copy3 = text.replace("Le président russe", "Le chef du Kremlin").replace(
        "historiquement bas", "très bas"
    )
    title = "Trump et Poutine veulent normaliser les relations entre les deux pays"
    items = [
        item(1, title, at(9), text=text, summary=text[:200]),
        item(
            2,
            title.replace("veulent", "souhaitent"),
            at(10),
            sources=("Le Figaro",),
            text=copy2,
            summary=copy2[:200],
        ),
        item(
            3,
            "Moscou et Washington vont normaliser leurs relations",
            at(11),
            sources=("AFP",),
            text=copy3,
            summary=copy3[:200],
        ),
        item(
            4,
            "Magnitude 7.8 earthquake strikes New Zealand",
            at(12),
            sources=("World Wire",),
            summary="The quake struck just after midnight, triggering a tsunami warning.",
        ),
        item(
            5,
            "Climat : la COP22 s'ouvre à Marrakech",
            at(13),
            sources=("Le Monde",),
            summary="Les négociateurs veulent préserver l'élan de l'accord de Paris.",
        ),
    ]
    assert sorted(map(len, cluster(items))) == [1, 1, 3]
    d = digest(items)
    assert [len(s.sources) for s in d.stories] == [3, 1, 1]
    assert d.stories[0].sources == ("Le Monde", "Le Figaro", "AFP")


def test_unrelated_texts_stay_apart() -> None:
    rng = random.Random(4)
    words = [f"mot{i}" for i in range(2000)]
    items = [
        item(
            n, " ".join(rng.choices(words, k=8)), at(9), summary=" ".join(rng.choices(words, k=60))
        )
        for n in range(300)
    ]
    assert all(len(g) == 1 for g in cluster(items))
    twin = [*items[:2], item(99, items[0].title, at(10), summary=items[0].summary)]
    assert sorted(map(len, cluster(twin))) == [1, 2]


def test_shingles_ignore_case_and_accents() -> None:
    a = item(1, "Les États-Unis et la Russie", at(9), summary="")
    b = item(2, "LES ETATS UNIS ET LA RUSSIE", at(9), summary="")
    assert jaccard(shingles(a), shingles(b)) == 1.0


# --- formats -------------------------------------------------------------------------------


def test_golden_files() -> None:
    d = digest(triage=triage())
    golden("digest.md", render_markdown(d))
    golden("digest.html", render_html(d, template()))
    golden("digest.json", render_json(d))


def test_json_schema() -> None:
    data = json.loads(render_json(digest()))
    assert set(data) >= {
        "date",
        "timezone",
        "generated_at",
        "stats",
        "stories",
        "actors",
        "quotes",
        "sections",
        "items",
    }
    assert data["date"] == "2016-11-14" and data["timezone"] == "Europe/Paris"
    assert set(data["stories"][0]) >= {
        "title",
        "sources",
        "first_seen",
        "languages",
        "actors",
        "items",
    }
    assert set(data["actors"][0]) == {"name", "kind", "mentions", "delta", "new"}
    assert set(data["quotes"][0]) == {"actor", "text", "item_id"}
    assert set(data["sections"][0]) >= {"name", "query", "items"}
    assert data["items"][0] == dataset()[0].to_json()
    assert data["stats"]["failed_sources"] == [
        {"name": "Libération", "error": "timeout: no answer in 30 s"}
    ]
    assert data == to_json(digest())  # the text is the documented structure, as is


def test_empty_day() -> None:
    d = digest([], states={})
    md = render_markdown(d)
    assert "No items that day." in md and "No actor data yet" in md
    data = json.loads(render_json(d))
    assert data["items"] == [] and data["stories"] == [] and data["actors"] == []
    assert data["stats"]["items"] == 0
    page = render_html(d, template())
    assert "No items that day." in page and "No actor data yet" in page
    golden("empty.md", md)


def test_no_actor_data_note_only_when_no_item_has_actors() -> None:
    plain = [item(1, "Sans acteurs", at(9))]
    assert "No actor data yet" in render_markdown(digest(plain))
    assert "No actor data yet" not in render_markdown(digest())


# --- hostile text -------------------------------------------------------------------------------

HOSTILE_TITLES = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "[click me](javascript:alert(1))",
    "x](javascript:alert(1)) [y",
    "line\n# Not a heading\n- not a list",
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "`code` *bold* _em_ ~~del~~ | table | \\",
    "![img](https://tracker.example/pixel.gif)",
    "<iframe src=https://evil.example></iframe>",
    "&lt;script&gt;",
]


def hostile_items() -> list[Item]:
    out = []
    for n, title in enumerate(HOSTILE_TITLES):
        out.append(
            item(
                n,
                title,
                at(9, n),
                url=[
                    "javascript:alert(1)",
                    "jav&#x09;ascript:alert(1)",
                    "data:text/html,x",
                    'https://ok.example/a?b=<c>&d="e"',
                ][n % 4],
                summary=title + " <b onclick=x>body</b> [x](javascript:y)",
                text="<script>steal()</script>" + title,
                sources=(title[:20],),
                actors=(Actor(title, "person", 1),),
                quotes=(Quote(title, title),),
            )
        )
    return out


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def tags_of(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    p = Tags()
    p.feed(html)
    p.close()
    return p.tags


def hostile_triage() -> TriageState:
    """Every hostile item starred, tagged and annotated with hostile text."""
    ids = frozenset(f"id{n}" for n in range(len(HOSTILE_TITLES)))
    tags = {f"t{n}": frozenset({f"id{n}"}) for n in range(len(HOSTILE_TITLES))}
    names = {f"t{n}": title for n, title in enumerate(HOSTILE_TITLES)}
    notes = {
        f"id{n}": f"{title}\n# heading\n- list\n> quote\n</blockquote>{title}"
        for n, title in enumerate(HOSTILE_TITLES)
    }
    return TriageState(starred=ids, tags=tags, tag_names=names, notes=notes)


def test_hostile_html_is_inert() -> None:
    page = render_html(
        digest(hostile_items(), filters=[("<b>x</b>", "script")], triage=hostile_triage()),
        template(),
    )
    tags = tags_of(page)
    names = {t for t, _ in tags}
    assert not names & {"script", "img", "iframe", "object", "embed", "link", "form"}
    for tag, attrs in tags:
        for key, value in attrs:
            assert not key.startswith("on"), (tag, key)
            assert key not in ("src", "srcset", "background", "action")
            if key == "href":
                assert value is not None and value.startswith(("http://", "https://")), value
        if tag == "a":
            assert ("rel", "noopener noreferrer nofollow") in attrs
    assert 'href="javascript' not in page and 'href="jav&' not in page
    head = page.split("<body>")[0]
    assert "url(" not in head and "@import" not in head and "://" not in head  # no remote
    # the only tags are the template's own
    template_tags = {t for t, _ in tags_of(render_html(digest(triage=triage()), template()))}
    assert names <= template_tags | {"a"}
    assert page.count("<blockquote") == page.count("</blockquote>")


def test_hostile_markdown_keeps_its_structure() -> None:
    md = render_markdown(digest(hostile_items(), triage=hostile_triage()))
    clippings = md.split("## Clippings\n\n")[1].split("\n\n## ")[0].splitlines()
    assert len(clippings) == 3 * len(HOSTILE_TITLES)  # item, triage, note: one line each
    assert all(line.startswith(("- ", "  ★ starred", "  Note: ")) for line in clippings)
    headings = [line for line in md.splitlines() if line.startswith("#")]
    assert all(h.startswith(("# Digest", "## ", "### ")) for h in headings)
    assert not any("Not a heading" in h and not h.startswith("### ") for h in headings)
    # no link anywhere but to http(s): every "](" opens an http(s) target
    for m in re.finditer(r"(?<!\\)\]\(", md):
        assert md[m.end() :].startswith(("<https://", "<http://")), md[m.start() : m.start() + 40]
    for m in re.finditer(r"(?<!\\)<", md):  # HTML is escaped: "<" opens only link targets
        assert md[m.start() - 2 : m.start()] == "](", md[m.start() - 20 : m.start() + 20]
    assert md_escape("a](javascript:x)") == "a\\](javascript:x)"
    assert md_escape("one\n# two") == "one \\# two"


def test_cleaned_html_never_has_more_tags_than_its_input() -> None:
    rng = random.Random(6)
    pieces = [
        "<a href='javascript:x'>",
        "<a href=https://ok.example>",
        "</a>",
        "<b>",
        "</b>",
        "<script>",
        "</script>",
        "<img src=x onerror=alert(1)>",
        '">',
        "<p>",
        "<br>",
        "jav&#x09;ascript:",
        "<svg onload=x>",
        "<!-- c -->",
        "<",
        ">",
        "text ",
        "&amp;",
        "<style>x</style>",
        "<em",
        "<<b>>",
        '<a href="http://x.example" onclick=y>',
    ]
    samples = [*HOSTILE_TITLES] + [
        "".join(rng.choices(pieces, k=rng.randrange(1, 12))) for _ in range(500)
    ]
    for s in samples:
        out = clean_html(s)
        assert len(tags_of(out)) <= len(tags_of(s)), (s, out)
        assert "javascript" not in out.lower() or "href" not in out
        for tag, attrs in tags_of(out):
            assert tag in {"a", "p", "br", "em", "strong", "b", "i"}
            for key, value in attrs:
                assert key in ("href", "rel"), key
                if key == "href":
                    assert (value or "").startswith(("http://", "https://"))


# --- the schedule -------------------------------------------------------------------------------


def test_scheduled_day_and_next_run() -> None:
    before = datetime(2016, 11, 15, 5, 0, tzinfo=UTC)  # 06:00 in Paris
    after = datetime(2016, 11, 15, 6, 30, tzinfo=UTC)  # 07:30
    assert scheduled_day(before, PARIS, "07:00") == date(2016, 11, 13)
    assert scheduled_day(after, PARIS, "07:00") == date(2016, 11, 14)
    assert next_run(before, PARIS, "07:00") == datetime(2016, 11, 15, 6, 0, tzinfo=UTC)
    assert next_run(after, PARIS, "07:00") == datetime(2016, 11, 16, 6, 0, tzinfo=UTC)


def config_text(tmp: Path, at_time: str | None = "07:00") -> Path:
    path = tmp / "config.toml"
    at_line = f'at = "{at_time}"\n' if at_time else ""
    path.write_text(
        '[storage]\npath = "db"\n\n'
        '[[sources]]\nname = "Le Monde"\nurl = "https://lemonde.example/rss"\n\n'
        '[filters]\n1 = { name = "Russie", query = "Poutine OR Russie" }\n\n'
        f'[digest]\ntimezone = "Europe/Paris"\n{at_line}dir = "digests"\n'
        'formats = ["markdown", "html", "json"]\n',
        encoding="utf-8",
    )
    store = open_store(tmp / "db")
    store.write(dataset(), [])
    store.close()
    return path


def test_schedule_catches_up_and_never_overwrites(tmp_path: Path) -> None:
    cfg = config_text(tmp_path)
    settings = parse(cfg.read_text(encoding="utf-8"), cfg)
    store = open_store(settings.storage)
    try:
        folder = tmp_path / "digests"
        # started at 06:00 on the 16th: the run of the 15th at 07:00 was missed
        run = run_schedule(settings, store, datetime(2016, 11, 16, 5, 0, tzinfo=UTC))
        assert run is not None and run.day == DAY
        assert sorted(p.name for p in run.written) == [
            "digest-2016-11-14.html",
            "digest-2016-11-14.json",
            "digest-2016-11-14.md",
        ]
        md = (folder / "digest-2016-11-14.md").read_text(encoding="utf-8")
        assert "Poutine et Trump" in md and "## Russie" in md
        (folder / "digest-2016-11-14.md").write_text("kept", encoding="utf-8")
        again = run_schedule(settings, store, datetime(2016, 11, 16, 5, 30, tzinfo=UTC))
        assert again is not None and again.written == () and len(again.kept) == 3
        assert (folder / "digest-2016-11-14.md").read_text(encoding="utf-8") == "kept"
        # 07:00 on the 16th: the 15th's digest
        later = run_schedule(settings, store, datetime(2016, 11, 16, 6, 0, tzinfo=UTC))
        assert later is not None and later.day == date(2016, 11, 15) and len(later.written) == 3
    finally:
        store.close()


def test_no_schedule_without_a_time(tmp_path: Path) -> None:
    cfg = config_text(tmp_path, None)
    settings = parse(cfg.read_text(encoding="utf-8"), cfg)
    store = open_store(settings.storage)
    try:
        assert run_schedule(settings, store, NOW) is None
    finally:
        store.close()


def test_write_file_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "d" / file_name(DAY, "markdown")
    write_file(path, "one", parents=True)  # the digest folder is made
    with pytest.raises(FileExistsError):
        write_file(path, "two")
    assert path.read_text(encoding="utf-8") == "one"
    write_file(path, "three", force=True)
    assert path.read_text(encoding="utf-8") == "three"
    assert [p.name for p in path.parent.iterdir()] == ["digest-2016-11-14.md"]  # no temp left


# --- the command ---------------------------------------------------------------------------------


def test_cli_digest(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config_text(tmp_path)
    assert main(["digest", "--config", str(cfg), "--date", "2016-11-14", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["timezone"] == "Europe/Paris"
    assert [i["id"] for i in data["items"]] == ["id1", "id2", "id3", "id4", "id5"]
    assert [s["name"] for s in data["sections"]] == ["Russie"]

    out = tmp_path / "d.md"
    args = ["digest", "--config", str(cfg), "--date", "2016-11-14", "--query", "lang:en"]
    assert main([*args, "--output", str(out)]) == 0
    assert "earthquake" in out.read_text(encoding="utf-8")
    assert "Poutine et Trump" not in out.read_text(encoding="utf-8")
    assert main([*args, "--output", str(out), "--tz", "UTC"]) == 1
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--output", str(out), "--tz", "UTC", "--force"]) == 0
    assert "(UTC)" in out.read_text(encoding="utf-8")

    assert main(["digest", "--config", str(cfg), "--date", "14/11"]) == 2
    assert main(["digest", "--config", str(cfg), "--tz", "Mars/Olympus"]) == 2
    assert main(["digest", "--config", str(cfg), "--query", "(x"]) == 2
    page = tmp_path / "d.html"
    assert (
        main(
            [
                "digest",
                "--config",
                str(cfg),
                "--date",
                "2016-11-14",
                "--format",
                "html",
                "-o",
                str(page),
            ]
        )
        == 0
    )
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_cli_digest_clips_what_the_analyst_starred_and_tagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from monitor.io.triage import FILE, Triage

    cfg = config_text(tmp_path)
    args = ["digest", "--config", str(cfg), "--date", "2016-11-14", "--format", "json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["clippings"] == []
    assert not (tmp_path / "db" / FILE).exists()  # reading made no triage file
    monkeypatch.setattr("monitor.io.triage.login", lambda: "ana")
    mine = Triage(tmp_path / "db")
    mine.star(["id4"])
    mine.note("id4", "Bilan à suivre")
    mine.tag("Climat", ["id5"], auto=True)
    mine.close()
    theirs = Triage(tmp_path / "db", user="bob")
    theirs.star(["id1"])  # another analyst's star: not in this analyst's digest
    theirs.close()
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(c["item"]["id"], c["starred"], c["tags"], c["note"]) for c in data["clippings"]] == [
        ("id4", True, [], "Bilan à suivre"),
        ("id5", False, ["Climat"], None),
    ]
    assert main([*args[:-2], "--query", "is:starred"]) == 0  # the query sees the triage too
    md = capsys.readouterr().out
    assert "earthquake" in md and "COP22" not in md


def test_real_feeds_share_stories(corpus: Path) -> None:
    """Two real feeds of the corpus: their common stories cluster, the rest stays apart."""
    from monitor.core.normalize import normalize_feed
    from monitor.core.parse import parse_feed
    from monitor.model import Source

    items: list[Item] = []
    for name in ("18138c717652f678", "f9c17f360c71def1"):
        feed = parse_feed((corpus / "feeds/fastfeedparser" / name).read_bytes())
        items += normalize_feed(feed, Source(name, "https://example.org/feed"), now=NOW)
    groups = [g for g in cluster(items) if len(g) > 1]
    titles = sorted(items[g[0]].title[:30] for g in groups)
    assert any(t.startswith("Australia won't repatriate") for t in titles)
    assert any(t.startswith("Peru's Congress removes") for t in titles)
    assert all(
        {items[i].sources[0] for i in g} == {"18138c717652f678", "f9c17f360c71def1"} for g in groups
    ), titles  # only across the two feeds, never within one
    assert len(groups) <= 5


def test_the_default_zone_is_the_machines() -> None:
    import subprocess
    import sys

    code = "from monitor.io.digest import zone; print(zone(None)[1], zone('Asia/Tokyo')[1])"
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TZ": "Europe/Paris"},
        cwd=Path(__file__).resolve().parents[1],
    )
    assert run.stdout.split() == ["Europe/Paris", "Asia/Tokyo"], run.stderr


def test_one_spelling_and_one_kind_per_actor() -> None:
    """Items stored apart may spell a name two ways or give it two kinds: the digest shows
    one actor, spelt and kinded as most of the day's mentions say."""
    orban = [
        item(1, "Orban à Bruxelles", at(9, 5), actors=(Actor("Viktor Orban", "organisation", 1),)),
        item(2, "Orbán à Vienne", at(10, 5), actors=(Actor("Viktor Orbán", "person", 3),)),
    ]
    d = digest(items=orban)
    by_name = {a.name: a for a in d.actors}
    assert "Viktor Orban" not in by_name
    assert (by_name["Viktor Orbán"].kind, by_name["Viktor Orbán"].mentions) == ("person", 4)
    assert {a.name for it in d.items for a in it.actors} == {"Viktor Orbán"}
