"""A listener that keeps what the application core said, for the tests of its events."""

from __future__ import annotations

from typing import TypeVar

from monitor.io.events import Event

E = TypeVar("E")


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, event: Event) -> None:
        self.events.append(event)

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]
