#!/usr/bin/env bash
# STAMP interop on loopback in a private namespace, against an encoder of the test's own
# (stamp_interop.py, written from the RFCs' figures) and scapy's contrib/stamp, both ways:
#   - its sender against fedprobe's reflector: 44-byte and 112-byte layouts, the stateful
#     count, NTP and PTP timestamps, CoS and Location TLVs, silence to a source outside
#     allow, to malformed packets and to a wrong key; then the reflector's counters;
#   - fedprobe's stamp probe against its reflector, which drops every fifth test packet:
#     fedprobe's packets parse, forward loss is the dropped ones and backward loss none, and
#     the authenticated PTP session verifies.
source "$(dirname "$0")/lib.sh"
make_ns
in_ns ip addr add 127.0.1.1/8 dev lo 2>/dev/null || true
PY="/usr/bin/python3 $SOURCE_ROOT/tests/stamp_interop.py"  # Debian's, with python3-scapy
printf 'interop-secret\n' >"$WORK/stamp.key"

config() {  # reflector's extra line
    cat <<TOML
[fedprobe]
site = "kent-nhs"
listen = "127.0.0.1:9641"
interval = "1s"
timeout = "300ms"

[fedprobe.stamp]
listen = ["127.0.1.1:862"]
allow = ["surrey-psn"]
$1

[[networks]]
id = "kent-nhs"
prefixes = ["127.0.1.0/24"]
[[networks]]
id = "surrey-psn"
prefixes = ["127.0.2.0/24"]
[[networks]]
id = "elsewhere"
prefixes = ["127.0.3.0/24"]

[[targets]]
id = "py-plain"
network = "surrey-psn"
address = "127.0.2.20"
probes = ["stamp"]
stamp = { port = 8620, packets = 10, spacing = "10ms", dscp = 46 }

[[targets]]
id = "py-auth"
network = "surrey-psn"
address = "127.0.2.21"
probes = ["stamp"]
stamp = { port = 8621, packets = 5, spacing = "10ms", auth_key_file = "$WORK/stamp.key", timestamp = "ptp" }
TOML
}

ip netns exec "$NS" $PY reflector 127.0.2.20 8620 "$WORK/plain.json" >"$WORK/py-plain.log" 2>&1 &
BACKGROUND+=($!)
ip netns exec "$NS" $PY reflector 127.0.2.21 8621 "$WORK/auth.json" --key "$WORK/stamp.key" >"$WORK/py-auth.log" 2>&1 &
BACKGROUND+=($!)
for i in $(seq 1 50); do [ -f "$WORK/plain.json" ] && [ -f "$WORK/auth.json" ] && break; sleep 0.1; done
[ -f "$WORK/plain.json" ] || fail "the test reflectors did not start: $(cat "$WORK"/py-*.log)"
config "" >"$WORK/fed.toml"
start_daemon "$WORK/fed.toml"
wait_for_metric 'fedprobe_stamp_reflector_packets_total\{site="kent-nhs",result="reflected"\} 0' 10

in_ns $PY sender 127.0.1.1 862 127.0.2.5 127.0.3.5 || fail "the test's sender against fedprobe's reflector"
m=$(scrape)
for want in 'site="kent-nhs",result="reflected"} 8' 'site="kent-nhs",result="refused_source"} 1' \
    'site="kent-nhs",result="malformed"} 2'; do
    grep -qF "fedprobe_stamp_reflector_packets_total{$want" <<<"$m" ||
        fail "reflector counters: no $want in $(grep stamp_reflector <<<"$m")"
done
pass "reflector counters: 8 reflected, 1 refused_source, 2 malformed"

