"""Every kind of store file damaged at random (bytes flipped, cut short, a garbage line):
every command still exits cleanly with what can be read, and `monitor check --repair`
brings the store back to one that `monitor check` finds clean."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.io.tinystore import ENTRIES, INDEX, ITEMS, META, TEXTS, TinyStore
from monitor.model import Actor
from tests.support.store import T0, item

DAYS = ("2026-11-25", "2026-11-24", "2026-11-23")
# what may be damaged, as globs in the store's folder
KINDS = {
    "items": f"{ITEMS}/*.json",
    "text": f"{TEXTS}/*.json",
    "entries": f"{ENTRIES}/*.msgpack",
    "ids": INDEX,
    "meta": META,
    "search": "search.sqlite*",
}
READERS = (
    ["export"],
    ["export", "--format", "csv"],
    ["search", "title"],
    ["actors"],
    ["digest", "--date", "2026-11-25"],
    ["sources"],
    ["check"],
)


def build(root: Path) -> None:
    """12 items over three days, with texts and actors, and the text index made."""
    with TinyStore(root) as s:
        s.write(
            [
                item(
                    n,
                    published=T0 - timedelta(days=n % 3, hours=n),
                    text=f"full text {n} " * 20,
                )
                for n in range(12)
            ],
            [],
        )
        s.update(
            [(f"id{n}", lambda it: _with_actor(it)) for n in range(0, 12, 2)],
        )
        s.reindex()


def _with_actor(it: object) -> object:
    import msgspec

    return msgspec.structs.replace(it, actors=(Actor("Vladimir Putin", "person", 1),))  # type: ignore[type-var]


def damage(root: Path, kind: str, rng: random.Random) -> str:
    """Damage one file of `kind` in one of three ways; says what was done."""
    files = sorted(p for p in root.glob(KINDS[kind]) if p.is_file() and p.stat().st_size)
    if not files:
        return "nothing to damage"
    path = rng.choice(files)
    data = bytearray(path.read_bytes())
    how = rng.choice(("flip", "cut", "line"))
    if how == "flip":
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif how == "cut":
        del data[rng.randrange(len(data)) :]
    else:  # a garbage line, at a line break if there is one
        at = data.find(b"\n", rng.randrange(len(data)))
        at = at + 1 if at >= 0 else rng.randrange(len(data))
        data[at:at] = b"\x00garbage{\xff\n"
    path.write_bytes(bytes(data))
    return f"{how} {path.relative_to(root)}"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    root = tmp_path / "db"
    build(root)
    cfg = tmp_path / "config.toml"
    cfg.write_text('[storage]\npath = "db"\n', encoding="utf-8")
    yield root, cfg


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("seed", range(20))
def test_a_damaged_store_is_read_around_and_repaired(
    store: tuple[Path, Path], kind: str, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    root, cfg = store
    what = damage(root, kind, random.Random(f"{kind}{seed}"))
    for argv in READERS:
        code = main([*argv, "--config", str(cfg)])
        out, err = capsys.readouterr()
        assert code in (0, 1), (what, argv, code, err)
        assert "Traceback" not in err, (what, argv)
        if argv == ["export"] and code == 0:
            for line in out.splitlines():
                json.loads(line)  # whole items only
    assert main(["check", "--repair", "--config", str(cfg)]) in (0, 1), what
    capsys.readouterr()
    assert main(["check", "--config", str(cfg)]) == 0, (what, capsys.readouterr().out)
    out = capsys.readouterr().out
    assert main(["export", "--config", str(cfg)]) == 0
    exported = [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()]
    assert len(exported) == len(set(exported)), what  # no item twice
    if kind not in ("items",):  # only a day file's damage may lose items
        assert len(exported) == 12, (what, out)
    with TinyStore(root, readonly=True) as s:
        assert s.count() == len(exported), what


def test_check_repair_takes_bad_records_out_and_keeps_them(
    store: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, cfg = store
    path = root / ITEMS / f"{DAYS[0]}.json"
    data = json.loads(path.read_text())
    doc = next(iter(data["items"].values()))
    doc["published"] = "not a date"
    data["items"]["999"] = {"title": "no id"}
    path.write_text(json.dumps(data))
    assert main(["check", "--config", str(cfg)]) == 1
    out = capsys.readouterr().out
    assert out.count("cannot be read and is set aside") == 2
    assert "entries: 1 day files are out of date" in out  # the day file was edited
    assert main(["check", "--repair", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert f"repaired: items/{DAYS[0]}.json: 2 records moved to quarantine.jsonl" in out
    assert "11 items; no problems" in out  # 12, less the one that is no item
    kept = (root / "quarantine.jsonl").read_text().splitlines()
    assert len(kept) == 2  # nothing deleted silently
    assert main(["check", "--config", str(cfg)]) == 0
    capsys.readouterr()
