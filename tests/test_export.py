"""`monitor export`: items with the analyst's triage as JSON Lines, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.core.export import CSV_COLUMNS, chunks, inert, record
from monitor.io.backends import open_store
from monitor.io.triage import FILE, Triage
from monitor.model import Actor, Item, TriageState

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def item(n: int, title: str, *, hours: float, **kw: object) -> Item:
    when = NOW - timedelta(hours=hours)
    fields: dict[str, object] = {
        "id": f"id{n}",
        "title": title,
        "url": f"https://example.com/{n}",
        "sources": ("Le Monde",),
        "published": when,
        "published_raw": None,
        "date_flag": None,
        "language": "fr",
        "summary": f"résumé {n}",
        "first_seen": when,
        "keys": (f"u:https://example.com/{n}",),
    }
    fields.update(kw)
    return Item(**fields)  # type: ignore[arg-type]


ITEMS = [
    item(
        1,
        "Les États-Unis, la Russie et « l'Élysée »",
        hours=1,
        sources=("Le Monde", "Libération"),
        actors=(Actor("Emmanuel Macron", "person", 2), Actor("Vladimir Putin", "person", 1)),
        author="Hélène Dupont",
    ),
    item(2, 'He said "no", then left\non a second line', hours=2, language="en"),
    item(3, '=HYPERLINK("https://evil.example","click")', hours=3, sources=("@feed",)),
    item(4, "Tour de France : le départ", hours=50, summary="-1+1 cmd|' /C calc'!A0"),
]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    store = open_store(tmp_path / "db")
    store.write(ITEMS, [])
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text('[storage]\npath = "db"\n', encoding="utf-8")
    return cfg


def triage_of(config: Path) -> Triage:
    return Triage(config.parent / "db", user="ana")


def export(
    config: Path, capsys: pytest.CaptureFixture[bytes], *argv: str
) -> tuple[int, bytes, str]:
    code = main(["export", *argv, "--config", str(config)])
    out, err = capsys.readouterr()
    return code, out, err.decode("utf-8")


def rows_of(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_reads_back(
    config: Path, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("monitor.io.triage.login", lambda: "ana")
    triage = triage_of(config)
    triage.star(["id1"])
    triage.tag("Diplomatie", ["id1", "id2"])
    triage.tag("à suivre", ["id1"])
    triage.note("id1", 'Citer, "en entier"\npage 2')
    triage.close()
    code, out, _ = export(config, capsysbinary, "--format", "csv")
    assert code == 0
    assert not out.startswith(b"\xef\xbb\xbf")
    assert out.startswith(",".join(CSV_COLUMNS).encode() + b"\r\n")
    assert out.endswith(b"\r\n") and out.count(b"\r\n") == len(ITEMS) + 1  # RFC 4180
    rows = rows_of(out)
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [r["id"] for r in rows] == ["id1", "id2", "id3", "id4"]  # newest first
    first = rows[0]
    assert first["title"] == "Les États-Unis, la Russie et « l'Élysée »"
    assert first["sources"] == "Le Monde; Libération"
    assert first["actors"] == "Emmanuel Macron; Vladimir Putin"
    assert first["tags"] == "Diplomatie; à suivre"  # as `tags_of` sorts them
    assert first["starred"] == "true" and rows[1]["starred"] == "false"
    assert first["note"] == 'Citer, "en entier"\npage 2'
    assert first["author"] == "Hélène Dupont" and first["summary"] == "résumé 1"
    assert datetime.fromisoformat(first["published"]) == ITEMS[0].published
    assert datetime.fromisoformat(first["published"]).utcoffset() == timedelta(0)
    assert rows[1]["title"] == 'He said "no", then left\non a second line'
    assert rows[1]["tags"] == "Diplomatie" and rows[1]["note"] == ""
    assert rows[1]["language"] == "en"


def test_csv_bom_for_spreadsheets(
    config: Path, capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    code, out, _ = export(config, capsysbinary, "--format", "csv", "--bom")
    assert code == 0 and out.startswith(b"\xef\xbb\xbfid,title,")
    target = tmp_path / "out.csv"
    code, _, err = export(config, capsysbinary, "--format", "csv", "--bom", "-o", str(target))
    assert code == 0 and f"4 items written to {target}" in err
    assert target.read_bytes() == out
    with open(target, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["title"].startswith("Les États-Unis")
    assert main(["export", "--format", "json", "--bom", "--config", str(config)]) == 2


def test_formula_injection_is_guarded(
    config: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert inert(cell) == "'" + cell
    for cell in ("1", "Élysée", " =x", "'=x", ""):
        assert inert(cell) == cell
    code, out, _ = export(config, capsysbinary, "--format", "csv")
    assert code == 0
    rows = {r["id"]: r for r in rows_of(out)}
    assert rows["id3"]["title"] == '\'=HYPERLINK("https://evil.example","click")'
    assert rows["id3"]["sources"] == "'@feed"
    assert rows["id4"]["summary"] == "'-1+1 cmd|' /C calc'!A0"
    # the JSON formats carry the text as it is: no spreadsheet reads them
    _, out, _ = export(config, capsysbinary, "--format", "jsonl")
    assert json.loads(out.splitlines()[2])["title"].startswith("=HYPERLINK")


def test_json_round_trip(config: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    triage = triage_of(config)
    triage.star(["id2"])
    triage.note("id2", "à relire")
    state = triage.state()
    triage.close()
    code, out, _ = export(config, capsysbinary, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data == [record(it, TriageState()) for it in ITEMS]  # another analyst's triage
    back = [
        Item.from_record({**row, "keys": list(it.keys), "annotator": it.annotator})
        for row, it in zip(data, ITEMS, strict=True)
    ]
    assert back == ITEMS
    code, out, _ = export(config, capsysbinary, "--format", "jsonl")
    lines = [json.loads(line) for line in out.decode("utf-8").splitlines()]
    assert lines == data
    mine = json.loads("".join(chunks(ITEMS, "json", state)))
    assert mine[1] == {**ITEMS[1].to_json(), "tags": [], "starred": True, "note": "à relire"}
    assert json.loads("".join(chunks([], "json"))) == []


def test_query_with_triage(
    config: Path, capsysbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("monitor.io.triage.login", lambda: "ana")
    code, out, _ = export(config, capsysbinary, "--query", "is:starred")
    assert code == 0 and out == b""  # nothing starred yet
    triage = triage_of(config)
    triage.star(["id4", "id2"])
    triage.tag("Sport", ["id4"])
    triage.close()
    code, out, _ = export(config, capsysbinary, "--query", "is:starred")
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["id2", "id4"]
    code, out, _ = export(
        config, capsysbinary, "--query", "is:starred tag:sport", "--format", "csv"
    )
    rows = rows_of(out)
    assert [(r["id"], r["tags"], r["starred"]) for r in rows] == [("id4", "Sport", "true")]
    code, out, _ = export(config, capsysbinary, "--query", "is:starred", "--since", "24h")
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["id2"]
    code, out, _ = export(config, capsysbinary, "--query", "russie OR tour")
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["id1", "id4"]


def test_output_file_is_replaced_only_with_force(
    config: Path, capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    target = tmp_path / "items.jsonl"
    target.write_text("keep me\n", encoding="utf-8")
    code, _, err = export(config, capsysbinary, "-o", str(target))
    assert code == 1 and "--force" in err
    assert target.read_text(encoding="utf-8") == "keep me\n"
    code, _, _ = export(config, capsysbinary, "-o", str(target), "--force")
    assert code == 0 and len(target.read_text(encoding="utf-8").splitlines()) == 4
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_reads_while_a_poller_holds_the_store(
    config: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    writer = open_store(config.parent / "db")  # the write lock, as a running poll holds it
    try:
        code, out, _ = export(config, capsysbinary, "--format", "csv")
    finally:
        writer.close()
    assert code == 0 and len(rows_of(out)) == 4
    assert not (config.parent / "db" / FILE).exists()  # reading created no triage file


def test_bad_query_exits_2(config: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    code, _, err = export(config, capsysbinary, "--query", "(russie")
    assert code == 2 and "^" in err


def test_one_spelling_and_one_kind_per_actor_in_export_and_search(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """Stored by different polls, 'Viktor Orban' and 'Viktor Orbán' are one actor in every
    output, with the kind most of the mentions give it."""
    store = open_store(tmp_path / "db")
    store.write(
        [
            item(1, "Orban", hours=1, actors=(Actor("Viktor Orban", "organisation", 1),)),
            item(2, "Orbán", hours=2, actors=(Actor("Viktor Orbán", "person", 2),)),
            item(3, "Orbán", hours=3, actors=(Actor("Viktor Orbán", "person", 1),)),
        ],
        [],
    )
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text('[storage]\npath = "db"\n', encoding="utf-8")
    for argv in (
        ["export", "--format", "jsonl"],
        ["export", "--format", "jsonl", "--query", "orb"],
    ):
        code = main([*argv, "--config", str(cfg)])
        out, _ = capsysbinary.readouterr()
        assert code == 0
        actors = [r["actors"] for r in map(json.loads, out.decode().splitlines())]
        assert actors == [
            [{"name": "Viktor Orbán", "kind": "person", "mentions": n}] for n in (1, 2, 1)
        ]
    code = main(["search", "orb", "--format", "json", "--config", str(cfg)])
    out, _ = capsysbinary.readouterr()
    names = {(a["name"], a["kind"]) for r in json.loads(out) for a in r["actors"]}
    assert code == 0 and names == {("Viktor Orbán", "person")}
