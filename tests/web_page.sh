#!/usr/bin/env bash
# The status page at / in a real browser: headless Chromium loads it from the daemon (behind
# basic auth, in a private namespace), and the test reads the rendered DOM for the expected
# targets, outcomes, path and flows, and checks that HTML in a note and in a target label is
# shown as text. A screenshot is kept in $ARTIFACTS (default: the work directory, printed).
source "$(dirname "$0")/lib.sh"
make_ns
ARTIFACTS=${ARTIFACTS:-$WORK}
mkdir -p "$ARTIFACTS"

HASH=$(bcrypt_hash s3cret)
cat >"$WORK/fed.toml" <<TOML
[fedprobe]
site = "kent-nhs"
interval = "1s"
timeout = "300ms"
[fedprobe.web]
basic_auth_users = { noc = "$HASH" }
[[networks]]
id = "kent-nhs"
prefixes = ["127.0.0.0/16"]
[[networks]]
id = "surrey-psn"
prefixes = ["127.1.0.0/16"]
[services]
https = { proto = "tcp", port = 8443 }
rdp = { proto = "tcp", port = 3389 }
[[targets]]
id = "surrey-epr"
network = "surrey-psn"
address = "127.1.0.10"
probes = ["tcp:https", "tcp:rdp", "path"]
labels = { role = "<b>epr</b>" }
path = { interval = "1s", max_ttl = 3 }
[[flows]]
id = "no-rdp"
from = ["kent-nhs"]
to = "surrey-epr"
service = "rdp"
expect = "deny"
note = "<script>alert('x')</script> CHG-42 & more"
TOML
accept_and_close "$NS" 8443
start_daemon "$WORK/fed.toml"
SCRAPE_USER=noc:s3cret wait_for_metric 'fedprobe_flow_compliant\{[^}]*flow="no-rdp"[^}]*\} 0' 15
SCRAPE_USER=noc:s3cret wait_for_metric 'fedprobe_path_reached\{[^}]*\} 1' 15

code=$(in_ns curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9641/)
[ "$code" = 401 ] || fail "/ without credentials: $code, wanted 401"
type=$(in_ns curl -s -o /dev/null -u noc:s3cret -w '%{content_type}' http://127.0.0.1:9641/)
[ "$type" = "text/html; charset=utf-8" ] || fail "/ is HTML: $type"
pass "/ behind basic auth, text/html"

browser() {  # chromium in the namespace, headless, as root
    in_ns timeout 60 chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --user-data-dir="$WORK/chromium" "$@" 2>>"$WORK/chromium.log"
}
url="http://noc:s3cret@127.0.0.1:9641/"
browser --dump-dom "$url" >"$WORK/dom.html" || { tail -20 "$WORK/chromium.log"; fail "chromium could not load the page"; }
/usr/bin/python3 - "$WORK/dom.html" <<'PY' || fail "the rendered DOM does not show what the daemon probes"
import sys
from html.parser import HTMLParser

class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.scripts, self.text, self.hops, self.in_li = [], 0, [], 0, False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "tr" and "data-probe" in a:
            self.rows.append((a["data-target"], a["data-probe"], a["data-outcome"]))
        if tag == "tr" and "data-flow" in a:
            self.rows.append(("flow", a["data-flow"], a.get("class")))
        if tag == "li":
            self.hops += 1
    def handle_data(self, data):
        self.text.append(data)

d = Dom()
d.feed(open(sys.argv[1]).read())
text = "".join(d.text)
want = [("surrey-epr", "tcp:https", "ok"), ("surrey-epr", "tcp:rdp", "refused"),
        ("flow", "no-rdp", "bad")]
problems = [f"no row {w}" for w in want if w not in d.rows]
if d.rows and d.rows[0][2] == "ok":
    problems.append(f"failing probes come first, got {d.rows[0]}")
if d.scripts:
    problems.append("a <script> element made it into the DOM: a note was not escaped")
for literal in ["<script>alert('x')</script> CHG-42 & more", "role=<b>epr</b>", "fedprobe at kent-nhs",
                "open_path", "127.1.0.10 (surrey-psn)"]:
    if literal not in text:
        problems.append(f"the page does not show {literal!r} as text")
if d.hops < 1:
    problems.append("the traced path has no hops")
print("\n".join(problems) if problems else f"rows: {d.rows}; hops: {d.hops}")
sys.exit(1 if problems else 0)
PY
pass "Chromium renders targets x probes with outcomes, the path, and the flow's verdict; HTML in a note and a label is text"

browser --screenshot="$ARTIFACTS/status_page.png" --window-size=1280,800 "$url" >/dev/null
[ -s "$ARTIFACTS/status_page.png" ] || fail "no screenshot"
pass "screenshot: $ARTIFACTS/status_page.png"
