"""Triage (`io/triage.py`): kept across restarts and processes, per analyst or shared,
auto-tags everyone's, what retention must keep; in the folder store's file and in the
database alike (`where`)."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.config import DatabaseSettings
from monitor.io.triage import FILE, Triage, TriageError
from monitor.model import TriageState
from tests.support.sides import Where, where

__all__ = ["where"]  # the fixture

pytestmark = pytest.mark.timeout(60)

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def triage(where: Where, **kw: object) -> Triage:
    kw.setdefault("user", "alice")
    return Triage(where, now=lambda: T0, **kw)  # type: ignore[arg-type]


def test_kept_across_a_restart(where: Where) -> None:
    t = triage(where)
    assert t.star(["a", "b"]) == 2
    assert t.star(["a"]) == 0  # already
    assert t.tag("Sanctions", ["a", "c"]) == 2
    assert t.tag("  sanctions ", ["b"]) == 1  # the same tag, however written
    assert t.note("a", "  call the desk  ")
    assert not t.note("a", "call the desk")  # unchanged
    assert t.mark_seen(["a", "b"]) == 2
    t.close()

    again = triage(where)
    state = again.state()
    assert state.starred == {"a", "b"}
    assert state.tags == {"sanctions": {"a", "b", "c"}}
    assert state.tag_names == {"sanctions": "Sanctions"}  # the first spelling stays
    assert state.tags_of("b") == ["Sanctions"]
    assert state.notes == {"a": "call the desk"}
    assert state.seen == {"a", "b"}
    assert state.since == T0  # when this analyst's triage began, kept
    if isinstance(where, Path):
        assert (where / FILE).is_file()
    again.close()


def test_undoing(where: Where) -> None:
    t = triage(where)
    t.star(["a", "b"])
    t.tag("Iran", ["a", "b"])
    t.note("a", "x")
    t.mark_seen(["a"])
    assert t.star(["a", "z"], on=False) == 1
    assert t.tag("IRAN", ["b"], on=False) == 1
    assert t.note("a", "   ")  # empty: removed
    assert t.mark_seen(["a"], on=False) == 1
    state = t.state()
    assert state.starred == {"b"} and state.tags == {"iran": {"a"}}
    assert state.notes == {} and state.seen == frozenset()
    with pytest.raises(TriageError, match="a tag needs a name"):
        t.tag("  ", ["a"])
    t.close()


def test_unread_counts_from_when_the_triage_began(where: Where) -> None:
    t = triage(where)
    state = t.state()
    assert not state.unread("old", T0 - timedelta(hours=1))  # stored before: not unread
    assert state.unread("new", T0 + timedelta(minutes=1))
    t.mark_seen(["new"])
    assert not t.state().unread("new", T0 + timedelta(minutes=1))
    t.close()


def test_per_analyst_unless_shared(where: Where) -> None:
    alice, bob = triage(where, user="alice"), triage(where, user="bob")
    alice.star(["a"])
    alice.tag("Iran", ["a"])
    alice.note("a", "alice's")
    alice.mark_seen(["a"])
    bob.star(["b"])
    assert alice.state().starred == {"a"} and bob.state().starred == {"b"}
    assert bob.state().tags == {} and bob.state().notes == {} and bob.state().seen == frozenset()
    # auto-tags are everyone's
    alice.tag("Sanctions", ["x"], auto=True)
    assert bob.state().tags == {"sanctions": {"x"}}
    assert bob.tags() == {"Sanctions": 1}
    assert alice.tags() == {"Iran": 1, "Sanctions": 1}

    shared_1 = Triage(where, shared=True, user="carol")
    shared_2 = Triage(where, shared=True, user="dave")
    shared_1.star(["s"])
    shared_2.note("s", "seen by the team")
    for t in (shared_1, shared_2):
        state = t.state()
        assert state.starred == {"s"} and state.notes == {"s": "seen by the team"}
        assert "sanctions" in state.tags  # auto-tags too
    assert alice.state().starred == {"a"}  # the analysts' own rows stay theirs
    # retention keeps what anyone starred, tagged by hand or annotated; not auto-tags
    assert alice.protected() == {"a", "b", "s"}
    for t in (alice, bob, shared_1, shared_2):
        t.close()


def test_tags_most_used_first(where: Where) -> None:
    t = triage(where)
    t.tag("rare", ["a"])
    t.tag("Common", ["a", "b", "c"])
    t.tag("beta", ["a", "b"])
    t.tag("Alpha", ["c", "d"])
    assert list(t.tags().items()) == [("Common", 3), ("Alpha", 2), ("beta", 2), ("rare", 1)]
    t.close()


def test_forget(where: Where) -> None:
    t = triage(where)
    t.star(["a", "b"])
    t.tag("x", ["a"])
    t.note("a", "n")
    t.mark_seen(["a"])
    t.forget(["a"])
    state = t.state()
    assert state.starred == {"b"} and state.tags == {} and state.notes == {} and not state.seen
    t.close()


def test_another_connections_write_is_read(where: Where) -> None:
    """`state` is cached until the file changes: by this connection or another."""
    one, two = triage(where), triage(where)
    first = one.state()
    assert one.state() is first  # nothing changed: not read again
    rank, again = one.snapshot()
    assert again is first and one.snapshot()[0] == rank + 1  # later reads rank higher
    two.star(["a"])
    assert one.state().starred == {"a"}
    one.tag("t", ["a"])
    assert one.state().tags == {"t": {"a"}}
    one.close()
    two.close()


def _star_many(where: Where, prefix: str, count: int) -> None:
    t = Triage(where, user="alice")
    for n in range(count):
        t.star([f"{prefix}{n}"])
        t.tag("both", [f"{prefix}{n}"])
    t.close()


def test_two_processes_at_once_both_kept(where: Where) -> None:
    """Two dashboards starring at the same moment: each commit is whole, none is lost."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_star_many, args=(where, prefix, 40)) for prefix in "pq"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    t = triage(where)
    state = t.state()
    wanted = {f"{prefix}{n}" for prefix in "pq" for n in range(40)}
    assert state.starred == wanted
    assert state.tags["both"] == wanted
    t.close()


def test_a_broken_file_raises_triage_error(tmp_path: Path) -> None:
    (tmp_path / FILE).write_bytes(b"not a database at all, " * 100)
    with pytest.raises(TriageError, match=FILE):
        triage(tmp_path)
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    with pytest.raises(TriageError):
        triage(blocked)


def test_a_failing_write_raises_triage_error(tmp_path: Path) -> None:
    t = triage(tmp_path)
    locker = sqlite3.connect(tmp_path / FILE, timeout=0)
    locker.execute("BEGIN EXCLUSIVE")
    t._engine.db.execute("PRAGMA busy_timeout = 50")  # type: ignore[attr-defined]
    with pytest.raises(TriageError, match="locked"):
        t.star(["a"])
    locker.rollback()
    locker.close()
    assert t.star(["a"]) == 1  # the connection is fine afterwards
    t.close()


def test_state_defaults() -> None:
    state = TriageState()
    assert state.unread("x", T0) and state.tags_of("x") == []


def test_an_unreachable_database_raises_triage_error(pg_server: str) -> None:
    port = pg_server.rsplit(":", 1)[1].split("/")[0]
    gone = DatabaseSettings(url=f"postgresql://nobody@127.0.0.1:{port}/no_such_database")
    with pytest.raises(TriageError, match="no_such_database"):
        triage(gone)
