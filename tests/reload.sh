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
# Which file it runs: the SHA-256 of its bytes, one series.
running_sha() { scrape | sed -nE 's/^fedprobe_config_info\{sha256="([0-9a-f]{64})"\} 1$/\1/p'; }
first_sha=$(sha256sum "$WORK/fed.toml" | cut -d' ' -f1)
[ "$(running_sha)" = "$first_sha" ] || fail "fedprobe_config_info names the file's SHA-256 ($first_sha): $(scrape | grep config_info)"

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
[ "$(running_sha)" = "$first_sha" ] || fail "a rejected file does not change fedprobe_config_info"
pass "bad reload rejected, old config still probing ($before -> $after packets), its SHA-256 still served"

# A good file without 'leaves': swapped in, its series removed, the other kept.
write_config ''
kill -HUP "$DAEMON_PID"
wait_for_metric '^fedprobe_config_last_reload_successful 1' 5
sleep 0.5
m=$(scrape)
grep -q 'target="leaves"' <<<"$m" && fail "series of a departed target still exported"
c1=$(count)
[ "${c1%.*}" -ge "${after%.*}" ] || fail "the kept target's counters were reset ($after -> $c1)"
[ "$(running_sha)" = "$(sha256sum "$WORK/fed.toml" | cut -d' ' -f1)" ] && [ "$(scrape | grep -c '^fedprobe_config_info')" = 1 ] \
    || fail "fedprobe_config_info follows the new file, one series: $(scrape | grep config_info)"
pass "good reload removed the departed target's series and kept the rest; fedprobe_config_info follows the file"

# A 7.6 MB file with one error at its end: parsed off the probing thread, so no probe starts
# late (it stalled probing for 5 s before), and the parse's memory is given back.
late() {  # probe starts more than 100 ms behind their slot, so far
    local m; m=$(scrape)
    awk '/^fedprobe_scheduler_lag_seconds_bucket\{le="0.1"\}/ {b=$2} /^fedprobe_scheduler_lag_seconds_count/ {c=$2} END {print c-b}' <<<"$m"
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$DAEMON_PID/status"; }
rss0=$(rss_kb)
python3 - "$WORK/big.toml" <<'PY'
import sys
head = open(sys.argv[1].replace("big.toml", "fed.toml")).read()
parts, n, size = [head], 0, len(head)
while size < 7_600_000:  # a running total: summing the parts each time took minutes
    parts.append(f'[[targets]]\nid = "t{n}"\nnetwork = "kent-nhs"\naddress = "127.0.1.{n % 250 + 1}"\nprobes = ["icmp"]\n')
    size += len(parts[-1])
    n += 1
parts.append('[[targets]]\nid = "broken"\nnetwork = "nowhere"\naddress = "127.0.0.9"\nprobes = ["icmp"]\n')
open(sys.argv[1], "w").write("".join(parts))
PY
cp "$WORK/fed.toml" "$WORK/good.toml"
late0=$(late)
cp "$WORK/big.toml" "$WORK/fed.toml"
kill -HUP "$DAEMON_PID"
wait_for_metric '^fedprobe_config_last_reload_successful 0' 20
rss_peak=$(awk '/^VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
sleep 1
late1=$(late)
grep -q "fed.toml:[0-9]*:[0-9]*: error: target 'broken': network 'nowhere'" "$WORK/daemon.log" || fail "the big file's one error logged with its place"
[ "${late1%.*}" -eq "${late0%.*}" ] || fail "$((${late1%.*} - ${late0%.*})) probe starts were over 100 ms late during a big reload"
# Given back: at most a quarter of what the parse took stays (before, all of it stayed). Only
# glibc's allocator is asked (malloc_trim): under AddressSanitizer, whose allocator keeps freed
# memory in its own pools, the release build's run of this test is the one that measures it.
rss1=$(rss_kb)
memory="RSS ${rss0} -> peak ${rss_peak} -> ${rss1} kB"
if sanitized; then
    memory="$memory (not checked under AddressSanitizer)"
else
    [ $((rss1 - rss0)) -le $(((rss_peak - rss0) / 4)) ] || fail "RSS stayed at ${rss1} kB after a big reload (was ${rss0} kB, peak ${rss_peak} kB)"
fi
pass "a 7.6 MB bad file: no probe start late, $memory"

# A reload storm: 100 SIGHUPs in a second. A small file loads faster than they come, so most
# become a load of their own; those that arrive during a load are merged into one more.
cp "$WORK/good.toml" "$WORK/fed.toml"
for _ in $(seq 1 100); do kill -HUP "$DAEMON_PID"; sleep 0.01; done
wait_for_metric '^fedprobe_config_last_reload_successful 1' 20
alive "$DAEMON_PID" || fail "the daemon died in a reload storm"
loads=$(grep -c "reloading " "$WORK/daemon.log")
c2=$(count); sleep 1; c3=$(count)
[ "${c3%.*}" -gt "${c2%.*}" ] || fail "probing stopped after a reload storm"
pass "100 SIGHUPs in a second: $loads loads in all, still probing"

# [fedprobe.web] allow on a reload, plain HTTP: a list without the scraper closes its next
# connection; a list with it (IPv6 beside it) serves it again. Both without a restart.
cp "$WORK/good.toml" "$WORK/fed.toml"
sed -i 's/^timeout = "200ms"$/timeout = "200ms"\n[fedprobe.web]\nallow = ["127.0.0.9"]/' "$WORK/fed.toml"
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do scrape >/dev/null 2>&1 || break; sleep 0.1; done
scrape >/dev/null 2>&1 && fail "a reload to allow = [127.0.0.9] still serves 127.0.0.1"
grep -q 'reload: \[fedprobe.web\] applied (plain HTTP, 1 allowed prefixes)' "$WORK/daemon.log" \
    || fail "the reload names what it applied: $(grep 'reload' "$WORK/daemon.log" | tail -3)"
sed -i 's|^allow = \["127.0.0.9"\]$|allow = ["127.0.0.0/8", "::1"]|' "$WORK/fed.toml"
kill -HUP "$DAEMON_PID"
wait_for_metric '^fedprobe_config_last_reload_successful 1' 5
alive "$DAEMON_PID" || fail "the daemon died in the allow reloads"
pass "allow on a reload, plain HTTP: the scraper closed out, then served again (IPv6 in the list), no restart"
