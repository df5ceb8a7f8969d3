"""The article pane: the selected item, scrollable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from monitor.core.humanize import text_words
from monitor.model import Entry, Item, TriageState
from monitor.tui import format, text

SUMMARY_ONLY = "summary only (full text not fetched)"
MENTION = "bold underline"  # actor mentions in the article
FETCHING = "fetching text…"


def text_note(item: Item, *, pending: bool) -> str:
    """What the pane says above a summary shown in place of the full text."""
    if pending:
        return f"{FETCHING} (the summary until it arrives)"
    if item.text_status == "failed":
        return f"summary only: {text_words(item)} (R: try again)"
    if item.text_status == "off":
        return "summary only (full text is off for this source; R fetches it)"
    return f"{SUMMARY_ONLY}; R fetches it"


def highlighted(
    value: str,
    words: Sequence[str],
    style: str = "",
    spans: Sequence[tuple[int, int]] = (),
    *,
    multiline: bool = True,
) -> Text:
    """Untrusted `value` as Text, its lines kept, with the filter's words highlighted and
    the `spans` (actor mentions, offsets into `value`) underlined."""
    t = text.text(value, style, multiline=multiline)
    if len(t.plain) == len(value):  # nothing was stripped: the offsets still hold
        for start, end in spans:
            t.stylize(MENTION, start, end)
    return format.highlight(t, words)


def _spans(item: Item | None, field: str) -> list[tuple[int, int]]:
    if item is None:
        return []
    return [(m.start, m.end) for m in item.mentions if m.field == field]


def _annotations(item: Item) -> Text:
    """Who is quoted and which days the text's relative dates mean."""
    out = Text(end="")
    if item.quotes:
        out.append("\n\nQuotes\n", style="bold")
        for q in item.quotes:
            out.append_text(text.text(q.actor, "bold"))
            out.append(": « ")
            out.append_text(text.text(q.text, "italic"))
            out.append(" »\n")
    if item.dates:
        out.append("\n\nDates\n" if not item.quotes else "\nDates\n", style="bold")
        seen = set()
        for d in item.dates:
            if (d.text.casefold(), d.date) in seen:
                continue
            seen.add((d.text.casefold(), d.date))
            out.append_text(text.text(d.text))
            out.append(f" = {d.date}\n", style="dim")
    return out


def triage_of(item_id: str, state: TriageState) -> tuple[bool, tuple[str, ...], str, str]:
    """What the pane shows of the analyst's triage: (starred, tags, note, why the item is
    a new angle on a story marked seen)."""
    return (
        item_id in state.starred,
        tuple(state.tags_of(item_id)),
        state.notes.get(item_id, ""),
        state.angles.get(item_id, ""),
    )


def triage_text(starred: bool, tags: Sequence[str], note: str, angle: str = "") -> Text:
    """The new angle (why: "new actor X", "new quote"), the star, the tags and the note,
    each from the analyst or the feeds (never markup), then a blank line; nothing when
    there are none."""
    out = Text(end="")
    if angle:
        out.append(f"{format.NEW_ANGLE}: ", style=format.NEW_ANGLE_STYLE)
        out.append_text(text.text(angle))
        out.append("\n")
    if starred:
        out.append(f"{format.STARRED} starred", style="bold yellow")
    if tags:
        if starred:
            out.append("  ·  ", style="dim")
        out.append("tags: ", style="dim")
        for n, tag in enumerate(tags):
            if n:
                out.append(", ")
            out.append_text(text.text(tag, "bold"))
    if starred or tags:
        out.append("\n")
    if note:
        out.append("note: ", style="dim")
        for n, line in enumerate(text.clean(note, multiline=True).split("\n")):
            if n:
                out.append("\n      ")  # under the first line, past "note: "
            out.append_text(text.text(line, "italic"))
        out.append("\n")
    if out.plain:
        out.append("\n")
    return out


