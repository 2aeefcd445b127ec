#!/usr/bin/env bash
# STAMP in the lab: every appliance runs fedprobe with its reflector (authenticated, lab
# key); senders measure towards the others, with faults on:
#   - stamp-loss (kent-nhs's border drops 20% of test packets inbound): forward loss about 20%,
#     backward about 0, from kent-psn;
#   - dscp-bleach (surrey-psn's border rewrites DSCP to 0): 46 sent, 0 received;
#   - NAT at surrey-nhs and sussex-nhs: their appliances are seen translated by kent-psn's
#     reflector, kent-nhs's is not;
#   - brighton-psn left out of allow: its test packets get no answer, counted refused_source;
#   - a wrong key towards brighton-psn: silence, counted auth_failed there.
export FEDPROBE_LAB="fps$$"
source "$(dirname "$0")/lab_lib.sh"
"$LABD/federation" up
"$LABD/fault" stamp-loss on
"$LABD/fault" dscp-bleach on
printf 'lab-stamp-key\n' >"$WORK/stamp.key"
printf 'not-the-key\n' >"$WORK/wrong.key"
lab_config_without_targets "$WORK/fed.toml"
# Faster rounds; authenticated reflectors; brighton-psn no longer allowed.
sed -i -e 's/^interval = "5s"/interval = "1s"/' -e 's/^timeout = "1s"/timeout = "700ms"/' \
    -e 's/^allow = \[\(.*\), "brighton-psn"\]$/allow = [\1]/' \
    -e "s|^listen = \[\"0.0.0.0:862\"\]|&\nauth_key_file = \"$WORK/stamp.key\"|" "$WORK/fed.toml"
grep -q "^auth_key_file = \"$WORK/stamp.key\"" "$WORK/fed.toml" || fail "the lab config has no [fedprobe.stamp] to key"
grep -q '^allow = .*"surrey-psn"\]$' "$WORK/fed.toml" || fail "brighton-psn was not taken out of allow"
key="auth_key_file = \"$WORK/stamp.key\""
cat >>"$WORK/fed.toml" <<TOML

[[targets]]
id = "kent-nhs-app"
network = "kent-nhs"
address = "${PUB_APP[kn]}"
from = ["kent-psn"]
probes = ["stamp"]
stamp = { spacing = "20ms", $key }

[[targets]]
id = "surrey-psn-app"
network = "surrey-psn"
address = "${PUB_APP[sp]}"
from = ["kent-psn"]
probes = ["stamp"]
stamp = { spacing = "20ms", dscp = 46, $key }

[[targets]]
id = "kent-psn-app"
network = "kent-psn"
address = "${PUB_APP[kp]}"
from = ["kent-nhs", "surrey-nhs", "sussex-nhs", "brighton-psn"]
probes = ["stamp"]
stamp = { spacing = "20ms", $key }

[[targets]]
id = "brighton-psn-app"
network = "brighton-psn"
address = "${PUB_APP[bp]}"
from = ["kent-psn"]
probes = ["stamp"]
stamp = { spacing = "20ms", auth_key_file = "$WORK/wrong.key" }
TOML
"$FEDPROBE" validate --config "$WORK/fed.toml" --site kent-psn >/dev/null 2>&1 || { "$FEDPROBE" validate --config "$WORK/fed.toml" --site kent-psn; fail "the config is valid"; }
for o in kn sn xn kp sp bp; do
    in_ns "$o-app" "$FEDPROBE" run --config "$WORK/fed.toml" --site "${ID[$o]}" >"$WORK/$o.log" 2>&1 &
    PIDS+=($!)
done

value() {  # org metric target-or-empty [label regex]
    local m
    m=$(scrape "$1" 2>/dev/null) || return 0
    grep -E "^$2\{[^}]*${4:-}[^}]*\}" <<<"$m" | grep -E "${3:+target=\"$3\"}" | awk '{print $2}' | head -1 || true
}
for _ in $(seq 1 60); do
    sent=$(value kp fedprobe_stamp_packets_sent_total kent-nhs-app)
    [ "${sent%.*}" -ge 250 ] 2>/dev/null && break
    sleep 1
