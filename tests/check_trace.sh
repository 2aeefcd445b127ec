#!/usr/bin/env bash
# fedprobe check on an allow flow dropped silently: traced as root (blocked_after in the JSON,
# here "before any hop answered": the drop is on the target itself), and a clear reason on
# stderr when tracing cannot run (no CAP_NET_RAW); --no-trace skips it.
source "$(dirname "$0")/lib.sh"
make_ns
in_ns nft -f - <<'NFT'
table inet t {
    chain input {
        type filter hook input priority 0;
        tcp dport 9 drop
    }
}
NFT
cat >"$WORK/fed.toml" <<'TOML'
[fedprobe]
site = "kent-nhs"
timeout = "300ms"
[[networks]]
id = "kent-nhs"
prefixes = ["127.0.0.0/8"]
[services]
discard = { proto = "tcp", port = 9 }
[[targets]]
id = "pas"
network = "kent-nhs"
address = "127.0.0.1"
probes = []
[[flows]]
id = "pas-discard"
from = ["kent-nhs"]
to = "pas"
service = "discard"
expect = "allow"
TOML
rc=0; in_ns "$FEDPROBE" check --config "$WORK/fed.toml" --format json >"$WORK/root.json" || rc=$?
[ $rc -eq 1 ] || fail "a blocked flow: exit 1 (got $rc)"
python3 -c "
import json
f = json.load(open('$WORK/root.json'))['flows'][0]
assert f['outcome'] == 'filtered' and f['blocked_after'] == {'ttl': 0, 'address': '', 'network': ''}, f
" || fail "blocked_after: ttl 0 when nothing on the path answered"
pass "as root: the filtered flow is traced, nothing answered before the drop"

chmod 755 "$WORK"; chmod 644 "$WORK/fed.toml"  # readable by the unprivileged user
rc=0
in_ns setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    "$FEDPROBE" check --config "$WORK/fed.toml" >"$WORK/nobody.txt" 2>"$WORK/nobody.err" || rc=$?
[ $rc -eq 1 ] || fail "without CAP_NET_RAW: still a verdict, exit 1 (got $rc): $(cat "$WORK/nobody.err")"
grep -Eq '^pas-discard .* filtered .* -$' "$WORK/nobody.txt" || fail "the table without a trace: $(cat "$WORK/nobody.txt")"
grep -q "could not trace the filtered flow pas-discard to pas: .*CAP_NET_RAW.*--no-trace" "$WORK/nobody.err" ||
    fail "the reason is on stderr: $(cat "$WORK/nobody.err")"
rc=0
in_ns setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    "$FEDPROBE" check --config "$WORK/fed.toml" --no-trace >/dev/null 2>"$WORK/notrace.err" || rc=$?
[ $rc -eq 1 ] && [ ! -s "$WORK/notrace.err" ] || fail "--no-trace: exit 1, nothing on stderr ($rc): $(cat "$WORK/notrace.err")"
pass "without CAP_NET_RAW the reason is given; --no-trace runs quietly"
