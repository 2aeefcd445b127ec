#!/usr/bin/env bash
# The Grafana dashboards (Grafana itself cannot be installed here): the JSON follows the rules
# (templated datasource, label_values() variables, a unit on every panel) and matches its
# generator; then a real Prometheus, in the kent-nhs appliance's namespace of the lab, scrapes
# that appliance's fedprobe with the shipped recording rules, and every dashboard expression,
# every variable and every recording rule must return data (with one lab fault on, so failure
# panels have something to show). kent-psn's appliance runs too, so its STAMP reflector
# answers kent-nhs's stamp probe. The console templates in consoles/ are served by the same
# Prometheus and checked too.
export FEDPROBE_LAB="fpd$$"
source "$(dirname "$0")/lab_lib.sh"
PY=/usr/bin/python3
DASH="$SOURCE_ROOT/dashboards"

"$PY" "$DASH/make_dashboards.py" "$WORK" >/dev/null
for f in "$DASH"/*.json; do
    cmp -s "$f" "$WORK/$(basename "$f")" || fail "$(basename "$f") differs from what make_dashboards.py writes"
done
"$PY" - "$DASH"/*.json <<'PY' || fail "the dashboards break the rules"
import json, sys
problems = []
for path in sys.argv[1:]:
    d = json.load(open(path))
    name = path.rsplit("/", 1)[-1]
    variables = d["templating"]["list"]
    if not any(v["name"] == "datasource" and v["type"] == "datasource" for v in variables):
        problems.append(f"{name}: no datasource variable")
    for v in variables:
        if v["type"] == "query" and not v["query"]["query"].startswith("label_values("):
            problems.append(f"{name}: variable {v['name']} is not label_values()")
    ids = [p["id"] for p in d["panels"]]
    if len(ids) != len(set(ids)):
        problems.append(f"{name}: panel ids repeat")
    for p in d["panels"]:
        if p["datasource"].get("uid") != "${datasource}":
            problems.append(f"{name}: panel {p['title']!r} has a fixed datasource")
        if not p["fieldConfig"]["defaults"].get("unit"):
            problems.append(f"{name}: panel {p['title']!r} has no unit")
        for t in p["targets"]:
            if t["datasource"].get("uid") != "${datasource}":
                problems.append(f"{name}: a query of {p['title']!r} has a fixed datasource")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
pass "4 dashboards: templated datasource, label_values() variables, a unit on every panel; as generated"

"$LABD/federation" up
# One fault on, so the panels of failures have something to show: NHS sites lose their route to
# brighton-psn, and kent-nhs's flow trusts-to-councils-smtp is blocked.
"$LABD/fault" route-withdrawn on >/dev/null
sed -e 's/^interval = "5s"/interval = "2s"/' -e "s|/run/fedprobe-lab/fpl/|$STATE/|g" "$LABD/federation.toml" >"$WORK/fed.toml"
cat >>"$WORK/fed.toml" <<TOML

[[targets]]
id = "kent-psn-idle"
network = "kent-psn"
address = "${SVC_IP[kp]}"
probes = ["idle:https"]
interval = "2s"
idle = { min = "1s", max = "3s" }
TOML
in_ns kn-app "$FEDPROBE" run --config "$WORK/fed.toml" --site kent-nhs >"$WORK/kn.log" 2>&1 &
PIDS+=($!)
in_ns kp-app "$FEDPROBE" run --config "$WORK/fed.toml" --site kent-psn >"$WORK/kp.log" 2>&1 &
PIDS+=($!)
# The recording rules as shipped, the monthly group evaluated every few seconds for the test.
sed 's/^    interval: 5m$/    interval: 5s/' "$SOURCE_ROOT/alerts/fedprobe.recording.yml" >"$WORK/recording.yml"
cat >"$WORK/prometheus.yml" <<YML
global: {scrape_interval: 2s, evaluation_interval: 2s}
rule_files: [$WORK/recording.yml]
scrape_configs:
  - job_name: fedprobe
    honor_labels: true
    static_configs: [{targets: ["127.0.0.1:9641"], labels: {site: kent-nhs}}]
YML
mkdir -p "$WORK/console_libraries"  # the consoles need none
in_ns kn-app prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address=127.0.0.1:9090 --web.console.templates="$SOURCE_ROOT/consoles" \
    --web.console.libraries="$WORK/console_libraries" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
# Data for 5-minute rates needs two scrapes; paths, MTU and idle bounds need a round or two.
sleep 40

in_ns kn-app "$PY" - "$DASH"/*.json "$WORK/recording.yml" <<'PY' || fail "expressions without data"
import json, re, sys, time, urllib.parse, urllib.request
API = "http://127.0.0.1:9090/api/v1/"

def get(path):
    with urllib.request.urlopen(API + path, timeout=10) as r:
        return json.load(r)

def query(expr):
    return get("query?" + urllib.parse.urlencode({"query": expr}))["data"]["result"]

exprs, variables = [], []
for path in sys.argv[1:-1]:
    d = json.load(open(path))
    for v in d["templating"]["list"]:
        if v["type"] == "query":
            variables.append(v["query"]["query"])
    for p in d["panels"]:
        for t in p["targets"]:
            exprs.append((path.rsplit("/", 1)[-1], p["title"], t["expr"]))
records = re.findall(r"^\s*- record: (\S+)", open(sys.argv[-1]).read(), re.M)

def concrete(expr):  # Grafana's variables as "all values" and its rate interval
    return expr.replace("$__rate_interval", "1m").replace('"$site"', '".*"').replace(
        '"$network"', '".*"').replace('"$target"', '".*"')

deadline = time.time() + 120
while True:
    missing = [f"{name} / {title}: {e}" for name, title, e in exprs
               if not query(concrete(e))]
    missing += [f"recording rule {r}" for r in records if not query(r)]
    for v in variables:
        m = re.match(r"label_values\((\w+)\{[^}]*\}, (\w+)\)", v)
        if not get(f"label/{m.group(2)}/values?match[]={m.group(1)}")["data"]:
            missing.append(f"variable {v}")
    if not missing or time.time() > deadline:
        break
    time.sleep(5)
print("\n".join(missing) if missing else
      f"{len(exprs)} panel expressions, {len(records)} recording rules and {len(variables)} "
      f"variables return data")
sys.exit(1 if missing else 0)
PY
pass "every panel expression, variable and recording rule returns data from a real Prometheus scraping the lab"

# The console templates, for sites without Grafana, served by the same Prometheus.
page() { in_ns kn-app curl -sf --max-time 10 "http://127.0.0.1:9090/consoles/$1"; }
matrix=$(page fedprobe.html) || fail "consoles/fedprobe.html is not served"
grep -q '<tr><th>kent-nhs</th>' <<<"$matrix" || fail "the matrix has no row for kent-nhs"
grep -Eq 'class="bad" data-site="kent-nhs" data-network="brighton-psn"' <<<"$matrix" \
    || { grep -o 'class="[a-z]*" data-site="kent-nhs" data-network="[a-z-]*"' <<<"$matrix" >&2; fail "kent-nhs -> brighton-psn (route withdrawn) is not a bad cell"; }
grep -Eq 'class="ok" data-site="kent-nhs" data-network="kent-psn"><a href="fedprobe-link.html\?site=kent-nhs&network=kent-psn">compliant</a><br><small>probes as expected [0-9.]+%</small>' <<<"$matrix" \
    || fail "kent-nhs -> kent-psn has a green cell (its flows comply), its probes' success and a link"
# The services the policy denies into surrey-psn (rdp, mllp, dicom) are stopped, as expected:
# the cell is green and its probes all as expected, and "Failing now" leaves them out, listing
# them only on request.
grep -Eq 'class="ok" data-site="kent-nhs" data-network="surrey-psn"><a [^>]*>compliant</a><br><small>probes as expected 100%</small>' <<<"$matrix" \
    || fail "kent-nhs -> surrey-psn (denied services stopped) is green with its probes 100% as expected"
section() {  # the rows of the table with this id
    sed -n "/<table id=\"$1\">/,/<\/table>/p"
}
section failing <<<"$matrix" | grep -q '<td>surrey-psn-svc</td><td>surrey-psn</td><td>tcp:rdp</td>' \
    && fail "Failing now lists surrey-psn-svc tcp:rdp, which the policy denies and which is stopped"
section failing <<<"$matrix" | grep -q '<td>brighton-psn-svc</td>' \
    || fail "Failing now lists brighton-psn-svc (route withdrawn)"
grep -q 'more fail as expected' <<<"$matrix" || fail "the matrix says how many fail as expected"
expected_page=$(page "fedprobe.html?expected=1") || fail "fedprobe.html?expected=1 is not served"
section expected-failing <<<"$expected_page" | grep -q '<td>surrey-psn-svc</td><td>surrey-psn</td><td>tcp:rdp</td><td>filtered</td><td>deny (flow:no-rdp-into-surrey-psn)</td>' \
    || fail "on request, the expected failures are listed with what was expected and why"
grep -q "trusts-to-councils-smtp" <<<"$matrix" || fail "the blocked flow is listed"
link=$(page "fedprobe-link.html?site=kent-nhs&network=brighton-psn") || fail "consoles/fedprobe-link.html is not served"
grep -q 'data-target="brighton-psn-svc"' <<<"$link" || fail "the link page lists brighton-psn's targets"
grep -q "unreachable, reported by" <<<"$link" || fail "the link page says how and who"
# Each trace's hops (one <ol> per path job) by TTL, in numeric order.
LINK="$link" python3 -c '
import os, re, sys
lists = [[int(t) for t in re.findall(r"\(TTL (\d+)\)", ol)] for ol in os.environ["LINK"].split("<ol>")[1:]]
lists = [l for l in lists if l]
sys.exit(0 if lists and all(l == sorted(l) for l in lists) else "hops by TTL: %s" % lists)' \
    || fail "the link page lists each trace's hops by TTL, in numeric order"
# Each row's figures are its target's own: two http:https targets of kent-psn, one healthy and
# one broken on purpose (a 500, as declared), show 100% and 0%, the second failing as expected.
kp_link=$(page "fedprobe-link.html?site=kent-nhs&network=kent-psn") || fail "the kent-psn link page is not served"
row() { tr -d '\n' <<<"$kp_link" | grep -o "<tr data-target=\"$1\"><td>$1</td><td>http:https</td>[^\n]*" | sed 's|</tr>.*||'; }
row kent-psn-portal | grep -q '<td>100%</td>' || fail "kent-psn-portal's own success is not 100%: $(row kent-psn-portal)"
row kent-psn-portal-error | grep -q 'failed, as expected</td><td>0%</td>' \
    || fail "kent-psn-portal-error's own success is not 0%, failing as expected: $(row kent-psn-portal-error)"
pass "console templates: the matrix (kent-nhs -> brighton-psn bad), failures, flows, and a link's page with each target's own figures"

# The matrix as a browser shows it, with the fault on: headless Chromium in the namespace the
# Prometheus serves from. doc/console-matrix.png, which the README shows, is one of these.
ARTIFACTS=${ARTIFACTS:-$WORK}
mkdir -p "$ARTIFACTS"
in_ns kn-app timeout 60 chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --no-first-run --user-data-dir="$WORK/chromium" --hide-scrollbars --window-size=1280,900 \
    --screenshot="$ARTIFACTS/console_matrix.png" "http://127.0.0.1:9090/consoles/fedprobe.html" \
    >/dev/null 2>>"$WORK/chromium.log" || { tail -20 "$WORK/chromium.log"; fail "chromium could not load the matrix"; }
[ -s "$ARTIFACTS/console_matrix.png" ] || fail "no screenshot of the matrix"
pass "screenshot of the matrix: $ARTIFACTS/console_matrix.png"
