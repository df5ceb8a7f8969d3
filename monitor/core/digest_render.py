"""The digest as JSON, Markdown or HTML text. Pure: the HTML template is passed in.

Feed text never changes a document's structure: Markdown escapes every character that
could open a link, emphasis, code, HTML or a block; HTML is autoescaped by Jinja2, and
the only markup built from feed data (links) goes through nh3 with http(s) only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

import nh3

from monitor.core.charts import actors_chart, hours_chart, hours_of, pickup_chart, story_runs
from monitor.core.digest import Clipping, DayQuote, Digest, Story, to_json
from monitor.core.normalize import plain_line
from monitor.core.urls import check_url
from monitor.model import Item

SUFFIX = {"markdown": ".md", "html": ".html", "json": ".json"}
TOP_STORIES = 25  # stories shown in Markdown and HTML (JSON has them all)
NO_CLIPPINGS = "Nothing starred or tagged that day."
NO_ACTORS = (
    "No actor data yet: none of the day's items has been tagged with actors "
    "(actor recognition fills this section)."
)
LINK_REL = "noopener noreferrer nofollow"

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~#!])")


def one_line(text: str | None) -> str:
    """Untrusted text as one line: controls gone, runs of white space one space."""
    return plain_line(text)


def md_escape(text: str | None) -> str:
    """Untrusted text as inert Markdown: one line, every structural character escaped."""
    return _MD_SPECIAL.sub(r"\\\1", one_line(text))


def safe_url(url: str | None) -> str | None:
    """`url` when it is an absolute http(s) URL, else None: nothing else becomes a link."""
    if not url or check_url(url) is not None:
        return None
    return url


def _md_url(url: str) -> str:
    return url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")


def md_link(label: str | None, url: str | None) -> str:
    shown = md_escape(label) or "(no title)"
    target = safe_url(url)
    return f"[{shown}](<{_md_url(target)}>)" if target else shown


class _TagCount(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.count = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.count += 1


def count_tags(fragment: str) -> int:
    """Start tags in an HTML fragment, as Python's HTML parser reads them."""
    parser = _TagCount()
    parser.feed(fragment)
    parser.close()
    return parser.count


@lru_cache(maxsize=2)
def _cleaner(keep_tags: bool = True) -> nh3.Cleaner:

    return nh3.Cleaner(
        tags={"a", "p", "br", "em", "strong", "b", "i"} if keep_tags else set(),
        clean_content_tags={"script", "style"},
        attributes={"a": {"href"}} if keep_tags else {},
        url_schemes={"http", "https"},
        link_rel=LINK_REL,
        url_relative="deny",
    )


def clean_html(fragment: str, tags_in: int | None = None) -> str:
    """Markup kept from a fragment: links, emphasis and paragraphs only; links http(s)
    only, with rel="noopener noreferrer nofollow"; no other tag, attribute or scheme.
    Never more tags than the input: where an HTML parser would rebuild broken nesting
    into more elements, only the text is kept. `tags_in`: the fragment's tag count, when
    the caller built it and knows it."""
    out: str = _cleaner().clean(fragment)
    tags_out = out.count("<") - out.count("</")  # nh3 escapes every other "<"
    if tags_out and tags_out > (count_tags(fragment) if tags_in is None else tags_in):
        out = _cleaner(keep_tags=False).clean(fragment)
    return out


@lru_cache(maxsize=4096)
def html_link(label: str | None, url: str | None) -> str:
    """A link as HTML (through `clean_html`), or the escaped label when the URL is not
    http(s)."""
    shown = html.escape(one_line(label) or "(no title)")
    target = safe_url(url)
    if target is None:
        return shown
    return clean_html(f'<a href="{html.escape(target, quote=True)}">{shown}</a>', tags_in=1)


def _clock(d: Digest) -> Callable[[datetime], str]:
    def clock(moment: datetime) -> str:
        local = moment.astimezone(d.zone)
        fmt = "%H:%M" if local.date() == d.date else "%Y-%m-%d %H:%M"
        return local.strftime(fmt)

    return clock


def render_json(d: Digest) -> str:
    import msgspec

    return msgspec.json.format(msgspec.json.encode(to_json(d)), indent=2).decode() + "\n"


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def summary_line(d: Digest) -> str:
    multi = sum(1 for s in d.stories if len(s.sources) > 1)
    return (
        f"{_plural(len(d.items), 'item')} from {_plural(len(d.sources), 'source')}"
        f" ({d.configured} configured)"
        f" · {_plural(len(d.stories), 'story', 'stories')} ({multi} carried by several sources)"
    )


def story_line(s: Story, clock: Callable[[datetime], str]) -> str:
    """The facts of a story after its title, as plain text (escape before use)."""
    parts = [f"{_plural(len(s.sources), 'source')}: {', '.join(s.sources)}"]
    parts.append(f"first seen {clock(s.first_seen)}")
    if s.languages:
        parts.append(", ".join(s.languages))
    if s.actors:
        parts.append("actors: " + ", ".join(s.actors))
    return " · ".join(parts)


def note_lines(text: str | None) -> list[str]:
    """An analyst's note as lines of plain text (controls gone, blank lines dropped)."""
    return [line for line in map(one_line, (text or "").splitlines()) if line]


