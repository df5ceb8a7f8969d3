"""`monitor poll` and `monitor poll --watch`: the application core's pass and schedule,
shown as progress and summary lines."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from monitor.cli.common import (
    EXIT_CONFIG,
    EXIT_OK,
    Bar,
    CliError,
    clip,
    one_line,
    settings_of,
    store_of,
    table,
)
from monitor.config import Settings
from monitor.core.humanize import dropped_words, span
from monitor.io.events import (
    ActorsFound,
    AlertRaised,
    ChannelNotice,
    DigestWritten,
    Dropped,
    Event,
    PollEnded,
    Problem,
    Scheduled,
    SourcePolled,
    TextArrived,
    TextsDone,
    TextsQueued,
    TriageChanged,
)

if TYPE_CHECKING:
    from monitor.io.digest import ScheduleRun
    from monitor.model import PollReport


@dataclass
class _PollTally:
    """What `monitor poll` saw of a pass, from the core's events: progress on stderr as
    it goes, figures for the summary."""

    bar: Bar
    report: PollReport | None = None
    failure: str | None = None
    fetched: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    texts: bool = False  # pages were asked for
    earlier: int = 0  # of them, left pending by earlier polls
    left_without: int = 0  # --no-text: new items whose page was not asked for
    caught_up: int = 0  # stored items that got their actors
    dropped: Dropped | None = None  # retention ran
    tagged: Counter[str] = field(default_factory=Counter)  # auto-tag -> items it tagged
    alerts: Counter[str] = field(default_factory=Counter)  # watch -> alerts raised

    def __call__(self, event: Event) -> None:
        match event:
            case TriageChanged(_, _, auto):
                self.tagged.update(auto)
            case AlertRaised(alerts, _):
                self.alerts.update(a.watch for a in alerts)
            case SourcePolled(done, total, r):
                if self.bar.tty:
                    self.bar.bar(done, total, clip(one_line(r.name), 40))
                else:
                    word = r.status if r.status != "error" else f"error ({one_line(r.error)})"
                    self.bar.line(f"{done}/{total} {one_line(r.name)}: {word}")
            case PollEnded(report, failure, _):
                self.report, self.failure = report, failure
            case TextsQueued(count, earlier, skipped):
                if skipped:
                    self.left_without += count - earlier
                else:
                    self.texts, self.earlier = True, self.earlier + earlier
            case TextArrived(item, done, total):
                if item.text_status == "page":
                    self.fetched += 1
                else:
                    self.failed[item.text_error or "other"] += 1
                if self.bar.tty:
                    self.bar.bar(done, total, "text " + clip(one_line(item.title), 40))
                else:
                    word = (
                        "ok" if item.text_status == "page" else one_line(item.text_error or "other")
                    )
                    link = clip(one_line(item.url or ""), 80)
                    self.bar.line(f"text {done}/{total} {link}: {word}")
            case ActorsFound(done, _, True):
                self.caught_up += done
            case Dropped():
                self.dropped = event
            case Problem(_, message) | ChannelNotice(_, message, _):
                self.bar.line(f"monitor: {one_line(message)}")
            case _:
                pass


def cmd_poll(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    only = set(args.source) if args.source else None
    if only:
        unknown = only - {s.name for s in settings.sources}
        if unknown:
            raise CliError(
                f"no source named {', '.join(sorted(unknown))} in {settings.path}", EXIT_CONFIG
            )
    from monitor.io.session import Session
    from monitor.io.store import StoreError

    if args.watch:
        if only or args.all:
            raise CliError("--watch polls every source on its interval: no --all or --source")
        return _watch(settings, fetch_text=not args.no_text, annotate=not args.no_actors)
    store = store_of(settings)
    tally = _PollTally(Bar(sys.stderr))

    async def run() -> None:
        session = Session(
            settings,
            store,
            listener=tally,
            text=not args.no_text,
            annotate=not args.no_actors,
            progress=True,
        )
        try:
            await session.load()
            await session.poll(force=args.all, only=only)
            await session.settle()  # the new items' actors, the backlog, the article texts
        finally:
            await session.close()

    try:
        asyncio.run(run())
    except StoreError as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()
    report = tally.report
    if report is None:
        raise CliError(tally.failure or "the poll failed")  # `main` gates what it prints
    rows = [["source", "status", "new", "updated", "unchanged", "detail"]]
    for r in report.results:
        status = r.status.replace("_", " ")
        if r.status == "error":
            status = f"error: {r.error}"
        rows.append(  # `table` gates every cell; the names are gated before they are cut
            [
                clip(one_line(r.name), 40),
                status,
                str(r.new) if r.status == "ok" else "",
                str(r.updated) if r.status == "ok" else "",
                str(r.unchanged) if r.status == "ok" else "",
                clip(one_line(r.detail), 70),
            ]
        )
    table(rows, sys.stdout)
    fetched = [r for r in report.results if r.status != "skipped"]
    secs = (report.finished - report.started).total_seconds()
    print(
        f"\n{len(fetched)} fetched, {len(report.failed)} failed, "
        f"{len(report.results) - len(fetched)} skipped, {report.new} new items in {secs:.1f}s"
    )
    if tally.texts:
        why = ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in tally.failed.most_common())
        print(
            f"article text: {tally.fetched} fetched, {sum(tally.failed.values())} without"
            + (f" ({why})" if why else "")
            + (f"; {tally.earlier} of them left pending by earlier polls" if tally.earlier else "")
        )
    elif tally.left_without:
        print(f"article text: {tally.left_without} items left without (--no-text)")
    if tally.caught_up:
        print(f"actors: looked for in {tally.caught_up} stored items (none yet, or older rules)")
    if (d := tally.dropped) is not None and settings.retention is not None:
        words = dropped_words(d.count, d.before, d.kept)
        print(f"retention (keep {span(settings.retention)}): {words}")
    if tally.tagged:
        print("auto-tags: " + ", ".join(f"{one_line(t)} {n}" for t, n in tally.tagged.items()))
    if tally.alerts:
        print("alerts: " + ", ".join(f"{one_line(w)} {n}" for w, n in tally.alerts.items()))
    return EXIT_OK


@dataclass
class _WatchLines:
    """`monitor poll --watch`: one line per pass, and one per batch of article texts."""

    report: PollReport | None = None
    failure: str | None = None
    digest: ScheduleRun | None = None
    caught_up: int = 0
    dropped: Dropped | None = None  # retention dropped items in this pass
    tagged: int = 0  # items auto-tagged since the last line

    def __call__(self, event: Event) -> None:
        match event:
            case Dropped(count) if count:
                self.dropped = event
            case TriageChanged(ids, _, auto) if auto:
                self.tagged += len(ids)
            case AlertRaised(alerts, _):
                for a in alerts:
                    print(f"{_clock()} alert {one_line(a.watch)}: {one_line(a.title)}", flush=True)
            case PollEnded(report, failure, _):
                self.report, self.failure, self.digest, self.caught_up = report, failure, None, 0
            case ActorsFound(done, _, True):
                self.caught_up += done
            case DigestWritten(run):
                self.digest = run
            case Scheduled(next_poll):
                self.print_pass(next_poll)
            case TextsDone(fetched, failed, _):
                without = sum(failed.values())
                print(f"{_clock()} {fetched} article texts, {without} without", flush=True)
            case Problem(_, message) | ChannelNotice(_, message, _):
                print(f"{_clock()} {one_line(message)}", flush=True)
            case _:
                pass

    def print_pass(self, next_poll: datetime | None) -> None:
        r = self.report
        if r is None:
            text = f"{_clock()} {one_line(self.failure or 'poll failed')}"
        else:
            fetched = sum(1 for x in r.results if x.status != "skipped")
            when = r.finished.astimezone().strftime("%H:%M:%S")
            text = f"{when} {fetched} fetched, {len(r.failed)} failed, {r.new} new"
        if self.caught_up:
            text += f", actors looked for in {self.caught_up} stored items"
        if (d := self.dropped) is not None:
            text += f"; {dropped_words(d.count, d.before, d.kept)}"
        if self.tagged:
            text += f", {self.tagged} auto-tagged"
        if self.digest is not None and self.digest.written:
            text += f"; digest of {self.digest.day.isoformat()} written to " + ", ".join(
                one_line(path) for path in self.digest.written
            )
        if next_poll is not None:
            text += f"; next pass in {span((next_poll - datetime.now(UTC)).total_seconds())}"
        print(text, flush=True)
        self.report, self.digest, self.caught_up = None, None, 0
        self.dropped, self.tagged = None, 0


def _clock() -> str:
    return datetime.now().strftime("%H:%M:%S")


def _watch(settings: Settings, *, fetch_text: bool, annotate: bool) -> int:
    """Poll until Ctrl+C or SIGTERM, one summary line per pass."""
    import signal

    from monitor.io.session import Session
    from monitor.io.store import StoreError

    async def run() -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        session = Session(
            settings, store, listener=_WatchLines(), text=fetch_text, annotate=annotate
        )
        try:
            await session.run()
        finally:
            await session.close()

    store = store_of(settings)
    print(f"monitor: watching {sum(s.enabled for s in settings.sources)} sources", flush=True)
    try:
        asyncio.run(run())
    except asyncio.CancelledError:
        pass
    except StoreError as exc:
        raise CliError(str(exc)) from None
    finally:
        store.close()
    print("monitor: stopped", flush=True)
    return EXIT_OK
