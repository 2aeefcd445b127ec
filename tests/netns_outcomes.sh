#!/usr/bin/env bash
# Every outcome through a real router: client -- router (nftables) -- server, in namespaces
# this test creates. fedprobe runs in the client namespace; the test reads its /metrics.
source "$(dirname "$0")/lib.sh"

C="$NS-c"; R="$NS-r"; S="$NS-s"
add_ns "$C" "$R" "$S"
# veth names are per namespace, so short fixed names cannot collide with another test's.
ip link add fpc0 netns "$C" type veth peer name fpr0 netns "$R"
ip link add fps0 netns "$S" type veth peer name fpr1 netns "$R"
for a in 10.1.0.2 10.1.0.3 10.1.0.4 10.1.0.5 10.1.0.6; do ip -n "$C" addr add $a/24 dev fpc0 2>/dev/null || ip -n "$C" addr add $a/32 dev fpc0; done
ip -n "$C" link set fpc0 up
ip -n "$R" addr add 10.1.0.1/24 dev fpr0; ip -n "$R" link set fpr0 up
ip -n "$R" addr add 10.2.0.1/24 dev fpr1; ip -n "$R" link set fpr1 up
for a in 10.2.0.2 10.2.0.3 10.2.0.4; do ip -n "$S" addr add $a/24 dev fps0 2>/dev/null || ip -n "$S" addr add $a/32 dev fps0; done
ip -n "$S" link set fps0 up
ip -n "$C" route add default via 10.1.0.1
ip -n "$S" route add default via 10.2.0.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
# Routers rate-limit ICMP errors per source address (Linux: about 1/s, small burst), and that
# is realistic, so each target that draws ICMP errors probes from its own client address.
ip netns exec "$R" nft -f - <<'NFT'
table ip border {
    chain forward {
        type filter hook forward priority 0; policy accept;
        tcp dport 3389 drop
        tcp dport 104 reject with icmp type admin-prohibited
        tcp dport 587 reject with icmp type net-unreachable
        ip daddr 10.2.0.3 icmp type echo-request drop
        ip daddr 10.2.0.4 icmp type echo-request numgen random mod 10 < 3 counter drop
    }
}
NFT

# The server: a listener on 443 that accepts and closes; nothing on 2575.
accept_and_close "$S" 443

cat >"$WORK/fed.toml" <<'TOML'
[fedprobe]
site = "kent-nhs"
interval = "1s"
timeout = "500ms"
rate_limit = 500

[[networks]]
id = "kent-nhs"
prefixes = ["10.1.0.0/24"]
[[networks]]
id = "exchange"                     # the router: its /32s win over the LANs' /24s
prefixes = ["10.1.0.1/32", "10.2.0.1/32"]
[[networks]]
id = "surrey-psn"
prefixes = ["10.2.0.0/24", "10.3.0.0/24"]

[services]
https = { proto = "tcp", port = 443 }
mllp = { proto = "tcp", port = 2575 }
rdp = { proto = "tcp", port = 3389 }
dicom = { proto = "tcp", port = 104 }
smtp = { proto = "tcp", port = 587 }

[[targets]]
id = "server"
network = "surrey-psn"
address = "10.2.0.2"
probes = ["icmp", "tcp:https", "tcp:mllp", "tcp:rdp"]

[[targets]]
id = "server-dicom"
network = "surrey-psn"
address = "10.2.0.2"
source = "10.1.0.3"
probes = ["tcp:dicom"]
interval = "2s"

[[targets]]
id = "server-smtp"
network = "surrey-psn"
address = "10.2.0.2"
source = "10.1.0.4"
probes = ["tcp:smtp"]
interval = "2s"

[[targets]]
id = "no-icmp"
network = "surrey-psn"
address = "10.2.0.3"
probes = ["icmp", "tcp:https"]

[[targets]]
id = "lossy"
network = "surrey-psn"
address = "10.2.0.4"
probes = ["icmp"]
interval = "500ms"
timeout = "400ms"
icmp = { packets = 20, spacing = "2ms" }

[[targets]]
id = "unrouted"
network = "surrey-psn"
address = "10.3.0.5"
source = "10.1.0.5"
probes = ["tcp:https", "icmp"]
interval = "3s"
icmp = { packets = 1 }

# Three traces towards three addresses of one host, from one source address: the host answers
# one port-unreachable a second to that source (after a burst of 6), for all three.
[[targets]]
id = "srv-path-a"
network = "surrey-psn"
address = "10.2.0.2"
source = "10.1.0.6"
probes = ["path"]
path = { method = "udp", interval = "2s" }
[[targets]]
id = "srv-path-b"
network = "surrey-psn"
address = "10.2.0.3"
source = "10.1.0.6"
probes = ["path"]
path = { method = "udp", interval = "2s" }
[[targets]]
id = "srv-path-c"
network = "surrey-psn"
address = "10.2.0.4"
source = "10.1.0.6"
probes = ["path"]
path = { method = "udp", interval = "2s" }
TOML

