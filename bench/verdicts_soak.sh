#!/usr/bin/env bash
# A clean run of the lab with all six appliances, as the demo runs it (the lab's own 5 s
# interval), judged by `fedprobe blame` every 15 s for MINUTES (default 30): a healthy
# federation must give no verdict at all, ever. Prints each round that had one, and a summary.
#   sudo bench/verdicts_soak.sh build/daemon/fedprobe [MINUTES]
set -euo pipefail
export FEDPROBE=$(realpath "$1") SOURCE_ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=${2:-30}
export FEDPROBE_LAB="fps$$"
source "$SOURCE_ROOT/tests/lab_lib.sh"
LAB_AS_DEMO=1 start_lab_daemons kn sn xn kp sp bp >/dev/null
sleep 60  # every probe, trace and STAMP session has run a round or more
rounds=0 dirty=0 flows=0
end=$((SECONDS + MINUTES * 60))
while ((SECONDS < end)); do
    files=()
    for o in kn sn xn kp sp bp; do scrape "$o" >"$WORK/$o.prom" 2>/dev/null || : >"$WORK/$o.prom"; files+=("$WORK/$o.prom"); done
    rc=0
    "$FEDPROBE" blame --config "$WORK/fed.toml" "${files[@]}" >"$WORK/round.txt" 2>"$WORK/round.err" || rc=$?
    rounds=$((rounds + 1))
    flows=$(grep -c 'fedprobe_flow_compliant{' "$WORK/kn.prom" "$WORK/sn.prom" "$WORK/xn.prom" "$WORK/kp.prom" "$WORK/sp.prom" "$WORK/bp.prom" | awk -F: '{s+=$2} END {print s}')
    if [ $rc != 0 ]; then
        dirty=$((dirty + 1))
        echo "round $rounds (+$((SECONDS / 60)) min), exit $rc:"; cat "$WORK/round.txt" "$WORK/round.err"
    fi
    sleep 15
done
echo "verdicts soak: $MINUTES min, $rounds rounds of blame over 6 appliances ($flows flows), $dirty with a verdict"
[ $dirty = 0 ]
