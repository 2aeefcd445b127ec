#!/usr/bin/env bash
# Paris traceroute in the lab federation: hops and their networks from a trust to a council,
# where each drop, reject and route fault stops a flow, ECMP width, no false change under ECMP,
# a moved path counted once, and scamper's view of the same flow.
export FEDPROBE_LAB="fpt$$"
source "$(dirname "$0")/lab_lib.sh"
"$LABD/federation" up >/dev/null
sed -e "s|/run/fedprobe-lab/fpl/|$STATE/|g" -e 's/interval = "30s"/interval = "1s"/' \
    -e 's/^timeout = "1s"/timeout = "500ms"/' "$LABD/federation.toml" >"$WORK/fed.toml"

trace() {  # org target [args...]: one round as JSON
    local o=$1; shift
    ip netns exec "$(ns "$o-app")" "$FEDPROBE" trace --config "$WORK/fed.toml" --site "${ID[$o]}" "$@" --format json || true
}
# check JSON PYTHON-EXPR MESSAGE: the expression over j (the trace) must hold
check() {
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); f=j["flows"][0]; h={x["ttl"]:x for x in f["hops"]}; sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" \
        || fail "$3: $(python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(json.dumps(j["flows"][0]["stop"]), [(x["ttl"], x["address"], x["network"]) for x in j["flows"][0]["hops"]])' "$1" 2>&1)"
}

# Hops and networks, kent-nhs to kent-psn over HTTPS: the HSCN exchange never answers.
j=$(trace kn kent-psn-svc --service https)
check "$j" 'f["stop"]["reason"]=="reached" and f["stop"]["ttl"]==6' "https from kent-nhs reaches kent-psn at TTL 6"
check "$j" '[(h[t]["address"], h[t]["network"]) for t in range(1,7)] == [("10.31.1.1","kent-nhs"),(None,""),("172.20.100.2","interconnect"),("192.0.2.102","psn-core"),("192.0.2.2","kent-psn"),("198.51.100.20","kent-psn")]' "hops attributed to their networks, the exchange silent"
check "$j" 'all(a["quoted_ttl"]==1 for t in (1,3,4,5) for a in h[t]["attempts"] if a["answered"])' "routers quote TTL 1"
pass "trust to council: every hop and its network, a silent exchange"

# Without --service, trace follows what the target is probed for (kent-nhs-svc: path:mllp),
# not UDP 33434, which the interconnect drops by design; and says so.
j=$(ip netns exec "$(ns kp-app)" "$FEDPROBE" trace --config "$WORK/fed.toml" --site kent-psn kent-nhs-svc --format json 2>"$WORK/trace.err" || true)
grep -q "tracing mllp, a service kent-nhs-svc is probed for" "$WORK/trace.err" || fail "trace says which service it chose: $(cat "$WORK/trace.err")"
python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(0 if (j["method"],j["port"],j["flows"][0]["stop"]["reason"])==("tcp",2575,"reached") else 1)' "$j" \
    || fail "trace without --service traces MLLP and reaches kent-nhs-svc: $j"
pass "trace without --service: the target's own service (MLLP), reached, and said so"

# Where flows die: the last hop that answered, or who rejected.
j=$(trace kn surrey-psn-svc --service rdp)
check "$j" 'f["stop"]=={"reason":"silent","ttl":3,"address":"172.20.100.2","network":"interconnect"}' "RDP from a trust dies after the interconnect"
j=$(trace kp surrey-psn-svc --service mllp)
# The border answers TTL 3 as a router, then rejects what it would forward.
check "$j" 'f["stop"]=={"reason":"prohibited","ttl":4,"address":"192.0.2.6","network":"surrey-psn"} and h[3]["address"]=="192.0.2.6"' "MLLP to surrey-psn is prohibited by its border"
"$LABD/fault" drop-mllp on >/dev/null
j=$(trace kp kent-nhs-svc --service mllp)
check "$j" 'f["stop"]=={"reason":"silent","ttl":5,"address":"172.20.1.2","network":"kent-nhs"}' "drop-mllp: dies after kent-nhs's border"
"$LABD/fault" drop-mllp off >/dev/null
"$LABD/fault" reject-https on >/dev/null
j=$(trace kn surrey-psn-svc --service https)
check "$j" 'f["stop"]=={"reason":"prohibited","ttl":6,"address":"192.0.2.6","network":"surrey-psn"}' "reject-https: prohibited at surrey-psn's border"
"$LABD/fault" reject-https off >/dev/null
"$LABD/fault" route-withdrawn on >/dev/null
sleep 1.1  # "no route" errors are limited to about one a second per source
j=$(trace kn brighton-psn-svc --service https)
check "$j" 'f["stop"]["reason"]=="unreachable" and f["stop"]["address"]=="172.20.100.2" and f["stop"]["network"]=="interconnect"' "route-withdrawn: unreachable from the interconnect"
"$LABD/fault" route-withdrawn off >/dev/null
pass "stop reasons: silent after the interconnect, prohibited, silent after a border, unreachable"

# ECMP in the PSN core: 16 flows find both routers (all on one: a chance of 2^-15).
j=$(trace kn brighton-psn-svc --service https --flows 16)
check "$j" 'j["distinct_paths"]==2 and len({fl["hops"][4]["address"] for fl in j["flows"]})==2' "16 flows through the ECMP pair see 2 paths"
pass "ECMP width: 2 distinct paths"

