"""OPML import of hostile or broken files: linear naming, every skipped outline counted and
explained, unusable files refused with their own exit status, private addresses and
credentials kept out, control characters kept out of config.toml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.cli.read import EXIT_NOT_OPML
from monitor.config import load
from monitor.core.opml import (
    BAD_URL,
    CREDENTIALS,
    MAX_ATTRIBUTE,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    NO_URL,
    NOT_HTTP,
    PRIVATE,
    REPEATED,
    TOO_DEEP,
    TOO_LONG,
    OpmlError,
    read_outlines,
)
from monitor.io.opml import add_sources, local_host, read_import, unique_name

CONFIG = '[storage]\npath = "data/monitor.db"  # kept\n'

# What config.toml must never hold: C0 but tab and newline, DEL, C1, bidi controls.
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def opml(*outlines: str, head: str = "") -> bytes:
    body = "\n".join(outlines)
    return (
        f'<?xml version="1.0"?>{head}\n<opml version="2.0"><body>\n{body}\n</body></opml>'.encode()
    )


def feed(url: str, title: str = "Feed") -> str:
    return f'<outline type="rss" text="{title}" xmlUrl="{url}"/>'


@pytest.fixture
def config(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    return cfg


def run_import(
    config: Path, data: bytes, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    path = config.parent / "subs.opml"
    path.write_bytes(data)
    code = main(["sources", "import", str(path), "--config", str(config), *extra])
    out, err = capsys.readouterr()
    return code, out, err


# Finding 10: naming is linear in the number of feeds of one title.


class CountingSet(set[str]):
    lookups = 0

    def __contains__(self, value: object) -> bool:
        CountingSet.lookups += 1
        return super().__contains__(value)


def test_unique_name_is_linear() -> None:
    taken = CountingSet({"News", "News (3)"})
    numbers: dict[str, int] = {}
    names = [unique_name("News", taken, numbers) for _ in range(10_000)]
    assert names[:3] == ["News (2)", "News (4)", "News (5)"]
    assert len(set(names)) == 10_000
    # the scan that restarted at "(2)" made ~50 million look-ups here
    assert CountingSet.lookups <= 3 * 10_000


@pytest.mark.timeout(120)
def test_import_100k_outlines_of_one_title(config: Path) -> None:
    data = opml(*(feed(f"https://n{n}.example.org/rss", "News") for n in range(100_000)))
    read = read_outlines(data)
    added, present = add_sources(config, read.feeds, dry_run=True)
    assert present == 0 and len(added) == 100_000
    assert added[0] == "News" and added[-1] == "News (100000)"
    assert config.read_text(encoding="utf-8") == CONFIG


# Finding 11: files that are not usable OPML are refused, in words, with their own status.

LAUGHS = (
    '<!DOCTYPE opml [<!ENTITY a "lollollollollollollollollollol">'
    + "".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">' for n in range(8))
    + "]>"
)
UNUSABLE = {
    "cut": opml(feed("https://a.example.org/rss"))[:-30],
    "not xml": b"\x89PNG\r\n\x1a\n\x00\x00",
    "html": b"<html><body><a href='https://a.example.org/rss'>feed</a></body></html>",
    "billion laughs": opml(feed("https://a.example.org/rss", "&i;"), head=LAUGHS),
    "huge attribute": opml(feed("https://a.example.org/rss", "x" * 11_000_000)),
    "deep": opml(
        '<outline text="f">' * 300 + feed("https://a.example.org/rss") + "</outline>" * 300
    ),
}


@pytest.mark.parametrize("name", list(UNUSABLE))
def test_unusable_file_is_refused(
    name: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(OpmlError):
        read_outlines(UNUSABLE[name])
    for dry in ((), ("--dry-run",)):
        code, out, err = run_import(config, UNUSABLE[name], capsys, *dry)
        assert code == EXIT_NOT_OPML == 3
        assert "nothing imported" in err and out == ""
    assert config.read_text(encoding="utf-8") == CONFIG


def test_too_big_file_is_refused_unread() -> None:
    with pytest.raises(OpmlError, match="MiB"):
        read_outlines(b" " * (MAX_FILE_BYTES + 1))


HOSTILE = opml(
    '<outline text="Folder">',
    feed("https://a.example.org/rss?page=1&lang=en", "Kept"),
    feed("https://a.example.org/rss?page=1&amp;lang=en", "Same URL"),
    feed("file:///etc/passwd"),
    feed("javascript:alert(1)"),
    feed("ftp://ftp.example.org/rss"),
    feed("https:///no-host"),
    feed("https://user:secret@b.example.org/rss"),
    feed("http://127.0.0.1:8080/rss"),
    feed("http://localhost/rss"),
    feed("https://c.example.org/rss", "x" * (MAX_ATTRIBUTE + 1)),
    '<outline text="a note, no feed"/>',
    "</outline>",
    '<outline text="Empty folder"><outline text="Sub"/></outline>',
)


def test_every_skipped_outline_is_counted() -> None:
    read = read_outlines(HOSTILE, refuse=local_host)
    assert [f.url for f in read.feeds] == ["https://a.example.org/rss?page=1&lang=en"]
    assert read.outlines == 14 and read.folders == 2
    assert dict(read.skipped) == {
        REPEATED: 1,
        NOT_HTTP: 3,
        BAD_URL: 1,
        CREDENTIALS: 1,
        PRIVATE: 2,
        TOO_LONG: 1,
        NO_URL: 2,
    }
    assert read.outlines == len(read.feeds) + read.folders + sum(read.skipped.values())


def test_cli_reports_read_added_and_skipped(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_import(config, HOSTILE, capsys, "--dry-run")
    assert code == 0
    assert "would add: Kept" in out
    assert (
        "14 outlines read, 2 folders; 1 would be added, 0 already in the config, 11 skipped" in out
    )
    assert "3 skipped: not an http(s) URL" in out
    assert "2 skipped: private, loopback or link-local address" in out
    assert "1 skipped: user name or password in the URL" in out
    assert "--allow-private" in out
    assert config.read_text(encoding="utf-8") == CONFIG

    code, out, _ = run_import(config, HOSTILE, capsys)
    assert code == 0 and "1 added, 0 already in the config, 11 skipped" in out
    code, out, _ = run_import(config, HOSTILE, capsys)
    assert code == 0 and "0 added, 1 already in the config, 11 skipped" in out


def test_depth_limit_skips_deeper_outlines() -> None:
    inner = feed("https://deep.example.org/rss")
    at_limit = '<outline text="f">' * (MAX_DEPTH - 1) + inner + "</outline>" * (MAX_DEPTH - 1)
    assert [f.url for f in read_outlines(opml(at_limit)).feeds] == ["https://deep.example.org/rss"]
    over = '<outline text="f">' * MAX_DEPTH + inner + "</outline>" * MAX_DEPTH
    read = read_outlines(opml(over))
    assert read.feeds == [] and read.skipped == {TOO_DEEP: 1}


# Finding 12: private addresses only with allow_private; credentials never.

PRIVATE_URLS = [
    "http://10.1.2.3/rss",
    "http://172.16.0.1/rss",
    "http://172.31.255.254/rss",
    "http://192.168.1.1/rss",
    "http://127.0.0.1:8080/rss",
    "http://127.1/rss",
    "http://0x7f000001/rss",
    "http://2130706433/rss",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/rss",
    "http://[::ffff:127.0.0.1]/rss",
    "http://[fc00::1]/rss",
    "http://[fd12:3456::1]/rss",
    "http://[fe80::1]/rss",
    "http://localhost/rss",
    "http://LOCALHOST./rss",
    "http://feeds.localhost/rss",
    "http://printer.local/rss",
    "http://intranet/rss",
]
PUBLIC_URLS = [
    "https://example.org/rss",
    "http://172.32.0.1/rss",
    "http://8.8.8.8/rss",
    "http://[2001:4860:4860::8888]/rss",
    "https://localhost.example.org/rss",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_address_is_refused(url: str) -> None:
    assert local_host(url) == PRIVATE
    read = read_import(opml(feed(url)))
    assert read.feeds == [] and read.skipped == {PRIVATE: 1}
    assert [f.url for f in read_import(opml(feed(url)), allow_private=True).feeds] == [url]


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_address_is_kept(url: str) -> None:
    assert local_host(url) is None
    assert [f.url for f in read_import(opml(feed(url))).feeds] == [url]


@pytest.mark.parametrize(
    "url", ["https://user:pw@example.org/rss", "https://user@example.org/rss", "http://@x.org/"]
)
def test_credentials_are_refused_even_when_private_is_allowed(url: str) -> None:
    read = read_import(opml(feed(url)), allow_private=True)
    assert read.feeds == [] and read.skipped == {CREDENTIALS: 1}


def test_allow_private_flag(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = opml(feed("http://127.0.0.1:8080/rss", "Local"))
    code, out, _ = run_import(config, data, capsys)
    assert code == 0 and "0 added" in out and "1 skipped: private" in out
    assert not load(config).sources
    code, out, _ = run_import(config, data, capsys, "--allow-private")
    assert code == 0 and "added: Local" in out
    assert [s.url for s in load(config).sources] == ["http://127.0.0.1:8080/rss"]


def test_config_feeds_on_loopback_still_load(tmp_path: Path) -> None:
    """The gate is the import's: a source written in config.toml by hand may be local."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        CONFIG + '\n[[sources]]\nname = "Local"\nurl = "http://127.0.0.1:8080/rss"\n',
        encoding="utf-8",
    )
    assert [s.url for s in load(cfg).sources] == ["http://127.0.0.1:8080/rss"]


