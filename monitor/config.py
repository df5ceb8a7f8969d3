"""config.toml -> validated, frozen settings. Every error names the file, the key and the line."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec

from monitor.config_alerts import EVERY as EVERY
from monitor.config_alerts import NOTIFY as NOTIFY
from monitor.config_alerts import AlertSettings as AlertSettings
from monitor.config_alerts import EmailSettings as EmailSettings
from monitor.config_alerts import (
    RawAlerts,
    RawWatch,
    alert_settings,
    name_problem,
    query_problem,
)
from monitor.config_alerts import Watch as Watch
from monitor.config_alerts import watches as parse_watches
from monitor.core.normalize import control_char
from monitor.core.urls import check_url
from monitor.model import ActorSpec, Source, tag_key

ENV_VAR = "MONITOR_CONFIG"
MIN_RETENTION = 86400.0  # [storage] keep: a day at least, so that today's items stay


class ConfigError(Exception):
    """A config file that cannot be used. `str()` is the message for the user."""

    def __init__(self, path: Path | None, key: str | None, message: str, line: int | None = None):
        self.path, self.key, self.line, self.message = path, key, line, message
        where = str(path) if path else "config"
        if line:
            where += f", line {line}"
        if key:
            where += f", key {key}"
        super().__init__(f"{where}: {message}")


# --- the file's shape, checked by msgspec (unknown keys are errors) -------------------------


class _Storage(msgspec.Struct, forbid_unknown_fields=True):
    path: str = "data/monitor.db"
    keep: str | int | None = None
    backend: Literal["tinydb", "postgresql"] = "tinydb"
    url: str | None = None
    password_env: str | None = None
    window: str | int | None = None


class _Poll(msgspec.Struct, forbid_unknown_fields=True):
    interval: str | int = "15m"
    timeout: str | int = "30s"
    max_size: str | int = "10MiB"
    concurrency: int = 100
    per_host: int = 2
    user_agent: str | None = None
    proxy: str | None = None


class _Articles(msgspec.Struct, forbid_unknown_fields=True):
    robots: bool = True
    per_host: int = 1
    delay: str | int | float = "2s"
    concurrency: int = 8
    prefer_page_date: bool = False


class _Source(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    url: str
    language: str | None = None
    interval: str | int | None = None
    enabled: bool = True
    full_text: bool = True
    allow_private_links: bool = False
    category: str | None = None


class _Actor(msgspec.Struct, forbid_unknown_fields=True):
    aliases: list[str] = []
    kind: Literal["person", "organisation", "place"] = "person"


class _Filter(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    query: str


class _Digest(msgspec.Struct, forbid_unknown_fields=True):
    timezone: str | None = None
    at: str | None = None
    dir: str = "digests"
    formats: list[Literal["markdown", "html", "json"]] = msgspec.field(
        default_factory=lambda: ["markdown"]
    )


class _Triage(msgspec.Struct, forbid_unknown_fields=True):
    shared: bool = False


class _Tag(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    query: str


class _File(msgspec.Struct, forbid_unknown_fields=True):
    storage: _Storage = msgspec.field(default_factory=_Storage)
    poll: _Poll = msgspec.field(default_factory=_Poll)
    sources: list[_Source] = []
    actors: dict[str, dict[str, Any]] = {}
    filters: dict[str, dict[str, Any]] = {}
    keys: dict[str, str] = {}
    digest: _Digest = msgspec.field(default_factory=_Digest)
    articles: _Articles = msgspec.field(default_factory=_Articles)
    triage: _Triage = msgspec.field(default_factory=_Triage)
    tags: list[_Tag] = []
    watches: list[RawWatch] = []
    alerts: RawAlerts = msgspec.field(default_factory=RawAlerts)


# --- the settings the program uses ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PollSettings:
    interval: float = 900.0
    timeout: float = 30.0
    max_size: int = 10 * 1024 * 1024
    concurrency: int = 100
    per_host: int = 2
    user_agent: str | None = None
    proxy: str | None = None  # proxy environment variables are ignored: only this counts


@dataclass(frozen=True, slots=True)
class ArticleSettings:
    """Fetching article pages for their full text (timeouts, size cap and User-Agent are
    the poll's)."""

    robots: bool = True  # respect robots.txt
    per_host: int = 1  # article requests in flight per host
    delay: float = 2.0  # seconds between the starts of two requests to one host
    concurrency: int = 8  # article requests in flight in all
    prefer_page_date: bool = False  # the page's date replaces a valid feed date


@dataclass(frozen=True, slots=True)
class SavedFilter:
    key: str
    name: str
    query: str


@dataclass(frozen=True, slots=True)
class DigestSettings:
    timezone: str | None = None
    at: str | None = None
    dir: Path = Path("digests")
    formats: tuple[str, ...] = ("markdown",)


@dataclass(frozen=True, slots=True)
class TriageSettings:
    shared: bool = False  # one triage for every analyst of the store, not one each


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """`[storage] backend = "postgresql"`: the server to use. The URL holds no password:
    it comes from the environment, from `$MONITOR_DATABASE_URL` (a whole URL that
    replaces `url`) or from the variable `password_env` names, when connecting."""

    url: str
    password_env: str | None = None
    # seconds of history (by publication) each process holds as entries, for the
    # dashboard's timeline and filters; None: all of it. Searches reach every item.
    window: float | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class AutoTag:
    """A `[[tags]]` entry: items matching `query` get the tag `name` as they are stored."""

    name: str
    query: str


@dataclass(frozen=True, slots=True)
class Settings:
    path: Path | None
    storage: Path
    poll: PollSettings = field(default_factory=PollSettings)
    sources: tuple[Source, ...] = ()
    actors: tuple[ActorSpec, ...] = ()
    filters: tuple[SavedFilter, ...] = ()
    keys: dict[str, str] = field(default_factory=dict)
    digest: DigestSettings = field(default_factory=DigestSettings)
    articles: ArticleSettings = field(default_factory=ArticleSettings)
    # [storage] keep, in seconds: items published before the UTC day this long ago are
    # dropped (unless starred, tagged by hand or annotated); None keeps everything
    retention: float | None = None
    triage: TriageSettings = field(default_factory=TriageSettings)
    tags: tuple[AutoTag, ...] = ()
    watches: tuple[Watch, ...] = ()
    alerts: AlertSettings = field(default_factory=AlertSettings)
    # [storage] backend = "postgresql": the database; None: the TinyDB folder `storage`
    database: DatabaseSettings | None = None

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)


