#!/usr/bin/env bash
# HTTPS probes at scale: N targets (default 1,000) on loopback, each probed once a second with a
# fresh TCP+TLS connection verified against a CA, by fedprobe and then by blackbox_exporter
# (Debian's prometheus-blackbox-exporter) driven at the same rate, against the same nginx.
# Prints probes/s, CPU-µs per probe and RSS for each, side by side, and the ratio. SCHEME=http
# runs the same without TLS, which shows what the engines cost apart from the TLS library.
# Everything runs in a network namespace of its own: only its loopback carries traffic.
#   sudo FEDPROBE=build/daemon/fedprobe HTTP_LOAD=build/bench/http_load bench/http_bench.sh
# (or: meson test -C build --benchmark https_vs_blackbox -v). TARGETS=N, MEASURE=seconds.
set -euo pipefail
: "${FEDPROBE:?}" "${HTTP_LOAD:?}"
N=${TARGETS:-1000}
SCHEME=${SCHEME:-https}  # http: the same without TLS, to show what the handshake costs
case $SCHEME in https) PORT=18443 ;; http) PORT=18080 ;; *) echo "SCHEME is https or http" >&2; exit 2 ;; esac
MEASURE=${MEASURE:-20}
WARMUP=${WARMUP:-5}
NS="fpbench$$"
WORK=$(mktemp -d)
echo "work: $WORK"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
    sleep 0.2
    ip netns del "$NS" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