done
[ "${sent%.*}" -ge 250 ] 2>/dev/null || fail "kent-psn sent only ${sent:-no} STAMP packets to kent-nhs in a minute"
sleep 2  # a round ends and attributes its loss
sent=$(value kp fedprobe_stamp_packets_sent_total kent-nhs-app)
fwd=$(value kp fedprobe_stamp_forward_lost_total kent-nhs-app)
back=$(value kp fedprobe_stamp_backward_lost_total kent-nhs-app)
echo "kent-psn -> kent-nhs: $sent sent, $fwd lost forward, $back lost backward"
python3 -c "import sys; s, f, b = map(float, sys.argv[1:]); sys.exit(0 if 0.12 <= f / s <= 0.30 and b / s <= 0.02 else 1)" \
    "$sent" "$fwd" "$back" || fail "stamp-loss: forward $fwd and backward $back of $sent (about 20% and 0 expected)"
pass "stamp-loss: forward $fwd of $sent ($(python3 -c "print(round(100*$fwd/$sent))")%), backward $back"

[ "$(value kp fedprobe_stamp_dscp_sent surrey-psn-app)" = 46 ] || fail "dscp_sent to surrey-psn is not 46"
[ "$(value kp fedprobe_stamp_dscp_received surrey-psn-app)" = 0 ] || fail "dscp-bleach: dscp_received is $(value kp fedprobe_stamp_dscp_received surrey-psn-app), not 0"
[ "$(value kp fedprobe_stamp_dscp_received kent-nhs-app)" = 0 ] || fail "kent-nhs (unmarked) dscp_received"
pass "dscp-bleach: 46 sent to surrey-psn, 0 received"

for o in sn xn; do
    [ "$(value "$o" fedprobe_stamp_source_translated kent-psn-app)" = 1 ] || fail "${ID[$o]} behind NAT is not seen translated"
done
[ "$(value kn fedprobe_stamp_source_translated kent-psn-app)" = 0 ] || fail "kent-nhs (no NAT) is seen translated"
grep -q "kent-psn-app stamp: the reflector saw us as ${PUB_APP[sn]}:[0-9]*, not ${APP_IP[sn]}:" "$WORK/sn.log" || fail "surrey-nhs's log does not name the address the reflector saw"
pass "NAT: surrey-nhs and sussex-nhs seen translated (as ${PUB_APP[sn]} and ${PUB_APP[xn]}), kent-nhs not"

[ "$(value bp fedprobe_stamp_packets_received_total kent-psn-app)" = 0 ] || fail "brighton-psn (outside allow) got answers"
[ "$(value bp fedprobe_probe_success kent-psn-app)" = 0 ] || fail "brighton-psn -> kent-psn is not a failure"
refused=$(value kp fedprobe_stamp_reflector_packets_total "" 'result="refused_source"')
[ "${refused%.*}" -ge 10 ] 2>/dev/null || fail "kent-psn's reflector counted $refused refused_source"
pass "brighton-psn outside allow: no answer, $refused refused_source at kent-psn"

[ "$(value kp fedprobe_stamp_packets_received_total brighton-psn-app)" = 0 ] || fail "a wrong key got answers"
auth=$(value bp fedprobe_stamp_reflector_packets_total "" 'result="auth_failed"')
[ "${auth%.*}" -ge 10 ] 2>/dev/null || fail "brighton-psn's reflector counted $auth auth_failed"
reflected=$(value kp fedprobe_stamp_reflector_packets_total "" 'result="reflected"')
pass "wrong key: silence, $auth auth_failed at brighton-psn; kent-psn reflected $reflected with the right one"

# The lab's namespaces share one kernel clock: fitted over the mesh, every offset is 0 within
# its error, and the exchanges' round trips split into one-way delays.
for o in kn sn xn kp sp bp; do scrape "$o"; done >"$WORK/scrapes.txt"
"$FEDPROBE" mesh --config "$WORK/fed.toml" --site kent-psn "$WORK/scrapes.txt" >"$WORK/mesh.txt" ||
    { cat "$WORK/mesh.txt"; fail "fedprobe mesh on the lab's scrapes: exit $?"; }
python3 - "$WORK/mesh.txt" <<'PY' || { cat "$WORK/mesh.txt"; fail "a fitted offset is not 0 within its error"; }
import re, sys
rows = re.findall(r"^([a-z-]+) +([+-][0-9.]+) +([0-9.]+)$", open(sys.argv[1]).read(), re.M)
assert len(rows) >= 4, rows  # kent-psn and the sites it exchanged with
for site, off, err in rows:
    assert abs(float(off)) <= float(err) + 0.05, (site, off, err)
print(f"ok: clock offsets over the mesh: {len(rows)} sites, each 0 within its error "
      + ", ".join(f"{s} {o}±{e} ms" for s, o, e in rows))
PY