# --- values ---------------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 10**6,
    "mib": 2**20,
    "gb": 10**9,
    "gib": 2**30,
}


def parse_duration(value: str | int | float) -> float:
    """'90s', '10m', '1.5h', '7d' or a number of seconds -> seconds. ValueError otherwise."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"{value!r} is not a duration (use e.g. 90s, 10m, 2h, 1d)")
        seconds = float(m.group(1)) * _UNITS[(m.group(2) or "s").lower()]
    if seconds <= 0:
        raise ValueError(f"{value!r}: a duration must be positive")
    return seconds


def parse_size(value: str | int) -> int:
    if isinstance(value, int):
        size = value
    else:
        m = _SIZE.match(value)
        if not m:
            raise ValueError(f"{value!r} is not a size (use e.g. 10MiB, 500kB)")
        size = int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])
    if size <= 0:
        raise ValueError(f"{value!r}: a size must be positive")
    return size


# --- locating keys in the text, for messages ------------------------------------------------


def _header_lines(text: str) -> list[tuple[int, str]]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("["):
            out.append((n, s.split("#", 1)[0].strip()))
    return out


def _norm_header(h: str) -> str:
    return re.sub(r"\s+", "", h.replace("'", '"'))


def locate(text: str, key: str) -> int | None:
    """Best-effort line of a dotted key like `sources[3].url` or `actors."X".kind`."""
    m = re.match(r"^(\w+)(?:\[(\d+)\])?(?:\.(.+))?$", key)
    if not m:
        return None
    table, index, rest = m.group(1), m.group(2), m.group(3)
    lines = text.splitlines()
    headers = _header_lines(text)
    start: int | None = None
    if index is not None:
        hits = [n for n, h in headers if _norm_header(h) == f"[[{table}]]"]
        if int(index) < len(hits):
            start = hits[int(index)]
    else:
        sub = None
        if rest:
            sub_m = re.match(r'^("[^"]*"|[^.]+)(?:\.(.+))?$', rest)
            if sub_m:
                sub = sub_m.group(1)
        for n, h in headers:
            nh = _norm_header(h)
            wanted = (f"[{table}.{sub}]", f'[{table}."{sub.strip(chr(34))}"]') if sub else ()
            if nh in {_norm_header(w) for w in wanted}:
                start, rest = n, (sub_m.group(2) if sub_m else None)
                break
        if start is None:
            start = next((n for n, h in headers if _norm_header(h) == f"[{table}]"), None)
    if start is None:
        pat = re.compile(rf"^\s*{re.escape(table)}\s*=")
        return next((n for n, line in enumerate(lines, 1) if pat.match(line)), None)
    if not rest:
        return start
    leaf = rest.split(".")[-1].strip('"')
    pat = re.compile(rf"^\s*\"?{re.escape(leaf)}\"?\s*=")
    for n in range(start, len(lines)):
        if lines[n].strip().startswith("["):
            break
        if pat.match(lines[n]):
            return n + 1
    return start


def _msgspec_key(msg: str) -> tuple[str | None, str]:
    """Split msgspec's 'Expected `str`, got `int` - at `$.sources[0].url`' into key and words."""
    m = re.search(r" - at `\$(.*)`$", msg)
    words = msg[: m.start()] if m else msg
    key = m.group(1).lstrip(".") if m else ""
    key = re.sub(r"\['([^']*)'\]", r'."\1"', key).lstrip(".")
    unknown = re.match(r"Object contains unknown field `([^`]+)`", words)
    if unknown:
        key = f"{key}.{unknown.group(1)}" if key else unknown.group(1)
        words = "unknown key"
    missing = re.match(r"Object missing required field `([^`]+)`", words)
    if missing:
        key = f"{key}.{missing.group(1)}" if key else missing.group(1)
        words = "missing required key"
    return key or None, words