# scamper, Paris UDP with the same source port, sees the same hops as fedprobe's udp flow.
# Not through the ECMP pair: veth keeps the sending socket's own flow hash on each packet, and
# Linux routers use that hash instead of the 5-tuple, so two programs' packets with one 5-tuple
# may part ways in this lab (real routers hash the headers).
j=$(trace kn kent-psn-svc --service dns)
sport=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["flows"][0]["flow_id"])' "$j")
s=$(ip netns exec "$(ns kn-app)" scamper -O json -c "trace -P udp-paris -d 53 -s $sport -q 2 -w 1" -i 198.51.100.20 | grep '"type":"trace"')
python3 - "$j" "$s" <<'PY' || fail "scamper and fedprobe disagree on the hops"
import json, sys
f = json.loads(sys.argv[1])["flows"][0]
s = json.loads(sys.argv[2])
ours = {h["ttl"]: h["address"] for h in f["hops"] if h["address"]}
theirs = {h["probe_ttl"]: h["addr"] for h in s.get("hops", [])}
common = set(ours) & set(theirs)
if len(common) < 4 or any(ours[t] != theirs[t] for t in common):
    print("fedprobe", ours, "scamper", theirs, file=sys.stderr)
    sys.exit(1)
PY
pass "scamper (udp-paris, source port $sport) sees fedprobe's hops"

# The daemon: a path every second; under ECMP one flow never changes; a moved path counts once.
ip netns exec "$(ns kn-app)" "$FEDPROBE" run --config "$WORK/fed.toml" --site kent-nhs >"$WORK/kn.log" 2>&1 &
PIDS+=($!)
metric() {  # regex: the first matching line's value
    scrape kn 2>/dev/null | grep -E "$1" | head -1 | awk '{print $NF}'
}
wait_metric() {  # regex value seconds
    for _ in $(seq 1 $(($3 * 4))); do [ "$(metric "$1")" = "$2" ] && return 0; sleep 0.25; done
    fail "$1 is $(metric "$1"), not $2"
}
b='target="brighton-psn-svc"'
k='target="kent-psn-svc"'
wait_metric "^fedprobe_path_reached\{[^}]*$b" 1 15
m=$(scrape kn)
grep -Eq "^fedprobe_path_hop_info\{hop=\"172.20.100.2\",hop_network=\"interconnect\",[^}]*$b,ttl=\"3\"\} 1" <<<"$m" || fail "hop_info for the interconnect at TTL 3"
grep -Eq "^fedprobe_path_hop_info\{hop_network=\"\",[^}]*$b,ttl=\"2\"\} 1|^fedprobe_path_hop_info\{[^}]*$b,ttl=\"2\"\} 1" <<<"$m" || fail "hop_info for the silent TTL 2"
grep -Eq "^fedprobe_path_stop_info\{hop=\"203.0.113.20\",hop_network=\"brighton-psn\",[^}]*reason=\"reached\",[^}]*ttl=\"7\"\} 1" <<<"$m" || fail "stop_info: reached at TTL 7"
grep -Eq "^fedprobe_path_distinct_paths\{[^}]*$b\} [12]" <<<"$m" || fail "distinct paths exported"
hash=$(metric "^fedprobe_path_hash\{[^}]*$k")
sleep 11  # ten rounds or more
[ "$(metric "^fedprobe_path_changes_total\{[^}]*$b")" = 0 ] || fail "a path change under ECMP with a constant flow"
[ "$(metric "^fedprobe_path_changes_total\{[^}]*$k")" = 0 ] || fail "a path change with nothing moved"
[ "$(metric "^fedprobe_path_hash\{[^}]*$k")" = "$hash" ] || fail "the path hash moved with nothing moved"
pass "ten rounds and more under ECMP: no change counted (Paris)"
grep -Eq "^fedprobe_path_networks_info\{[^}]*networks=\"kent-nhs>interconnect>psn-core>kent-psn\",[^}]*$k\} 1" <<<"$(scrape kn)" || fail "networks_info: the networks crossed"
[ "$(metric "^fedprobe_path_network_changes_total\{[^}]*$b")" = 0 ] || fail "a network change under ECMP (two routers of one network)"
"$LABD/fault" backup-path on >/dev/null
wait_metric "^fedprobe_path_changes_total\{[^}]*$k" 1 15
wait_metric "^fedprobe_path_network_changes_total\{[^}]*$k" 1 15
grep -Eq "^fedprobe_path_networks_info\{[^}]*networks=\"kent-nhs>interconnect-backup>psn-core>kent-psn\",[^}]*$k\} 1" <<<"$(scrape kn)" || fail "networks_info: now through the backup interconnect"
grep -Eq "^fedprobe_path_hop_info\{hop=\"172.20.101.2\",hop_network=\"interconnect-backup\",[^}]*$k,ttl=\"3\"\} 1" <<<"$(scrape kn)" || fail "hop 3 is now the backup interconnect"
sleep 3
[ "$(metric "^fedprobe_path_changes_total\{[^}]*$k")" = 1 ] || fail "the move is counted once"
[ "$(metric "^fedprobe_path_network_changes_total\{[^}]*$k")" = 1 ] || fail "the network change is counted once"
grep -Eq "^fedprobe_path_hop_info\{[^}]*hop=\"172.20.100.2\",[^}]*$k" <<<"$(scrape kn)" && fail "the old hop's series is replaced, not kept"
"$LABD/fault" backup-path off >/dev/null
wait_metric "^fedprobe_path_changes_total\{[^}]*$k" 2 15
wait_metric "^fedprobe_path_network_changes_total\{[^}]*$k" 2 15
pass "backup-path: the move counted once (hops and networks), hop series replaced, and the way back counted too"
