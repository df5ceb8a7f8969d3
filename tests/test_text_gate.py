"""The text gates, over generated strings: whatever goes in (C0/C1 controls, escape
sequences whole or cut, bidi marks, Rich and Textual markup), no control, ESC or bidi
character comes out, and markup stays literal. The command line's `one_line` and the
dashboard's `clean`, `text` and `content` share `core.normalize.plain_text`."""

from __future__ import annotations

from hypothesis import given, settings

from monitor.cli.common import one_line
from monitor.core.normalize import plain_text
from monitor.tui.text import clean, content, terminal_text, text
from tests.support.hostile import FORBIDDEN, hostile, visible

BOUNDED = settings(max_examples=300, deadline=None, database=None)


@BOUNDED
@given(hostile)
def test_cli_gate_output_is_inert(s: str) -> None:
    out = one_line(s)
    assert not FORBIDDEN.search(out), repr(out)
    assert "\n" not in out and out == out.strip()


@BOUNDED
@given(hostile)
def test_dashboard_gate_output_is_inert(s: str) -> None:
    for out in (clean(s), text(s).plain, content(s).plain, terminal_text(s, 80)):
        assert not FORBIDDEN.search(out), repr(out)
        assert "\n" not in out
    many = clean(s, multiline=True)
    assert not FORBIDDEN.search(many), repr(many)
    assert text(s, multiline=True).plain == many == content(s, multiline=True).plain


@BOUNDED
@given(hostile)
def test_one_concept_in_one_place(s: str) -> None:
    """The two gates agree: the CLI's line is the dashboard's, white space squeezed."""
    assert clean(s) == plain_text(s)
    assert one_line(s) == " ".join(clean(s).split())


@BOUNDED
@given(visible)
def test_markup_stays_literal(s: str) -> None:
    assert one_line(s) == " ".join(s.split())
    assert clean(s) == s
    t = text(s)
    assert t.plain == s and not t.spans  # no style came out of the brackets
    c = content(s)
    assert c.plain == s and not c.spans
