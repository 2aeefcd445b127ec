#!/usr/bin/env bash
# How long `fedprobe check` takes for a policy of 1,000 flows, 90% of them silently dropped
# (2 s timeout), spread over 10 destination networks at the default 50 probes/s per network.
# Runs in a private network namespace on loopback; prints the figures.
set -euo pipefail
FEDPROBE=${FEDPROBE:-$(dirname "$0")/../build/daemon/fedprobe}
NS="fpbench-$$"
WORK=$(mktemp -d)
trap 'ip netns del "$NS" 2>/dev/null || true; rm -rf "$WORK"' EXIT
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
# 90 of every 100 ports dropped: "filtered"; the other 10 closed: "refused" at once.
ip netns exec "$NS" nft add table inet bench
ip netns exec "$NS" nft add chain inet bench out '{ type filter hook output priority 0; }'
ip netns exec "$NS" nft add rule inet bench out tcp dport 20000-20089 drop

{
    printf '[fedprobe]\nsite = "here"\ntimeout = "2s"\n\n[[networks]]\nid = "here"\nprefixes = ["127.0.0.0/24"]\n'
    for n in $(seq 1 10); do printf '[[networks]]\nid = "net%d"\nprefixes = ["127.0.%d.0/24"]\n' "$n" "$n"; done
    printf '[services]\n'
    for p in $(seq 0 99); do printf 'svc%d = { proto = "tcp", port = %d }\n' "$p" $((20000 + p)); done
    for n in $(seq 1 10); do printf '[[targets]]\nid = "t%d"\nnetwork = "net%d"\naddress = "127.0.%d.1"\nprobes = ["icmp"]\n' "$n" "$n" "$n"; done
    for n in $(seq 1 10); do for p in $(seq 0 99); do
        printf '[[flows]]\nid = "f%d-%d"\nfrom = "here"\nto = "t%d"\nservice = "svc%d"\nexpect = "deny"\n' "$n" "$p" "$n" "$p"
    done; done
} >"$WORK/policy.toml"

start=$(date +%s%N)
rc=0
ip netns exec "$NS" "$FEDPROBE" check --config "$WORK/policy.toml" --format json --save "$WORK/out.json" >/dev/null || rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
python3 - "$WORK/out.json" "$ms" "$rc" <<'PY'
import json, sys, collections
d = json.load(open(sys.argv[1]))
outcomes = collections.Counter(f["outcome"] for f in d["flows"])
print(f"fedprobe check: {len(d['flows'])} flows over 10 networks (50 probes/s each), timeout 2 s")
print(f"  outcomes: {dict(outcomes)}")
print(f"  wall time: {int(sys.argv[2])} ms (exit {sys.argv[3]}); serially it would take {outcomes['filtered'] * 2} s")
PY
