#!/usr/bin/env bash
# The federation's central Prometheus and Alertmanager in the lab (lab/central), configured by
# `fedprobe export prometheus` from the lab's own federation file: they scrape all six
# appliances over the management network and are reachable on the host's loopback. A lab fault
# (rdp-opened: a change lets RDP into kent-nhs, which the policy denies) makes the matching alert
# fire, and Alertmanager routes it to the organisations at both ends of the flow.
export FEDPROBE_LAB="fpa$$"
source "$(dirname "$0")/lab_lib.sh"
start_lab_daemons kn sn xn kp sp bp
PROM=$((20000 + $$ % 10000))
AM=$((PROM + 1))
FEDPROBE="$FEDPROBE" "$LABD/central" up "$PROM" "$AM" >"$WORK/central.log" || { cat "$WORK/central.log"; fail "lab/central up"; }
grep -q "http://127.0.0.1:$PROM/" "$WORK/central.log" || fail "central prints its Prometheus URL"

query() { curl -sf --max-time 5 "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" \
    | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'; }
for _ in $(seq 1 60); do
    [ "$(query 'count(up{job="fedprobe"} == 1)' 2>/dev/null)" = 6 ] && break
    sleep 1
done
[ "$(query 'count(up{job="fedprobe"} == 1)')" = 6 ] || fail "the central Prometheus scrapes all six appliances: $(query 'count(up{job="fedprobe"} == 1)')"
[ "$(query 'count(count by (site) (fedprobe_probe_success))')" = 6 ] || fail "series from six sites"
pass "central Prometheus on the host's loopback scrapes the six appliances over the management network"

"$LABD/fault" rdp-opened on >/dev/null
alerts() { curl -sf --max-time 5 "http://127.0.0.1:$AM/api/v2/alerts" -G --data-urlencode 'filter=alertname="FedprobeDenyFlowViolation"'; }
started=$SECONDS
for _ in $(seq 1 60); do
    [ "$(alerts | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)" -gt 0 ] 2>/dev/null && break
    sleep 5
done
alerts >"$WORK/alerts.json" || fail "Alertmanager answers"
/usr/bin/python3 - "$WORK/alerts.json" <<'PY' || fail "the violation did not reach Alertmanager routed to both ends"
import json, sys
alerts = json.load(open(sys.argv[1]))
flows = {(a["labels"]["site"], a["labels"]["flow"]) for a in alerts}
receivers = {r["name"] for a in alerts for r in a["receivers"]}
print(f"{len(alerts)} alert(s): {sorted(flows)}; receivers {sorted(receivers)}")
ok = any(f == "no-rdp-from-councils" for _, f in flows) and "org-kent-nhs" in receivers \
    and "noc" in receivers and any(r in receivers for r in ("org-kent-psn", "org-surrey-psn", "org-brighton-psn"))
sys.exit(0 if ok else 1)
PY
pass "rdp-opened: FedprobeDenyFlowViolation firing in Alertmanager $((SECONDS - started)) s after the fault, routed to kent-nhs, the councils and the NOC"
