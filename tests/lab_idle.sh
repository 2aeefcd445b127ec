#!/usr/bin/env bash
# idle:SERVICE in the lab: kent-nhs's border forgets established sessions after 5 s idle
# (the conntrack-timeout fault), so MLLP sessions from kent-psn to kent-nhs are cut; the
# bounds converge around 5 s and the finding (below idle.required) is exported. SMTP to
# surrey-psn and to surrey-nhs crosses no such device: nothing is cut up to the maximum. From
# those, `fedprobe blame` clears every network on the MLLP sessions' way but kent-nhs: the idle
# segment, owned by kent-nhs (lab/README.md's ground truth).
export FEDPROBE_LAB="fpi$$"
source "$(dirname "$0")/lab_lib.sh"
"$LABD/federation" up
"$LABD/fault" conntrack-timeout on
lab_config_without_targets "$WORK/fed.toml"
cat >>"$WORK/fed.toml" <<TOML

[[targets]]
id = "kent-nhs-mllp"
network = "kent-nhs"
address = "${SVC_IP[kn]}"
probes = ["idle:mllp"]
interval = "2s"
idle = { min = "2s", max = "16s", required = "10s", interval = "1m" }

[[targets]]
id = "surrey-psn-smtp"
network = "surrey-psn"
address = "${SVC_IP[sp]}"
probes = ["idle:smtp"]
interval = "2s"
idle = { min = "2s", max = "8s", sessions = 2 }

[[targets]]
id = "surrey-nhs-smtp"
network = "surrey-nhs"
address = "${PUB_SVC[sn]}"
probes = ["idle:smtp"]
interval = "2s"
idle = { min = "2s", max = "8s", sessions = 2 }
TOML
"$FEDPROBE" validate --config "$WORK/fed.toml" --site kent-psn >/dev/null 2>&1 || { "$FEDPROBE" validate --config "$WORK/fed.toml" --site kent-psn; fail "the config is valid"; }
in_ns kp-app "$FEDPROBE" run --config "$WORK/fed.toml" --site kent-psn >"$WORK/kp.log" 2>&1 &
PIDS+=($!)
# The central Prometheus, Alertmanager and blame --serve with this file, for the surfaces below.
PROM=$((20000 + $$ % 10000))
CENTRAL_CONFIG="$WORK/fed.toml" FEDPROBE="$FEDPROBE" "$LABD/central" up "$PROM" $((PROM + 1)) >"$WORK/central.log" \
    || fail "lab/central up"

value() {  # metric target [extra label regex]: the value, or nothing (also before the daemon listens)
    local m
    m=$(scrape kp 2>/dev/null) || return 0
    grep -E "^$1\{[^}]*${3:-}[^}]*target=\"$2\"\}" <<<"$m" | awk '{print $2}' | head -1 || true
}
started=$(date +%s)
for _ in $(seq 1 180); do
    lo=$(value fedprobe_idle_timeout_lower_seconds kent-nhs-mllp)
    hi=$(value fedprobe_idle_timeout_upper_seconds kent-nhs-mllp)
    open=$(value fedprobe_idle_sessions_open kent-nhs-mllp)
    if [ -n "$lo" ] && [ "$lo" != NaN ] && [ -n "$hi" ] && [ "$hi" != +Inf ] && [ "$open" = 0 ]; then break; fi
    sleep 1
done
took=$(( $(date +%s) - started ))
echo "kent-nhs-mllp after ${took}s: lower $lo s, upper $hi s, sessions open $open"
[ "$open" = 0 ] || fail "the search did not converge in 3 minutes (lower $lo, upper $hi)"
awk -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(lo >= 3 && lo < hi && hi <= 8) }' \
    || fail "the bounds ($lo, $hi) do not bracket the 5 s conntrack timeout"
