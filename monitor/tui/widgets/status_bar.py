"""The status bar."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.text import Text
from textual.widgets import Static

from monitor.core.schedule import writer_polls
from monitor.io.session import Session
from monitor.tui import format, text


class StatusBar(Static):
    """One or two lines at the bottom; the screen fills it (`status_text`)."""

    _shown: Text | None = None

    def show(self, status: Text) -> None:
        """Show `status`; the same text again costs no repaint (keys call this often)."""
        if status != self._shown:
            self._shown = status
            self.update(status)


def status_text(session: Session, filter_label: str, zone: tzinfo | None) -> Text:
    """The status line: what runs, items shown (and how many of them are unread) and
    stored, the filter, the sources' health, the last and the next poll, and a badge per
    watch with unseen alerts."""
    out = Text(end="")
    sep = (" · ", "dim")

    def time(moment: datetime) -> str:
        return format.local(moment, zone).strftime("%H:%M")

    if session.read_only:
        out.append("read-only", style="bold reverse")
        out.append(*sep)
    if session.polling:
        out.append("polling…", style="bold reverse")
        out.append(*sep)
    if session.finding:
        out.append(f"finding actors of {session.finding:,}", style="bold")
        out.append(*sep)
    if session.fetching:
        out.append(f"fetching text of {len(session.fetching)}", style="bold")
        out.append(*sep)
    out.append(f"{len(session.view.entries):,}/{len(session.entries):,} items")
    if session.unread_count:
        out.append(f" ({session.unread_count:,} unread)", style="bold")
    if session.set_aside or session.damage:
        n, days = session.set_aside, len(session.damage)
        said = [f"{n:,} unreadable record{'' if n == 1 else 's'} set aside"] if n else []
        said += [f"{days} damaged day file{'' if days == 1 else 's'} salvaged"] if days else []
        out.append(", " + ", ".join(said), style="bold red")
        out.append(" (monitor check)")
    if filter_label:
        out.append(*sep)
        out.append("filter: ")
        out.append_text(text.text(filter_label, "bold"))
        if not session.text_ready:
            out.append(" (full texts still being indexed: titles and summaries only)")
    out.append(*sep)
    enabled = (s for s in session.settings.sources if s.enabled)
    ok, failing = format.tally(enabled, session.states)
    out.append(f"sources {ok} ok")
    if failing:
        out.append(f", {failing} failing", style="bold red")
    out.append(*sep)
    if session.last_failure:
        out.append("last poll failed", style="bold red")
    elif session.last_report is not None:
        r = session.last_report
        out.append(f"last poll {time(r.finished)}: {r.new} new")
        if r.failed:
            out.append(f", {len(r.failed)} failed", style="bold red")
    elif session.read_only and (last := writer_polls(session.states)[0]) is not None:
        out.append(f"writer polled {time(last)}")
    else:
        out.append("not polled yet")
    if session.last_dropped is not None:
        out.append(*sep)
        n = session.last_dropped.count
        out.append(f"{n:,} old item{'' if n == 1 else 's'} dropped")
    if session.next_poll is not None and not session.polling:
        out.append(*sep)
        out.append(f"next {time(session.next_poll)}")
    badges = [(w.name, session.alert_counts.get(w.name, 0)) for w in session.settings.watches]
    if any(n for _, n in badges):
        out.append(*sep)
        out.append("! ", style="bold")
        for i, (name, n) in enumerate(b for b in badges if b[1]):
            if i:
                out.append(" ")
            out.append_text(text.text(name))
            out.append(f" {n:,}", style="bold reverse")
    return out
