#!/usr/bin/env bash
# SIGHUP: a bad file is rejected and the old config keeps probing; a good one swaps and the
# series of departed targets disappear.
source "$(dirname "$0")/lib.sh"
make_ns

write_config() {  # extra targets...
    cat >"$WORK/fed.toml" <<TOML
[fedprobe]
site = "kent-nhs"
interval = "500ms"
timeout = "200ms"
[[networks]]
id = "kent-nhs"
prefixes = ["127.0.0.0/8"]
[[targets]]
id = "stays"
network = "kent-nhs"
address = "127.0.0.2"
probes = ["icmp"]
$1
TOML
}

write_config '[[targets]]
id = "leaves"
network = "kent-nhs"
address = "127.0.0.3"
probes = ["icmp"]'
start_daemon "$WORK/fed.toml"
wait_for_metric 'fedprobe_probe_success\{.*target="leaves"\} 1' 10
wait_for_metric 'fedprobe_probe_success\{.*target="stays"\} 1' 10
pass "both targets probed"

count() { scrape | grep -E "^fedprobe_icmp_packets_sent_total\{.*target=\"stays\"" | awk '{print $2}'; }

# A broken file: rejected, old config kept, probing goes on.
echo 'this is = = not toml' >>"$WORK/fed.toml"
kill -HUP "$DAEMON_PID"
wait_for_metric '^fedprobe_config_last_reload_successful 0' 5
before=$(count)
sleep 1.5
after=$(count)
[ "${after%.*}" -gt "${before%.*}" ] || fail "probing stopped after a bad reload ($before -> $after)"
# Scrape into a variable: with pipefail, grep -q closing the pipe early fails curl (SIGPIPE).
m=$(scrape)
grep -q 'target="leaves"' <<<"$m" || fail "old config's targets dropped by a bad reload"
grep -q "reload rejected" "$WORK/daemon.log" || fail "rejection logged"
grep -Eq "fed.toml:[0-9]+:[0-9]+: error" "$WORK/daemon.log" || fail "the error's location logged"
alive "$DAEMON_PID" || fail "daemon died on a bad reload"
pass "bad reload rejected, old config still probing ($before -> $after packets)"

# A good file without 'leaves': swapped in, its series removed, the other kept.
write_config ''
kill -HUP "$DAEMON_PID"
wait_for_metric '^fedprobe_config_last_reload_successful 1' 5
sleep 0.5
m=$(scrape)
grep -q 'target="leaves"' <<<"$m" && fail "series of a departed target still exported"
c1=$(count)
[ "${c1%.*}" -ge "${after%.*}" ] || fail "the kept target's counters were reset ($after -> $c1)"
pass "good reload removed the departed target's series and kept the rest"
