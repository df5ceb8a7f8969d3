"""The text gates, over generated strings: whatever goes in (C0/C1 controls, escape
sequences whole or cut, bidi marks, Rich and Textual markup), no control, ESC or bidi
character comes out, and markup stays literal. The command line's `one_line` and the
dashboard's `clean`, `text` and `content` share `core.normalize.plain_text`."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.cli.common import one_line
from monitor.core.normalize import plain_text
from monitor.tui.text import clean, content, terminal_text, text

# C0 (newline aside), DEL, C1, bidi and other invisible format controls, lone surrogates
FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
PIECES = [
    "\x1b]0;pwned\x07",
    "\x1b]8;;http://x\x1b\\",
    "\x1b]52;c;SGVsbG8=",  # an OSC never ended
    "\x1b[31m",
    "\x1b[31",  # a cut SGR
    "\x1b[",
    "\x1b",
    "\x1bP1$r",
    "\x1b_apc\x1b\\",
    "\x9b2J",
    "\x9d0;t\x9c",
    "\x90q\x9c",
    "\x85",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200f",
    "\u061c",
    "\r\n",
    "\u2028",
    "\t",
    "[red]",
    "[/]",
    "[@click=app.quit]",
    "[link=https://x]",
    "[b]",
    "\\[",
]
MARKUP = ["[red]", "[/]", "[@click=app.quit]", "[link=https://x]", "[b]", "[/b]", "\\[", "]"]

hostile = st.lists(
    st.one_of(
        st.sampled_from(PIECES),
        st.characters(max_codepoint=0x9F),
        st.characters(min_codepoint=0x2000, max_codepoint=0x206F),
        st.text(max_size=8),
    ),
    max_size=20,
).map("".join)
# no controls nor line breaks at all: what goes in must come out as it was
visible = st.lists(
    st.one_of(
        st.sampled_from(MARKUP),
        st.text(
            st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp", "Zs")), max_size=8
        ),
        st.just(" "),
    ),
    max_size=12,
).map("".join)

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
