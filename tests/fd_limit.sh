#!/usr/bin/env bash
# A descriptor limit too low for the config (ulimit -n 64 against 250 healthy and 250 silently
# dropped tcp targets, and one healthy target alone in a third network): a start-up warning
# that says what to set, healthy targets never reported failing (probes that find no socket free
# count as overloaded), reloads still read the file, and the lone target's probes are served
# their share (round-robin across networks) instead of waiting behind the dropped network's.
# Before: the healthy t0 was `error` on 69 of 70 probes and 8 of 20 reloads failed with "Too
# many open files"; a healthy target behind 300 dropped ones completed one round in 35 s.
source "$(dirname "$0")/lib.sh"
make_ns

# Healthy: a listener on port 7000 that accepts everything. Dropped: port 7001, silently.
accept_and_close "$NS" 7000
in_ns nft -f - <<'NFT'
table inet t {
    chain input {
        type filter hook input priority 0;
        tcp dport 7001 drop
    }
}
NFT

{
    cat <<'TOML'
[fedprobe]
site = "a"
interval = "1s"
timeout = "800ms"
rate_limit = 2000
[[networks]]
id = "a"
prefixes = ["127.0.0.0/8"]
[[networks]]
id = "b"
prefixes = ["127.0.2.0/24"]
[[networks]]
id = "c"
prefixes = ["127.0.3.0/24"]
[services]
up = { proto = "tcp", port = 7000 }
dropped = { proto = "tcp", port = 7001 }
[[targets]]
id = "solo"
network = "c"
address = "127.0.3.1"
probes = ["tcp:up"]
TOML
    for i in $(seq 1 250); do
        printf '[[targets]]\nid = "h%d"\nnetwork = "a"\naddress = "127.0.1.%d"\nprobes = ["tcp:up"]\n' "$i" "$i"
        printf '[[targets]]\nid = "d%d"\nnetwork = "b"\naddress = "127.0.2.%d"\nprobes = ["tcp:dropped"]\n' "$i" "$i"
    done
} >"$WORK/fed.toml"

ip netns exec "$NS" bash -c 'ulimit -n 64 && exec "$@"' _ "$FEDPROBE" run --config "$WORK/fed.toml" >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
wait_for_metric '^fedprobe_scheduled_probes 501' 10
grep -q "descriptor limit (RLIMIT_NOFILE 64, hard 64)" "$WORK/daemon.log" || fail "no start-up warning about the descriptor limit"
want=$(sed -n 's/.*Set LimitNOFILE=\([0-9]*\).*/\1/p' "$WORK/daemon.log" | head -1)
[ -n "$want" ] && [ "$want" -ge 500 ] || fail "the warning does not say what LimitNOFILE would do (got '$want')"
pass "start-up warning names the limit and what to set: LimitNOFILE=$want"

# Twenty reloads of the unchanged file, every half second, while the limit is hit.
for _ in $(seq 1 20); do kill -HUP "$DAEMON_PID"; sleep 0.5; done
sleep 5
m=$(scrape)
done_=$(grep -c "reload done" "$WORK/daemon.log" || true)
rejected=$(grep -c "reload rejected" "$WORK/daemon.log" || true)
[ "$rejected" -eq 0 ] || { grep -m3 "error" "$WORK/daemon.log"; fail "$rejected reloads failed under the descriptor limit"; }
[ "$done_" -ge 1 ] || fail "no reload completed"
grep -q '^fedprobe_config_last_reload_successful 1' <<<"$m" || fail "last reload not successful"
pass "reloads read the file under the limit: $done_ done, 0 rejected"

sum() { awk -v re="$1" '$0 ~ re {s += $NF} END {print s + 0}' <<<"$m"; }
healthy_ok=$(sum '^fedprobe_probe_outcome_total\{.*outcome="ok".*target="h[0-9]+"')
healthy_bad=$(sum '^fedprobe_probe_outcome_total\{.*outcome="(error|filtered|refused|prohibited|unreachable)".*target="h[0-9]+"')
dropped_filtered=$(sum '^fedprobe_probe_outcome_total\{.*outcome="filtered".*target="d[0-9]+"')
queued=$(sum '^fedprobe_probe_overloaded_total\{probe="tcp",reason="queued"')
[ "$healthy_bad" -eq 0 ] || fail "healthy targets reported failing $healthy_bad times ($healthy_ok ok)"
[ "$healthy_ok" -gt 250 ] || fail "healthy targets were hardly probed: $healthy_ok ok"
[ "$dropped_filtered" -gt 0 ] || fail "the dropped targets were never reported filtered"
grep -q "Too many open files" "$WORK/daemon.log" && fail "EMFILE reached the log"
alive "$DAEMON_PID" || fail "daemon died"
pass "healthy: $healthy_ok ok, 0 failing; dropped: $dropped_filtered filtered; $queued probes counted as overloaded (queued)"

# The lone target's share: its rounds (one a second) keep completing beside 250 dropped ones.
solo_ok() { scrape | awk '/^fedprobe_probe_outcome_total\{.*outcome="ok".*target="solo"/ {print $NF + 0}'; }
solo0=$(solo_ok)
sleep 10
solo1=$(solo_ok)
[ $((solo1 - solo0)) -ge 7 ] || fail "the lone target in its own network completed $((solo1 - solo0)) rounds in 10 s (one a second are due)"
pass "fair shares: the lone target completed $((solo1 - solo0)) of 10 rounds in 10 s beside 250 dropped targets"