def article_text(
    entry: Entry,
    item: Item | None,
    *,
    tz: tzinfo | None,
    words: Sequence[str] = (),
    loading: bool = False,
    pending: bool = False,
    triage: TriageState | None = None,
    pickup: str = "",
) -> Text:
    """Title, sources, time, link, language, the analyst's star, tags and note, then the
    full text or the summary. `pending`: the item's text is being fetched."""
    out = Text(end="")
    title = item.title if item is not None else entry.title
    out.append_text(highlighted(title, words, "bold", _spans(item, "title"), multiline=False))
    out.append("\n")
    sources = item.sources if item is not None else entry.sources
    out.append_text(text.text(", ".join(sources), "italic"))
    out.append("\n")
    if pickup:  # who ran its story first (`core.pickup.pickup_line`)
        out.append_text(text.text(pickup, "dim"))
        out.append("\n")
    published = item.published if item is not None else entry.published
    when = format.long_time(published, tz)
    flag = item.date_flag if item is not None else entry.date_flag
    if flag == "missing":
        when += " (no date in the feed: first seen)"
    elif flag == "invalid":
        when += " (the feed's date was impossible: first seen)"
    out.append(when, style="dim")
    language = item.language if item is not None else entry.language
    if language:
        out.append("  ·  ", style="dim")
        out.append_text(text.text(language, "dim"))
    out.append("\n")
    url = item.url if item is not None else entry.url
    if url:
        out.append_text(text.text(url, "underline"))
        out.append("\n")
    if item is not None and (item.author or item.site_name):
        by = " · ".join(text.clean(x) for x in (item.author, item.site_name) if x)
        out.append_text(text.text(f"by {by}" if item.author else by, "dim"))
        out.append("\n")
    out.append("\n")
    if triage is not None:
        out.append_text(triage_text(*triage_of(entry.id, triage)))
    if item is None:
        out.append("loading…" if loading else "(this item is no longer stored)", style="dim")
        return out
    if item.actors:
        out.append("actors: ", style="dim")
        names = ", ".join(f"{a.name} ({a.mentions})" for a in item.actors[:8])
        out.append_text(text.text(names, "dim"))
        out.append("\n\n")
    if item.text:
        out.append_text(highlighted(item.text, words, spans=_spans(item, "text")))
    else:
        out.append(text_note(item, pending=pending), style="italic reverse")
        if item.text_status == "failed" and item.text_detail:
            out.append("\n")
            out.append_text(text.text(item.text_detail, "dim"))
        out.append("\n\n")
        if item.summary:
            out.append_text(highlighted(item.summary, words, spans=_spans(item, "summary")))
        else:
            out.append("(the feed gives no summary)", style="dim")
    out.append_text(_annotations(item))
    return out


