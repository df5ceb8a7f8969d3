"""The dashboard, on the configured sources or on the built-in samples. The UI toolkit is
imported only here, and only when a dashboard is asked for."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.cli.common import EXIT_CONFIG, EXIT_OK, CliError, settings_of, store_of
from monitor.config import ConfigError, Settings, load

if TYPE_CHECKING:
    from monitor.model import PollReport


def cmd_dashboard(args: argparse.Namespace) -> int:
    return _run_dashboard(settings_of(args))


def _run_dashboard(settings: Settings) -> int:
    from monitor.io.backends import open_store
    from monitor.io.store import StoreError, StoreLocked, StoreUnwritable

    read_only, lock_message = False, ""
    try:
        store = open_store(settings)
    except (StoreLocked, StoreUnwritable) as exc:  # another monitor writes, or nothing
        read_only, lock_message = True, str(exc)  # can be written here: watch, no polling
        store = store_of(settings, readonly=True)
    except StoreError as exc:
        raise CliError(str(exc)) from None
    try:
        from monitor.tui.app import MonitorApp  # the UI toolkit loads only here

        MonitorApp(settings, store, read_only=read_only, lock_message=lock_message).run()
    finally:
        store.close()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """The dashboard on sample feeds served from this process: no network needed."""
    import tempfile

    from monitor.demo import DemoServer, demo_config

    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as folder, DemoServer() as server:
        path = demo_config(server.base, Path(folder))
        try:
            settings = load(path)
        except ConfigError as exc:
            raise CliError(str(exc), EXIT_CONFIG) from None
        if args.poll_only:
            from monitor.io.backends import open_store
            from monitor.io.session import Session

            store = open_store(settings)

            async def once() -> PollReport | None:
                session = Session(settings, store)
                try:
                    await session.load()
                    report = await session.poll()
                    await session.settle()
                    return report
                finally:
                    await session.close()

            try:
                report = asyncio.run(once())
            finally:
                store.close()
            if report is None:
                raise CliError("the demo poll failed")
            print(f"{len(report.results)} demo sources, {report.new} new items")
            return EXIT_OK
        return _run_dashboard(settings)
