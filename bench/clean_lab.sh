#!/usr/bin/env bash
# The clean lab for MINUTES (default 10) as the demo runs it, with the central Prometheus and
# Alertmanager (lab/central: the shipped rules, blame --serve): #31's goal is no alert firing,
# no matrix cell red and no federation verdict over the whole window, and every probe ending as
# the config expects. Prints what broke the goal, with when, and exits 1 if anything did.
#   sudo bench/clean_lab.sh build/daemon/fedprobe [MINUTES]
set -euo pipefail
export FEDPROBE=$(realpath "$1") SOURCE_ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=${2:-10}
export FEDPROBE_LAB="fpc$$"
source "$SOURCE_ROOT/tests/lab_lib.sh"
LAB_AS_DEMO=1 start_lab_daemons kn sn xn kp sp bp >/dev/null
PROM=$((20000 + $$ % 10000))
FEDPROBE="$FEDPROBE" "$LABD/central" up "$PROM" $((PROM + 1)) >"$WORK/central.log" || { cat "$WORK/central.log"; exit 1; }
sleep 90  # every probe, trace and STAMP session has run a round, and Prometheus scraped it
start=$(date -u +%H:%M:%S)
sleep $((MINUTES * 60))
echo "clean lab, $MINUTES min from $start UTC, six appliances, central Prometheus every 15 s:"
bad=0
check() {  # what query (any result breaks the goal unless $3 = info)
    local out
    out=$(curl -sf --max-time 10 "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$2" | /usr/bin/python3 -c '
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    m = r["metric"]; m.pop("__name__", None)
    print("    " + " ".join(f"{k}={v}" for k, v in sorted(m.items())))')
    echo "  $1: $( [ -z "$out" ] && echo none || echo "$(wc -l <<<"$out")")"
    [ -z "$out" ] && return
    echo "$out"
    [ "${3:-}" = info ] || bad=1
}
W="${MINUTES}m"
check "alerts firing at any evaluation" "max_over_time(ALERTS{alertstate=\"firing\"}[$W])"
check "alerts pending at any evaluation (never firing)" "max_over_time(ALERTS{alertstate=\"pending\"}[$W]) unless on(alertname) max_over_time(ALERTS{alertstate=\"firing\"}[$W])" info
check "matrix cells not compliant at any evaluation" "min_over_time(fedprobe:network_compliance:min[$W]) < 1"
check "federation verdicts at any scrape" "max_over_time(fedprobe_federation_fault_info[$W])"
check "probes not as expected at any scrape" "min_over_time(fedprobe_probe_as_expected[$W]) == 0"
n=$(curl -sf "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=count(fedprobe_probe_as_expected)" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
echo "  ($n probes judged; the lab's expected failures, as lab/README.md lists them, count as expected)"
"$LABD/central" down >/dev/null 2>&1 || true
[ $bad = 0 ] && echo "clean lab: PASS" || { echo "clean lab: FAIL"; exit 1; }
