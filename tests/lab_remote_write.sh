#!/usr/bin/env bash
# When one central server is not enough: an appliance's own Prometheus in agent mode scrapes its
# fedprobe and writes remotely to the central store (Prometheus' own receiver, lab/central),
# keeping a WAL. The central store is stopped for 30 s; after it returns, no sample is missing.
# Prints the figures for the capacity plan: series, samples/s, scrape size, bytes/s written.
export FEDPROBE_LAB="fpr$$"
source "$(dirname "$0")/lab_lib.sh"
start_lab_daemons kn
PROM=$((20000 + $$ % 10000))
FEDPROBE="$FEDPROBE" "$LABD/central" up "$PROM" "$((PROM + 1))" >"$WORK/central.log" || { cat "$WORK/central.log"; fail "lab/central up"; }
cat >"$WORK/agent.yml" <<YML
global: {scrape_interval: 5s, external_labels: {agent: kent-nhs}}
scrape_configs:
  - job_name: fedprobe-agent
    honor_labels: true
    static_configs: [{targets: ["127.0.0.1:9641"]}]
remote_write:
  - url: http://100.64.0.1:9090/api/v1/write
    queue_config: {min_backoff: 1s, max_backoff: 5s}
YML
in_ns kn-app prometheus --enable-feature=agent --config.file="$WORK/agent.yml" \
    --storage.agent.path="$WORK/agent" --web.listen-address=127.0.0.1:9091 >"$WORK/agent.log" 2>&1 &
PIDS+=($!)

