"""What a query is evaluated with, from the settings and the store: the store's text
index and each source's category (`core.query.Context`)."""

from __future__ import annotations

from monitor.config import Settings
from monitor.core.fold import fold_text
from monitor.core.query import Context
from monitor.io.store import Store
from monitor.model import TriageState


def categories(settings: Settings) -> dict[str, str]:
    """Each source's category, folded as `category:` folds its value."""
    return {s.name: " ".join(fold_text(s.category).split()) for s in settings.sources if s.category}


def query_context(settings: Settings, store: Store, triage: TriageState | None = None) -> Context:
    return Context(text=store.text_search(), triage=triage, categories=categories(settings))
