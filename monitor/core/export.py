"""Items as export rows: the item JSON with the analyst's triage, as JSON, JSON Lines or
CSV. Pure: the caller reads the items and the triage, and writes the text.

CSV follows RFC 4180 (CRLF line ends, fields quoted when they hold a comma, a quote or
a line break). Feed text is untrusted: a cell that a spreadsheet would read as a formula
(starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, as
OWASP advises against CSV injection.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from monitor.model import Item, TriageState

FORMATS = ("jsonl", "json", "csv")
CSV_COLUMNS = (
    "id",
    "title",
    "url",
    "sources",
    "published",
    "language",
    "actors",
    "tags",
    "starred",
    "note",
    "summary",
    "author",
)
JOIN = "; "  # between the values of a multi-valued CSV cell
BOM = "\ufeff"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_NO_TRIAGE = TriageState()


def record(item: Item, triage: TriageState = _NO_TRIAGE) -> dict[str, Any]:
    """The item JSON (`Item.to_json`) with the analyst's `tags`, `starred` and `note`."""
    out = item.to_json()
    out["tags"] = triage.tags_of(item.id)
    out["starred"] = item.id in triage.starred
    out["note"] = triage.notes.get(item.id)
    return out


def inert(cell: str) -> str:
    """`cell` as a spreadsheet shows it but never runs it: a leading `'` when it would
    start a formula."""
    return "'" + cell if cell.startswith(_FORMULA) else cell


def csv_row(item: Item, triage: TriageState = _NO_TRIAGE) -> list[str]:
    """The item's cells, in `CSV_COLUMNS` order, each made inert."""
    cells = [
        item.id,
        item.title,
        item.url or "",
        JOIN.join(item.sources),
        item.published.astimezone(UTC).isoformat(),
        item.language or "",
        JOIN.join(a.name for a in item.actors),
        JOIN.join(triage.tags_of(item.id)),
        "true" if item.id in triage.starred else "false",
        triage.notes.get(item.id, ""),
        item.summary,
        item.author or "",
    ]
    return [inert(c) for c in cells]


def _csv_line(cells: Iterable[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(cells)
    return buf.getvalue()


def chunks(
    items: Iterable[Item], fmt: str, triage: TriageState = _NO_TRIAGE, *, bom: bool = False
) -> Iterator[str]:
    """The export text in pieces, one item at a time, so that a large store never sits in
    memory whole. `bom` starts CSV with a UTF-8 byte order mark (for spreadsheets that
    otherwise guess another encoding)."""
    if fmt == "csv":
        yield (BOM if bom else "") + _csv_line(CSV_COLUMNS)
        for item in items:
            yield _csv_line(csv_row(item, triage))
    elif fmt == "jsonl":
        for item in items:
            yield json.dumps(record(item, triage), ensure_ascii=False) + "\n"
    elif fmt == "json":
        # the text of json.dump(list, indent=2), written item by item
        first = True
        for item in items:
            text = json.dumps(record(item, triage), ensure_ascii=False, indent=2)
            yield ("[\n" if first else ",\n") + "  " + text.replace("\n", "\n  ")
            first = False
        yield "[]\n" if first else "\n]\n"
    else:
        raise ValueError(f"unknown export format {fmt!r}")
