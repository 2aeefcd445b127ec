#!/usr/bin/env bash
# The federation's central Prometheus and Alertmanager in the lab (lab/central), configured by
# `fedprobe export prometheus` from the lab's own federation file: they scrape all six
# appliances over the management network and are reachable on the host's loopback. A lab fault
# (rdp-opened: a change lets RDP into kent-nhs, which the policy denies) makes the matching alert
# fire, and Alertmanager routes it to the organisations at both ends of the flow. The federation's
# verdicts come from the same Prometheus: `fedprobe blame --prometheus` reads its API, and
# `blame --serve` (which lab/central starts) gives FedprobeFederationFault, paged to the owner.
# Then a silent drop and a route lost in transit: every surface names where and who (#31).
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

# The healthy lab, from the central Prometheus's API: no verdict.
rc=0
"$FEDPROBE" blame --config "$WORK/fed.toml" --prometheus "http://127.0.0.1:$PROM" >"$WORK/blame.txt" 2>&1 || rc=$?
[ $rc = 0 ] || fail "blame --prometheus on the healthy lab exits $rc: $(cat "$WORK/blame.txt")"
grep -q "6 appliances answered" "$WORK/blame.txt" || fail "blame --prometheus hears all six sites: $(cat "$WORK/blame.txt")"
pass "blame --prometheus: the six appliances' evidence from the central Prometheus, no verdict in the healthy lab"

# The healthy lab (#31): no alerting rule pending or firing at an evaluation after every
# appliance has run its rounds, no probe that ends otherwise than the config expects (the
# services the policy denies, the lab's targets broken on purpose and surrey-nhs's blocked ICMP
# are expected), and no matrix cell that is not compliant.
ready=$(($(date +%s) + 12))  # a round of every job (stamp: 10 s), scraped
evaluated() {
    curl -sf --max-time 5 "http://127.0.0.1:$PROM/api/v1/rules" | /usr/bin/python3 -c '
import json, sys
from datetime import datetime
groups = json.load(sys.stdin)["data"]["groups"]
def t(s): return datetime.fromisoformat(s[:26].rstrip("Z")).timestamp() if s[:4] != "0001" else 0
alerting = [g for g in groups if any(r["type"] == "alerting" for r in g["rules"])]
print(min(t(g["lastEvaluation"]) for g in alerting) > float(sys.argv[1]))' "$ready"
}
for _ in $(seq 1 60); do [ "$(evaluated 2>/dev/null)" = True ] && break; sleep 1; done
[ "$(evaluated)" = True ] || fail "the rules were not evaluated after the appliances' rounds"
active=$(curl -sf --max-time 5 "http://127.0.0.1:$PROM/api/v1/rules?type=alert" | /usr/bin/python3 -c '
import json, sys
for g in json.load(sys.stdin)["data"]["groups"]:
    for r in g["rules"]:
        for a in r.get("alerts", []):
            l = a["labels"]
            print(a["state"], l["alertname"], l.get("site", ""), l.get("target", l.get("flow", "")), l.get("probe", ""), l.get("service", ""))')
[ -z "$active" ] || fail "the healthy lab has alerts pending or firing:
$active"
unexpected=$(query 'count(fedprobe_probe_as_expected == 0)')
[ -z "$unexpected" ] || fail "the healthy lab has $unexpected probes not as expected: $(curl -sf "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode 'query=fedprobe_probe_as_expected == 0')"
red=$(query 'count(fedprobe:network_compliance:min == 0)')
[ -z "$red" ] || fail "the healthy lab has $red matrix cells not compliant"
expected=$(query 'count(fedprobe_probe_expected_info and on(site, target, probe, service) fedprobe_probe_as_expected == 1)')
[ "${expected:-0}" -gt 0 ] || fail "no probe fails as expected: the lab's denied services and broken targets should"
pass "the healthy lab: no alert pending or firing, every probe as expected ($expected failing as the config expects), every matrix cell compliant"

"$LABD/fault" rdp-opened on >/dev/null
alerts() { curl -sf --max-time 5 "http://127.0.0.1:$AM/api/v2/alerts" -G --data-urlencode "filter=alertname=\"${1:-FedprobeDenyFlowViolation}\""; }
count() { alerts "$1" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0; }
started=$SECONDS
for _ in $(seq 1 60); do
    [ "$(count FedprobeDenyFlowViolation)" -gt 0 ] && [ "$(count FedprobeFederationFault)" -gt 0 ] && break
    sleep 5
