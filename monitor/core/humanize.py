"""Durations, moments, a source's last error and what retention did, in words, for the
dashboard and the CLI.

Pure: the caller passes `now`, and the words are plain strings. Text from outside (an
error's detail) is returned as it is: the caller shows it through its own gate.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime

from monitor.model import ChannelHealth, ErrorKind, Item, Source, SourceState

ERROR_WORDS: dict[ErrorKind, str] = {
    "dns": "host not found",
    "tls": "TLS/certificate error",
    "connect": "cannot connect",
    "timeout": "timed out",
    "http": "HTTP error",
    "too_large": "feed too large",
    "encoding": "undecodable body",
    "redirect": "bad redirect",
    "parse": "not a readable feed",
    "refused": "refused",
    "other": "error",
}


def span(seconds: float) -> str:
    """90 -> "1m", 7200 -> "2h": the largest whole unit, the sign dropped."""
    secs = int(abs(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit}"
    return f"{secs}s"


def dropped_words(count: int, before: date, kept: int) -> str:
    """What a retention pass did: "12 items published before 2026-06-01 dropped (3 kept:
    starred, tagged or annotated)"."""

    def items(n: int) -> str:
        return f"{n} item" if n == 1 else f"{n:,} items"

    text = f"{items(count)} published before {before.isoformat()} dropped"
    if kept:
        text += f" ({items(kept)} kept: starred, tagged or annotated)"
    return text


def ago(moment: datetime | None, now: datetime) -> str:
    """ "5m ago", "in 2h" for a moment still to come, "never" for None."""
    if moment is None:
        return "never"
    secs = (now - moment).total_seconds()
    return f"in {span(secs)}" if secs < 0 else f"{span(secs)} ago"


def error_words(state: SourceState | None) -> str:
    """The last error in words: "HTTP error 503: Service Unavailable"; "" when none.

    The detail comes from outside (a server's reason phrase, an exception): not cleaned here.
    """
    if state is None or state.last_error is None:
        return ""
    words = ERROR_WORDS.get(state.last_error, state.last_error)
    if state.last_error == "http" and state.last_status:
        words += f" {state.last_status}"
    if state.last_error_detail:
        words += f": {state.last_error_detail}"
    return words


SENT_CHANNELS = ("command", "webhook", "email")  # the channels a sender delivers through


def shown_channels(
    health: Sequence[ChannelHealth], configured: Collection[str]
) -> list[ChannelHealth]:
    """The alert channels worth a health row: those configured (`configured`, by name)
    and those with deliveries in the ledger, in a fixed order; a configured channel
    without deliveries gets an empty row."""
    known = {h.channel: h for h in health}
    names = [c for c in SENT_CHANNELS if c in configured or c in known]
    names += sorted(c for c in known if c not in SENT_CHANNELS)
    return [known.get(c, ChannelHealth(c)) for c in names]


def channel_status(health: ChannelHealth, configured: bool) -> str:
    """A channel's state in a word or two: "failing", "ok", "not configured" …"""
    if not configured:
        return "not configured"
    if health.failures:
        return "failing"
    if health.last_success is not None:
        return "ok"
    if health.pending:
        return "waiting"
    return "given up" if health.given_up else "unused"


def _sources(n: int) -> str:
    return f"{n} source" if n == 1 else f"{n} sources"


EMPTY_HINT = "Try `monitor demo` for sample feeds, or press s for the sources screen."


def empty_reason(
    *,
    loaded: bool,
    polling: bool,
    sources: Sequence[Source],
    states: Mapping[str, SourceState],
    filtered: bool = False,
) -> list[str]:
    """Why the timeline has no rows, as lines to show in their place.

    `loaded`: the store has been read; `polling`: a poll runs now; `sources`: the
    configured sources (the disabled ones are skipped); `states`: their health by name;
    `filtered`: a filter, or a picked source or actor, narrows the view. A source never
    attempted has no state, or one without `last_attempt`. Source names and error details
    come from outside: the caller shows the lines through its text gate.
    """
    if not loaded:
        return ["reading the store…"]
    if filtered:
        return ["nothing matches the filter (Esc clears it)"]
    enabled = [s for s in sources if s.enabled]
    n = len(enabled)
    if not n:
        return [
            "No items yet: no source is enabled.",
            "Add one under [[sources]] in config.toml, or try `monitor demo` for sample feeds.",
        ]
    if polling:
        return [f"polling {_sources(n)}…"]
    failing = [s for s in enabled if (st := states.get(s.name)) is not None and st.failures]
    if failing:
        first = failing[0]
        error = f"{first.name}: {error_words(states[first.name]) or 'error'}"
        if len(failing) == n:
            every = "the source" if n == 1 else f"all {n} sources"
            return [f"No items yet: {every} failed. First error: {error}", EMPTY_HINT]
        return [
            f"No items yet: {len(failing)} of {n} sources failed, the others sent no items. "
            f"First error: {error}",
            EMPTY_HINT,
        ]
    attempted = [s for s in enabled if (st := states.get(s.name)) and st.last_attempt]
    if not attempted:
        which = "the source has" if n == 1 else f"none of the {n} sources has"
        return [
            f"No items yet: {which} been polled.",
            "Press r to poll now, or try `monitor demo` for sample feeds.",
        ]
    which = "the source" if n == 1 else f"the {n} sources"
    return [f"No items yet: {which} answered with no items.", EMPTY_HINT]


TEXT_WORDS: dict[str, str] = {
    "paywall": "behind a paywall",
    "consent": "a cookie or consent wall",
    "blocked": "the site blocked the request",
    "empty": "no article text on the page",
    "not_found": "the page is gone (404)",
    "robots": "robots.txt disallows it",
    "not_html": "not a web page",
    "too_large": "page too large",
    "refused": "refused: the link leads to a private address",
    "timeout": "the page timed out",
}


def text_words(item: Item) -> str:
    """Why an item has no page text, in words: "behind a paywall"; "" when it has it.
    The detail is not included (the caller shows it through its own gate)."""
    if item.text_status != "failed" or not item.text_error:
        return ""
    return _WHY_NO_TEXT.get(item.text_error, item.text_error)


_WHY_NO_TEXT: dict[str, str] = {str(k): v for k, v in ERROR_WORDS.items()} | TEXT_WORDS
