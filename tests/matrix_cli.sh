#!/usr/bin/env bash
# tools/matrix.py, the demo's terminal matrix, on two appliances' saved expositions
# (tests/data/matrix/): one table of sites x networks that fits the screen, each cell the worst
# result that differs from what the config expects, the expected failures counted and not
# shown, and below it where each fault is (the reporter, or where a flow dies).
set -euo pipefail
: "${SOURCE_ROOT:?}"
data="$SOURCE_ROOT/tests/data/matrix"
fail() { echo "FAIL: $*"; exit 1; }
out=$(/usr/bin/python3 "$SOURCE_ROOT/tools/matrix.py" --once --rows 12 \
    "kent-nhs=file://$data/kent-nhs.prom" "kent-psn=file://$data/kent-psn.prom")
echo "$out"
grep -Eq '^kent-nhs +UNREACH ×2 +FLOW' <<<"$out" || fail "kent-nhs's row: the worst unexpected outcome and the count, a broken flow"
grep -Eq '^kent-psn +ok +ok' <<<"$out" || fail "kent-psn's row: ok, its denied service counting as expected"
grep -q '^1 probes fail as the config expects' <<<"$out" || fail "the expected failures are counted, not shown"
grep -q 'brighton-psn-svc tcp:smtp unreachable, reported by 172.20.100.2 (interconnect)' <<<"$out" || fail "where: the reporter"
grep -q 'flow trusts-to-kent-psn-echo filtered, dies after 192.0.2.101 (interconnect), hop 3' <<<"$out" || fail "where: the hop a flow dies after"
grep -q 'tcp:rdp' <<<"$out" && fail "an expected failure is shown"
[ "$(wc -l <<<"$out")" -le 12 ] || fail "more lines than --rows 12"
# A screen too small for every fault says how many are left out.
small=$(/usr/bin/python3 "$SOURCE_ROOT/tools/matrix.py" --once --rows 6 \
    "kent-nhs=file://$data/kent-nhs.prom" "kent-psn=file://$data/kent-psn.prom")
grep -q '… and [0-9]* more (--detail)' <<<"$small" || fail "a short screen says what it leaves out: $small"
echo "ok: one compact table, expected failures counted apart, where each fault is"