class ArticlePane(ScrollView, can_focus=True):
    """The selected item, scrollable.

    A `ScrollView` that draws its wrapped lines itself: showing another item repaints
    the pane's region only. (A `Static` in a scrolling container changes height with
    every item, and each change lays out and repaints the whole screen: half the cost
    of a cursor move.) The text can be selected with the mouse and copied."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "line_down", "Scroll down", id="article.down"),
        Binding("k,up", "line_up", "Scroll up", id="article.up"),
        Binding("g,home", "top", "Top of the article", id="article.top"),
        Binding("G,end", "bottom", "End of the article", id="article.bottom"),
        Binding("pagedown,space", "page_down_article", "Page down", id="article.page_down"),
        Binding("pageup", "page_up_article", "Page up", id="article.page_up"),
        Binding("escape", "back", "Back to the timeline", id="article.back"),
        Binding("R", "refetch", "Fetch the full text again", id="article.refetch"),
    ]
    DEFAULT_CSS = """
    ArticlePane {
        overflow-x: hidden;
        overflow-y: scroll;  /* a bar that came and went would re-wrap the text twice */
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.entry: Entry | None = None
        self.item: Item | None = None
        self.words: tuple[str, ...] = ()
        self.triage = TriageState()  # the analyst's, kept current by the screen
        # the line saying who ran the shown item's story first, given by the screen
        self.pickup: Callable[[str], str] = lambda entry_id: ""
        self._pickup = ""  # the pickup line shown
        self._shown: tuple[tzinfo | None, bool, bool] = (None, False, False)  # tz, loading, pending
        self.content = Text("select an item", style="dim", end="")
        self._lines: list[Text] = []
        self._width = -1  # the width `_lines` were wrapped to
        self._strips: dict[int, Strip] = {}

    def show(
        self,
        entry: Entry | None,
        item: Item | None,
        *,
        tz: tzinfo | None,
        words: Sequence[str] = (),
        loading: bool = False,
        pending: bool = False,
    ) -> None:
        moved = entry is None or self.entry is None or entry.id != self.entry.id
        self.entry, self.item, self.words = entry, item, tuple(words)
        self._shown = (tz, loading, pending)
        if entry is None:
            self.set_content(Text("nothing selected", style="dim", end=""))
        else:
            self.set_content(
                article_text(
                    entry,
                    item,
                    tz=tz,
                    words=words,
                    loading=loading,
                    pending=pending,
                    triage=self.triage,
                    pickup=self._pick(entry.id),
                )
            )
        if moved:
            self.scroll_to(y=0, animate=False)

    def _pick(self, entry_id: str) -> str:
        self._pickup = self.pickup(entry_id)
        return self._pickup

    def set_triage(self, state: TriageState) -> None:
        """The analyst's triage changed: the shown item again, if its part changed."""
        old, self.triage = self.triage, state
        entry = self.entry
        if entry is None or triage_of(entry.id, old) == triage_of(entry.id, state):
            return
        tz, loading, pending = self._shown
        self.show(entry, self.item, tz=tz, words=self.words, loading=loading, pending=pending)

    def repick(self) -> None:
        """The stories changed: the shown item again, if who ran its story first did."""
        entry = self.entry
        if entry is None or self.pickup(entry.id) == self._pickup:
            return
        tz, loading, pending = self._shown
        self.show(entry, self.item, tz=tz, words=self.words, loading=loading, pending=pending)

    def set_content(self, content: Text) -> None:
        self.content = content
        self._width = -1
        self._wrap()

    @property
    def plain(self) -> str:
        """The text shown, as plain text."""
        return self.content.plain

    # -- drawing -------------------------------------------------------------------------

    def _wrap(self) -> None:
        width = self.scrollable_content_region.width
        if width == self._width:
            return
        self._width = width
        self._strips.clear()
        if width <= 0 or not self.is_mounted:
            self._lines = []
        else:
            self._lines = list(self.content.wrap(self.app.console, width))
        size = Size(max(0, width), len(self._lines))
        if size != self.virtual_size:
            # Not through the reactive, which lays out the whole screen: the bar is always
            # there (overflow-y: scroll), so only its window and the scroll limits change.
            self.set_reactive(ArticlePane.virtual_size, size)
            self._scroll_update(size)
        self.refresh()

    def on_resize(self) -> None:
        self._wrap()

    def on_mount(self) -> None:
        self._wrap()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def selection_updated(self, selection: Selection | None) -> None:
        self._strips.clear()
        self.refresh()

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract("\n".join(line.plain for line in self._lines)), "\n"

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self._lines) or width != self._width:
            return Strip.blank(width, base)
        strip = self._strips.get(index)
        if strip is None:
            line = self._lines[index]
            selection = self.text_selection
            span = selection.get_span(index) if selection is not None else None
            if span is not None:
                start, end = span
                line = line.copy()
                line.stylize(
                    self.screen.get_component_rich_style("screen--selection"),
                    start,
                    len(line) if end == -1 else end,
                )
            strip = Strip(line.render(self.app.console)).adjust_cell_length(width)
            strip = strip.apply_style(base).apply_offsets(0, index)
            self._strips[index] = strip
        return strip

    @property
    def url(self) -> str | None:
        if self.item is not None:
            return self.item.url
        return self.entry.url if self.entry is not None else None

    def action_line_down(self) -> None:
        self.scroll_relative(y=1, animate=False)

    def action_line_up(self) -> None:
        self.scroll_relative(y=-1, animate=False)

    def action_top(self) -> None:
        self.scroll_to(y=0, animate=False)

    def action_bottom(self) -> None:
        self.scroll_to(y=self.max_scroll_y, animate=False)

    def action_page_down_article(self) -> None:
        self.scroll_relative(y=max(1, self.scrollable_content_region.height - 1), animate=False)

    def action_page_up_article(self) -> None:
        self.scroll_relative(y=-max(1, self.scrollable_content_region.height - 1), animate=False)

    class Refetch(Message):
        """R: fetch the shown item's article page again."""

    def action_refetch(self) -> None:
        self.post_message(self.Refetch())

    def action_back(self) -> None:
        self.app.query_one("#timeline").focus()
