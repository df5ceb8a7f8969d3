"""Hostile strings, in one place: the pieces feed text is made of when it attacks a
terminal (C0/C1 controls, escape sequences whole or cut, bidi marks, Rich and Textual
markup), what must never come out of the text gate, the hypothesis strategies over
them (`tests/test_text_gate.py`) and a seeded generator of many (`tests/test_tui_fuzz.py`)."""

from __future__ import annotations

import random
import re

from hypothesis import strategies as st

# C0 (newline aside), DEL, C1, bidi and other invisible format controls, lone surrogates
FORBIDDEN = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
MARKER = "PWNED"  # inside the payloads of whole sequences: never on screen nor terminal

PIECES = [
    # OSC, ended by BEL or ST, or never ended
    "\x1b]0;pwned\x07",
    "\x1b]8;;http://x\x1b\\",
    "\x1b]52;c;SGVsbG8=",  # an OSC never ended
    f"\x1b]0;{MARKER}-title\x07",
    f"\x1b]8;;file:///etc/passwd?{MARKER}\x1b\\",
    f"\x1b]52;c;{MARKER}\x1b\\",
    f"\x9d0;{MARKER}\x9c",
    # CSI: SGR and others, whole and cut, 7- and 8-bit
    "\x1b[31m",
    "\x1b[38;2;255;0;0m",
    "\x1b[31",  # a cut SGR
    "\x1b[",
    "\x1b",
    "\x1b[2J",
    "\x1b[?1049h",
    "\x1b[6n",
    "\x1b[1;1H",
    "\x9b2J",
    # DCS, APC, PM, SOS and bare ESC sequences
    "\x1bP1$r",
    f"\x1bP1;2|{MARKER}\x1b\\",
    f"\x90q{MARKER}\x9c",
    "\x1b_apc\x1b\\",
    f"\x1b_{MARKER}\x07",
    f"\x1b^{MARKER}\x1b\\",
    f"\x1bX{MARKER}\x1b\\",
    "\x1bc",
    "\x1b(0",
    "\x1b7",
    # C0, DEL, C1
    "\x00",
    "\x07",
    "\x08",
    "\r",
    "\x0c",
    "\x7f",
    "\x85",
    "\x9c",
    # bidi overrides, isolates and marks; zero-width characters
    "\u202e",
    "\u202a",
    "\u202d",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\u200e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u2060",
    "\ufeff",
    # line breaks and tabs
    "\r\n",
    "\n",
    "\u2028",
    "\u2029",
    "\t",
    # markup
    "[red]",
    "[/]",
    "[@click=app.quit]",
    "[link=https://x]",
    "[link=file:///etc/passwd]",
    "[bold red]x[/]",
    "[b]",
    "\\[",
    # lone surrogates, combining marks, wide characters
    "\ud800",
    "\udfff",
    "e\u0301\u0302\u0303\u0304",
    "Z\u0334\u0321\u0322\u0327\u0328",
    "北京市政府",
    "한국어",
    "\U0001f600",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467",
    "\U0001f1eb\U0001f1f7",
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


def hostile_string(rng: random.Random, pieces: int = 12) -> str:
    """A string of up to `pieces` hostile pieces, words and single characters; one time in
    fifty, a very long one."""
    count = rng.randint(1, pieces) if rng.random() > 0.02 else rng.randint(200, 400)
    out = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.55:
            out.append(rng.choice(PIECES))
        elif roll < 0.75:
            out.append(rng.choice(("word", "Kremlin", "Putin", "said", "x", " ")))
        elif roll < 0.9:
            out.append(chr(rng.randint(0, 0x9F)))
        else:
            out.append(chr(rng.randint(0x2000, 0x206F)))
    return "".join(out)
