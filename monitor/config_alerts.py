"""config.toml's `[[watches]]` and `[alerts]` (with `[alerts.email]`): their settings and
their checks. `monitor.config` reads the file and calls these; every error names the key
(the caller adds the file and the line)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from monitor.core.normalize import control_char
from monitor.core.urls import check_url


class RawWatch(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    query: str = ""
    notify: list[str] = msgspec.field(default_factory=lambda: ["dashboard"])
    every: str = "instant"
    quiet: str | None = None
    rising: bool = False
    new_actor: bool = False
    quoted: str | None = None


class RawEmail(msgspec.Struct, forbid_unknown_fields=True):
    host: str | None = None
    port: int | None = None  # 587, or 465 with ssl
    starttls: bool = True
    ssl: bool = False
    sender: str | None = None
    to: str | list[str] = []
    user: str | None = None
    password_env: str | None = None
    password: str | None = None  # refused with a message: never a password in the file


class RawAlerts(msgspec.Struct, forbid_unknown_fields=True):
    command: list[str] | None = None
    webhook: str | None = None
    webhook_allow_private: bool = False
    webhook_template: Literal["json", "ntfy", "slack"] = "json"
    timeout: str | int | float = "10s"
    rising_threshold: float = 3.0
    email: RawEmail | None = None


NOTIFY = ("dashboard", "bell", "command", "webhook", "email")
EVERY = ("instant", "hourly", "daily")


@dataclass(frozen=True, slots=True)
class Watch:
    """A `[[watches]]` entry: items matching `query` (or an actor rule) raise alerts, one
    per story, delivered through `notify` at once (`instant`) or in hourly/daily batches;
    `quiet` ("22:00-07:00", in the digest's time zone) holds deliveries until it ends."""

    name: str
    query: str = ""
    notify: tuple[str, ...] = ("dashboard",)
    every: str = "instant"
    quiet: tuple[str, str] | None = None  # (start, end) as HH:MM
    rising: bool = False  # the actor's rising score crosses the threshold
    new_actor: bool = False  # an actor never seen before, in at least 2 sources
    quoted: str | None = None  # a new quote by this actor

    @property
    def actor_rules(self) -> bool:
        return self.rising or self.new_actor or self.quoted is not None


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """`[alerts.email]`: where alert e-mails go. The password is read from the environment
    variable `password_env` at send time, never stored in the file."""

    host: str
    sender: str
    to: tuple[str, ...]
    port: int = 587
    starttls: bool = True
    ssl: bool = False  # implicit TLS (port 465) instead of STARTTLS
    user: str | None = None
    password_env: str | None = None


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """`[alerts]`: the channels alerts are delivered through, configured once."""

    command: tuple[str, ...] = ()  # argv, run without a shell; empty: no command channel
    webhook: str | None = None
    webhook_allow_private: bool = False  # lifts the address guard for this URL only
    webhook_template: Literal["json", "ntfy", "slack"] = "json"
    timeout: float = 10.0  # per delivery, every channel
    rising_threshold: float = 3.0
    email: EmailSettings | None = None

    def configured(self, channel: str) -> bool:
        """Whether `channel` can deliver: the screen's always, the others once set here."""
        return {
            "dashboard": True,
            "bell": True,
            "command": bool(self.command),
            "webhook": bool(self.webhook),
            "email": self.email is not None,
        }.get(channel, False)


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ADDRESS = re.compile(r"[^\s@<>,;\"]+@[^\s@<>,;\"]+")


def alert_settings(
    raw: RawAlerts, fail: Any, value: Any, duration: Callable[[str | int | float], float]
) -> AlertSettings:
    """`[alerts]` and `[alerts.email]`, checked."""
    command: tuple[str, ...] = ()
    if raw.command is not None:
        if not raw.command or not raw.command[0].strip():
            raise fail("alerts.command", "a command is a list: the program, then its arguments")
        if any("\0" in a for a in raw.command):
            raise fail("alerts.command", "an argument contains a NUL character")
        command = tuple(raw.command)
    webhook = raw.webhook.strip() if raw.webhook else None
    if webhook:
        problem = check_url(webhook)
        if problem:
            raise fail("alerts.webhook", problem)
    if raw.rising_threshold <= 0:
        raise fail("alerts.rising_threshold", "must be positive")
    email = None
    if raw.email is not None:
        e = raw.email
        if e.password is not None:
            raise fail(
                "alerts.email.password",
                "no password in the file: name an environment variable in password_env",
            )
        for key, present in (("host", e.host), ("sender", e.sender), ("to", e.to)):
            if not present or (isinstance(present, str) and not present.strip()):
                raise fail("alerts.email", f"an email table needs {key}")
        assert e.host is not None and e.sender is not None
        to = (e.to,) if isinstance(e.to, str) else tuple(e.to)
        for key, address in [("alerts.email.sender", e.sender)] + [
            ("alerts.email.to", a) for a in to
        ]:
            if not _ADDRESS.fullmatch(address.strip()):
                raise fail(key, f"{address!r} is not an e-mail address like desk@example.org")
        if e.port is not None and not 0 < e.port < 65536:
            raise fail("alerts.email.port", f"{e.port} is not a TCP port")
        if e.password_env is not None and not _ENV_NAME.fullmatch(e.password_env):
            raise fail(
                "alerts.email.password_env",
                f"{e.password_env!r} is not an environment variable name",
            )
        if e.password_env and not e.user:
            raise fail("alerts.email.user", "password_env needs a user to log in as")
        if e.user and not e.password_env:
            raise fail(
                "alerts.email.password_env", "name the environment variable that holds the password"
            )
        email = EmailSettings(
            host=e.host.strip(),
            sender=e.sender.strip(),
            to=tuple(a.strip() for a in to),
            port=e.port if e.port is not None else (465 if e.ssl else 587),
            starttls=e.starttls and not e.ssl,  # implicit TLS needs no upgrade
            ssl=e.ssl,
            user=e.user,
            password_env=e.password_env,
        )
    return AlertSettings(
        command=command,
        webhook=webhook,
        webhook_allow_private=raw.webhook_allow_private,
        webhook_template=raw.webhook_template,
        timeout=value("alerts.timeout", duration, raw.timeout),
        rising_threshold=raw.rising_threshold,
        email=email,
    )


_HHMM = r"([01]\d|2[0-3]):[0-5]\d"


def name_problem(name: str) -> str | None:
    """Why a name from the file cannot be used, if it holds a control character: names
    reach terminals, which would obey an escape sequence or a bidi override in them."""
    char = control_char(name)
    if char is None:
        return None
    return (
        f"the name holds the control character {char}:"
        " escape, control and bidi characters are refused"
    )


def watches(
    raw: list[RawWatch], fail: Callable[[str, str], Exception], line_of: Callable[[str], int | None]
) -> tuple[Watch, ...]:
    """The `[[watches]]`, validated: unique names, queries that parse, known channels."""
    watches: list[Watch] = []
    names: dict[str, int] = {}
    for i, w in enumerate(raw):
        key = f"watches[{i}]"
        name = " ".join(w.name.split())
        if not name:
            raise fail(f"{key}.name", "a watch needs a name")
        if (problem := name_problem(name)) is not None:
            raise fail(f"{key}.name", problem)
        if name.casefold() in names:
            first = line_of(f"watches[{names[name.casefold()]}].name")
            raise fail(f"{key}.name", f"duplicate watch {name!r} (first at line {first})")
        names[name.casefold()] = i
        quoted = " ".join(w.quoted.split()) if w.quoted is not None else None
        if w.quoted is not None and not quoted:
            raise fail(f"{key}.quoted", "quoted needs an actor's name")
        if quoted and (problem := name_problem(quoted)) is not None:
            raise fail(f"{key}.quoted", problem)
        rules = w.rising or w.new_actor or quoted is not None
        if w.query.strip():
            problem = query_problem(w.query)
            if problem:
                raise fail(f"{key}.query", problem)
        elif not rules:
            raise fail(f"{key}.query", "a watch needs a query (or rising, new_actor or quoted)")
        bad = [n for n in w.notify if n not in NOTIFY]
        if bad:
            raise fail(f"{key}.notify", f"unknown channel {bad[0]!r} (use {', '.join(NOTIFY)})")
        if w.every not in EVERY:
            raise fail(f"{key}.every", f"{w.every!r} is not one of {', '.join(EVERY)}")
        quiet = None
        if w.quiet is not None:
            m = re.fullmatch(rf"\s*({_HHMM})\s*-\s*({_HHMM})\s*", w.quiet)
            if not m or m.group(1) == m.group(3):
                raise fail(f"{key}.quiet", f"{w.quiet!r} is not hours like 22:00-07:00")
            quiet = (m.group(1), m.group(3))
        watches.append(
            Watch(
                name=name,
                query=w.query.strip(),
                notify=tuple(dict.fromkeys(w.notify)),
                every=w.every,
                quiet=quiet,
                rising=w.rising,
                new_actor=w.new_actor,
                quoted=quoted,
            )
        )
    return tuple(watches)


def query_problem(query: str) -> str | None:
    """Why `query` cannot be an auto-tag's or a watch's query, or None."""
    if not query.strip():
        return "an empty query would tag every item"
    from monitor.core.query import QueryError, parse_query  # only when there are tags

    try:
        parse_query(query)
    except QueryError as exc:
        return f"{exc.message} at {exc.position} in {query!r}"
    return None
