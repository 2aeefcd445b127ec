#!/usr/bin/env bash
# The endpoint over TLS ([fedprobe.web.tls]), in a namespace of its own: client certificates as
# each client_auth_type says, basic auth inside TLS, min_version, a real Prometheus scraping
# with its tls_config and a client certificate, certificates renewed on SIGHUP and a bad one
# rejected as a bad config is (the old kept), and half-open connections that cannot hold a
# scrape up.
source "$(dirname "$0")/lib.sh"
make_ns
in_ns ip link set lo up
cd "$WORK"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1.key" 2>/dev/null; }
key ca; openssl req -x509 -key ca.key -out ca.pem -days 2 -subj /CN=fedprobe-test-ca 2>/dev/null
for n in server client; do key $n; openssl req -new -key $n.key -out $n.csr -subj /CN=$n 2>/dev/null; done
printf "subjectAltName=IP:127.0.0.1\n" >san.ext
sign() { openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.pem" -days 2 ${2:+-extfile "$2"} 2>/dev/null; }
sign server san.ext; sign client
key rogue; openssl req -x509 -key rogue.key -out rogue.pem -days 2 -subj /CN=rogue 2>/dev/null
hash=$(bcrypt_hash secret)
write_config() {  # client_auth_type min_version [cipher_suites]
    cat >fed.toml <<TOML
[fedprobe]
site = "kent-nhs"
listen = "127.0.0.1:9641"
[fedprobe.web]
basic_auth_users = { scraper = "$hash" }
allow = ["127.0.0.1", "127.0.0.2", "::1"]   # 127.0.0.9: closed as it connects
[fedprobe.web.tls]
cert_file = "$WORK/server.pem"
key_file = "$WORK/server.key"
client_auth_type = "$1"
client_ca_file = "$WORK/ca.pem"
min_version = "$2"
${3:+cipher_suites = $3}
[[networks]]
id = "kent-nhs"
prefixes = ["127.0.0.0/8"]
[[targets]]
id = "lo"
network = "kent-nhs"
address = "127.0.0.1"
probes = ["icmp"]
TOML
}
write_config RequireAndVerifyClientCert TLS12
start_daemon "$WORK/fed.toml"
URL=https://127.0.0.1:9641
get() {  # path [curl args]: "status body-bytes"
    local p=$1; shift
    in_ns curl -s -o "$WORK/body" -w '%{http_code} %{size_download}' --max-time 5 --cacert ca.pem "$@" "$URL$p" || true
}
for _ in $(seq 1 50); do [ "$(get /-/healthy --cert client.pem --key client.key -u scraper:secret | cut -d' ' -f1)" = 200 ] && break; sleep 0.1; done
grep -q "metrics on https://127.0.0.1:9641/metrics (client certificates) (basic auth)" "$WORK/daemon.log" || fail "the log says TLS: $(cat "$WORK/daemon.log")"
[ "$(get /metrics | cut -d' ' -f1)" = 403 ] && grep -q "a client certificate is required" body || fail "no client certificate: 403 ($(get /metrics))"
[ "$(get /metrics --cert rogue.pem --key rogue.key | cut -d' ' -f1)" = 403 ] && grep -q "does not verify" body || fail "a certificate of another CA: 403"
[ "$(get /metrics --cert client.pem --key client.key | cut -d' ' -f1)" = 401 ] || fail "basic auth still asked inside TLS"
read -r code size <<<"$(get /metrics --cert client.pem --key client.key -u scraper:secret --compressed)"
[ "$code" = 200 ] && grep -q '^fedprobe_config_info' body || fail "the scrape with a client certificate and credentials: $code"
in_ns curl -s -o /dev/null --max-time 5 http://127.0.0.1:9641/metrics && fail "plain HTTP must not be served beside TLS"
pass "RequireAndVerifyClientCert: none or another CA's is refused (403), basic auth inside TLS, /metrics served ($size bytes, gzip)"

# A real Prometheus scrapes it with its tls_config and the client certificate.
cat >prom.yml <<YML
global: {scrape_interval: 1s}
scrape_configs:
  - job_name: fedprobe
    scheme: https
    basic_auth: {username: scraper, password: secret}
    tls_config: {ca_file: $WORK/ca.pem, cert_file: $WORK/client.pem, key_file: $WORK/client.key}
    static_configs: [{targets: ["127.0.0.1:9641"]}]
YML
in_ns prometheus --config.file=prom.yml --storage.tsdb.path="$WORK/tsdb" --web.listen-address=127.0.0.1:9090 >prom.log 2>&1 &
BACKGROUND+=($!)
up=""
for _ in $(seq 1 100); do
    up=$(in_ns curl -sf --max-time 2 'http://127.0.0.1:9090/api/v1/query?query=up%7Bjob%3D%22fedprobe%22%7D' 2>/dev/null |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null) || true
    [ "$up" = 1 ] && break
    sleep 0.2
done
[ "$up" = 1 ] || fail "Prometheus scraping over TLS with a client certificate: up=$up; $(tail -3 prom.log)"
pass "a real Prometheus scrapes it: tls_config with the CA and a client certificate, up = 1"

# SIGHUP re-reads the certificate: a renewed one is served at once; a bad one is refused as a
# bad config is, the old one served on.
serial() { in_ns openssl s_client -connect 127.0.0.1:9641 -CAfile ca.pem -cert client.pem -key client.key </dev/null 2>/dev/null | openssl x509 -noout -serial; }
before=$(serial)
sign server san.ext
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do [ "$(serial)" != "$before" ] && break; sleep 0.1; done
renewed=$(serial)
[ -n "$renewed" ] && [ "$renewed" != "$before" ] || fail "the renewed certificate is served after SIGHUP ($before -> $renewed)"
cp server.pem good.pem
echo "not a certificate" >server.pem
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do grep -q "reload rejected: \[fedprobe.web.tls\]: cert_file" "$WORK/daemon.log" && break; sleep 0.1; done
grep -q "reload rejected: \[fedprobe.web.tls\]: cert_file $WORK/server.pem and key_file $WORK/server.key do not load" "$WORK/daemon.log" || fail "a bad certificate on reload is reported: $(tail -3 "$WORK/daemon.log")"
[ "$(serial)" = "$renewed" ] || fail "the good certificate is still served after a bad reload"
[ "$(get /metrics --cert client.pem --key client.key -u scraper:secret | cut -d' ' -f1)" = 200 ] && grep -q '^fedprobe_config_last_reload_successful 0' body ||
    fail "the failed reload shows in fedprobe_config_last_reload_successful"
cp good.pem server.pem
pass "SIGHUP: a renewed certificate served at once; a bad one rejected, the old one kept and the failure exported"

# min_version TLS13 (a reload applies it, with no client certificate asked): TLS 1.2 is refused.
write_config NoClientCert TLS13
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do grep -q "reload: TLS certificates and settings applied" "$WORK/daemon.log" && [ "$(get /-/healthy -u scraper:secret | cut -d' ' -f1)" = 200 ] && break; sleep 0.1; done
[ "$(get /-/healthy -u scraper:secret | cut -d' ' -f1)" = 200 ] || fail "NoClientCert: served without a certificate"
[ "$(get /-/healthy -u scraper:secret --tls-max 1.2 | cut -d' ' -f1)" = 000 ] || fail "min_version TLS13: TLS 1.2 must fail the handshake"
pass "min_version TLS13: TLS 1.2 refused; NoClientCert: served without a certificate"

# cipher_suites: TLS 1.2 held to the suites named (the test's certificate is ECDSA).
write_config NoClientCert TLS12 '["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"]'
kill -HUP "$DAEMON_PID"
for _ in $(seq 1 50); do [ "$(get /-/healthy -u scraper:secret --tls-max 1.2 | cut -d' ' -f1)" = 200 ] && break; sleep 0.1; done
[ "$(get /-/healthy -u scraper:secret --tls-max 1.2 --ciphers ECDHE-ECDSA-AES256-GCM-SHA384 | cut -d' ' -f1)" = 200 ] || fail "cipher_suites: the named suite is served"
[ "$(get /-/healthy -u scraper:secret --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-GCM-SHA256 | cut -d' ' -f1)" = 000 ] || fail "cipher_suites: another suite is refused"
pass "cipher_suites: TLS 1.2 with the named suite only"

# A client outside [fedprobe.web] allow is closed as it connects: no handshake, no HTTP.
[ "$(get /-/healthy --cert client.pem --key client.key -u scraper:secret --interface 127.0.0.9 | cut -d' ' -f1)" = 000 ] \
    || fail "a client outside allow was served"
[ "$(get /-/healthy --cert client.pem --key client.key -u scraper:secret --interface 127.0.0.2 | cut -d' ' -f1)" = 200 ] \
    || fail "a client inside allow was refused"
pass "allow: 127.0.0.9 closed as it connects, 127.0.0.2 served"

# Half-open connections (a slowloris) cannot hold a scrape up: 10 from the scraper's own
# address (where Prometheus keeps its own), and 40 from another, of which the server keeps 16
# (per address) and closes the rest.
in_ns python3 - <<'PY' &
import socket, time
held = []
for source, n in (("127.0.0.1", 10), ("127.0.0.2", 40)):
    for _ in range(n):
        try:
            s = socket.socket()
            s.bind((source, 0))
            s.settimeout(2)
            s.connect(("127.0.0.1", 9641))
            s.send(b"\x16\x03\x01")  # the start of a ClientHello, and nothing more
            held.append(s)
        except OSError:
            pass
print(len(held), "held", flush=True)
time.sleep(8)
PY
BACKGROUND+=($!)
sleep 1
start=$SECONDS
[ "$(get /metrics -u scraper:secret | cut -d' ' -f1)" = 200 ] || fail "a scrape beside 50 half-open connections: $(get /metrics -u scraper:secret)"
pass "50 half-open connections from two addresses: a scrape still answered in $((SECONDS - start)) s"
