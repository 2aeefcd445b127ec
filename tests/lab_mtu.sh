#!/usr/bin/env bash
# Path MTU, black holes and middleboxes in the lab federation, read from the daemon's metrics:
# a link narrowed to 1400 that reports it (packet-too-big, with its router) and one that does
# not (a black hole, after the last hop that passes large packets); MSS clamping and DSCP
# bleaching at a border, each at the TTL whose quote shows it; scamper's PMTUD on the same path.
export FEDPROBE_LAB="fpm$$"
source "$(dirname "$0")/lab_lib.sh"
"$LABD/federation" up >/dev/null
# Paths every second, answers awaited 500 ms: a black-hole search is about five stages of two.
sed -e "s|/run/fedprobe-lab/fpl/|$STATE/|g" -e 's/interval = "30s"/interval = "1s"/g' \
    -e 's/^timeout = "1s"/timeout = "500ms"/' "$LABD/federation.toml" >"$WORK/fed.toml"
for o in kn kp; do
    ip netns exec "$(ns "$o-app")" "$FEDPROBE" run --config "$WORK/fed.toml" --site "${ID[$o]}" >"$WORK/$o.log" 2>&1 &
    PIDS+=($!)
done
series() {  # org regex: the matching lines of the org's scrape
    scrape "$1" 2>/dev/null | grep -E "$2" || true
}
wait_series() {  # org regex seconds message: until a line matches
    for _ in $(seq 1 $(($3 * 4))); do [ -n "$(series "$1" "$2")" ] && return 0; sleep 0.25; done
    fail "$4: $(series "$1" "^fedprobe_path_(mtu|blackhole|middlebox|quoted)[^{]*\{[^}]*$T" | tr '\n' ' ')"
}
T='target="sussex-nhs-pmtu"'

# A healthy path carries the interface's 1500 bytes; nothing changes the packets.
wait_series kn "^fedprobe_path_mtu_bytes\{[^}]*$T[^}]*\} 1500$" 20 "baseline MTU 1500"
[ -n "$(series kn "^fedprobe_path_blackhole\{[^}]*$T[^}]*\} 0$")" ] || fail "baseline: no black hole"
[ -n "$(series kn "^fedprobe_path_mtu_info\{[^}]*source=\"search\"[^}]*$T")" ] || fail "baseline: source search"
[ -n "$(series kn "^fedprobe_path_min_mtu_bytes\{[^}]*$T[^}]*\} 1420$")" ] || fail "min_mtu exported"
[ -z "$(series kn "^fedprobe_path_middlebox_info")" ] || fail "middlebox series with no middlebox: $(series kn '^fedprobe_path_middlebox_info')"
pass "baseline: MTU 1500 by search, no black hole, no middlebox"

# The narrow link reports itself: MTU 1400 from packet-too-big, and the router that sent it.
"$LABD/fault" pmtu-reported on >/dev/null
wait_series kn "^fedprobe_path_mtu_bytes\{[^}]*$T[^}]*\} 1400$" 20 "pmtu-reported: MTU 1400"
wait_series kn "^fedprobe_path_mtu_info\{[^}]*reporter=\"172.20.1.1\",reporter_network=\"hscn-exchange\",[^}]*source=\"ptb\"[^}]*$T[^}]*\} 1$" 10 "pmtu-reported: source ptb from 172.20.1.1 (hscn-exchange)"
[ -n "$(series kn "^fedprobe_path_blackhole\{[^}]*$T[^}]*\} 0$")" ] || fail "pmtu-reported is no black hole"
[ -z "$(series kn "^fedprobe_path_blackhole_info\{[^}]*$T")" ] || fail "pmtu-reported: no blackhole_info"
# scamper's PMTUD on the same path says the same.
s=$(ip netns exec "$(ns kn-app)" scamper -O text -c "trace -M -w 1" -i 10.212.2.10)
grep -q "ptb 172.20.1.1" <<<"$s" && grep -Eq "10.212.2.10 .*\[mtu: 1400\]" <<<"$s" || fail "scamper trace -M: $s"
j=$(ip netns exec "$(ns kn-app)" "$FEDPROBE" trace --config "$WORK/fed.toml" --site kent-nhs sussex-nhs-pmtu --service mllp --format json)
python3 -c 'import json,sys; m=json.loads(sys.argv[1])["mtu"]; sys.exit(0 if (m["mtu"],m["source"],m["reporter"],m["packets"],m["blackhole"])==(1400,"ptb","172.20.1.1",2,False) else 1)' "$j" \
    || fail "trace --format json: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["mtu"])' "$j")"
"$LABD/fault" pmtu-reported off >/dev/null
pass "pmtu-reported: 1400 from packet-too-big by 172.20.1.1 (hscn-exchange) in 2 probes, as scamper trace -M finds"

