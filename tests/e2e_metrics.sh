#!/usr/bin/env bash
# The whole daemon on loopback in a private namespace: probes real listeners, serves /metrics,
# and the exposition passes promtool.
source "$(dirname "$0")/lib.sh"
make_ns

cat >"$WORK/fed.toml" <<'TOML'
[fedprobe]
site = "kent-nhs"
listen = "127.0.0.1:9641"
interval = "1s"
timeout = "500ms"

[[networks]]
id = "kent-nhs"
prefixes = ["127.0.1.0/24"]
[[networks]]
id = "surrey-psn"
prefixes = ["127.0.2.0/24"]

[services]
web = { proto = "tcp", port = 8080 }
mllp = { proto = "tcp", port = 2575 }

[[targets]]
id = "surrey-web"
network = "surrey-psn"
address = "127.0.2.10"
probes = ["icmp", "tcp:web", "tcp:mllp"]
labels = { role = "epr" }
TOML

in_ns python3 -m http.server 8080 --bind 127.0.2.10 >/dev/null 2>&1 &
WEB_PID=$!
trap 'kill $WEB_PID 2>/dev/null || true; cleanup' EXIT
start_daemon "$WORK/fed.toml"

wait_for_metric 'fedprobe_probe_success\{.*service="web".*\} 1' 10
pass "open port is ok"
wait_for_metric 'fedprobe_probe_last_error_info\{.*outcome="refused".*reporter="127.0.2.10",reporter_network="surrey-psn".*service="mllp"' 10
pass "closed port is refused, reported by the target in its network"
wait_for_metric 'fedprobe_icmp_packets_received_total\{.*target="surrey-web"\} [1-9]' 10
pass "icmp replies counted"

scrape >"$WORK/metrics.txt"
for family in fedprobe_probe_success fedprobe_probe_outcome_total fedprobe_probe_duration_seconds_bucket \
    fedprobe_build_info fedprobe_scheduler_lag_seconds_bucket fedprobe_probes_in_flight \
    fedprobe_config_last_reload_successful fedprobe_config_last_reload_success_timestamp_seconds \
    fedprobe_icmp_packets_sent_total fedprobe_icmp_rtt_seconds_bucket; do
    grep -q "^$family" "$WORK/metrics.txt" || fail "family $family missing"
done
pass "all families present"
grep -q 'role="epr"' "$WORK/metrics.txt" || fail "static labels exported"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 || { cat "$WORK/promtool.out"; fail "promtool check metrics"; }
pass "promtool check metrics is clean"

# Prometheus asks for gzip: the same exposition, compressed, with the format's content type.
in_ns curl -s -D "$WORK/gz.headers" -H 'Accept-Encoding: gzip' -o "$WORK/metrics.gz" http://127.0.0.1:9641/metrics
grep -qi '^Content-Encoding: gzip' "$WORK/gz.headers" || { cat "$WORK/gz.headers"; fail "no gzip when asked for"; }
grep -qi '^Content-Type: text/plain; version=0.0.4' "$WORK/gz.headers" || fail "content type is not the text format's"
gunzip -c "$WORK/metrics.gz" >"$WORK/metrics.unzipped" || fail "the gzip body does not inflate"
[ "$(grep -c '^fedprobe_probe_success{' "$WORK/metrics.unzipped")" = 3 ] || fail "gzip body lacks the job series"
promtool check metrics <"$WORK/metrics.unzipped" >/dev/null 2>&1 || fail "promtool on the inflated body"
[ "$(stat -c %s "$WORK/metrics.gz")" -lt "$(( $(stat -c %s "$WORK/metrics.unzipped") / 3 ))" ] || fail "gzip body not smaller"
in_ns curl -s -D "$WORK/plain.headers" -H 'Accept-Encoding: gzip;q=0' -o /dev/null http://127.0.0.1:9641/metrics
grep -qi '^Content-Encoding' "$WORK/plain.headers" && fail "gzip despite q=0"
pass "gzip when asked for ($(stat -c %s "$WORK/metrics.gz") bytes for $(stat -c %s "$WORK/metrics.unzipped")), plain otherwise"

# /-/healthy and /-/ready answer as Prometheus' own do, beside /metrics.
health=$(in_ns curl -s -w ' %{http_code}' http://127.0.0.1:9641/-/healthy)
[ "$health" = "fedprobe is Healthy.
 200" ] || fail "/-/healthy said '$health'"
ready=$(in_ns curl -s -w ' %{http_code}' http://127.0.0.1:9641/-/ready)
[ "$ready" = "fedprobe is Ready.
 200" ] || fail "/-/ready said '$ready'"
[ "$(in_ns curl -s -o /dev/null -w '%{http_code}' -I http://127.0.0.1:9641/-/ready)" = 200 ] || fail "HEAD /-/ready"
[ "$(in_ns curl -s -o /dev/null -w '%{http_code}' -X POST http://127.0.0.1:9641/-/healthy)" = 405 ] || fail "POST /-/healthy is not allowed"
grep -q '^fedprobe_build_info' <<<"$(scrape)" || fail "/metrics still served after the health endpoints"
pass "/-/healthy and /-/ready: 200 with Prometheus' words, HEAD too, POST refused"

# SIGTERM stops it within a second.
kill -TERM "$DAEMON_PID"
for _ in $(seq 1 10); do alive "$DAEMON_PID" || break; sleep 0.1; done
alive "$DAEMON_PID" && fail "still running 1 s after SIGTERM"
wait "$DAEMON_PID" && DAEMON_PID="" || fail "non-zero exit after SIGTERM"
pass "SIGTERM stops it within a second"
