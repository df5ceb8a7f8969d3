"""Small inline SVG charts for the HTML digest: items per hour of the day, the top actors'
mentions against the day before, and a story's pickup across sources. Pure.

They are markup made here, not from a template: every number is formatted by this
module, and the only text from outside (actor and source names) goes through `_text`:
its controls removed as everywhere, then escaped for XML. No script, no link, no remote
resource: they stay inert under the digest's Content-Security-Policy.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime, tzinfo

from monitor.core.digest import DayActor, Story
from monitor.core.normalize import plain_line
from monitor.core.pickup import first_runs, lead_time, ran_at

INK, SOFT, FIRST = "#3b5bdb", "#c5cae9", "#e8590c"  # bars, the day before, the first source
FONT = 'font-family="system-ui, sans-serif" font-size="10"'


def _text(value: object, limit: int = 40) -> str:
    """Outside text for an SVG <text>: one line, cut to `limit`, escaped."""
    s = plain_line(value)
    return html.escape(s if len(s) <= limit else s[: limit - 1] + "…")


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(label)}">'
        + "".join(body)
        + "</svg>"
    )


def hours_chart(counts: Sequence[int], width: int = 480, height: int = 90) -> str:
    """Items per hour of the day (24 counts) as bars, the hours 0, 6, 12, 18 marked."""
    top = max(counts, default=0) or 1
    plot = height - 16
    step = width / 24
    body = []
    for hour, n in enumerate(counts):
        h = round(plot * n / top, 1)
        x = round(hour * step + 1, 1)
        body.append(
            f'<rect x="{x}" y="{round(plot - h, 1)}" width="{round(step - 2, 1)}"'
            f' height="{h}" fill="{INK}"><title>{hour:02d}:00: {n} items</title></rect>'
        )
    for hour in (0, 6, 12, 18):
        body.append(
            f'<text x="{round(hour * step + 1, 1)}" y="{height - 3}" {FONT}>{hour:02d}h</text>'
        )
    body.append(f'<text x="{width - 2}" y="10" {FONT} text-anchor="end">max {top}/h</text>')
    return _svg(width, height, "items per hour of the day", body)


def actors_chart(actors: Sequence[DayActor], limit: int = 8, width: int = 480) -> str:
    """The top actors' mentions as bars, each over a pale bar for the day before."""
    shown = list(actors[:limit])
    row, label_w = 18, 150
    height = row * len(shown) + 4
    top = max((max(a.mentions, a.mentions - a.delta) for a in shown), default=0) or 1
    span = width - label_w - 40
    body = []
    for n, a in enumerate(shown):
        y = n * row + 2
        before = max(a.mentions - a.delta, 0) if not a.new else 0
        wb, wt = round(span * before / top, 1), round(span * a.mentions / top, 1)
        body.append(f'<text x="0" y="{y + 12}" {FONT}>{_text(a.name, 28)}</text>')
        body.append(f'<rect x="{label_w}" y="{y + 1}" width="{wb}" height="14" fill="{SOFT}"/>')
        body.append(f'<rect x="{label_w}" y="{y + 4}" width="{wt}" height="8" fill="{INK}"/>')
        body.append(f'<text x="{label_w + wt + 4}" y="{y + 12}" {FONT}>{a.mentions}</text>')
    return _svg(width, height, "mentions of the top actors, against the day before", body)


def story_runs(story: Story) -> dict[str, datetime]:
    """`first_runs` of a digest story: when each source first ran one of its items
    (`pickup.ran_at`)."""
    return first_runs((it.sources, ran_at(it)) for it in story.items)


def pickup_chart(firsts: Mapping[str, datetime], zone: tzinfo, width: int = 480) -> str:
    """A story's pickup: each source a tick on a time axis where it first ran the story
    (`first_runs`), the first one marked and named."""
    if not firsts:
        return ""
    start, end = min(firsts.values()), max(firsts.values())
    span = (end - start).total_seconds() or 1.0
    left, right, height = 8, width - 8, 34
    body = [f'<line x1="{left}" y1="14" x2="{right}" y2="14" stroke="#999"/>']
    lead = min(firsts, key=lambda s: (firsts[s], s))
    for source, when in sorted(firsts.items(), key=lambda p: (p[1], p[0])):
        x = round(left + (right - left) * (when - start).total_seconds() / span, 1)
        color = FIRST if source == lead else INK
        body.append(
            f'<line x1="{x}" y1="6" x2="{x}" y2="22" stroke="{color}" stroke-width="2">'
            f"<title>{_text(source)}: +{lead_time((when - start).total_seconds())}</title></line>"
        )
    body.append(
        f'<text x="{left}" y="32" {FONT} fill="{FIRST}">first: {_text(lead)},'
        f" {start.astimezone(zone):%H:%M}</text>"
    )
    body.append(
        f'<text x="{right}" y="32" {FONT} text-anchor="end">{len(firsts)} sources'
        f" in {lead_time(span)}</text>"
    )
    return _svg(width, height, "when each source ran the story", body)


def hours_of(items: Sequence[datetime], zone: tzinfo) -> list[int]:
    """How many of these moments fall in each hour of the day, in `zone`."""
    counts = [0] * 24
    for moment in items:
        counts[moment.astimezone(zone).hour] += 1
    return counts