# fedprobe's sender: wait for enough rounds, then compare what both ends counted.
wait_for_metric 'fedprobe_stamp_packets_received_total\{.*target="py-plain".*\} ([4-9][0-9]|[1-9][0-9][0-9])' 20
kill "${BACKGROUND[0]}"; sleep 0.5
[ -f "$WORK/plain.json" ] || fail "the test reflector wrote nothing: $(cat "$WORK/py-plain.log")"
read -r packets dropped error sizes dscp < <(python3 -c '
import json, sys; s = json.load(open(sys.argv[1]))
print(s["packets"], s["dropped"], s.get("error", "-").replace(" ", "_"), ",".join(map(str, sorted(set(s["sizes"])))), ",".join(map(str, sorted(set(s["dscp"])))))' "$WORK/plain.json")
[ "$error" = "-" ] || fail "fedprobe's test packets: $error"
[ "$sizes" = "76" ] || fail "fedprobe's packets were $sizes bytes; 44 + CoS (4+4) + Location (4+4+8+8) = 76 expected"
[ "$dscp" = "46" ] || fail "fedprobe's packets arrived with DSCP $dscp, configured 46"
read_by_scapy=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("scapy", 0))' "$WORK/plain.json")
[ "$read_by_scapy" = "$packets" ] || fail "scapy read $read_by_scapy of fedprobe's $packets test packets"
pass "fedprobe's $packets test packets parse (76 bytes: base, CoS, Location), DSCP 46, scapy reads them alike"
sleep 1.5  # the last round ends without replies: its packets are not attributed either way
m=$(scrape)
value() { grep -E "^$1\{.*target=\"$2\"" <<<"$m" | head -1 | awk '{print $2}'; }
fwd=$(value fedprobe_stamp_forward_lost_total py-plain)
back=$(value fedprobe_stamp_backward_lost_total py-plain)
# fedprobe attributes a loss once a later reply shows where it happened: by the last round
# trip, every dropped packet but at most the last round's.
python3 -c "import sys; f, b, d = map(float, sys.argv[1:]); sys.exit(0 if d - 2 <= f <= d and b == 0 else 1)" \
    "$fwd" "$back" "$dropped" || fail "forward $fwd / backward $back lost, the test reflector dropped $dropped"
pass "forward loss $fwd of $dropped dropped on the way there, backward $back"
grep -qE '^fedprobe_stamp_dscp_received\{.*target="py-plain".*\} 46' <<<"$m" || fail "dscp_received is not 46"
grep -qE '^fedprobe_stamp_source_translated\{.*target="py-plain".*\} 0' <<<"$m" || fail "source_translated is not 0"
grep -qE '^fedprobe_stamp_rtt_seconds_count\{.*target="py-plain".*\} [1-9]' <<<"$m" || fail "no rtt observations"
pass "dscp_received 46, source_translated 0, rtt observed"

auth_received=$(value fedprobe_stamp_packets_received_total py-auth)
[ "${auth_received%.*}" -gt 0 ] 2>/dev/null || fail "no authenticated PTP replies received: $(cat "$WORK/py-auth.log")"
read -r error z < <(python3 -c '
import json, sys; s = json.load(open(sys.argv[1]))
print(s.get("error", "-").replace(" ", "_"), all(s["z"]) and len(s["z"]) > 0)' "$WORK/auth.json")
[ "$error" = "-" ] || fail "fedprobe's authenticated packets: $error"
[ "$z" = "True" ] || fail "fedprobe's timestamps were not PTP with timestamp = \"ptp\""
pass "authenticated PTP session: HMAC and HMAC TLV verify both ways, $auth_received replies"

# The reflector in authenticated mode after a reload.
config "auth_key_file = \"$WORK/stamp.key\"" >"$WORK/fed.toml"
kill -HUP "$DAEMON_PID"
wait_for_metric 'fedprobe_config_last_reload_successful 1' 10
sleep 0.5
in_ns $PY sender 127.0.1.1 862 127.0.2.5 127.0.3.5 --key "$WORK/stamp.key" || fail "the test's authenticated sender"
m=$(scrape)
grep -qF 'fedprobe_stamp_reflector_packets_total{site="kent-nhs",result="auth_failed"} 2' <<<"$m" ||
    fail "auth_failed is not 2: $(grep stamp_reflector <<<"$m")"
pass "after a reload, authenticated: right key answered, wrong key and no key counted auth_failed"
