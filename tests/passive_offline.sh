#!/usr/bin/env bash
# `fedprobe passive --read` on a capture whose every handshake the test made (make_capture.py):
# it counts exactly those, agrees with tshark on the number of SYNs, reads pcapng the same, and
# gives a clear error and exit 1 for a file it cannot read.
set -euo pipefail
: "${FEDPROBE:?}" "${SOURCE_ROOT:?}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
PY=/usr/bin/python3  # Debian's, with python3-scapy
CONFIG="$SOURCE_ROOT/tests/data/passive.toml"

"$PY" "$SOURCE_ROOT/tests/make_capture.py" "$WORK/made.pcap" "$WORK/expected.json"
"$FEDPROBE" passive --config "$CONFIG" --read "$WORK/made.pcap" --format json >"$WORK/got.json" \
    || fail "passive --read exited $?"
"$PY" - "$WORK/expected.json" "$WORK/got.json" <<'PYEOF' || fail "counts differ from what the capture holds"
import json, sys
want, got = (json.load(open(p)) for p in sys.argv[1:])
assert got["version"] == 1, got["version"]
key = lambda r: json.dumps(r, sort_keys=True)
ok = True
for field in ("rows", "icmp_errors"):
    w, g = sorted(map(key, want[field])), sorted(map(key, got[field]))
    if w != g:
        ok = False
        print(f"{field}: missing {sorted(set(w) - set(g))}\n  unexpected {sorted(set(g) - set(w))}")
for field in ("packets", "syns", "truncated", "unfinished"):
    if want[field] != got[field]:
        ok = False
        print(f"{field}: want {want[field]}, got {got[field]}")
sys.exit(0 if ok else 1)
PYEOF
rows=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rows"]))' "$WORK/got.json")
pass "every handshake counted as made: $rows rows (ok, refused, filtered, prohibited, unreachable, retried; IPv6, VLAN, truncated)"

# tshark's reading of the same file: SYNs without ACK, not those quoted inside ICMP errors.
tshark_syns=$(tshark -r "$WORK/made.pcap" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && !icmp && !icmpv6' 2>/dev/null | wc -l)
our_syns=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["syns"])' "$WORK/got.json")
[ "$tshark_syns" -eq "$our_syns" ] || fail "tshark counts $tshark_syns SYNs, fedprobe $our_syns"
pass "tshark agrees: $our_syns SYNs"

editcap -F pcapng "$WORK/made.pcap" "$WORK/made.pcapng"
"$FEDPROBE" passive --config "$CONFIG" --read "$WORK/made.pcapng" --format json >"$WORK/ng.json"
cmp -s <(grep -v '"read_error"' "$WORK/got.json") "$WORK/ng.json" || fail "pcapng reads differently from pcap"
pass "pcapng gives the same counts"

"$FEDPROBE" passive --config "$CONFIG" --read "$WORK/made.pcap" >"$WORK/table.txt"
grep -Eq '^kent-nhs +surrey-psn +https +ok +6$' "$WORK/table.txt" || { cat "$WORK/table.txt"; fail "the table shows the rows"; }
grep -q "1 handshake(s) still waiting" "$WORK/table.txt" || fail "the table says what the file ended on"
pass "table output"

expect() {  # exit message description command...
    local want=$1 msg=$2 what=$3; shift 3
    set +e; "$@" >"$WORK/out" 2>&1; local got=$?; set -e
    [ "$got" -eq "$want" ] || { cat "$WORK/out"; fail "$what: exit $got, wanted $want"; }
    grep -q -- "$msg" "$WORK/out" || { cat "$WORK/out"; fail "$what: no '$msg' in the message"; }
    pass "$what: exit $want, says '$msg'"
}
echo "not a capture, but a letter" >"$WORK/letter.txt"
expect 1 "letter.txt: unknown file format" "a file that is not pcap" \
    "$FEDPROBE" passive -c "$CONFIG" -r "$WORK/letter.txt"
expect 1 "missing.pcap: .*No such file" "a missing file" \
    "$FEDPROBE" passive -c "$CONFIG" -r "$WORK/missing.pcap"
expect 1 "Is a directory" "a directory" "$FEDPROBE" passive -c "$CONFIG" -r "$WORK"
# Unreadable: root reads anything, so as nobody, on a file only root may read.
chmod 755 "$WORK"; cp "$CONFIG" "$WORK/config.toml"; chmod 644 "$WORK/config.toml"
cp "$WORK/made.pcap" "$WORK/secret.pcap"; chmod 600 "$WORK/secret.pcap"
expect 1 "secret.pcap: .*Permission denied" "an unreadable file" \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$FEDPROBE" passive -c "$WORK/config.toml" -r "$WORK/secret.pcap"
# Cut in the middle of a record, as a copy that did not finish: counted up to there, exit 1.
head -c 2000 "$WORK/made.pcap" >"$WORK/cut.pcap"
expect 1 "cut.pcap: truncated dump file" "a file cut short" \
    "$FEDPROBE" passive -c "$CONFIG" -r "$WORK/cut.pcap"
grep -q "packets" "$WORK/out" || fail "a file cut short still shows what was read"
expect 2 "needs --read" "no --read" "$FEDPROBE" passive -c "$CONFIG"
expect 2 "--format must be table or json" "a wrong format" \
    "$FEDPROBE" passive -c "$CONFIG" -r "$WORK/made.pcap" --format xml
printf '[fedprobe]\nsite = "x"\n[fedprobe.capture]\ninterfaces = ["a/b"]\n[[networks]]\nid = "x"\nprefixes = ["10.0.0.0/8"]\n' >"$WORK/bad.toml"
expect 2 "bad.toml:4:.*not an interface name" "an invalid config, located" \
    "$FEDPROBE" passive -c "$WORK/bad.toml" -r "$WORK/made.pcap"