done
rc=0
"$FEDPROBE" blame --config "$WORK/fed.toml" --prometheus "http://127.0.0.1:$PROM" --format json >"$WORK/blame.json" 2>"$WORK/blame.err" || rc=$?
[ $rc = 1 ] || fail "blame --prometheus with rdp-opened exits $rc: $(cat "$WORK/blame.err")"
/usr/bin/python3 - "$WORK/blame.json" <<'PY' || fail "blame --prometheus: the violation's verdict"
import json, sys
faults = json.load(open(sys.argv[1]))["faults"]
rdp = [f for f in faults if f["flow"] == "no-rdp-from-councils"]
print(f"{len(faults)} verdict(s); no-rdp-from-councils from {sorted(f['from'] for f in rdp)}")
sys.exit(0 if rdp and all(f["segment"] == "destination" and f["owner"] == "kent-nhs" for f in rdp) else 1)
PY
alerts FedprobeFederationFault >"$WORK/fault-alerts.json" || fail "Alertmanager answers"
/usr/bin/python3 - "$WORK/fault-alerts.json" <<'PY' || fail "FedprobeFederationFault did not reach Alertmanager, paged to kent-nhs only: $(cat "$WORK/fault-alerts.json")"
import json, sys
alerts = [a for a in json.load(open(sys.argv[1])) if a["labels"]["flow"] == "no-rdp-from-councils"]
receivers = {r["name"] for a in alerts for r in a["receivers"]}
print(f"{len(alerts)} verdict alert(s); receivers {sorted(receivers)}")
# Each council's verdict fires on its own scrape's time: any of them will do, none paged.
councils = ("kent-psn", "surrey-psn", "brighton-psn")
ok = alerts and all(a["labels"]["owner"] == "kent-nhs" for a in alerts) and "org-kent-nhs" in receivers \
    and all(f"org-{a['labels']['from_site']}-info" in receivers for a in alerts) \
    and not any(f"org-{c}" in receivers for c in councils)
sys.exit(0 if ok else 1)
PY
pass "rdp-opened: blame --serve's FedprobeFederationFault in Alertmanager $((SECONDS - started)) s after the fault, paged to kent-nhs, the councils informed"
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

