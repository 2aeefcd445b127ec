#!/usr/bin/env bash
# fedprobe mesh on scrapes the test writes: offsets fitted over three sites (exit 0), a loop
# beyond its bound (exit 1), and located errors for a bad scrape, an unknown network, no
# measurements and no SCRAPE at all (exit 2).
set -euo pipefail
: "${FEDPROBE:?}" "${SOURCE_ROOT:?}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
cat >"$WORK/fed.toml" <<'TOML'
[fedprobe]
site = "kent-nhs"
[[networks]]
id = "kent-nhs"
[[networks]]
id = "surrey-psn"
[[networks]]
id = "brighton-psn"
TOML
# True clocks: kent-nhs 0, surrey-psn +10 ms, brighton-psn -5 ms; 2 ms each way everywhere.
offset() {  # from to offset error
    printf 'fedprobe_stamp_clock_offset_seconds{network="%s",probe="stamp",site="%s",target="%s-app"} %s\n' "$2" "$1" "$2" "$3"
    printf 'fedprobe_stamp_clock_offset_error_seconds{network="%s",probe="stamp",site="%s",target="%s-app"} %s\n' "$2" "$1" "$2" "$4"
}
{
    echo "# HELP fedprobe_stamp_clock_offset_seconds from kent-nhs's scrape"
    offset kent-nhs surrey-psn 0.010 0.002
    offset kent-nhs brighton-psn -0.005 0.002
} >"$WORK/kn.txt"
{
    offset surrey-psn kent-nhs -0.010 0.002
    offset surrey-psn brighton-psn -0.015 0.002
    offset brighton-psn kent-nhs 0.005 0.002
    offset brighton-psn surrey-psn 0.015 0.002
} >"$WORK/others.txt"
out=$("$FEDPROBE" mesh --config "$WORK/fed.toml" "$WORK/kn.txt" - <"$WORK/others.txt") || fail "mesh on consistent scrapes: exit $?"
grep -Eq '^surrey-psn +\+10\.000 ' <<<"$out" || fail "surrey-psn's offset is not +10 ms: $out"
grep -Eq '^brighton-psn +-5\.000 ' <<<"$out" || fail "brighton-psn's offset is not -5 ms: $out"
grep -q "brighton-psn -> kent-nhs -> surrey-psn: +0.000 ms, bound 6.000 ms, consistent" <<<"$out" || fail "the loop: $out"
grep -Eq '^kent-nhs +surrey-psn +4\.000 +2\.000 +2\.000 ' <<<"$out" || fail "one-way delays 2 ms each way: $out"
pass "three sites: +10 ms and -5 ms recovered, the loop closes, 2 ms each way"

out=$("$FEDPROBE" mesh --config "$WORK/fed.toml" --reference surrey-psn "$WORK/kn.txt" "$WORK/others.txt")
grep -Eq '^kent-nhs +-10\.000 ' <<<"$out" || fail "--reference surrey-psn: $out"
pass "--reference moves the zero"

sed 's/^\(fedprobe_stamp_clock_offset_seconds{network="kent-nhs",probe="stamp",site="brighton-psn",target="kent-nhs-app"}\) 0.005/\1 0.050/' "$WORK/others.txt" >"$WORK/moved.txt"
rc=0; out=$("$FEDPROBE" mesh --config "$WORK/fed.toml" "$WORK/kn.txt" "$WORK/moved.txt") || rc=$?
[ $rc = 1 ] || fail "a loop beyond its bound: exit $rc, not 1"
grep -q "NOT consistent" <<<"$out" || fail "the inconsistent loop is not named: $out"
pass "a 45 ms inconsistency: exit 1, the loop named"

printf 'fedprobe_stamp_clock_offset_seconds{network="surrey-psn",site="kent-nhs" 0.1\n' >"$WORK/bad.txt"
rc=0; err=$("$FEDPROBE" mesh --config "$WORK/fed.toml" "$WORK/bad.txt" 2>&1) || rc=$?
[ $rc = 2 ] && grep -q "bad.txt:1: cannot read the labels" <<<"$err" || fail "a broken line: exit $rc, $err"
printf 'fedprobe_stamp_clock_offset_seconds{network="surrey-psn",site="kent-nhs"} soon\n' >"$WORK/bad.txt"
rc=0; err=$("$FEDPROBE" mesh --config "$WORK/fed.toml" "$WORK/bad.txt" 2>&1) || rc=$?
[ $rc = 2 ] && grep -q "bad.txt:1: 'soon' is not a number" <<<"$err" || fail "a value that is not a number: exit $rc, $err"
offset kent-nhs sussex-nhs 0.001 0.001 >"$WORK/unknown.txt"
rc=0; err=$("$FEDPROBE" mesh --config "$WORK/fed.toml" "$WORK/unknown.txt" 2>&1) || rc=$?
[ $rc = 2 ] && grep -q "network 'sussex-nhs', which" <<<"$err" || fail "an unknown network: exit $rc, $err"
echo "# nothing" >"$WORK/empty.txt"
rc=0; err=$("$FEDPROBE" mesh --config "$WORK/fed.toml" "$WORK/empty.txt" 2>&1) || rc=$?
[ $rc = 2 ] && grep -q "no STAMP offsets" <<<"$err" || fail "no measurements: exit $rc, $err"
rc=0; err=$("$FEDPROBE" mesh --config "$WORK/fed.toml" 2>&1) || rc=$?
[ $rc = 2 ] && grep -q "needs at least one SCRAPE" <<<"$err" || fail "no SCRAPE: exit $rc, $err"
rc=0; err=$("$FEDPROBE" mesh --config "$WORK/fed.toml" "$WORK/nope.txt" 2>&1) || rc=$?
[ $rc = 2 ] && grep -q "cannot read .*nope.txt: No such file" <<<"$err" || fail "a missing file: exit $rc, $err"
pass "bad input: a broken line and a non-number located, an unknown network, no measurements, no SCRAPE, a missing file: exit 2"

"$FEDPROBE" mesh --config "$WORK/fed.toml" --format prometheus "$WORK/kn.txt" "$WORK/others.txt" >"$WORK/mesh.prom" ||
    fail "--format prometheus: exit $?"
promtool check metrics <"$WORK/mesh.prom" || fail "promtool rejects the gauges: $(cat "$WORK/mesh.prom")"
grep -q '^fedprobe_mesh_clock_offset_seconds{site="surrey-psn",reference="kent-nhs"} 0.01$' "$WORK/mesh.prom" ||
    fail "surrey-psn's offset gauge: $(cat "$WORK/mesh.prom")"
grep -q '^fedprobe_mesh_forward_delay_seconds{site="kent-nhs",network="surrey-psn",target="surrey-psn-app"} 0.002$' "$WORK/mesh.prom" ||
    fail "the forward delay gauge: $(grep forward "$WORK/mesh.prom")"
grep -q '^fedprobe_mesh_loop_residual_seconds{a="brighton-psn",b="kent-nhs",c="surrey-psn"} ' "$WORK/mesh.prom" ||
    fail "the loop gauge"
rc=0; err=$("$FEDPROBE" mesh --config "$WORK/fed.toml" --format yaml "$WORK/kn.txt" 2>&1) || rc=$?
[ $rc = 2 ] && grep -q "format must be table or prometheus" <<<"$err" || fail "--format yaml: exit $rc, $err"
pass "--format prometheus: offsets, one-way delays and loops as gauges promtool accepts"
