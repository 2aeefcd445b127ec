#!/usr/bin/env bash
# The unit file's hardening, as systemd itself scores it (lower is better; 2.0 is the goal).
set -euo pipefail
: "${FEDPROBE:?}"
# The unit as this build configured it (paths filled in), beside the binary's build tree, or
# the package's, beside its unpacked binary (tools/build-deb).
unit="$(dirname "$FEDPROBE")/../systemd/fedprobe.service"
[ -f "$unit" ] || unit="$(dirname "$FEDPROBE")/../../lib/systemd/system/fedprobe.service"
systemd-analyze verify --man=no "$unit" 2>&1 | grep -v "fedprobe: .* is not executable\|Command .*fedprobe is not executable\|/usr/bin/fedprobe" | grep -E "." && { echo "FAIL: systemd-analyze verify complained"; exit 1; }
out=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1) || true
score=$(echo "$out" | sed -n 's/.*Overall exposure level for fedprobe.service: \([0-9.]*\).*/\1/p')
echo "$out" | tail -n 3
[ -n "$score" ] || { echo "$out"; echo "FAIL: no score"; exit 1; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "$out" | grep -E "✗" | head -30; echo "FAIL: exposure $score > 2.0"; exit 1; }
grep -q '^Type=notify' "$unit" && grep -q '^ExecReload=.*kill -HUP' "$unit" && grep -q '^WatchdogSec=' "$unit" \
    || { echo "FAIL: Type=notify, ExecReload and WatchdogSec are required"; exit 1; }
echo "ok: exposure $score <= 2.0"
