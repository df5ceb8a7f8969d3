"""`[alerts]` and `[alerts.email]` -> AlertSettings: the channels' configuration, and
errors that name file, key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import AlertSettings, ConfigError, EmailSettings, load, parse

ROOT = Path(__file__).resolve().parents[1]

ALERTS = """\
[storage]
path = "data/monitor.db"

[alerts]
command = ["notify-wrapper", "--json"]
webhook = "https://ntfy.example.org/desk"
webhook_allow_private = false
webhook_template = "ntfy"
timeout = "20s"
rising_threshold = 2.5

[alerts.email]
host = "smtp.example.org"
port = 587
starttls = true
sender = "monitor@example.org"
to = ["desk@example.org", "chief@example.org"]
user = "monitor"
password_env = "MONITOR_SMTP_PASSWORD"
"""


def _error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as exc:
        parse(text, Path("/x/config.toml"))
    return exc.value


def test_alerts_contract() -> None:
    a = parse(ALERTS).alerts
    assert a == AlertSettings(
        command=("notify-wrapper", "--json"),
        webhook="https://ntfy.example.org/desk",
        webhook_allow_private=False,
        webhook_template="ntfy",
        timeout=20.0,
        rising_threshold=2.5,
        email=EmailSettings(
            host="smtp.example.org",
            sender="monitor@example.org",
            to=("desk@example.org", "chief@example.org"),
            port=587,
            starttls=True,
            ssl=False,
            user="monitor",
            password_env="MONITOR_SMTP_PASSWORD",
        ),
    )


def test_alerts_defaults() -> None:
    a = parse('[storage]\npath = "x.db"\n').alerts
    assert a == AlertSettings()
    assert a.command == () and a.webhook is None and a.email is None
    assert a.webhook_template == "json" and a.timeout == 10.0 and a.rising_threshold == 3.0


def test_email_ssl_defaults_to_465_and_a_single_address() -> None:
    text = (
        '[alerts.email]\nhost = "h.example.org"\nssl = true\nsender = "a@b.org"\nto = "c@d.org"\n'
    )
    e = parse(text).alerts.email
    assert e is not None
    assert e.port == 465 and e.ssl and not e.starttls and e.to == ("c@d.org",)
    assert e.user is None and e.password_env is None


@pytest.mark.parametrize(
    ("old", "new", "key", "line", "words"),
    [
        ('command = ["notify-wrapper", "--json"]', "command = []", "alerts.command", 5, "program"),
        (
            'command = ["notify-wrapper", "--json"]',
            'command = "x"',
            "alerts.command",
            5,
            "Expected",
        ),
        (
            '"https://ntfy.example.org/desk"',
            '"ftp://ntfy.example.org/desk"',
            "alerts.webhook",
            6,
            "not an http(s) URL",
        ),
        ('"ntfy"', '"discord"', "alerts.webhook_template", 8, "Invalid enum value"),
        ('"20s"', '"soon"', "alerts.timeout", 9, "not a duration"),
        ("= 2.5", "= 0", "alerts.rising_threshold", 10, "positive"),
        ('host = "smtp.example.org"\n', "", "alerts.email", 12, "needs host"),
        ('sender = "monitor@example.org"\n', "", "alerts.email", 12, "needs sender"),
        (
            'to = ["desk@example.org", "chief@example.org"]',
            "to = []",
            "alerts.email",
            12,
            "needs to",
        ),
        ('"chief@example.org"', '"chief"', "alerts.email.to", 17, "not an e-mail address"),
        (
            '"monitor@example.org"',
            '"a@b.org\\r\\nBcc: x@y.org"',
            "alerts.email.sender",
            16,
            "not an e-mail address",
        ),
        ("port = 587", "port = 70000", "alerts.email.port", 14, "not a TCP port"),
        (
            '"MONITOR_SMTP_PASSWORD"',
            '"MY PASSWORD"',
            "alerts.email.password_env",
            19,
            "not an environment variable name",
        ),
        (
            'password_env = "MONITOR_SMTP_PASSWORD"',
            'password = "hunter2"',
            "alerts.email.password",
            19,
            "no password in the file",
        ),
        ('user = "monitor"\n', "", "alerts.email.user", 12, "needs a user"),
        ("starttls = true", "starttls = 1", "alerts.email.starttls", 15, "Expected `bool`"),
        ("rising_threshold", "rising", "alerts.rising", 10, "unknown key"),
    ],
)
def test_alert_errors_name_key_and_line(
    old: str, new: str, key: str, line: int, words: str
) -> None:
    assert old in ALERTS
    err = _error(ALERTS.replace(old, new))
    assert err.key == key
    assert err.line == line, err
    assert words in err.message
    assert str(err).startswith("/x/config.toml, line")


def test_shipped_config_documents_alerts() -> None:
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    assert load(ROOT / "config.toml").alerts == AlertSettings()  # commented out: nothing on
    lines = []
    for line in text[text.index("# [alerts]") :].splitlines():
        if not line.startswith("#") or line.startswith("# ---"):
            break  # the example ends at the first line that is not commented out
        lines.append(line.removeprefix("#").removeprefix(" "))
    block = "\n".join(lines)
    s = parse("[storage]\npath = 'x.db'\n" + block)
    assert s.alerts.webhook and s.alerts.command and s.alerts.email is not None
    assert s.alerts.email.password_env == "MONITOR_SMTP_PASSWORD"


def test_configured_channels() -> None:
    a = parse(ALERTS).alerts
    assert all(a.configured(c) for c in ("dashboard", "bell", "command", "webhook", "email"))
    none = AlertSettings()
    assert none.configured("dashboard") and none.configured("bell")
    assert not any(none.configured(c) for c in ("command", "webhook", "email", "sms"))
