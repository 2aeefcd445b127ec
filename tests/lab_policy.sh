#!/usr/bin/env bash
# The partnership's policy in the lab: every flow complies at baseline, in the daemons'
# metrics and in `fedprobe check`; faults turn exactly the expected flows non-compliant, with
# the right state; --baseline reports exactly those as newly broken.
export FEDPROBE_LAB="fpy$$"
source "$(dirname "$0")/lab_lib.sh"
start_lab_daemons kn kp
check() {  # site-code out-file [args] -> exit code
    local rc=0
    in_ns "$1-app" "$FEDPROBE" check --config "$WORK/fed.toml" --site "${ID[$1]}" "${@:3}" >"$WORK/$2" 2>"$WORK/$2.err" || rc=$?
    return $rc
}
# Waits until the site's metrics show every flow in `want` (flow=value pairs) and no other
# flow at 0.
wait_compliance() {  # site-code "flow=0 flow=0 ..." (every flow not listed must be 1)
    local o=$1 want=$2 m zero="" expected=""
    for _ in $(seq 1 60); do
        m=$({ scrape "$o" || true; } | grep '^fedprobe_flow_compliant{' || true)
        if [ -n "$m" ] && ! grep -q ' NaN$' <<<"$m"; then
            local zero ok=1
            zero=$(sed -n 's/.*flow="\([^"]*\)".*} 0$/\1/p' <<<"$m" | sort -u | tr '\n' ' ')
            local expected
            expected=$(tr ' ' '\n' <<<"$want" | sed -n 's/=0$//p' | sort -u | tr '\n' ' ')
            [ "$zero" = "$expected" ] && return 0
        fi
        sleep 0.25
    done
    fail "from ${ID[$o]}: non-compliant flows are '$zero', expected '$expected'"
}

wait_compliance kp ""
wait_compliance kn ""
pass "baseline: every flow compliant in the daemons' metrics"
check kp before.json --format json --save "$WORK/kp-before.json" || fail "check from kent-psn at baseline: $(tail -5 "$WORK/before.json.err")"
check kn before.json --save "$WORK/kn-before.json" || fail "check from kent-nhs at baseline"
python3 -c "import json,sys; d=json.load(open('$WORK/kp-before.json')); assert d['version']==1 and d['summary']['non_compliant']==0 and d['summary']['flows']==15, d['summary']"
pass "fedprobe check at baseline: exit 0, 15 flows from kent-psn (surrey-psn-voice joins the flows to surrey-psn) all compliant"

"$LABD/fault" drop-mllp on >/dev/null
"$LABD/fault" rdp-opened on >/dev/null
wait_compliance kp "councils-to-kent-nhs-mllp=0 no-rdp-from-councils=0"
m=$(scrape kp || true)
grep -Eq '^fedprobe_flow_state\{[^}]*flow="councils-to-kent-nhs-mllp"[^}]*state="filtered"[^}]*\} 1' <<<"$m" || fail "mllp flow state filtered"
grep -Eq '^fedprobe_flow_state\{[^}]*flow="no-rdp-from-councils"[^}]*state="ok"[^}]*\} 1' <<<"$m" || fail "rdp flow state ok (a violation)"
grep -q "flow no-rdp-from-councils .*violation" "$WORK/kp.log" || fail "the violation is logged"
pass "daemon: drop-mllp and rdp-opened make exactly their two flows non-compliant, with states"

# The silently dropped allow flow is traced: it dies after kent-nhs's border, hop 5.
blocked='^fedprobe_flow_blocked_after_info\{[^}]*flow="councils-to-kent-nhs-mllp"[^}]*hop="172.20.1.2",hop_network="kent-nhs"[^}]*ttl="5"\} 1'
for _ in $(seq 1 80); do
    m=$(scrape kp || true)
    grep -Eq "$blocked" <<<"$m" && ! grep -q '^fedprobe_flow_traces_total 0' <<<"$m" && break
    sleep 0.25
done
grep -Eq "$blocked" <<<"$m" || fail "daemon: blocked_after of the mllp flow: $(grep blocked_after <<<"$m")"
[ "$(grep -c '^fedprobe_flow_blocked_after_info' <<<"$m")" = 1 ] || fail "only the filtered allow flow has a blocked_after"
grep -q "flow councils-to-kent-nhs-mllp to kent-nhs-svc (allow mllp): filtered after 172.20.1.2 (kent-nhs), hop 5" "$WORK/kp.log" || fail "the trace is logged"
grep -Eq '^fedprobe_flow_traces_total 1$' <<<"$m" || fail "one trace, not one per round: $(grep traces_total <<<"$m")"
pass "daemon: the filtered mllp flow dies after 172.20.1.2 (kent-nhs), hop 5, traced once"

