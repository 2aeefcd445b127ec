#!/usr/bin/env bash
# `fedprobe export prometheus` on the example federation: Prometheus and Alertmanager accept
# what it writes (promtool, amtool), the targets are the appliances with their sites, a network
# without an appliance is left out with a warning, routes reach the organisation that owns the
# failing side, and an invalid file gets the same located errors as validate.
set -euo pipefail
: "${FEDPROBE:?}" "${SOURCE_ROOT:?}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# The example without brighton-psn's appliance, and with basic auth.
sed -e '/^appliance = "203.0.113.10:9641"/d' "$SOURCE_ROOT/config/examples/federation.toml" >"$WORK/fed.toml"
cat >>"$WORK/fed.toml" <<'TOML'
[fedprobe.web]
basic_auth_users = { prometheus = "$2y$10$abcdefghijklmnopqrstuuVb1L5Jq1hbYjFNRtwXRXjBdO0bsJQCW" }
TOML
"$FEDPROBE" export prometheus --config "$WORK/fed.toml" --out "$WORK/out" 2>"$WORK/err" || { cat "$WORK/err"; fail "export exited $?"; }
grep -q "network 'brighton-psn' has no appliance address: left out of the scrape targets" "$WORK/err" || { cat "$WORK/err"; fail "the warning for a network without an appliance"; }
/usr/bin/python3 - "$WORK/out/targets/fedprobe.json" <<'PY' || fail "the scrape targets"
import json, sys
got = {(t["targets"][0], t["labels"]["site"]) for t in json.load(open(sys.argv[1]))}
want = {("10.31.1.10:9641", "kent-nhs"), ("10.211.1.10:9641", "surrey-nhs"),
        ("10.200.0.10:9641", "sussex-nhs"), ("198.51.100.10:9641", "kent-psn"),
        ("198.51.100.138:9641", "surrey-psn")}
sys.exit(0 if got == want else print(got ^ want) or 1)
PY
pass "file_sd: five appliances with their site labels; brighton-psn left out with a warning"

echo "s3cret" >"$WORK/password"
sed -i "s|/etc/prometheus/fedprobe.password|$WORK/password|" "$WORK/out/prometheus.yml"
promtool check config "$WORK/out/prometheus.yml" >"$WORK/promtool.log" 2>&1 || { cat "$WORK/promtool.log"; fail "promtool check config"; }
grep -q "SUCCESS: 2 rule files found" "$WORK/promtool.log" || { cat "$WORK/promtool.log"; fail "both rule files are checked"; }
cmp -s "$WORK/out/rules/fedprobe.rules.yml" "$SOURCE_ROOT/alerts/fedprobe.rules.yml" || fail "the alert rules written are the shipped ones"
cmp -s "$WORK/out/rules/fedprobe.recording.yml" "$SOURCE_ROOT/alerts/fedprobe.recording.yml" || fail "the recording rules written are the shipped ones"
pass "promtool accepts prometheus.yml, its basic auth and both rule files"

am="$WORK/out/alertmanager.yml"
amtool check-config "$am" >"$WORK/amtool.log" 2>&1 || { cat "$WORK/amtool.log"; fail "amtool check-config"; }
route() { amtool config routes test --config.file="$am" "$@" 2>/dev/null | tr -d ' '; }
[ "$(route alertname=FedprobeTargetFailing site=kent-psn network=surrey-nhs)" = "org-surrey-nhs,noc" ] || fail "a failing target goes to its network's organisation: $(route alertname=FedprobeTargetFailing site=kent-psn network=surrey-nhs)"
[ "$(route alertname=FedprobeAllowFlowBlocked site=kent-psn network=surrey-nhs)" = "org-surrey-nhs,org-kent-psn,noc" ] || fail "a flow goes to both ends: $(route alertname=FedprobeAllowFlowBlocked site=kent-psn network=surrey-nhs)"
[ "$(route alertname=FedprobePassiveHandshakesFailing site=kent-nhs dst_network=brighton-psn)" = "org-brighton-psn,noc" ] || fail "passive: the destination's organisation"
[ "$(route alertname=FedprobeOverloaded instance=x)" = "noc" ] || fail "the rest: the NOC"
grep -q "FedprobeNetworkUnreachable" "$am" || fail "the inhibition of per-target alerts by a whole network unreachable"
# A federation verdict pages its owner only; the flow's ends are informed when not the owner.
got=$(route alertname=FedprobeFederationFault owner=kent-nhs from_site=kent-psn to_network=kent-nhs)
[ "$got" = "org-kent-nhs,org-kent-psn-info,noc" ] || fail "a verdict pages its owner, informs the source: $got"
got=$(route alertname=FedprobeFederationFault owner=surrey-psn from_site=kent-nhs to_network=sussex-nhs)
[ "$got" = "org-kent-nhs-info,org-sussex-nhs-info,org-surrey-psn,noc" ] || fail "a transit owner is paged, both ends informed: $got"
got=$(route alertname=FedprobeFederationFaultUnplaced owner=unknown from_site=kent-nhs to_network=sussex-nhs)
[ "$got" = "org-kent-nhs-info,org-sussex-nhs-info,noc" ] || fail "an unplaced verdict pages nobody but the NOC: $got"
grep -q '"127.0.0.1:9642"' "$WORK/out/prometheus.yml" || fail "prometheus.yml scrapes fedprobe blame --serve"
pass "amtool accepts alertmanager.yml; routes reach the failing side's organisation, flows both ends"

printf '[fedprobe]\nsite = "a"\n[[networks]]\nid = "a"\nprefixes = ["10.0.0.0/8"]\nappliance = "10.0.0.1"\n' >"$WORK/bad.toml"
set +e; "$FEDPROBE" export prometheus --config "$WORK/bad.toml" --out "$WORK/bad" >"$WORK/out.txt" 2>&1; rc=$?; set -e
[ $rc -eq 1 ] || fail "an invalid config: exit $rc, wanted 1"
grep -q "bad.toml:6:13: error: network 'a': appliance '10.0.0.1' is not ADDRESS:PORT" "$WORK/out.txt" || { cat "$WORK/out.txt"; fail "the error is located"; }
[ ! -e "$WORK/bad" ] || fail "nothing is written from an invalid config"
pass "an invalid config: located error, exit 1, nothing written"
