"""config.toml -> Settings: the contract, and errors that name file, key and line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import config
from monitor.config import ConfigError, find_config, load, parse, parse_duration, parse_size

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
[storage]
path = "data/monitor.db"

[[sources]]
name = "Le Monde – International"
url = "https://www.lemonde.fr/international/rss_full.xml"
language = "fr"
interval = "10m"
enabled = true
full_text = true
allow_private_links = false

[[sources]]
name = "BBC"
url = "https://feeds.bbci.co.uk/news/world/rss.xml"

[actors."Vladimir Putin"]
aliases = ["Poutine", "Putin", "Путин"]
kind = "person"
"""


def test_contract_keys(tmp_path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_text(GOOD, encoding="utf-8")
    s = load(p)
    assert s.storage == tmp_path / "data/monitor.db"
    assert s.retention is None  # keep everything unless told
    assert (
        parse(GOOD.replace('path = "data', 'keep = "180d"\npath = "data')).retention == 180 * 86400
    )
    lm, bbc = s.sources
    assert lm.name == "Le Monde – International"
    assert lm.language == "fr" and lm.interval == 600 and lm.enabled and lm.full_text
    assert not lm.allow_private_links
    assert bbc.interval == s.poll.interval == 900
    (actor,) = s.actors
    assert actor.name == "Vladimir Putin" and "Путин" in actor.aliases and actor.kind == "person"


def test_shipped_config_is_valid() -> None:
    s = load(ROOT / "config.toml")
    assert len(s.sources) >= 15
    langs = {src.language for src in s.sources}
    assert {"fr", "en"} <= langs and len(langs - {"fr", "en"}) >= 2
    assert sum(src.language == "fr" for src in s.sources) >= 5


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as exc:
        parse(text, Path("/x/config.toml"))
    return exc.value


@pytest.mark.parametrize(
    ("edit", "key", "line", "words"),
    [
        (
            lambda t: t.replace('interval = "10m"', 'interval = "10m"\ncolour = "red"'),
            "sources[0].colour",
            9,
            "unknown key",
        ),
        (
            lambda t: t.replace("enabled = true", 'enabled = "yes"'),
            "sources[0].enabled",
            9,
            "Expected `bool`",
        ),
        (
            lambda t: t.replace("https://feeds.bbci", "ftp://feeds.bbci"),
            "sources[1].url",
            15,
            "not an http(s) URL",
        ),
        (
            lambda t: t.replace('name = "BBC"', 'name = "Le Monde – International"'),
            "sources[1].name",
            14,
            "duplicate source name",
        ),
        (
            lambda t: t.replace('kind = "person"', 'kind = "persn"'),
            'actors."Vladimir Putin".kind',
            19,
            "Invalid enum value",
        ),
        (lambda t: t.replace('"10m"', '"ten minutes"'), "sources[0].interval", 8, "not a duration"),
        (lambda t: t + "\n[poll]\nper_host = 0\n", "poll.per_host", 22, "at least 1"),
        (lambda t: t + "\n[articles]\nper_host = 0\n", "articles.per_host", 22, "at least 1"),
        (lambda t: t + '\n[articles]\ndelay = "soon"\n', "articles.delay", 22, "not a duration"),
        (lambda t: t + "\n[articles]\nrobot = false\n", "articles.robot", 22, "unknown key"),
        (lambda t: "[storage]\npath = 3\n", "storage.path", 2, "Expected `str`"),
        (
            lambda t: t.replace('path = "data', 'keep = "6 months"\npath = "data'),
            "storage.keep",
            2,
            "not a duration",
        ),
        (
            lambda t: t.replace('path = "data', 'keep = "12h"\npath = "data'),
            "storage.keep",
            2,
            "at least 1d",
        ),
        (
            lambda t: t.replace('path = "data', 'keep = "-3d"\npath = "data'),
            "storage.keep",
            2,
            "not a duration",
        ),
        (
            lambda t: t.replace('path = "data', 'keep = true\npath = "data'),
            "storage.keep",
            2,
            "got `bool`",
        ),
        (lambda t: t + "\n[bogus]\nx = 1\n", "bogus", 21, "unknown key"),
        (lambda t: t + "\n[triage]\nshared = 1\n", "triage.shared", 22, "Expected `bool`"),
        (lambda t: t + "\n[triage]\nshare = true\n", "triage.share", 22, "unknown key"),
        (
            lambda t: t + '\n[[tags]]\nname = "Sanctions"\nquery = "(sanctions OR embargo"\n',
            "tags[0].query",
            23,
            "parenthesis is never closed",
        ),
        (lambda t: t + '\n[[tags]]\nname = "S"\nquery = "  "\n', "tags[0].query", 23, "empty"),
        (lambda t: t + '\n[[tags]]\nname = " "\nquery = "x"\n', "tags[0].name", 22, "a name"),
        (lambda t: t + '\n[[tags]]\nname = "S"\n', "tags[0].query", 21, "missing required"),
        (
            lambda t: (
                t + '\n[[tags]]\nname = "Iran"\nquery = "iran"\n'
                '\n[[tags]]\nname = " IRAN "\nquery = "teheran"\n'
            ),
            "tags[1].name",
            26,
            "duplicate tag 'IRAN' (first at line 22)",
        ),
    ],
)
def test_errors_name_key_and_line(edit, key: str, line: int, words: str) -> None:  # type: ignore[no-untyped-def]
    err = _error(edit(GOOD))
    assert err.key == key
    assert err.line == line
    assert words in err.message
    assert str(err).startswith("/x/config.toml, line")


def test_toml_syntax_error_has_line() -> None:
    err = _error(GOOD.replace("[storage]", "[storage"))
    assert err.line == 1 and "not valid TOML" in err.message


def test_durations_and_sizes() -> None:
    assert parse_duration("90s") == 90 and parse_duration("2h") == 7200 and parse_duration(5) == 5
    assert parse_size("10MiB") == 10 * 2**20 and parse_size(1000) == 1000
    for bad in ("", "-1m", "0", "5 weeks"):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(config.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert find_config() is None
    user = tmp_path / "xdg" / "monitor" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text(GOOD)
    assert find_config() == user
    (tmp_path / "config.toml").write_text(GOOD)
    assert find_config() == Path("config.toml")
    monkeypatch.setenv(config.ENV_VAR, "/env/config.toml")
    assert find_config() == Path("/env/config.toml")
    assert find_config("/cli/config.toml") == Path("/cli/config.toml")


def test_bad_config_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    p = tmp_path / "config.toml"
    p.write_text(GOOD.replace("ftp", "").replace("https://feeds.bbci", "nope://feeds.bbci"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for argv in (["poll"], ["--config", str(p), "poll"], ["poll", "--config", str(p)]):
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "monitor",
                *argv,
                *([] if "--config" in argv else ["--config", str(p)]),
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )
        assert run.returncode == 2, run.stderr
        assert str(p) in run.stderr and "sources[1].url" in run.stderr and "line 15" in run.stderr
    assert sorted(x.name for x in tmp_path.iterdir()) == ["config.toml"]


def test_triage_and_auto_tags() -> None:
    got = parse(
        GOOD + '\n[triage]\nshared = true\n\n[[tags]]\nname = "  Sanctions  list "\n'
        'query = " sanctions OR embargo "\n\n[[tags]]\nname = "Iran"\nquery = "tag:x iran"\n'
    )
    assert got.triage.shared is True
    assert [(t.name, t.query) for t in got.tags] == [
        ("Sanctions list", "sanctions OR embargo"),
        ("Iran", "tag:x iran"),
    ]
    default = parse(GOOD)
    assert default.triage.shared is False and default.tags == ()


def test_shipped_config_documents_triage() -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert load(ROOT / "config.toml").triage.shared is False
    lines = text.splitlines()
    start = lines.index("# [[tags]]")
    example = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        example.append(line.removeprefix("# "))
    got = parse(GOOD + "\n" + "\n".join(example) + "\n")  # valid once uncommented
    assert got.tags and got.tags[0].name == "Sanctions"


def test_article_settings() -> None:
    got = parse(GOOD + '\n[articles]\nrobots = false\ndelay = "0.5s"\n')
    assert got.articles.robots is False and got.articles.delay == 0.5
    assert got.articles.per_host == 1 and got.articles.prefer_page_date is False
    default = parse(GOOD).articles
    assert default.robots and default.delay == 2.0 and default.concurrency == 8


def test_watches() -> None:
    got = parse(
        GOOD + '\n[[watches]]\nname = " Kremlin "\nquery = "kremlin OR moscow"\n'
        'notify = ["dashboard", "bell", "bell"]\nevery = "hourly"\nquiet = "22:00-07:00"\n'
        '\n[[watches]]\nname = "Quotes"\nquoted = "Vladimir  Putin"\n'
    )
    first, second = got.watches
    assert (first.name, first.query, first.notify) == (
        "Kremlin",
        "kremlin OR moscow",
        ("dashboard", "bell"),
    )
    assert first.every == "hourly" and first.quiet == ("22:00", "07:00")
    assert not first.actor_rules
    assert second.query == "" and second.quoted == "Vladimir Putin" and second.actor_rules
    assert second.notify == ("dashboard",) and second.every == "instant"
    assert parse(GOOD).watches == ()


@pytest.mark.parametrize(
    ("extra", "key", "words"),
    [
        ('name = "W"\n', "watches[0].query", "needs a query"),
        ('name = "W"\nquery = "(a"\n', "watches[0].query", "'(a'"),
        ('name = "W"\nquery = "a"\nnotify = ["sms"]\n', "watches[0].notify", "'sms'"),
        ('name = "W"\nquery = "a"\nevery = "weekly"\n', "watches[0].every", "'weekly'"),
        ('name = "W"\nquery = "a"\nquiet = "22-7"\n', "watches[0].quiet", "'22-7'"),
        ('name = "W"\nquoted = " "\n', "watches[0].quoted", "actor"),
        (
            'name = "W"\nquery = "a"\n\n[[watches]]\nname = "w"\nquery = "b"\n',
            "watches[1].name",
            "duplicate",
        ),
    ],
)
def test_watch_errors_name_key_and_line(extra: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(GOOD + "\n[[watches]]\n" + extra)
    assert err.value.key == key and words in err.value.message
    assert err.value.line is not None and err.value.line > GOOD.count("\n")


def test_shipped_config_documents_watches() -> None:
    lines = (ROOT / "config.toml").read_text(encoding="utf-8").splitlines()
    start = lines.index("# [[watches]]")
    example = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        example.append(line.removeprefix("# "))
    got = parse(GOOD + "\n" + "\n".join(example) + "\n")
    assert got.watches[0].name == "Kremlin" and got.watches[0].quiet == ("22:00", "07:00")


@pytest.mark.parametrize(
    ("edit", "key", "line", "char"),
    [
        (
            lambda t: t.replace('"Le Monde – International"', '"Le Monde \\u001b]0;x\\u0007"'),
            "sources[0].name",
            5,
            "U+001B",
        ),
        (
            lambda t: t.replace('name = "BBC"', 'name = "BBC \u202egnp"'),
            "sources[1].name",
            14,
            "U+202E",
        ),
        (
            lambda t: t.replace('name = "BBC"', 'name = "BBC"\ncategory = "a\\u009bb"'),
            "sources[1].category",
            15,
            "U+009B",
        ),
        (
            lambda t: t.replace('"Putin", ', '"Pu\\u200etin", '),
            'actors."Vladimir Putin".aliases',
            18,
            "U+200E",
        ),
        (
            lambda t: t + '\n[actors."X\\u001b[31m"]\nkind = "person"\n',
            'actors."X\\u001b[31m"',
            21,
            "U+001B",
        ),
        (
            lambda t: t + '\n[filters.1]\nname = "F\\u2066"\nquery = "x"\n',
            "filters.1.name",
            22,
            "U+2066",
        ),
        (
            lambda t: t + '\n[[tags]]\nname = "T\\u001b[2J"\nquery = "x"\n',
            "tags[0].name",
            22,
            "U+001B",
        ),
        (
            lambda t: t + '\n[[watches]]\nname = "W\\u200f"\nquery = "x"\n',
            "watches[0].name",
            22,
            "U+200F",
        ),
        (
            lambda t: t + '\n[[watches]]\nname = "W"\nquoted = "P\\u202d"\n',
            "watches[0].quoted",
            23,
            "U+202D",
        ),
    ],
)
def test_control_characters_in_names_are_refused(edit, key: str, line: int, char: str) -> None:  # type: ignore[no-untyped-def]
    """Names reach terminals: an escape, C0/C1 or bidi control in one is an error that says
    where it is."""
    err = _error(edit(GOOD))
    assert (err.key, err.line) == (key, line)
    assert f"control character {char}" in err.message
    assert str(err).startswith(f"/x/config.toml, line {line}, key")


def test_names_with_markup_and_any_script_are_kept() -> None:
    name = "[red]x[/] [@click=app.quit]q[/] Zoë 東京 🇫🇷 مرحبا"
    s = parse(GOOD.replace('name = "BBC"', f'name = "{name}"'))
    assert s.sources[1].name == name