# --- loading --------------------------------------------------------------------------------


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """`--config`, then $MONITOR_CONFIG, then ./config.toml, then the user's config folder."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    here = Path("config.toml")
    if here.is_file():
        return here
    import platformdirs

    user = Path(platformdirs.user_config_dir("monitor")) / "config.toml"
    return user if user.is_file() else None


DATABASE_URL_VAR = "MONITOR_DATABASE_URL"


def _database(raw: _Storage, fail: Any, value: Any) -> DatabaseSettings | None:
    """`[storage]`'s database, checked: a URL of PostgreSQL's, with no password in it."""
    from urllib.parse import urlsplit

    if raw.backend != "postgresql":
        for key in ("url", "password_env", "window"):
            if getattr(raw, key) is not None:
                raise fail(f"storage.{key}", 'only for backend = "postgresql"')
        return None
    env_url = os.environ.get(DATABASE_URL_VAR)
    url = env_url or raw.url
    if not url:
        raise fail("storage.url", f'backend = "postgresql" needs a url (or ${DATABASE_URL_VAR})')
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError as exc:
        raise fail("storage.url", f"not a URL: {exc}") from None
    if parts.scheme not in ("postgresql", "postgres"):
        raise fail("storage.url", "a postgresql://user@host:5432/database URL")
    if parts.password is not None and not env_url:
        raise fail(
            "storage.url",
            f"a password does not belong in the file: set ${DATABASE_URL_VAR}, or name "
            "the variable that holds it with password_env",
        )
    if raw.password_env is not None and not re.fullmatch(
        r"[A-Za-z_][A-Za-z0-9_]*", raw.password_env
    ):
        raise fail("storage.password_env", f"{raw.password_env!r} is no variable name")
    window = None
    if raw.window is not None:
        window = value("storage.window", parse_duration, raw.window)
        if window < MIN_RETENTION:
            raise fail("storage.window", f"{raw.window!r}: at least 1d (one day)")
    return DatabaseSettings(url=url, password_env=raw.password_env, window=window)


def load(path: Path) -> Settings:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"cannot read: {exc}") from None
    return parse(text, path)


def parse(text: str, path: Path | None = None) -> Settings:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        raise ConfigError(
            path, None, f"not valid TOML: {exc}", int(m.group(1)) if m else None
        ) from None
    try:
        raw = msgspec.convert(data, _File)
    except msgspec.ValidationError as exc:
        key, words = _msgspec_key(str(exc))
        raise ConfigError(path, key, words, locate(text, key) if key else None) from None

    def fail(key: str, message: str) -> ConfigError:
        return ConfigError(path, key, message, locate(text, key))

    def named(key: str, name: str) -> None:
        """Display names reach terminals: one with a control character is refused."""
        if (problem := name_problem(name)) is not None:
            raise fail(key, problem)

    base = path.parent if path else Path.cwd()

    def value(key: str, fn: Any, v: Any) -> Any:
        try:
            return fn(v)
        except ValueError as exc:
            raise fail(key, str(exc)) from None

    poll = PollSettings(
        interval=value("poll.interval", parse_duration, raw.poll.interval),
        timeout=value("poll.timeout", parse_duration, raw.poll.timeout),
        max_size=value("poll.max_size", parse_size, raw.poll.max_size),
        concurrency=raw.poll.concurrency,
        per_host=raw.poll.per_host,
        user_agent=raw.poll.user_agent,
        proxy=raw.poll.proxy,
    )
    if poll.proxy and check_url(poll.proxy):
        raise fail("poll.proxy", f"{poll.proxy!r} is not an http(s) proxy URL")
    if poll.concurrency < 1:
        raise fail("poll.concurrency", "must be at least 1")
    if poll.per_host < 1:
        raise fail("poll.per_host", "must be at least 1")

    articles = ArticleSettings(
        robots=raw.articles.robots,
        per_host=raw.articles.per_host,
        delay=value("articles.delay", parse_duration, raw.articles.delay),
        concurrency=raw.articles.concurrency,
        prefer_page_date=raw.articles.prefer_page_date,
    )
    if articles.per_host < 1:
        raise fail("articles.per_host", "must be at least 1")
    if articles.concurrency < 1:
        raise fail("articles.concurrency", "must be at least 1")

    sources: list[Source] = []
    seen: dict[str, int] = {}
    for i, s in enumerate(raw.sources):
        key = f"sources[{i}]"
        name = s.name.strip()
        if not name:
            raise fail(f"{key}.name", "a source needs a name")
        named(f"{key}.name", name)
        if name in seen:
            first = locate(text, f"sources[{seen[name]}].name")
            raise fail(f"{key}.name", f"duplicate source name {name!r} (first at line {first})")
        seen[name] = i
        if s.category is not None:
            named(f"{key}.category", s.category)
        problem = check_url(s.url.strip())
        if problem:
            raise fail(f"{key}.url", problem)
        interval = (
            value(f"{key}.interval", parse_duration, s.interval) if s.interval else poll.interval
        )
        lang = s.language.strip().lower() if s.language else None
        if lang is not None and not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]+)*", lang):
            raise fail(
                f"{key}.language", f"{s.language!r} is not a language code like 'fr' or 'en'"
            )
        sources.append(
            Source(
                name=name,
                url=s.url.strip(),
                language=lang,
                interval=interval,
                enabled=s.enabled,
                full_text=s.full_text,
                allow_private_links=s.allow_private_links,
                category=s.category,
            )
        )

    def table_entry(prefix: str, data: dict[str, Any], kind: type[Any]) -> Any:
        try:
            return msgspec.convert(data, kind)
        except msgspec.ValidationError as exc:
            sub, words = _msgspec_key(str(exc))
            key = f"{prefix}.{sub}" if sub else prefix
            raise fail(key, words) from None

    actors = []
    for name, data in raw.actors.items():
        shown = "".join(f"\\u{ord(c):04x}" if control_char(c) else c for c in name)
        named(f'actors."{shown}"', name)
        a = table_entry(f'actors."{shown}"', data, _Actor)
        for alias in a.aliases:
            named(f'actors."{shown}".aliases', alias)
        actors.append(ActorSpec(name=name, aliases=tuple(a.aliases), kind=a.kind))
    filters = []
    for k, data in raw.filters.items():
        if not re.fullmatch(r"[0-9]", k):
            raise fail(f"filters.{k}", "saved filters are bound to the digit keys 0-9")
        f = table_entry(f"filters.{k}", data, _Filter)
        named(f"filters.{k}.name", f.name)
        filters.append(SavedFilter(key=k, name=f.name, query=f.query))

    digest = DigestSettings(
        timezone=raw.digest.timezone,
        at=raw.digest.at,
        dir=base / raw.digest.dir,
        formats=tuple(raw.digest.formats),
    )
    if digest.at and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", digest.at):
        raise fail("digest.at", f"{digest.at!r} is not a time like 07:00")
    if digest.timezone:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(digest.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise fail("digest.timezone", f"unknown time zone {digest.timezone!r}") from None

    retention = None
    if raw.storage.keep is not None:
        retention = value("storage.keep", parse_duration, raw.storage.keep)
        if retention < MIN_RETENTION:
            raise fail("storage.keep", f"{raw.storage.keep!r}: keep at least 1d (one day)")
    tags: list[AutoTag] = []
    names: dict[str, int] = {}
    for i, t in enumerate(raw.tags):
        key = f"tags[{i}]"
        name = " ".join(t.name.split())
        folded = tag_key(name)
        if not name:
            raise fail(f"{key}.name", "a tag needs a name")
        named(f"{key}.name", name)
        if folded in names:
            first = locate(text, f"tags[{names[folded]}].name")
            raise fail(f"{key}.name", f"duplicate tag {name!r} (first at line {first})")
        names[folded] = i
        problem = query_problem(t.query)
        if problem:
            raise fail(f"{key}.query", problem)
        tags.append(AutoTag(name=name, query=t.query.strip()))
    watches = parse_watches(raw.watches, fail, lambda key: locate(text, key))

    alerts = alert_settings(raw.alerts, fail, value, parse_duration)
    database = _database(raw.storage, fail, value)

    return Settings(
        path=path,
        storage=base / raw.storage.path,
        poll=poll,
        sources=tuple(sources),
        actors=tuple(actors),
        filters=tuple(sorted(filters, key=lambda f: f.key)),
        keys=dict(raw.keys),
        digest=digest,
        articles=articles,
        retention=retention,
        triage=TriageSettings(shared=raw.triage.shared),
        tags=tuple(tags),
        watches=watches,
        alerts=alerts,
        database=database,
    )
