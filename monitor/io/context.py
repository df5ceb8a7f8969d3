"""What a query is evaluated with, from the settings and the store: the store's text
index, the analyst's triage and each source's category (`core.query.Context`)."""

from __future__ import annotations

from datetime import datetime

from monitor.config import Settings
from monitor.core.fold import fold_text
from monitor.core.query import Context, StoryLookup
from monitor.io.backends import open_triage, side_tables
from monitor.io.clock import utcnow
from monitor.io.store import Store
from monitor.io.triage import exists
from monitor.model import TriageState


def categories(settings: Settings) -> dict[str, str]:
    """Each source's category, folded as `category:` folds its value."""
    return {s.name: " ".join(fold_text(s.category).split()) for s in settings.sources if s.category}


def query_context(
    settings: Settings,
    store: Store,
    triage: TriageState | None = None,
    stories: StoryLookup | None = None,
) -> Context:
    return Context(
        text=store.text_search(), triage=triage, categories=categories(settings), stories=stories
    )


def saved_stories(settings: Settings, store: Store, now: datetime | None = None) -> StoryLookup:
    """The stories of the recent items, for a command that only reads: those the writer
    saved with the store, and those of the items it has not saved yet, matched here
    (`io.live_stories`). The one place commands get them from."""
    from monitor.io.live_stories import read_stories

    return read_stories(side_tables(settings), store.entries(), now or utcnow())


def triage_state(settings: Settings) -> TriageState:
    """The analyst's triage now, for a command that only reads: empty, and nothing
    created, when the store has no triage file yet. Raises `TriageError`."""
    if not exists(side_tables(settings)):
        return TriageState()
    triage = open_triage(settings)
    try:
        return triage.state()
    finally:
        triage.close()
