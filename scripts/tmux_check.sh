#!/usr/bin/env bash
# Drive the real dashboard in tmux against a loopback feed server with hostile titles.
#
#   scripts/tmux_check.sh            # 120x40, 80x24, and 120x40 with NO_COLOR=1
#   KEEP=1 scripts/tmux_check.sh     # keep the work folder (captures, raw output) for a look
#
# For each run: polls the feeds, moves with j/k, filters with /, opens the sources screen
# and the help, quits with q; checks the panes' text, the exit status, and that no escape
# sequence from a feed reaches the terminal (the pane's raw output is recorded with
# pipe-pane; tmux's clipboard must stay empty of the OSC 52 payload).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
SOCKET="monitor-check-$$"
TM=(tmux -L "$SOCKET" -f /dev/null)
FAILED=0

cleanup() {
    "${TM[@]}" kill-server 2>/dev/null || true
    [[ -n "${SERVER_PID:-}" ]] && kill "$SERVER_PID" 2>/dev/null || true
    if [[ -n "${KEEP:-}" ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

command -v tmux >/dev/null || { echo "tmux is not installed"; exit 2; }

# --- the feed server ------------------------------------------------------------------------

cat >"$WORK/serve.py" <<'PY'
"""Two feeds with hostile titles and one broken feed, on a loopback port."""
import json, sys, time
from tests.support.servers import FeedServer, static

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>World</title><link>http://example.com/</link>
<language>en</language>{items}</channel></rss>"""
ITEM = "<item><title>{t}</title><link>http://example.com/{n}</link><guid>w{n}</guid><pubDate>{d}</pubDate><description>Summary {n}: {t}</description></item>"
titles = ["[@click=app.quit]x[/]", "[ @click=app.quit]x[/]", "Price [/b] drop", "[link=https://x]y",
          "[red]red?[/red]", "[/]", "Calm headline about the weather"]
now = time.time()
def date(n): return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(now - 600 * n))
def esc(s): return s.replace("&", "&amp;").replace("<", "&lt;")
rss = RSS.format(items="".join(ITEM.format(t=esc(t), n=n, d=date(n)) for n, t in enumerate(titles)))
hostile = ["A\x1b]52;c;SGVsbG8=\x07B", "C\x1b]8;;http://x\x1b\\D", "E\x1b[2JF", "G\x9b31mH", "I\u202eJ"]
feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Hostile", "language": "en",
        "items": [{"id": f"h{n}", "url": f"http://example.com/h{n}", "title": t,
                   "content_text": f"Body {n}: {t}\n\nSecond paragraph.",
                   "date_published": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 300 * n - 60))}
                  for n, t in enumerate(hostile)]}
srv = FeedServer().start()
srv.route("/world.xml", static(rss.encode()))
srv.route("/hostile.json", static(json.dumps(feed).encode(), content_type="application/feed+json"))
srv.route("/broken.xml", static(b"oops", status=500, content_type="text/plain"))
print(srv.base, flush=True)
open(sys.argv[1], "w").write(srv.base)
while True:
    time.sleep(3600)
PY

cd "$ROOT"
PYTHONPATH="$ROOT" uv run python "$WORK/serve.py" "$WORK/base" >/dev/null 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do [[ -s "$WORK/base" ]] && break; sleep 0.1; done
BASE=$(cat "$WORK/base")

# --- helpers ----------------------------------------------------------------------------------

fail() { echo "  FAIL: $*"; FAILED=1; }
pane() { "${TM[@]}" capture-pane -p -t "$1"; }
wait_for() {  # session text [seconds]
    local n=$(( ${3:-20} * 10 ))
    for _ in $(seq "$n"); do
        pane "$1" 2>/dev/null | grep -qF -- "$2" && return 0
        sleep 0.1
    done
    fail "timed out waiting for '$2'"
    pane "$1" || true
    return 1
}
expect() { pane "$1" | grep -qF -- "$2" || { fail "'$2' not on screen"; pane "$1"; }; }
expect_not() { pane "$1" | grep -qF -- "$2" && { fail "'$2' on screen"; pane "$1"; } || true; }
keys() { local s=$1; shift; "${TM[@]}" send-keys -t "$s" "$@"; sleep 0.5; }

run() {  # name width height [env...]
    local name=$1 width=$2 height=$3; shift 3
    local dir="$WORK/$name"
    mkdir -p "$dir"
    cat >"$dir/config.toml" <<TOML
[storage]
path = "store"

[poll]
interval = "10m"
timeout = "5s"

[[sources]]
name = "World [b]News[/b]"
url = "$BASE/world.xml"
full_text = false  # the links lead to example.com

[[sources]]
name = "Hostile"
url = "$BASE/hostile.json"
full_text = false  # the links lead to example.com

[[sources]]
name = "Broken"
url = "$BASE/broken.xml"
full_text = false  # the links lead to example.com

[filters]
1 = { name = "Prices", query = "price" }

[keys]
"app.sources" = "s,S"
TOML
    echo "== $name (${width}x${height}${*:+, $*})"
    "${TM[@]}" new-session -d -s "$name" -x "$width" -y "$height" \
        "cd '$ROOT' && env TERM=screen-256color $* uv run monitor --config '$dir/config.toml'; echo \"exit=\$?\" > '$dir/exit'; sleep 30"
    "${TM[@]}" set-option -t "$name" set-clipboard on >/dev/null
    "${TM[@]}" pipe-pane -o -t "$name" "cat >> '$dir/raw'"

    wait_for "$name" "last poll" 30 || return 0
    sleep 1
    pane "$name" >"$dir/start.txt"
    expect "$name" "Price [/b] drop"
    expect "$name" "[@click=app.quit]x[/]"
    expect "$name" "Calm headline"
    # The poller's normalizer drops control characters one by one, so an OSC 52's
    # parameters may remain as inert text; only the escape bytes matter (checked below).
    pane "$name" | grep -qF "SGVsbG8" && echo "  note: OSC 52 parameters shown as text (normalizer)"
    expect "$name" "1 failing"

    keys "$name" j j k
    keys "$name" /
    "${TM[@]}" send-keys -t "$name" -l "price"
    sleep 0.6
    keys "$name" Enter
    expect "$name" "filter: price"
    expect "$name" "1/"
    keys "$name" Escape
    expect_not "$name" "filter:"
    keys "$name" 1
    expect "$name" "filter: 1: Prices"
    keys "$name" 1

    keys "$name" /
    "${TM[@]}" send-keys -t "$name" -l "price (calm"
    sleep 0.6
    expect "$name" "this parenthesis is never closed"
    keys "$name" Escape

    keys "$name" s
    expect "$name" "Sources:"
    expect "$name" "HTTP error 500"
    pane "$name" >"$dir/sources.txt"
    keys "$name" Escape
    keys "$name" "?"
    expect "$name" "app.poll"
    expect "$name" "s, S"          # the [keys] override shows in the help
    pane "$name" >"$dir/help.txt"
    keys "$name" Escape

    # the article of the newest hostile item
    keys "$name" /
    "${TM[@]}" send-keys -t "$name" -l "source:hostile"
    sleep 0.6
    keys "$name" Enter
    keys "$name" g
    keys "$name" Enter
    expect "$name" "Body 0: A"
    expect "$name" "Second paragraph."
    pane "$name" >"$dir/article.txt"
    "${TM[@]}" capture-pane -e -p -t "$name" >"$dir/article.ansi"

    keys "$name" q
    for _ in $(seq 50); do [[ -s "$dir/exit" ]] && break; sleep 0.1; done
    [[ "$(cat "$dir/exit" 2>/dev/null)" == "exit=0" ]] || fail "exit status: $(cat "$dir/exit" 2>/dev/null || echo none)"
    "${TM[@]}" kill-session -t "$name" 2>/dev/null || true

    # nothing from the feeds reached the terminal as control sequences
    python3 - "$dir/raw" <<'PY' || FAILED=1
import sys
raw = open(sys.argv[1], "rb").read()
bad = {b"\x1b]52": "OSC 52", b"\x1b]8;;http://x": "OSC 8 to http://x", b"\xc2\x9b": "C1 CSI",
       b"\x9b31m": "C1 CSI 31m", b"\xe2\x80\xae": "U+202E", b"\x1b[2J": "clear screen"}
found = [name for seq, name in bad.items() if seq in raw]
if found:
    print("  FAIL: raw output holds", ", ".join(found)); sys.exit(1)
print(f"  raw output: {len(raw)} bytes, no feed escape sequence")
PY
    if "${TM[@]}" show-buffer 2>/dev/null | grep -q Hello; then fail "OSC 52 reached tmux's clipboard"; fi
    if [[ " $* " == *" NO_COLOR=1 "* ]]; then
        # Textual renders NO_COLOR as monochrome: greys only, no hue.
        python3 - "$dir/article.ansi" <<'PY' || FAILED=1
import re, sys
ansi = open(sys.argv[1], encoding="utf-8", errors="replace").read()
hues = []
for params in re.findall(r"\x1b\[([0-9;]*)m", ansi):
    p = [int(x) for x in params.split(";") if x]
    i = 0
    while i < len(p):
        if p[i] in (38, 48) and i + 2 < len(p) and p[i + 1] == 5:
            if not (p[i + 2] in (0, 7, 8, 15, 16, 231) or p[i + 2] >= 232):
                hues.append(p[i + 2])
            i += 3
        elif p[i] in (38, 48) and i + 4 < len(p) and p[i + 1] == 2:
            if len(set(p[i + 2 : i + 5])) > 1:
                hues.append(tuple(p[i + 2 : i + 5]))
            i += 5
        else:
            if 31 <= p[i] <= 36 or 41 <= p[i] <= 46 or 91 <= p[i] <= 96 or 101 <= p[i] <= 106:
                hues.append(p[i])
            i += 1
if hues:
    print("  FAIL: colours despite NO_COLOR:", sorted(set(map(str, hues)))[:10]); sys.exit(1)
print("  NO_COLOR: greys only")
PY
    fi
}

run wide 120 40
run small 80 24
run nocolor 120 40 NO_COLOR=1

if [[ $FAILED -ne 0 ]]; then
    echo "tmux check: FAILED"
    KEEP=1
    exit 1
fi
echo "tmux check: ok"