[ "$(value fedprobe_idle_timeout_below_required kent-nhs-mllp)" = 1 ] || fail "below idle.required (10s) is a finding"
silence=$(value fedprobe_idle_cuts_total kent-nhs-mllp 'how="silence"')
[ "${silence:-0}" -ge 1 ] || fail "the cuts were silence (the border drops what it forgot): $silence"
[ "$(value fedprobe_idle_cuts_total kent-nhs-mllp 'how="reset"')" = 0 ] || fail "no resets"
pass "MLLP to kent-nhs: cut after ${lo}-${hi} s idle (the border's 5 s), by silence x$silence, below the 10 s required; converged in ${took} s"

for t in surrey-psn-smtp surrey-nhs-smtp; do
    for _ in $(seq 1 60); do
        [ "$(value fedprobe_idle_timeout_lower_seconds $t)" = 8 ] && [ "$(value fedprobe_idle_sessions_open $t)" = 0 ] && break
        sleep 1
    done
    [ "$(value fedprobe_idle_timeout_lower_seconds $t)" = 8 ] || fail "SMTP $t survives the 8 s maximum"
    [ "$(value fedprobe_idle_timeout_upper_seconds $t)" = +Inf ] || fail "SMTP $t is never cut"
    [ -z "$(value fedprobe_idle_timeout_below_required $t)" ] || fail "no finding without idle.required"
done
pass "SMTP to surrey-psn and surrey-nhs: alive at the 8 s maximum, never cut"

# The verdict, from kent-psn's evidence alone: "segment owner" of idle:kent-nhs-mllp, or none.
idle_verdict() {
    scrape kp >"$WORK/kp.prom" 2>/dev/null || return 0
    "$FEDPROBE" blame --config "$WORK/fed.toml" --format json "$WORK/kp.prom" 2>/dev/null |
        python3 -c '
import json, sys
for f in json.load(sys.stdin)["faults"]:
    if f["flow"] == "idle:kent-nhs-mllp" and f["from"] == "kent-psn":
        print(f["segment"], f["owner"]); break
else:
    print("none")'
}
for _ in $(seq 1 30); do
    [ "$(idle_verdict)" = "idle kent-nhs" ] && break
    sleep 1
done
[ "$(idle_verdict)" = "idle kent-nhs" ] || fail "blame: idle:kent-nhs-mllp is '$(idle_verdict)', not 'idle kent-nhs': $("$FEDPROBE" blame --config "$WORK/fed.toml" "$WORK/kp.prom" 2>&1)"
pass "blame: the cut MLLP sessions are the idle segment's, owned by kent-nhs (every other network on their way carries SMTP sessions that live 8 s)"

# Where and who on every surface (#31): kent-psn's page, FedprobeFederationFault, the console and
# the verdict series name the cut and kent-nhs, through the central Prometheus.
cat >"$WORK/cases.json" <<'JSON'
{"idle": {"ns": "kp", "site": "kent-psn", "flow": "idle:kent-nhs-mllp", "owner": "kent-nhs",
          "page": ["kent-nhs-mllp", "sessions cut after", "below the 10 s required"],
          "alert": ["FedprobeFederationFault", "idle segment (idle sessions to kent-nhs-mllp), owned by kent-nhs"],
          "where": "idle sessions to kent-nhs-mllp"}}
JSON
phase "$WORK/cases.json" "$PROM" 120 idle

# The fault off: at the next re-verification (idle.interval, 1 min here) a session outlives the
# old cut, and the bounds restart from it and find no cut up to the maximum.
"$LABD/fault" conntrack-timeout off
for _ in $(seq 1 150); do
    [ "$(value fedprobe_idle_timeout_upper_seconds kent-nhs-mllp)" = +Inf ] && break
    sleep 1
done
[ "$(value fedprobe_idle_timeout_upper_seconds kent-nhs-mllp)" = +Inf ] || fail "after the fault, the re-verification restarts the bounds once a session outlives the old cut"
[ "$(value fedprobe_idle_timeout_below_required kent-nhs-mllp)" = 0 ] || fail "no finding once nothing is cut"
[ "$(idle_verdict)" = none ] || fail "blame: no idle verdict once nothing is cut: $(idle_verdict)"
pass "fault off: the re-verification saw a session outlive the cut and restarted the bounds; no verdict"
