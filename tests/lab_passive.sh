#!/usr/bin/env bash
# Passive capture in the lab: fedprobe captures on the kent-nhs appliance's LAN interface while
# the test makes real connections through the lab's borders, and its counters match what each
# connection met, per pair of networks. A second configured interface is missing at the start,
# then appears, then goes away again: the daemon counts it, keeps running, and re-opens it.
# The daemon runs as nobody with CAP_NET_RAW only, as the systemd unit runs it.
export FEDPROBE_LAB="fpc$$"
source "$(dirname "$0")/lab_lib.sh"
"$LABD/federation" up
# The lab's networks and services, with no targets or flows: the daemon's own probes would be
# handshakes on the same interface.
lab_config_without_targets "$WORK/fed.toml"
cat >>"$WORK/fed.toml" <<'TOML'

[fedprobe.capture]
interfaces = ["lan0", "mirror0"]
handshake_timeout = "2s"
TOML
"$FEDPROBE" validate --config "$WORK/fed.toml" >/dev/null 2>&1 || fail "the capture config is valid"
# As the systemd unit runs it: not root, with CAP_NET_RAW and nothing else.
chmod 755 "$WORK"; chmod 644 "$WORK/fed.toml"
in_ns kn-app setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=+net_raw \
    --ambient-caps=+net_raw "$FEDPROBE" run --config "$WORK/fed.toml" --site kent-nhs >"$WORK/kn.log" 2>&1 &
PIDS+=($!)

metric() {  # a scrape's line(s) matching the regex, or nothing
    scrape kn 2>/dev/null | grep -E "$1" || true
}
wait_for() {  # regex what: until a scrape has a line matching
    for _ in $(seq 1 60); do
        [ -n "$(metric "$1")" ] && return 0
        sleep 0.25
    done
    echo "--- scrape:" >&2; scrape kn 2>/dev/null | grep fedprobe_passive >&2 || true
    fail "$2"
}
wait_for '^fedprobe_passive_interface_up\{interface="lan0",site="kent-nhs"\} 1' "capturing on lan0"
wait_for '^fedprobe_passive_interface_up\{interface="mirror0",site="kent-nhs"\} 0' "a missing interface is reported down"
grep -q "capture: mirror0: no such interface" "$WORK/kn.log" || fail "the log says why mirror0 is not captured"
pass "lan0 captured; mirror0 missing, said so, daemon running"

# Real connections from the appliance, each meeting one border's policy (lab/README.md).
connect() {  # address port count timeout
    in_ns kn-app /usr/bin/python3 - "$@" <<'PYEOF'
import socket, sys
address, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
for _ in range(count):
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.connect((address, port))
    except OSError:
        pass
    s.close()
PYEOF
}
clients=()
connect "${SVC_IP[sp]}" 443 3 3 & clients+=($!)     # open: surrey-psn's HTTPS
connect "${SVC_IP[kp]}" 3389 2 2.5 & clients+=($!)  # dropped silently at the interconnect
connect "${SVC_IP[sp]}" 2575 2 3 & clients+=($!)    # rejected by surrey-psn's border (ICMP)
connect "${APP_GW[kn]}" 3389 4 3 & clients+=($!)    # a closed port: kent-nhs's router sends RST
wait "${clients[@]}"

hs() { echo "^fedprobe_passive_handshakes_total\{dst_network=\"$1\",outcome=\"$2\",service=\"$3\",site=\"kent-nhs\",src_network=\"kent-nhs\"\} $4\$"; }
wait_for "$(hs surrey-psn ok https 3)" "3 handshakes kent-nhs -> surrey-psn https ok"
wait_for "$(hs kent-psn filtered rdp 2)" "2 handshakes kent-nhs -> kent-psn rdp filtered"
wait_for "$(hs surrey-psn prohibited mllp 2)" "2 handshakes kent-nhs -> surrey-psn mllp prohibited"
wait_for "$(hs kent-nhs refused rdp 4)" "4 handshakes kent-nhs -> kent-nhs rdp refused"
wait_for '^fedprobe_passive_icmp_errors_total\{dst_network="surrey-psn",outcome="prohibited",reporter_network="surrey-psn",site="kent-nhs",src_network="kent-nhs"\} 2$' \
    "the 2 ICMP errors are attributed to surrey-psn's border"
wait_for '^fedprobe_passive_handshake_seconds_count\{dst_network="surrey-psn",site="kent-nhs",src_network="kent-nhs"\} 3$' \
    "3 SYN to SYN-ACK times"
# Nothing else: each pair has only what the test made.
others=$(metric '^fedprobe_passive_handshakes_total' | grep -v ' 0$' | grep -Ev \
    'dst_network="surrey-psn",outcome="ok",service="https"| 3$|dst_network="kent-psn",outcome="filtered",service="rdp".* 2$|dst_network="surrey-psn",outcome="prohibited",service="mllp".* 2$|dst_network="kent-nhs",outcome="refused",service="rdp".* 4$' || true)
[ -z "$others" ] || fail "handshakes nobody made: $others"
pass "every connection counted per pair: ok 3, filtered 2, prohibited 2 (reporter surrey-psn), refused 4"
[ "$(metric '^fedprobe_passive_kernel_drops_total\{interface="lan0"' | awk '{print $2}')" = 0 ] || fail "no kernel drops"

# The missing interface appears: captured within the retry interval; then it goes away.
in_ns kn-app ip link add mirror0 type veth peer name mirror1  # (no dummy module everywhere)
in_ns kn-app ip link set mirror0 up
wait_for '^fedprobe_passive_interface_up\{interface="mirror0",site="kent-nhs"\} 1' "mirror0 opened once it exists"
failures=$(metric '^fedprobe_passive_interface_failures_total\{interface="mirror0"' | awk '{print $2}')
in_ns kn-app ip link del mirror0
wait_for '^fedprobe_passive_interface_up\{interface="mirror0",site="kent-nhs"\} 0' "mirror0 lost when it goes away"
now=$(metric '^fedprobe_passive_interface_failures_total\{interface="mirror0"' | awk '{print $2}')
[ "${now%.*}" -gt "${failures%.*}" ] || fail "losing mirror0 is counted ($failures -> $now)"
grep -q "capture: lost mirror0" "$WORK/kn.log" || fail "the log says mirror0 was lost"
wait_for "$(hs surrey-psn ok https 3)" "counts survive losing an interface"
kill -0 "${PIDS[0]}" 2>/dev/null || fail "the daemon still runs"
pass "mirror0: missing, opened when it appeared, lost and counted when it went; lan0 unaffected"

# A reload that changes nothing the capture uses keeps it, and its counts.
daemon=$(for p in $(ip netns pids "$(ns kn-app)"); do [ "$(cat /proc/$p/comm)" = fedprobe ] && echo "$p"; done)
[ -n "$daemon" ] || fail "the daemon runs in kn-app"
kill -HUP "$daemon"
for _ in $(seq 1 20); do grep -q "reload done" "$WORK/kn.log" && break; sleep 0.25; done
grep -q "reload done" "$WORK/kn.log" || fail "the daemon reloaded"
wait_for "$(hs surrey-psn ok https 3)" "counts kept over a reload"
connect "${SVC_IP[sp]}" 443 1 3
wait_for "$(hs surrey-psn ok https 4)" "capturing after a reload"
[ "$(grep -c "capture: capturing on lan0" "$WORK/kn.log")" -eq 1 ] || fail "the reload re-opened lan0 instead of keeping it"
pass "reload keeps the capture and its counts"