def clip_line(c: Clipping) -> str:
    """A clipping's triage after its item, as plain text (escape before use)."""
    parts = ["★ starred"] if c.starred else []
    if c.tags:
        parts.append("tags: " + ", ".join(c.tags))
    return " · ".join(parts)


def _md_clipping(c: Clipping, clock: Callable[[datetime], str]) -> list[str]:
    # one line per part: a note's own line breaks could open a list or a block
    out = [_md_item(c.item, clock) + "  ", f"  {md_escape(clip_line(c))}"]
    if c.note:
        out[-1] += "  "
        out.append(f"  Note: {md_escape(c.note)}")
    return out


def _md_item(it: Item, clock: Callable[[datetime], str]) -> str:
    lang = f" · {md_escape(it.language)}" if it.language else ""
    return f"- {clock(it.published)} · {md_escape(', '.join(it.sources))}{lang} · " + md_link(
        it.title, it.url
    )


def render_markdown(d: Digest) -> str:
    clock = _clock(d)
    out = [f"# Digest of {d.date.isoformat()} ({md_escape(d.timezone)})", ""]
    out.append(f"Generated {d.generated_at.astimezone(d.zone):%Y-%m-%d %H:%M %Z}.  ")
    out.append(md_escape(summary_line(d)) + ".  ")
    if d.query:
        out.append(f"Restricted to the query: {md_escape(d.query)}  ")
    if d.failed:
        failed = "; ".join(f"{n} ({e})" for n, e in d.failed)
        out.append(f"Sources that failed that day: {md_escape(failed)}")
    else:
        out.append("No source failed that day.")
    out += ["", "## Clippings", ""]
    if not d.clippings:
        out.append(NO_CLIPPINGS)
    for c in d.clippings:
        out += _md_clipping(c, clock)
    out += ["", "## Top stories", ""]
    if not d.stories:
        out.append("No items that day.")
    for n, s in enumerate(d.stories[:TOP_STORIES], 1):
        out.append(f"{n}. **{md_link(s.title, s.url)}**  ")
        out.append(f"   {md_escape(story_line(s, clock))}")
        if len(s.items) > 1:
            out += ["   " + _md_item(it, clock) for it in s.items]
    if len(d.stories) > TOP_STORIES:
        out += ["", f"{len(d.stories) - TOP_STORIES} more stories: see All items."]
    out += ["", "## Actors of the day", ""]
    if not d.has_actors:
        out.append(NO_ACTORS)
    for a in d.actors:
        change = "new today" if a.new else f"{a.delta:+d} since the day before"
        out.append(f"- {md_escape(a.name)} ({a.kind}): {_plural(a.mentions, 'mention')}, {change}")
    out += ["", "## Quotes of the day", ""]
    if not d.has_actors:
        out.append(NO_ACTORS)
    elif not d.quotes:
        out.append("No quotes that day.")
    for actor, quotes in quote_groups(d):
        out += [f"### {md_escape(actor)}", ""]
        for q in quotes:
            out += [f"> {md_escape(q.text)}", ""]
    for sec in d.sections:
        out += ["", f"## {md_escape(sec.name)}", "", f"Query: {md_escape(sec.query)}", ""]
        if sec.error:
            out.append(f"This saved query does not parse: {md_escape(sec.error)}")
        elif not sec.items:
            out.append("Nothing matched that day.")
        out += [_md_item(it, clock) for it in sec.items]
    out += ["", "## All items", ""]
    if not d.items:
        out.append("No items that day.")
    out += [_md_item(it, clock) for it in d.items]
    return "\n".join(out).rstrip("\n") + "\n"


def quote_groups(d: Digest) -> list[tuple[str, list[DayQuote]]]:
    """The quotes as (actor, quotes) in the digest's order."""
    groups: list[tuple[str, list[DayQuote]]] = []
    for q in d.quotes:
        if not groups or groups[-1][0] != q.actor:
            groups.append((q.actor, []))
        groups[-1][1].append(q)
    return groups


def render_html(d: Digest, template: str) -> str:
    """The digest as one self-contained HTML page, from a Jinja2 template's text."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    env.filters["line"] = one_line
    env.filters["clock"] = _clock(d)
    env.filters["lines"] = note_lines
    env.globals["link"] = lambda label, url: Markup(html_link(label, url))
    context: dict[str, Any] = {
        "d": d,
        "summary": summary_line(d),
        "stories": d.stories[:TOP_STORIES],
        "more_stories": max(len(d.stories) - TOP_STORIES, 0),
        # source and actor names: autoescaped, and their controls gone as everywhere
        "story_line": lambda s: one_line(story_line(s, _clock(d))),
        "quote_groups": quote_groups(d),
        "no_actors": NO_ACTORS,
        "no_clippings": NO_CLIPPINGS,
        "generated": f"{d.generated_at.astimezone(d.zone):%Y-%m-%d %H:%M %Z}",
        # charts: markup made by core/charts.py, whose only outside text it escapes
        "hours_chart": Markup(hours_chart(hours_of([it.first_seen for it in d.items], d.zone))),
        "actors_chart": Markup(actors_chart(d.actors)) if d.actors else "",
        "pickup": lambda s: (
            Markup(pickup_chart(story_runs(s), d.zone)) if len(s.sources) > 1 else ""
        ),
    }
    return env.from_string(template).render(context)
