"""The terminal's own notification for an alert: BEL, and OSC 9 or OSC 777 where the
terminal turns them into a desktop notification, wrapped for tmux passthrough.

`bell_bytes` and `notify_support` are pure; `ring` writes to the app's terminal. The
title and body are feed text: they go through `monitor.tui.text` (escape sequences,
C0/C1, DEL and bidi controls gone) and lose what would end or split the sequence built
here (`;` in OSC 777 fields), so the only control sequences written are ours.

Which terminals read which sequence (conservative; an unknown OSC is ignored by most
terminals, but a few print it, so nothing is sent unless the terminal is recognized):
- OSC 9 (`ESC ] 9 ; text BEL`): iTerm2, WezTerm, kitty, Ghostty;
- OSC 777 (`ESC ] 777 ; notify ; title ; body BEL`): foot, rxvt-unicode (with its notify
  extension), VTE terminals (GNOME Terminal, Ptyxis... shown where the distribution
  patched VTE, silently ignored by VTE 0.46 and later otherwise).
Inside tmux, the sequences pass through only with `set -g allow-passthrough on`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from monitor.tui.text import terminal_text

if TYPE_CHECKING:
    from textual.app import App

BEL = "\x07"
ESC = "\x1b"
TITLE_LIMIT = 80
BODY_LIMIT = 200
_OSC9_PROGRAMS = frozenset({"iterm.app", "wezterm", "ghostty"})
_OSC9_TERMS = ("xterm-kitty", "xterm-ghostty", "wezterm")
# set by these terminals and inherited inside tmux, where TERM_PROGRAM is "tmux"
_OSC9_MARKERS = ("ITERM_SESSION_ID", "KITTY_WINDOW_ID", "WEZTERM_PANE", "GHOSTTY_RESOURCES_DIR")
_OSC777_TERMS = ("foot", "rxvt-unicode")
_VTE_SILENT = 4600  # VTE ignores OSC 777 quietly from 0.46 on (older ones may print it)
_SUBCOMMAND = re.compile(r"^\d+;")  # "4;..." is a ConEmu/Windows Terminal OSC 9 subcommand


class NotifySupport(NamedTuple):
    osc9: bool
    osc777: bool
    tmux: bool


def notify_support(env: Mapping[str, str] | None = None) -> NotifySupport:
    """What the terminal reads, from `TERM_PROGRAM`, `TERM`, `TMUX` (and a few variables
    terminals set). One notification sequence at most: OSC 9 wins where both are read."""
    env = os.environ if env is None else env
    program = env.get("TERM_PROGRAM", "").lower()
    term = env.get("TERM", "").lower()
    tmux = bool(env.get("TMUX"))
    osc9 = (
        program in _OSC9_PROGRAMS
        or env.get("LC_TERMINAL", "").lower() == "iterm2"
        or term.startswith(_OSC9_TERMS)
        or any(env.get(name) for name in _OSC9_MARKERS)
    )
    vte = env.get("VTE_VERSION", "")
    osc777 = not osc9 and (
        term.startswith(_OSC777_TERMS) or (vte.isdigit() and int(vte) >= _VTE_SILENT)
    )
    return NotifySupport(osc9=osc9, osc777=osc777, tmux=tmux)


def bell_bytes(title: str, body: str, *, osc9: bool, osc777: bool, tmux: bool) -> str:
    """BEL, then the notification sequences asked for, made from cleaned text."""
    head = terminal_text(title, TITLE_LIMIT) or "monitor"
    text = terminal_text(body, BODY_LIMIT)
    out = [BEL]
    if osc9:
        message = f"{head}: {text}" if text else head
        if _SUBCOMMAND.match(message):
            message = " " + message
        out.append(_passthrough(f"{ESC}]9;{message}{BEL}", tmux))
    if osc777:
        # fields are separated by ";": one inside a field would shift the others
        fields = [s.replace(";", ",") for s in (head, text)]
        out.append(_passthrough(f"{ESC}]777;notify;{fields[0]};{fields[1]}{BEL}", tmux))
    return "".join(out)


def _passthrough(sequence: str, tmux: bool) -> str:
    """`sequence` as tmux forwards it to the outer terminal: in a DCS, every ESC doubled."""
    if not tmux:
        return sequence
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ESC}\\"


def ring(app: App[Any], title: str, body: str, env: Mapping[str, str] | None = None) -> str:
    """Ring the terminal for an alert, as `App.bell` does, with the desktop notification
    the terminal supports. Returns what was written ("" when headless)."""
    if app.is_headless or app._driver is None:
        return ""
    support = notify_support(env)
    data = bell_bytes(title, body, osc9=support.osc9, osc777=support.osc777, tmux=support.tmux)
    app._driver.write(data)
    return data