# Where, on every surface (#31): a silent drop (drop-mllp) and a route lost in transit
# (route-withdrawn), on at once beside rdp-opened. For each broken flow the appliance page at its
# source, the alert for it (pending or firing: its text is rendered as it goes pending), the
# console's flows and the verdict series the dashboards query all name where it breaks and who
# owns it. The bound is 90 s (locally: 21 s at most), since the verdict goes appliance ->
# Prometheus -> blame --serve -> Prometheus, each every 15 s; the times are printed.
"$LABD/fault" drop-mllp on >/dev/null
"$LABD/fault" route-withdrawn on >/dev/null
started=$SECONDS
surfaces() {  # code site flow where owner: the surfaces that name it, space-separated
    local page rules console verdict got=""
    page=$(in_ns "$1-app" curl -sf --max-time 10 http://127.0.0.1:9641/ || true)
    rules=$(curl -sf --max-time 5 "http://127.0.0.1:$PROM/api/v1/alerts" || true)
    console=$(curl -sf --max-time 5 "http://127.0.0.1:$PROM/consoles/fedprobe.html" || true)
    verdict=$(curl -sf --max-time 5 "http://127.0.0.1:$PROM/api/v1/query" \
        --data-urlencode "query=fedprobe_federation_fault_info{flow=\"$3\",from_site=\"$2\"}" || true)
    PAGE=$page RULES=$rules CONSOLE=$console VERDICT=$verdict /usr/bin/python3 - "$2" "$3" "$4" "$5" 2>"$WORK/surfaces-$1.log" <<'PY'
import json, os, re, sys
site, flow, where, owner = sys.argv[1:]
got = []
rows = re.findall(r"<tr[^>]*>.*?</tr>", os.environ["PAGE"], re.S)
if any(flow in r and where in r for r in rows):
    got.append("page")
else:
    print("page:", [r for r in rows if flow in r], file=sys.stderr)
try:
    alerts = json.loads(os.environ["RULES"])["data"]["alerts"]
except (ValueError, KeyError):
    alerts = []
if any(a["labels"].get("flow") == flow and a["labels"].get("site") == site
       and where in a["annotations"].get("summary", "") for a in alerts):
    got.append("alert")
else:
    print("alerts:", [a["annotations"].get("summary") for a in alerts if a["labels"].get("flow") == flow], file=sys.stderr)
rows = re.findall(r"<tr>.*?</tr>", os.environ["CONSOLE"], re.S)
if any(f"<td>{site}</td><td>{flow}</td>" in r and f"<td>{owner}</td>" in r for r in rows):
    got.append("console")
try:
    result = json.loads(os.environ["VERDICT"])["data"]["result"]
except (ValueError, KeyError):
    result = []
if any(r["metric"].get("owner") == owner for r in result):
    got.append("verdict")
print(" ".join(got))
PY
}
declare -A named
while ((SECONDS - started < 90)); do
    a=$(surfaces kp kent-psn councils-to-kent-nhs-mllp "172.20.1.2 (kent-nhs)" kent-nhs)
    b=$(surfaces kn kent-nhs trusts-to-councils-smtp "172.20.100.2 (interconnect)" interconnect)
    for s in $a; do [ -n "${named[drop-$s]:-}" ] || named[drop-$s]=$((SECONDS - started)); done
    for s in $b; do [ -n "${named[route-$s]:-}" ] || named[route-$s]=$((SECONDS - started)); done
    [ "$a" = "page alert console verdict" ] && [ "$b" = "page alert console verdict" ] && break
    sleep 2
done
# Both on all four. The route lost in transit is told by the interconnect's "unreachable",
# which it rate-limits: the page and the alert name it through any job of the same address that
# got one (EngineSettings::answer_memory), not only the flow's own rounds.
for s in page alert console verdict; do
    [ -n "${named[drop-$s]:-}" ] || fail "drop-mllp: the $s does not name where and who within 90 s (named: ${a:-})"
    [ -n "${named[route-$s]:-}" ] || fail "route-withdrawn: the $s does not name where and who within 90 s (named: ${b:-})"
done
pass "drop-mllp: page ${named[drop-page]} s, alert ${named[drop-alert]} s, console ${named[drop-console]} s, verdict ${named[drop-verdict]} s after the fault name 172.20.1.2 (kent-nhs) and owner kent-nhs"
pass "route-withdrawn: page ${named[route-page]} s, alert ${named[route-alert]} s, console ${named[route-console]} s, verdict ${named[route-verdict]} s after the fault name 172.20.100.2 (interconnect) and owner interconnect"

# Where, on every surface, for the faults whose flows still connect (#31): an application-aware
# firewall (l7-drop: application), a PMTUD black hole (mtu-blackhole: mtu) and a resolver's
# stale split-horizon answer (dns-split: dns). The faults above go off first; rdp-opened stays.
"$LABD/fault" drop-mllp off >/dev/null
"$LABD/fault" route-withdrawn off >/dev/null
"$LABD/fault" l7-drop on >/dev/null
"$LABD/fault" mtu-blackhole on >/dev/null
"$LABD/fault" dns-split on >/dev/null
# Each case: the source site's appliance page, an alert (pending or firing: its text is
# rendered as it goes pending), a row of the console and the verdict series, each with the text
# that says where and who.
cat >"$WORK/cases.json" <<'JSON'
{
 "app": {"ns": "kp", "site": "kent-psn", "flow": "councils-to-kent-nhs-mllp", "owner": "kent-nhs",
         "page": ["councils-to-kent-nhs-mllp", "app_blocked", "past the handshake, to kent-nhs-svc"],
         "alert": ["FedprobeFederationFault", "application segment (the application at kent-nhs-svc, past the handshake), owned by kent-nhs"],
         "where": "the application at kent-nhs-svc"},
 "mtu": {"ns": "kp", "site": "kent-psn", "flow": "councils-to-sussex-nhs-https", "owner": "hscn-exchange",
         "page": ["sussex-nhs-pmtu", "an MTU black hole after 192.0.2.101 (interconnect)"],
         "alert": ["FedprobePmtuBlackHole", "(a PMTUD black hole) after 192.0.2.101 (interconnect)"],
         "where": "192.0.2.101 (interconnect)"},
 "dns": {"ns": "bp", "site": "brighton-psn", "flow": "dns:kent-psn-resolver", "owner": "kent-psn",
         "page": ["kent-psn-resolver", "mismatch"],
         "alert": ["FedprobeFederationFault", "dns segment (the resolver kent-psn-resolver), owned by kent-psn"],
         "where": "the resolver kent-psn-resolver"},
 "return": {"ns": "kp", "site": "kent-psn", "flow": "councils-to-trusts-https", "owner": "kent-nhs",
         "page": ["councils-to-trusts-https", "filtered", "192.0.2.101 (interconnect)"],
         "alert": ["FedprobeFederationFault", "return segment (on the way back, 10.31.1.1 (kent-nhs)"],
         "where": "on the way back, 10.31.1.1 (kent-nhs)"}
}
JSON
phase "$WORK/cases.json" "$PROM" 150 app mtu dns

# The way back (return-route-missing), alone: path.mtu's searches beside it would spend
# kent-nhs's border's ICMP allowance, which is the return verdict's evidence. kent-psn's page
# names where its own traces die; the federation names the device without a route back.
"$LABD/fault" l7-drop off >/dev/null
"$LABD/fault" mtu-blackhole off >/dev/null
"$LABD/fault" dns-split off >/dev/null
"$LABD/fault" return-route-missing on >/dev/null
phase "$WORK/cases.json" "$PROM" 150 return
