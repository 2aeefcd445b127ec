#!/usr/bin/env bash
# Builds a prober namespace, four routers in a chain and a destination namespace that answers
# for 1,000 addresses (10.99.0.1 upwards), then runs path_bench inside the prober's namespace:
# fedprobe's path probe and scamper trace the same destinations at the same packet rate.
# Removes every namespace it made, whatever happens. Needs root, scamper and nft.
#
#   sudo PATH_BENCH=build/bench/path_bench bench/path_bench.sh [--dests 1000] [--rate 1000]
#        [--rounds 3] [--interval 40]
set -euo pipefail
: "${PATH_BENCH:?PATH_BENCH must name the path_bench binary}"
for tool in scamper nft ip; do
    command -v "$tool" >/dev/null || { echo "path_bench: needs $tool (tools/install-deps)" >&2; exit 2; }
done

P="fpb$$"
NODES=(src r1 r2 r3 r4 dst)
DESTS=1000
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do [ "${args[$i]}" = "--dests" ] && DESTS=${args[$((i + 1))]}; done
WORK=$(mktemp -d)
cleanup() {
    for n in "${NODES[@]}"; do ip netns del "$P-$n" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

for n in "${NODES[@]}"; do
    ip netns add "$P-$n"
    ip -n "$P-$n" link set lo up
done
# Link k joins node k and k+1: 10.98.k.1 on the left, 10.98.k.2 on the right.
for k in 0 1 2 3 4; do
    l=${NODES[$k]} r=${NODES[$((k + 1))]}
    ip link add "l$k" netns "$P-$l" type veth peer name "r$k" netns "$P-$r"
    ip -n "$P-$l" addr add "10.98.$k.1/30" dev "l$k"
    ip -n "$P-$r" addr add "10.98.$k.2/30" dev "r$k"
    ip -n "$P-$l" link set "l$k" up
    ip -n "$P-$r" link set "r$k" up
done
ip -n "$P-src" route add 10.99.0.0/16 via 10.98.0.2
for k in 1 2 3 4; do
    ns="$P-${NODES[$k]}"
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$ns" route add 10.99.0.0/16 via "10.98.$k.2"
    [ "$k" -gt 1 ] && ip -n "$ns" route add 10.98.0.0/30 via "10.98.$((k - 1)).1"
done
ip -n "$P-dst" route add default via 10.98.4.1
ip -n "$P-dst" route add local 10.99.0.0/16 dev lo
# Linux sends about one time-exceeded or port-unreachable a second to any one source (after a
# burst of 6), and 1,000 a second in all. Both tools would mostly meet silence; without the
# limit they meet the same network, and packets per trace compare what each tool sends.
for n in r1 r2 r3 r4 dst; do ip netns exec "$P-$n" sysctl -qw net.ipv4.icmp_ratemask=0; done

# Every packet the prober sends, counted where it enters the first router.
ip netns exec "$P-r1" nft -f - <<'NFT'
table inet bench {
    counter probes {}
    chain pre {
        type filter hook prerouting priority 0;
        iifname "r0" counter name probes
    }
}
NFT
counter_cmd="ip netns exec $P-r1 nft list counter inet bench probes | sed -n 's/.*packets \([0-9]*\).*/\1/p'"

for ((i = 1; i <= DESTS; i++)); do echo "10.99.$((i / 250)).$((i % 250 + 1))"; done >"$WORK/dests"

ip netns exec "$P-src" "$PATH_BENCH" --dest-file "$WORK/dests" --counter-cmd "$counter_cmd" "$@"
