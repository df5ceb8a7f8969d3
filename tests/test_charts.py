"""The digest's inline SVG charts (`core/charts.py`): well-formed, inert (no script, no
link, no remote resource) whatever the names in them, and saying what the data says."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from monitor.core.charts import FIRST, actors_chart, hours_chart, hours_of, pickup_chart, story_runs
from monitor.core.digest import DayActor, Story
from monitor.model import Item

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '</text><script>alert(1)</script>\x1b]0;pwned\x07 "x" & <b>'
T0 = datetime(2016, 11, 14, 9, 4, tzinfo=UTC)


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed, or this raises
    for el in root.iter():
        tag = el.tag.removeprefix(SVG)
        assert tag in {"svg", "rect", "text", "line", "title"}, tag
        assert not any(
            "href" in k or k.startswith("on") or "url(" in v for k, v in el.attrib.items()
        )
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter(f"{SVG}text")]


def test_hours_chart_draws_each_hour_against_the_busiest() -> None:
    counts = hours_of([T0 + timedelta(hours=h) for h in (0, 0, 0, 5)], UTC)
    assert counts[9] == 3 and counts[14] == 1 and sum(counts) == 4
    root = parsed(hours_chart(counts))
    heights = [float(r.get("height", "0")) for r in root.iter(f"{SVG}rect")]
    assert len(heights) == 24 and heights[9] == max(heights)
    assert abs(heights[9] - 3 * heights[14]) < 0.5
    assert "max 3/h" in texts(root)


def test_actors_chart_escapes_names_and_shows_the_day_before() -> None:
    actors = [
        DayActor(HOSTILE, "person", 6, 2, False),
        DayActor("Vladimir Putin", "person", 4, 4, True),
    ]
    svg = actors_chart(actors)
    assert "<script" not in svg and "\x1b" not in svg and "\x07" not in svg
    root = parsed(svg)
    labels = texts(root)
    assert labels[0].startswith("</text><script>alert(1)</script>]0;pwned") is False
    assert "<script>" in labels[0] or labels[0].startswith("</text>")  # shown, as text
    rects = list(root.iter(f"{SVG}rect"))
    before, today = float(rects[0].get("width", 0)), float(rects[1].get("width", 0))
    assert today > before > 0  # 6 today against 4 the day before
    assert float(rects[2].get("width", 0)) == 0  # new today: nothing the day before


def _item(n: int, source: str, minutes: int) -> Item:
    when = T0 + timedelta(minutes=minutes)
    return Item(
        id=f"i{n}",
        title="Poutine et Trump",
        url=None,
        sources=(source,),
        published=when,
        published_raw=None,
        date_flag=None,
        language="fr",
        summary="",
        first_seen=when,
    )


def test_pickup_chart_marks_who_ran_it_first() -> None:
    items = (_item(1, "Agence Alpha", 0), _item(2, "Le Quotidien", 12), _item(3, HOSTILE, 40))
    story = Story(
        "Poutine et Trump", None, ("Agence Alpha", "Le Quotidien", HOSTILE), T0, ("fr",), (), items
    )
    svg = pickup_chart(story_runs(story), UTC)
    root = parsed(svg)
    assert "first: Agence Alpha, 09:04" in texts(root) and "3 sources in 40 min" in texts(root)
    ticks = [el for el in root.iter(f"{SVG}line") if el.get("stroke-width") == "2"]
    assert [t.get("stroke") == FIRST for t in ticks] == [True, False, False]
    assert [float(t.get("x1", 0)) for t in ticks] == sorted(float(t.get("x1", 0)) for t in ticks)
    titles = ["".join(el.itertext()) for el in root.iter(f"{SVG}title")]
    assert titles[1] == "Le Quotidien: +12 min"
    assert "<script" not in svg and "\x1b" not in svg