# Finding 9: no control character reaches config.toml.

HOSTILE_TITLES = [
    "Red&#x9b;31mTitle&#x9b;0m",  # 8-bit CSI (C1 is legal XML)
    "Bidi &#x202e;evil&#x202c; &#x2066;x&#x2069; &#x200f;",
    "Nel&#x85;and&#x9d;0;title&#x9c; done",  # NEL, 8-bit OSC … ST
    "Tab&#9;new&#10;line &#xfeff;bom",
]


def test_hostile_titles_are_cleaned_in_config(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outlines = [feed(f"https://t{n}.example.org/rss", t) for n, t in enumerate(HOSTILE_TITLES)]
    # raw ESC and BEL bytes too: not XML, so the parser replaces them
    raw = '<outline text="Esc\x1b[2J\x1b]0;pwned\x07" xmlUrl="https://raw.example.org/rss"/>'
    folder = '<outline text="Cat&#x1b;&#x9b;2J&#x202e;">' + raw + "</outline>"
    code, out, _ = run_import(config, opml(*outlines, folder), capsys)
    assert code == 0 and "5 added" in out
    text = config.read_text(encoding="utf-8")
    assert not CONTROLS.search(text), CONTROLS.findall(text)
    assert "\x1b" not in out and "\x9b" not in out
    sources = load(config).sources
    assert [s.name for s in sources[:4]] == [
        "RedTitle",
        "Bidi evil x",
        "Neland done",
        "Tab new line bom",
    ]
    assert all(not CONTROLS.search(s.name + (s.category or "")) for s in sources)
    assert sources[4].category == "Cat"


def test_name_of_only_controls_falls_back_to_the_url() -> None:
    (only,) = read_outlines(opml(feed("https://x.example.org/rss", "&#x202e;&#x9b;"))).feeds
    assert only.name == "https://x.example.org/rss"


def test_bare_ampersand_in_a_url_is_kept() -> None:
    read = read_outlines(opml(feed("https://a.example.org/?page=backend&lang=en", "A & B")))
    assert [(f.name, f.url) for f in read.feeds] == [
        ("A & B", "https://a.example.org/?page=backend&lang=en")
    ]
    assert read.recovered == 0


def test_corpus_outlines_all_accounted_for(corpus: Path) -> None:
    for path in sorted((corpus / "opml").rglob("*.opml")):
        read = read_import(path.read_bytes())
        assert read.feeds, path.name
        assert read.outlines == len(read.feeds) + read.folders + sum(read.skipped.values())
        assert all("&" not in f.url or "=" in f.url.split("&", 1)[1] for f in read.feeds)


def test_xml_errors_read_past_are_reported(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a quote inside a title, as in real lists: the parser reads past it
    data = opml(
        feed("https://a.example.org/rss", 'The "Daily" News'), feed("https://b.example.org/rss")
    )
    code, out, _ = run_import(config, data, capsys, "--dry-run")
    assert code == 0
    # the parser loses the attributes after the stray quote, and the import says so
    assert "2 outlines read; 1 would be added, 0 already in the config, 1 skipped" in out
    assert "1 skipped: XML too broken to read its feed URL" in out
    assert "XML errors read past, the first at line 3:" in out


def test_empty_opml_is_usable(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_import(config, opml(), capsys)
    assert code == 0 and "0 outlines read; 0 added, 0 already in the config, 0 skipped" in out
