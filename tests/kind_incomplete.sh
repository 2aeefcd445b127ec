#!/usr/bin/env bash
# A probe kind listed in the table without its name, parser, probe, series, socket use, ICMP use,
# whether it checks services or its probe's own counters does not compile:
# the table's ProbeKind concept says so. The complete kind must compile, or the check proves
# nothing. Runs the compiler meson uses on tests/kind_incomplete.cpp.
set -uo pipefail
: "${CXX:=c++}" "${SOURCE_ROOT:?}"
flags=(-std=c++20 -fsyntax-only -I"$SOURCE_ROOT" -x c++)
src="$SOURCE_ROOT/tests/kind_incomplete.cpp"
fail=0
if ! out=$("$CXX" "${flags[@]}" -DDROP=0 "$src" 2>&1); then
    echo "FAIL: the complete kind does not compile:"; echo "$out" | head -20; fail=1
fi
for drop in 1:kName 2:parse 3:make_probe 4:make_series 5:kSockets 6:kIcmp 7:kChecksServices 8:kProbeFamilies; do
    if out=$("$CXX" "${flags[@]}" -DDROP="${drop%%:*}" "$src" 2>&1); then
        echo "FAIL: a kind without ${drop#*:} compiles"; fail=1
    elif ! grep -q "ProbeKind" <<<"$out"; then
        echo "FAIL: a kind without ${drop#*:} fails, but not on ProbeKind:"; echo "$out" | head; fail=1
    else
        echo "ok: a kind without ${drop#*:} is rejected by ProbeKind"
    fi
done
exit $fail