# The same link with fragmentation-needed filtered: a black hole after kent-nhs's border
# (the exchange, where the hole is, never answers time-exceeded).
chk() { ip netns exec "$(ns kp-app)" "$FEDPROBE" check --config "$WORK/fed.toml" --site kent-psn --mtu --flow sussex "$@"; }
chk --save "$WORK/before.json" >/dev/null || fail "check --mtu before the fault"
"$LABD/fault" mtu-blackhole on >/dev/null
rc=0; out=$(chk --baseline "$WORK/before.json" --save "$WORK/after.json") || rc=$?
[ "$rc" = 1 ] || fail "check --baseline exits 1 on a worse path, not $rc: $out"
grep -q "councils-to-sussex-nhs-https -> sussex-nhs-svc https: path MTU 1500 -> path MTU 1400, BLACK HOLE: 1401-byte DF packets vanish after 192.0.2.101 (interconnect), hop 3" <<<"$out" || fail "check names the worse path: $out"
python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["flows"][0]; m=f["path_mtu"]; sys.exit(0 if f["compliant"] and (m["mtu"],m["blackhole"],m["blackhole_after"]["address"],m["blackhole_after"]["ttl"])==(1400,True,"192.0.2.101",3) else 1)' "$WORK/after.json" || fail "check JSON path_mtu: $(cat "$WORK/after.json")"
rc=0; out=$(chk) || rc=$?
[ "$rc" = 1 ] && grep -q "1 flow crosses an MTU black hole" <<<"$out" || fail "check --mtu without a baseline exits 1 on a black hole, not $rc: $out"
pass "check --mtu: the flow still complies, its path is worse: exit 1 (with or without a baseline), black hole after the interconnect (hop 3) in text and JSON"
wait_series kn "^fedprobe_path_blackhole\{[^}]*$T[^}]*\} 1$" 30 "mtu-blackhole: black hole"
wait_series kn "^fedprobe_path_blackhole_info\{hop=\"10.31.1.1\",hop_network=\"kent-nhs\",[^}]*$T,ttl=\"1\"\} 1$" 10 "mtu-blackhole: after 10.31.1.1 (kent-nhs), TTL 1"
[ -n "$(series kn "^fedprobe_path_mtu_bytes\{[^}]*$T[^}]*\} 1400$")" ] || fail "mtu-blackhole: MTU searched to 1400"
[ -n "$(series kn "^fedprobe_path_mtu_info\{[^}]*source=\"search\"[^}]*$T")" ] || fail "mtu-blackhole: source search"
rc=0; t=$(ip netns exec "$(ns kn-app)" "$FEDPROBE" trace --config "$WORK/fed.toml" --site kent-nhs sussex-nhs-pmtu --service mllp) || rc=$?
[ "$rc" = 1 ] || fail "trace exits 1 on a black hole, not $rc"
grep -q "BLACK HOLE: 1401-byte DF packets vanish without packet-too-big; the last hop that passes them is 10.31.1.1 (kent-nhs) at TTL 1" <<<"$t" || fail "trace prints the black hole: $t"
"$LABD/fault" mtu-blackhole off >/dev/null
wait_series kn "^fedprobe_path_blackhole\{[^}]*$T[^}]*\} 0$" 20 "mtu-blackhole off: no black hole"
[ -z "$(series kn "^fedprobe_path_blackhole_info\{[^}]*$T")" ] || fail "the black hole's series goes with it"
[ -n "$(series kn "^fedprobe_path_mtu_bytes\{[^}]*$T[^}]*\} 1500$")" ] || fail "MTU back to 1500"
pass "mtu-blackhole: 1401 bytes vanish after 10.31.1.1 (kent-nhs) at TTL 1; MTU 1400 by search; gone when fixed"

# MSS clamping at kent-nhs's border: its own time-exceeded quotes the clamped SYN (TTL 5).
K='target="kent-nhs-svc"'
"$LABD/fault" mss-clamp on >/dev/null
wait_series kp "^fedprobe_path_middlebox_info\{change=\"mss\",hop=\"172.20.1.2\",hop_network=\"kent-nhs\",[^}]*$K,ttl=\"5\"\} 1$" 10 "mss-clamp: mss at 172.20.1.2 TTL 5"
[ -n "$(series kp "^fedprobe_path_quoted_mss_bytes\{[^}]*$K[^}]*\} 1200$")" ] || fail "quoted MSS 1200"
[ -n "$(series kp "^fedprobe_path_min_mss_bytes\{[^}]*$K[^}]*\} 1300$")" ] || fail "min_mss exported"
[ "$(series kp "^fedprobe_path_middlebox_info" | wc -l)" = 1 ] || fail "only the MSS changed: $(series kp '^fedprobe_path_middlebox_info')"
"$LABD/fault" mss-clamp off >/dev/null
for _ in $(seq 1 40); do [ -z "$(series kp "^fedprobe_path_middlebox_info")" ] && break; sleep 0.25; done
[ -z "$(series kp "^fedprobe_path_middlebox_info")" ] || fail "mss-clamp off: the series goes"
[ -n "$(series kp "^fedprobe_path_quoted_mss_bytes\{[^}]*$K[^}]*\} 1460$")" ] || fail "quoted MSS back to 1460"
pass "mss-clamp: mss changed at 172.20.1.2 (kent-nhs), TTL 5, quoted MSS 1200 (min 1300)"

# DSCP bleaching at surrey-psn's border, on the EF-marked target.
V='target="surrey-psn-voice"'
[ -n "$(series kn "^fedprobe_path_dscp\{[^}]*$V[^}]*\} 46$")" ] || fail "the DSCP sent is exported"
"$LABD/fault" dscp-bleach on >/dev/null
wait_series kn "^fedprobe_path_middlebox_info\{change=\"dscp\",hop=\"192.0.2.6\",hop_network=\"surrey-psn\",[^}]*$V,ttl=\"5\"\} 1$" 10 "dscp-bleach: dscp at 192.0.2.6 TTL 5"
[ "$(series kn "^fedprobe_path_middlebox_info" | wc -l)" = 1 ] || fail "only the EF target's DSCP changed: $(series kn '^fedprobe_path_middlebox_info')"
"$LABD/fault" dscp-bleach off >/dev/null
pass "dscp-bleach: dscp changed at 192.0.2.6 (surrey-psn), TTL 5, on the EF target only"

grep -E "terminate|Sanitizer|runtime error" "$WORK"/*.log && fail "a daemon reported a crash"
pass "lab_mtu"
