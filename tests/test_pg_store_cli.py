"""The PostgreSQL backend from the command line: `[storage] backend = "postgresql"`,
`monitor store migrate` and its version check, `monitor store copy` both ways."""

from __future__ import annotations

from contextlib import closing
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from monitor.cli import main
from monitor.config import ConfigError, DatabaseSettings, parse
from monitor.io.backends import open_store
from monitor.io.ledger import Ledger
from monitor.io.pg import schema
from monitor.io.pg.connect import conninfo
from monitor.io.store import StoreError
from monitor.io.triage import Triage
from monitor.model import SourceState
from tests.support.alerts import NOW, match
from tests.support.store import T0, item


def config(tmp_path: Path, url: str | None) -> Path:
    storage = f'backend = "postgresql"\nurl = "{url}"' if url else ""
    path = tmp_path / "config.toml"
    path.write_text(
        f'[storage]\npath = "folder"\n{storage}\n\n'
        '[[sources]]\nname = "a"\nurl = "https://a.example/feed"\n'
    )
    return path


def run(cfg: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "--config", str(cfg)])
    out, err = capsys.readouterr()
    return code, out, err


def test_no_password_in_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MONITOR_DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="password does not belong in the file"):
        parse('[storage]\nbackend = "postgresql"\nurl = "postgresql://u:secret@h/db"\n')
    with pytest.raises(ConfigError, match="needs a url"):
        parse('[storage]\nbackend = "postgresql"\n')
    with pytest.raises(ConfigError, match='only for backend = "postgresql"'):
        parse('[storage]\nurl = "postgresql://u@h/db"\n')
    with pytest.raises(ConfigError, match=r"storage\.window.*at least 1d"):
        parse('[storage]\nbackend = "postgresql"\nurl = "postgresql://u@h/db"\nwindow = "2h"\n')
    windowed = parse(
        '[storage]\nbackend = "postgresql"\nurl = "postgresql://u@h/db"\nwindow = "30d"\n'
    )
    assert windowed.database is not None and windowed.database.window == 30 * 86400
    got = parse(
        '[storage]\nbackend = "postgresql"\nurl = "postgresql://u@h:5433/db"\n'
        'password_env = "PGPASS_MONITOR"\n'
    ).database
    assert got == DatabaseSettings("postgresql://u@h:5433/db", "PGPASS_MONITOR")
    monkeypatch.setenv("PGPASS_MONITOR", "s3cr:t/")
    assert conninfo(got) == "postgresql://u:s3cr%3At%2F@h:5433/db"
    monkeypatch.setenv("MONITOR_DATABASE_URL", "postgresql://v:pw@other/db2")
    env = parse('[storage]\nbackend = "postgresql"\n').database
    assert env is not None and conninfo(env) == "postgresql://v:pw@other/db2"


def test_migrate_and_the_version_check(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config(tmp_path, pg_url)
    code, out, _ = run(cfg, capsys, "store", "migrate")
    assert code == 0 and "schema version 0 -> 1" in out
    code, out, _ = run(cfg, capsys, "store", "migrate")
    assert code == 0 and "schema version 1, up to date" in out
    # a monitor one migration ahead: the database is too old until migrated
    monkeypatch.setitem(schema.MIGRATIONS, 2, ["CREATE TABLE later(x int)"])
    monkeypatch.setattr(schema, "VERSION", 2)
    code, _, err = run(cfg, capsys, "search", "anything")
    assert code != 0 and "schema version 1, this monitor needs 2" in err
    assert "monitor store migrate" in err
    code, out, _ = run(cfg, capsys, "store", "migrate")
    assert code == 0 and "1 -> 2" in out
    assert run(cfg, capsys, "search", "anything")[0] == 0
    # and the same database seen by an older monitor: too new
    monkeypatch.setattr(schema, "VERSION", 1)
    monkeypatch.delitem(schema.MIGRATIONS, 2)
    code, _, err = run(cfg, capsys, "search", "anything")
    assert code != 0 and "newer than this monitor's 1" in err


def test_a_reader_does_not_make_the_tables(pg_url: str, tmp_path: Path) -> None:
    from monitor.config import load

    settings = load(config(tmp_path, pg_url))
    with pytest.raises(StoreError, match="no monitor tables yet"):
        open_store(settings, readonly=True)
    with psycopg.connect(pg_url) as conn:
        assert schema.version(conn) == 0


def test_copy_into_postgresql_and_back(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.config import load

    (tmp_path / "one").mkdir()
    folder_cfg = config(tmp_path / "one", None)
    items = [item(n, published=T0 - timedelta(hours=n * 5)) for n in range(30)]
    state = SourceState("a", "https://a.example/feed", etag="e")
    with closing(open_store(load(folder_cfg))) as folder:
        folder.write(items, [state])
    alice = Triage(tmp_path / "one" / "folder", user="alice", now=lambda: T0)
    alice.star(["id1", "id2"])
    alice.tag("Élysée", ["id3"])
    alice.note("id4", "call the press office")
    alice.close()
    with closing(Ledger(tmp_path / "one" / "folder")) as ledger:
        ledger.record([match("K", 1, "A")], {"K": {"webhook": NOW}}, NOW)
        ledger.mark_seen([a.id for a in ledger.alerts()])
    code, out, _ = run(folder_cfg, capsys, "store", "copy", "--to", pg_url)
    assert code == 0, out
    assert "copied 30 items (30 new there) and 1 source states" in out
    assert "source 30 items, target 30" in out
    assert "triage: 5 rows" in out and "alert ledger: 3 rows" in out  # alice, 2 stars, …
    code, out, _ = run(folder_cfg, capsys, "store", "copy", "--to", pg_url)  # again: nothing new
    assert code == 0 and "(0 new there)" in out and "target 30" in out
    assert "triage: 0 rows" in out and "alert ledger: 0 rows" in out

    pg_cfg = config(tmp_path, pg_url)
    with closing(open_store(load(pg_cfg), readonly=True)) as db:
        assert list(db.items()) == items
        assert db.states() == {"a": state}
    database = load(pg_cfg).database
    assert database is not None
    there = Triage(database, user="alice").state()
    assert there.starred == {"id1", "id2"} and there.tags == {"élysée": frozenset({"id3"})}
    assert there.notes == {"id4": "call the press office"}
    with closing(Ledger(database)) as ledger:
        assert [(a.watch, a.story, a.seen) for a in ledger.alerts()] == [("K", "id000001", True)]
        assert len(ledger.due_deliveries(NOW)) == 1
        ledger.record([match("K", 9, "X", "another story entirely")], {"K": {"webhook": NOW}}, NOW)
        assert len(ledger.alerts()) == 2  # numbered on from the copied ones
    back = tmp_path / "back"
    code, out, _ = run(pg_cfg, capsys, "store", "copy", "--to", str(back))
    assert code == 0 and "copied 30 items (30 new there)" in out
    with closing(open_store(back, readonly=True)) as copy:
        assert list(copy.items()) == items
    assert "triage: " in out and "alert ledger: " in out
    assert Triage(back, user="alice").state().starred == {"id1", "id2"}
    with closing(Ledger(back)) as ledger:
        assert len(ledger.alerts()) == 2
