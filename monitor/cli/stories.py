"""`monitor stories`: the stories of the stored items (copies of one story across sources
grouped, `core.stories`), the biggest first, as text or JSON."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from monitor.cli.common import (
    EXIT_OK,
    one_line,
    parse_or_fail,
    settings_of,
    store_of,
    stories_of,
    write_lines,
)
from monitor.cli.export import selected_items, since_of, triage_of
from monitor.core.stories import story_rows

DEFAULT_SINCE = "24h"


def cmd_stories(args: argparse.Namespace) -> int:
    query = parse_or_fail(args.query) if args.query else None
    settings = settings_of(args)
    since = since_of(args.since or DEFAULT_SINCE)
    triage = triage_of(settings)
    store = store_of(settings, readonly=True)
    try:
        grouping = stories_of(settings, store)
        items = list(selected_items(settings, store, query, since, triage, grouping))
    finally:
        store.close()
    now = datetime.now(UTC)
    rows = story_rows(items, now, grouping)[: args.limit]
    if args.format == "json":
        write_lines([json.dumps([r.to_json() for r in rows], ensure_ascii=False, indent=2)])
        return EXIT_OK
    lines = [f"{'score':>5} {'items':>5} {'srcs':>4} {'1h':>3}  first  last   story"]
    for r in rows:
        s = r.story
        first, last = s.first_seen.astimezone(), r.last_seen.astimezone()
        actors = f"; {one_line(', '.join(s.actors))}" if s.actors else ""
        lines.append(
            f"{r.score:>5.1f} {len(s.items):>5} {len(s.sources):>4} {r.growth_1h:>3}  "
            f"{first:%H:%M}  {last:%H:%M}  {one_line(s.title)}"
            f"  (first: {one_line(r.first_source)}{actors})"
        )
    write_lines(lines)
    return EXIT_OK