in_ns() { ip netns exec "$NS" "$@"; }
addr() { echo "127.1.$(($1 / 250)).$(($1 % 250 + 1))"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user+sys, in clock ticks
rss_mib() { awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
HZ=$(getconf CLK_TCK)

ip netns add "$NS"
in_ns ip link set lo up

# A CA and one certificate for bench.lab, served on every loopback address.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=bench CA" \
    -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=bench.lab" \
    -keyout "$WORK/srv.key" -out "$WORK/srv.csr" 2>/dev/null
echo "subjectAltName=DNS:bench.lab" >"$WORK/srv.ext"
openssl x509 -req -in "$WORK/srv.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial -days 30 \
    -extfile "$WORK/srv.ext" -out "$WORK/srv.pem" 2>/dev/null
mkdir -p "$WORK/tmp"
cat >"$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
worker_rlimit_nofile 65536;
events { worker_connections 8192; }
http {
    access_log off;
    client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
    uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
    server {
        listen 18443 ssl;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_certificate $WORK/srv.pem;
        ssl_certificate_key $WORK/srv.key;
        location / { return 200 "bench\n"; }
    }
    server {
        listen 18080;
        location / { return 200 "bench\n"; }
    }
}
CONF
in_ns nginx -c "$WORK/nginx.conf" -g "user root;"

# fedprobe: one target per address, the URL's name pinned to it.
{
    cat <<TOML
[fedprobe]
site = "lo"
listen = "127.0.0.1:9641"
interval = "1s"
timeout = "900ms"
rate_limit = $((N * 4))
ca_file = "$WORK/ca.pem"
[[networks]]
id = "lo"
prefixes = ["127.0.0.0/8"]
TOML
    for i in $(seq 0 $((N - 1))); do
        printf '[[targets]]\nid = "t%d"\nnetwork = "lo"\naddress = "%s"\nprobes = ["http"]\nhttp = { url = "%s://bench.lab:%s/" }\n' "$i" "$(addr "$i")" "$SCHEME" "$PORT"
    done
} >"$WORK/fedprobe.toml"

# blackbox_exporter: the same verification (the CA, the name bench.lab), the same timeout.
cat >"$WORK/blackbox.yml" <<YML
modules:
  bench:
    prober: http
    timeout: 900ms
    http:
      valid_status_codes: [200]
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      tls_config:
        ca_file: $WORK/ca.pem
        server_name: bench.lab
YML
for i in $(seq 0 $((N - 1))); do
    echo "http://127.0.0.1:9115/probe?module=bench&target=$SCHEME://$(addr "$i"):$PORT/"
done >"$WORK/urls.txt"

probes_done() {  # fedprobe's probe count so far, how many were ok, and each outcome's count
    in_ns curl -sf http://127.0.0.1:9641/metrics |
        awk '/^fedprobe_probe_outcome_total\{/ {n += $NF; match($0, /outcome="[a-z_]+"/); o = substr($0, RSTART + 9, RLENGTH - 10); by[o] += $NF}
             END {printf "%d %d", n, by["ok"]; for (o in by) if (by[o] > 0) printf " %s=%d", o, by[o]; printf "\n"}'
}

echo "fedprobe http probe: $N $SCHEME targets at 1 s, ${MEASURE}s measured after ${WARMUP}s"
ip netns exec "$NS" "$FEDPROBE" run --config "$WORK/fedprobe.toml" >"$WORK/fedprobe.log" 2>&1 &
FP=$!
PIDS+=("$FP")
sleep "$WARMUP"
read -r n0 ok0 outcomes0 < <(probes_done)
fp_c0=$(ticks "$FP")
fp_t0=$(date +%s%N)
sleep "$MEASURE"
fp_c1=$(ticks "$FP")
fp_t1=$(date +%s%N)
read -r n1 ok1 outcomes1 < <(probes_done)
fp_rss=$(rss_mib "$FP")
kill "$FP"
wait "$FP" 2>/dev/null || true

echo "blackbox_exporter: the same targets, driven at $N probes/s"
ip netns exec "$NS" prometheus-blackbox-exporter --config.file="$WORK/blackbox.yml" --web.listen-address=127.0.0.1:9115 \
    --log.level=warn >"$WORK/blackbox.log" 2>&1 &
BB=$!
PIDS+=("$BB")
for _ in $(seq 1 50); do in_ns curl -sf -o /dev/null http://127.0.0.1:9115/metrics && break; sleep 0.1; done
in_ns "$HTTP_LOAD" --urls "$WORK/urls.txt" --rate "$N" --seconds "$WARMUP" >/dev/null
bb_c0=$(ticks "$BB")
bb_t0=$(date +%s%N)
read -r _ bb_sent _ bb_done _ bb_ok _ bb_failed < <(in_ns "$HTTP_LOAD" --urls "$WORK/urls.txt" --rate "$N" --seconds "$MEASURE")
bb_c1=$(ticks "$BB")
bb_t1=$(date +%s%N)
bb_rss=$(rss_mib "$BB")

python3 - <<PY
hz = $HZ
rows = [
    ("fedprobe", $n1 - $n0, ($n1 - $n0) - ($ok1 - $ok0), ($fp_c1 - $fp_c0) / hz, ($fp_t1 - $fp_t0) / 1e9, $fp_rss),
    ("blackbox_exporter", $bb_done, $bb_failed, ($bb_c1 - $bb_c0) / hz, ($bb_t1 - $bb_t0) / 1e9, $bb_rss),
]
print()
print(f"{'':18} {'probes':>8} {'probes/s':>9} {'failed':>7} {'CPU s':>7} {'CPU-us/probe':>13} {'CPU-us/ok':>10} {'RSS MiB':>8}")
per = []
for name, n, failed, cpu, secs, rss in rows:
    us = cpu * 1e6 / max(n, 1)
    per.append(us)
    ok_us = cpu * 1e6 / max(n - failed, 1)
    print(f"{name:18} {n:8d} {n / secs:9.0f} {failed:7d} {cpu:7.2f} {us:13.1f} {ok_us:10.1f} {rss:8.1f}")
print()
print("fedprobe's outcomes, in total: $outcomes1")
print(f"blackbox_exporter uses {per[1] / per[0]:.1f}x fedprobe's CPU per $SCHEME probe (goal for https: at least 5x)")
PY