NS="$C"   # lib.sh's helpers run in the client namespace
start_daemon "$WORK/fed.toml"

series() { echo "target=\"$1\"" ; }
# Labels with an empty value are not written (Prometheus reads them as absent).
expect_ok() {  # target probe-selector
    wait_for_metric "^fedprobe_probe_success\{.*probe=\"$2\",${3:+service=\"$3\",}.*target=\"$1\"\} 1" 15
    pass "$1 $2:$3 ok"
}
expect_fail() {  # target probe service outcome reporter reporter_network
    wait_for_metric "^fedprobe_probe_last_error_info\{network=\"surrey-psn\",outcome=\"$4\",probe=\"$2\",${5:+reporter=\"$5\",reporter_network=\"$6\",}${3:+service=\"$3\",}site=\"kent-nhs\",target=\"$1\"\} 1" 15
    pass "$1 $2:$3 $4${5:+ reported by $5 ($6)}"
}

expect_ok server tcp https
expect_ok server icmp ""
expect_fail server tcp mllp refused 10.2.0.2 surrey-psn
expect_fail server tcp rdp filtered "" ""
expect_fail server-dicom tcp dicom prohibited 10.1.0.1 exchange
expect_fail server-smtp tcp smtp unreachable 10.1.0.1 exchange
expect_fail unrouted tcp https unreachable 10.1.0.1 exchange
expect_fail unrouted icmp "" unreachable 10.1.0.1 exchange
expect_ok no-icmp tcp https
expect_fail no-icmp icmp "" filtered "" ""
pass "ICMP blocked while TCP passes: ping says down, the service is up"

# About 30% loss on the lossy link, visible as a ratio of the packet counters.
sleep 4
m=$(scrape)
sent=$(echo "$m" | sed -n 's/^fedprobe_icmp_packets_sent_total{.*target="lossy"} \(.*\)/\1/p')
recv=$(echo "$m" | sed -n 's/^fedprobe_icmp_packets_received_total{.*target="lossy"} \(.*\)/\1/p')
dropped=$(ip netns exec "$R" nft list ruleset | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
echo "lossy: sent $sent, received $recv, router dropped $dropped"
python3 - "$sent" "$recv" "$dropped" <<'PY' || fail "loss not as injected"
import sys
sent, recv, dropped = (float(x) for x in sys.argv[1:])
assert sent >= 150, f"too few packets to judge: {sent}"
loss = 1 - recv / sent
assert 0.15 <= loss <= 0.45, f"loss {loss:.2f} is not about 0.3"
# Every packet fedprobe counts as lost was really dropped by the router (none in flight twice).
assert abs((sent - recv) - dropped) <= 20, f"lost {sent - recv} but router dropped {dropped}"
print(f"loss {loss:.2f}")
PY
pass "injected ~30% loss shows in the packet counters"
m=$(scrape)
echo "$m" | grep -q '^fedprobe_icmp_unmatched_replies_total 0' || fail "unmatched replies counted on a clean path"
pass "no unmatched replies"

# A host's ICMP rate limit starves no trace (#32): three jobs every 2 s ask the host for 1.5
# port-unreachables a second, over its allowance of one (Linux: a burst of 6, then one a second
# per source), so some rounds lose it; every job must still reach it. The host's silence is
# confirmed a second apart before it counts, as a router's is spaced; without that (and before,
# with retries queued again by every check) srv-path-c reached the host in none of 40 s.
path_oks() {  # target: path rounds that reached it so far
    local m
    m=$(scrape)
    sed -n "s/^fedprobe_probe_outcome_total{[^}]*outcome=\"ok\",probe=\"path\",[^}]*target=\"$1\"} \(.*\)/\1/p" <<<"$m"
}
start=$SECONDS
while ((SECONDS - start < 60)); do
    [ "$(path_oks srv-path-a)" -ge 1 ] && [ "$(path_oks srv-path-b)" -ge 1 ] \
        && [ "$(path_oks srv-path-c)" -ge 1 ] && break
    sleep 0.5
done
for t in srv-path-a srv-path-b srv-path-c; do
    echo "$t: $(path_oks "$t") rounds reached the host in $((SECONDS - start)) s"
    [ "$(path_oks "$t")" -ge 1 ] || fail "$t: no path round reached the host in 60 s"
done
pass "three traces towards one rate-limited host all reach it"
