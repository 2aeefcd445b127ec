# Shared by the tests that run fedprobe in the lab federation: a private lab (FEDPROBE_LAB set
# by the caller), the lab's config made faster, daemons in chosen appliances, and cleanup.
set -euo pipefail
: "${FEDPROBE:?}" "${SOURCE_ROOT:?}" "${FEDPROBE_LAB:?}"
LABD="$SOURCE_ROOT/lab"
source "$LABD/common.sh"
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    "$LABD/federation" down >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() {
    local f
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
    echo "FAIL: $*" >&2  # last: CI shows a failing test's output from its end
    exit 1
}
pass() { echo "ok: $*"; }

# The lab's federation file with its state paths, cut before its targets and flows: the
# networks, services and settings, for a test that adds only the targets it means.
lab_config_without_targets() {  # output file
    sed -e '/^\[\[targets\]\]/,$d' -e "s|/run/fedprobe-lab/fpl/|$STATE/|g" "$LABD/federation.toml" >"$1"
}

# org codes...: the lab up, a daemon per appliance, probing every second; LAB_PATH_INTERVAL, when
# set, replaces the lab's 30 s path interval (path.mtu's search included). LAB_AS_DEMO set: the
# lab's own intervals, as tools/demo runs it (the benchmarks of a clean lab).
start_lab_daemons() {
    "$LABD/federation" up
    if [ -n "${LAB_AS_DEMO:-}" ]; then
        sed -e "s|/run/fedprobe-lab/fpl/|$STATE/|g" "$LABD/federation.toml" >"$WORK/fed.toml"
    else
        sed -e 's/^interval = "5s"/interval = "1s"/' -e 's/^timeout = "1s"/timeout = "700ms"/' \
            -e "s/interval = \"30s\"/interval = \"${LAB_PATH_INTERVAL:-30s}\"/" \
            -e "s|/run/fedprobe-lab/fpl/|$STATE/|g" "$LABD/federation.toml" >"$WORK/fed.toml"
    fi
    for o in "$@"; do
        ip netns exec "$(ns "$o-app")" "$FEDPROBE" run --config "$WORK/fed.toml" --site "${ID[$o]}" >"$WORK/$o.log" 2>&1 &
        PIDS+=($!)
    done
}
scrape() { in_ns "$1-app" curl -sf --max-time 3 http://127.0.0.1:9641/metrics; }

# cases.json case port: which of the four surfaces (the source's appliance page, an alert pending
# or firing in the central Prometheus on the host's port, the console, the verdict series) name
# where and who for a case: {"ns", "site", "flow", "owner", "page": [texts in one row or path],
# "alert": [alertname, text of its summary], "where": text of the verdict's where}. Why one
# did not goes to $WORK/named-CASE.log.
named_by() {
    local ns page PROM=$3
    ns=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]]["ns"])' "$1" "$2")
    page=$(in_ns "$ns-app" curl -sf --max-time 10 http://127.0.0.1:9641/ || true)
    PAGE=$page \
    RULES=$(curl -sf --max-time 5 "http://127.0.0.1:$PROM/api/v1/alerts" || true) \
    CONSOLE=$(curl -sf --max-time 5 "http://127.0.0.1:$PROM/consoles/fedprobe.html" || true) \
    VERDICT=$(curl -sf --max-time 5 "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=fedprobe_federation_fault_info" || true) \
    /usr/bin/python3 - "$1" "$2" 2>"$WORK/named-$2.log" <<'PY'
import json, os, re, sys
c = json.load(open(sys.argv[1]))[sys.argv[2]]
got = []
blocks = re.findall(r"<tr[^>]*>.*?</tr>|<h3 .*?</h3>", os.environ["PAGE"], re.S)
if any(all(t in b for t in c["page"]) for b in blocks):
    got.append("page")
try:
    alerts = json.loads(os.environ["RULES"])["data"]["alerts"]
except (ValueError, KeyError):
    alerts = []
name, text = c["alert"]
if any(a["labels"]["alertname"] == name and c["site"] in (a["labels"].get("site"), a["labels"].get("from_site"))
       and text in a["annotations"].get("summary", "") for a in alerts):
    got.append("alert")
else:
    print("alerts:", [a["annotations"].get("summary") for a in alerts if a["labels"]["alertname"] == name], file=sys.stderr)
rows = re.findall(r"<tr>.*?</tr>", os.environ["CONSOLE"], re.S)
if any(f"<td>{c['site']}</td><td>{c['flow']}</td>" in r and c["where"] in r and f"<td>{c['owner']}</td>" in r for r in rows):
    got.append("console")
try:
    result = json.loads(os.environ["VERDICT"])["data"]["result"]
except (ValueError, KeyError):
    result = []
if any(r["metric"].get("flow") == c["flow"] and r["metric"].get("from_site") == c["site"]
       and r["metric"].get("owner") == c["owner"] and c["where"] in r["metric"].get("where", "") for r in result):
    got.append("verdict")
else:
    print("verdicts:", [r["metric"] for r in result if r["metric"].get("flow") == c["flow"]], file=sys.stderr)
print(" ".join(got))
PY
}

# cases.json port bound case...: waits until every surface names where and who for each case
# (named_by), up to `bound` seconds, and prints how long each surface took.
phase() {
    local cases=$1 port=$2 bound=$3 k s all started=$SECONDS
    shift 3
    local -A seen now
    while ((SECONDS - started < bound)); do
        all=1
        for k in "$@"; do
            now[$k]=$(named_by "$cases" "$k" "$port")
            for s in ${now[$k]}; do [ -n "${seen[$k-$s]:-}" ] || seen[$k-$s]=$((SECONDS - started)); done
            [ "${now[$k]}" = "page alert console verdict" ] || all=0
        done
        ((all)) && break
        sleep 3
    done
    for k in "$@"; do
        for s in page alert console verdict; do
            [ -n "${seen[$k-$s]:-}" ] || fail "$k: the $s does not name where and who within $bound s (named: ${now[$k]}; $(cat "$WORK/named-$k.log"))"
        done
        pass "$k: page ${seen[$k-page]} s, alert ${seen[$k-alert]} s, console ${seen[$k-console]} s, verdict ${seen[$k-verdict]} s after the phase began name where and the owner"
    done
}
