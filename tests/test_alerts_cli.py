"""`monitor alerts` (the ledger, read-only) and `monitor watches test` (nothing written)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import load
from monitor.core.cluster import shingles
from monitor.io.backends import open_store
from monitor.io.ledger import FILE, Ledger, Match
from monitor.model import AlertItem, Item

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
WIRE = "Moscou répond aux sanctions européennes par des mesures de rétorsion contre Bruxelles"


def item(n: int, title: str, source: str, hours: float, summary: str = "") -> Item:
    when = NOW - timedelta(hours=hours)
    return Item(
        id=f"id{n}",
        title=title,
        url=f"https://example.com/{n}",
        sources=(source,),
        published=when,
        published_raw=None,
        date_flag=None,
        language="fr",
        summary=summary or "Le Kremlin a indiqué que les discussions se poursuivront.",
        first_seen=when,
        keys=(f"u:https://example.com/{n}",),
    )


ITEMS = [
    item(1, WIRE, "Le Quotidien", 2),
    item(2, WIRE, "La Gazette", 1),
    item(3, "Le Tour de France repart", "L'Équipe", 3, "Une étape de montagne."),
    item(4, "Kremlin\x1b[31m old news", "La Gazette", 24 * 30, "Un mois plus tôt."),
]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    store = open_store(tmp_path / "db")
    store.write(ITEMS, [])
    store.close()
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[storage]\npath = "db"\n\n[[watches]]\nname = "Kremlin"\nquery = "kremlin"\n'
        'notify = ["dashboard", "webhook"]\n',
        encoding="utf-8",
    )
    return cfg


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_watches_test_counts_matches_and_alerts(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "watches", "test", "Kremlin", "--config", str(config))
    assert code == 0
    assert "2 matches in the last 7 days, 1 alert after grouping" in err
    lines = out.splitlines()
    assert re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}Z  La Gazette  Moscou", lines[0])
    assert "Le Kremlin a indiqué" in lines[1]
    code, out, err = run(
        capsys, "watches", "test", "tour OR kremlin", "--days", "90", "--config", str(config)
    )
    assert code == 0 and "4 matches in the last 90 days, 3 alerts" in err
    assert "\x1b" not in out
    assert not (config.parent / "db" / FILE).exists()  # nothing written
    code, _, err = run(capsys, "watches", "test", "(kremlin", "--config", str(config))
    assert code == 2 and "bad query" in err


def test_alerts_json_is_the_contract(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "alerts", "--format", "json", "--config", str(config))
    assert code == 0 and json.loads(out) == [] and "no alerts" in err
    settings = load(config)
    ledger = Ledger(settings.storage)
    matches = [
        Match(
            "Kremlin",
            it.id,
            AlertItem(it.id, it.title, it.url, it.sources, it.published),
            ("kremlin",),
            "Le Kremlin a indiqué",
            shingles(it),
        )
        for it in ITEMS[:2]
    ]
    ledger.record(matches, {"Kremlin": {"webhook": NOW}}, NOW)
    (delivery,) = ledger.due_deliveries(NOW)
    ledger.mark_failed([delivery.id], "refused \x1b[31m", NOW + timedelta(minutes=1), NOW)
    ledger.close()
    code, out, _ = run(capsys, "alerts", "--format", "json", "--config", str(config))
    (alert,) = json.loads(out)
    assert list(alert) == [
        "watch",
        "story",
        "title",
        "url",
        "sources",
        "items",
        "matched",
        "context",
        "at",
        "id",
    ]
    assert alert["watch"] == "Kremlin" and alert["story"] == "id1"
    assert alert["sources"] == ["Le Quotidien", "La Gazette"]
    assert [list(i) for i in alert["items"]] == [["id", "title", "url", "sources", "published"]] * 2
    assert alert["matched"] == ["kremlin"] and alert["at"] == NOW.isoformat()
    code, out, _ = run(capsys, "alerts", "--config", str(config))
    first, failed = out.splitlines()
    assert re.fullmatch(r"\S+ \S+Z  Kremlin  \+1 source  Moscou répond .*", first)
    assert failed == "    webhook pending: refused"  # the failure, its SGR gone whole
    code, out, _ = run(
        capsys, "alerts", "--watch", "Other", "--since", "1h", "--config", str(config)
    )
    assert out == ""