query() {  # expr [time]: the raw JSON result
    curl -sf --max-time 5 "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"}
}
value() { query "$@" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'; }
for _ in $(seq 1 60); do
    [ "$(value 'count(up{agent="kent-nhs"})' 2>/dev/null)" = 1 ] && break
    sleep 1
done
[ "$(value 'count(up{agent="kent-nhs"})')" = 1 ] || fail "the agent's samples reach the central store"
sleep 10  # a few samples before the outage, so a gap at its start shows
agent_metric() {  # the sum of a counter over its label sets, from the agent's own metrics
    # Retried: under CI's load one read can time out, and a failed read in $(...) ended the
    # test under set -e without a word.
    local text="" _
    for _ in 1 2 3 4 5; do
        text=$(in_ns kn-app curl -sf --max-time 5 http://127.0.0.1:9091/metrics) && break
        sleep 1
    done
    [ -n "$text" ] || fail "the agent's own /metrics does not answer"
    awk -v m="$1" '$1 == m || index($1, m "{") == 1 {s += $2} END {printf "%.0f\n", s}' <<<"$text"
}
bytes0=$(agent_metric prometheus_remote_storage_bytes_total); samples0=$(agent_metric prometheus_remote_storage_samples_total); t0=$(date +%s)

# The agent has one target (above): each of its scrapes after the first adds one interval here.
scrapes0=$(agent_metric prometheus_target_interval_length_seconds_count)
stopped=$(date +%s)
"$LABD/central" stop-prometheus
sleep 30
"$LABD/central" start-prometheus
started=$(date +%s)
pass "central store stopped for $((started - stopped)) s"
for _ in $(seq 1 60); do
    curl -sf "http://127.0.0.1:$PROM/-/ready" >/dev/null 2>&1 && break
    sleep 1
done
# The agent retries, then sends what its WAL kept: wait until the store holds the outage's
# samples and some taken after it, rather than for a fixed time.
outage_stored() {  # how many samples of the outage the store holds, and whether newer ones came
    query "up{agent=\"kent-nhs\",job=\"fedprobe-agent\"}[$(($(date +%s) - stopped + 30))s]" |
        /usr/bin/python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
t = [float(x) for x, _ in r[0]["values"]] if r else []
print(len([x for x in t if '"$stopped"' <= x <= '"$started"']), int(bool(t) and t[-1] > '"$started"' + 10))'
}
for _ in $(seq 1 90); do
    read -r n newer < <(outage_stored 2>/dev/null || echo "0 0")
    [ "${n:-0}" -ge 5 ] && [ "${newer:-0}" = 1 ] && break
    sleep 1
done
end=$(date +%s)
bytes1=$(agent_metric prometheus_remote_storage_bytes_total); samples1=$(agent_metric prometheus_remote_storage_samples_total); t1=$(date +%s)
# The agent's own longest time between two of its scrapes (its summary's 0.99 quantile over the
# last 10 minutes, this whole test, about 30 intervals: the largest): a gap in the store no
# longer than that is one the agent never scraped (a CPU-starved agent on a loaded CI machine
# skips ticks), not a sample that remote write lost.
agent_interval=$(in_ns kn-app curl -sf --max-time 5 http://127.0.0.1:9091/metrics |
    awk '$1 == "prometheus_target_interval_length_seconds{interval=\"5s\",quantile=\"0.99\"}" {print $2}' || true)
scrapes1=$(agent_metric prometheus_target_interval_length_seconds_count); read_at=$(date +%s)
# Remote write sends in batches: wait until a sample scraped after those counters is stored, so
# every scrape they count is in the store too.
for _ in $(seq 1 30); do
    latest=$(value "timestamp(up{agent=\"kent-nhs\",job=\"fedprobe-agent\"})" 2>/dev/null)
    [ -n "$latest" ] && /usr/bin/python3 -c "import sys; sys.exit(0 if $latest > $read_at else 1)" && break
    sleep 1
done

# The raw samples of one series across the outage: one every 5 s, no gap.
window=$((end - stopped + 30))
query "up{agent=\"kent-nhs\",job=\"fedprobe-agent\"}[${window}s]" "$end" >"$WORK/samples.json"
/usr/bin/python3 - "$WORK/samples.json" "$stopped" "$started" "$end" "${agent_interval:-0}" "$scrapes0" "$scrapes1" <<'PY' || fail "samples are missing after the outage"
import json, sys
values = json.load(open(sys.argv[1]))["data"]["result"][0]["values"]
stopped, started, end, agent_interval, scrapes0, scrapes1 = map(float, sys.argv[2:8])
times = [float(t) for t, _ in values]
gaps = [b - a for a, b in zip(times, times[1:])]
during = [t for t in times if stopped <= t <= started]
# Where the largest gap lies, in seconds from the store's stop: before it (negative), in the
# outage (0 to its length), or after the store came back. A failure says which part lost them.
i = max(range(len(gaps)), key=gaps.__getitem__)
print(f"{len(times)} samples over {times[-1] - times[0]:.0f} s; {len(during)} from the outage; "
      f"largest gap {gaps[i]:.1f} s, from {times[i] - stopped:+.1f} s to {times[i + 1] - stopped:+.1f} s "
      f"after the stop (the store was back at +{started - stopped:.0f} s; the last sample "
      f"{end - times[-1]:.1f} s before the query); the agent's own longest interval between "
      f"scrapes {agent_interval:.1f} s")
# Every scrape the agent made from the stop to the end is in the store (one either side: the
# counters were read a moment before the stop and after the end).
stored = len([t for t in times if stopped <= t <= end])
print(f"the agent scraped {scrapes1 - scrapes0:.0f} times from the stop to the end; the store "
      f"holds {stored} samples of that time")
bound = max(7.5, agent_interval + 1.0)
sys.exit(0 if max(gaps) <= bound and len(during) >= 5 and stored >= scrapes1 - scrapes0 - 1
         else 1)
PY
pass "no sample missing: the outage's samples came from the agent's WAL"

series=$(value 'count({agent="kent-nhs"})')
scrape=$(in_ns kn-app curl -sf http://127.0.0.1:9641/metrics | wc -c)
/usr/bin/python3 - "$series" "$scrape" "$bytes0" "$bytes1" "$samples0" "$samples1" "$t0" "$t1" <<'PY'
import sys
series, scrape, b0, b1, s0, s1, t0, t1 = map(float, sys.argv[1:])
print(f"figures: {series:.0f} series from this appliance; scrape {scrape / 1024:.0f} KiB; "
      f"{(s1 - s0) / (t1 - t0):.0f} samples/s and {(b1 - b0) / (t1 - t0) / 1024:.1f} KiB/s remote-written "
      f"(averaged over the outage and catch-up)")
PY