rc=0; check kp after.txt --baseline "$WORK/kp-before.json" || rc=$?
[ $rc -eq 1 ] || fail "check --baseline must exit 1 for newly broken flows (got $rc)"
broken=$(sed -n '/^newly broken:/,/^[a-z]/p' "$WORK/after.txt" | sed -n 's/^  \([^ ]*\) -> .*/\1/p' | sort | tr '\n' ' ')
[ "$broken" = "councils-to-kent-nhs-mllp no-rdp-from-councils " ] || fail "newly broken: '$broken'"
grep -q "no-rdp-from-councils -> kent-nhs-svc rdp: expected deny, got ok (violation)" "$WORK/after.txt" || fail "violation evidence"
grep -Eq "^councils-to-kent-nhs-mllp .* 172.20.1.2 \(kent-nhs\), hop 5$" "$WORK/after.txt" || fail "check's table: BLOCKED AFTER column"
check kp junit.xml --format junit || true
python3 -c "
import xml.etree.ElementTree as ET
root = ET.parse('$WORK/junit.xml').getroot()
cases = root.findall('.//testcase')
failed = sorted(c.get('classname') for c in cases if c.find('failure') is not None)
assert len(cases) == 15 and failed == ['flow.councils-to-kent-nhs-mllp', 'flow.no-rdp-from-councils'], failed
msg = [c.find('failure').get('message') for c in cases if c.get('classname') == 'flow.councils-to-kent-nhs-mllp'][0]
assert msg.endswith('filtered after 172.20.1.2 (kent-nhs), hop 5'), msg
" || fail "JUnit parses as XML with the two failures, the filtered one saying where it dies"
check kp notrace.json --format json --no-trace || true
check kp traced.json --format json || true
python3 -c "
import json
flows = {f['flow']: f for f in json.load(open('$WORK/traced.json'))['flows']}
assert flows['councils-to-kent-nhs-mllp']['blocked_after'] == {'ttl': 5, 'address': '172.20.1.2', 'network': 'kent-nhs'}, flows['councils-to-kent-nhs-mllp']
assert all(f['blocked_after'] is None for k, f in flows.items() if k != 'councils-to-kent-nhs-mllp')
assert all(f['blocked_after'] is None for f in json.load(open('$WORK/notrace.json'))['flows'])
" || fail "check JSON: blocked_after for the filtered flow only, none with --no-trace"
pass "fedprobe check --baseline: exit 1, exactly the two flows newly broken; JUnit agrees"
"$LABD/fault" drop-mllp off >/dev/null
"$LABD/fault" rdp-opened off >/dev/null
wait_compliance kp ""
m=$(scrape kp || true)
grep -q '^fedprobe_flow_blocked_after_info' <<<"$m" && fail "blocked_after stays once the flow works again"
pass "the flow works again: its blocked_after is gone"

"$LABD/fault" asymmetric on >/dev/null
wait_compliance kn "trusts-to-councils-smtp=0 trusts-to-kent-psn-echo=0"
rc=0; check kn asym.txt --baseline "$WORK/kn-before.json" || rc=$?
[ $rc -eq 1 ] || fail "asymmetric: exit 1 (got $rc)"
broken=$(sed -n '/^newly broken:/,/^[a-z]/p' "$WORK/asym.txt" | sed -n 's/^  \([^ ]*\) -> .*/\1/p' | sort | tr '\n' ' ')
[ "$broken" = "trusts-to-councils-smtp trusts-to-kent-psn-echo " ] || fail "asymmetric newly broken: '$broken'"
"$LABD/fault" asymmetric off >/dev/null
pass "asymmetric: kent-nhs's two flows into PSN newly broken (filtered), and only those"

wait_compliance kn ""
rc=0; check kn fixed.txt --baseline "$WORK/kn-before.json" || rc=$?
[ $rc -eq 0 ] || fail "after the change window: exit 0 (got $rc)"
grep -q "0 newly broken" "$WORK/fixed.txt" || fail "nothing newly broken after the faults are off"
pass "faults off: compliant again, check --baseline exits 0"
