#!/usr/bin/env bash
# The plain-HTTP endpoint under hostile clients (#32): 500 half-open connections that sent part
# of their headers and nothing more (a slowloris), 490 from 49 other addresses and 10 from the
# scraper's own, held while ten scrapes are made one after another. Each scrape must be
# answered within 10 s (before: with civetweb's two threads and 5 s request timeout, 5 such
# connections made a scrape time out, 20 let none through, 228 refused new connections).
source "$(dirname "$0")/lib.sh"
make_ns
cat >"$WORK/fed.toml" <<'TOML'
[fedprobe]
site = "a"
interval = "1s"
[[networks]]
id = "a"
prefixes = ["127.0.0.0/8"]
[[targets]]
id = "self"
network = "a"
address = "127.0.0.1"
probes = ["icmp"]
TOML
start_daemon "$WORK/fed.toml"
wait_for_metric '^fedprobe_probe_success\{[^}]*\} 1' 20
in_ns python3 - "$WORK/held" <<'PY' &
import resource, socket, sys, time
resource.setrlimit(resource.RLIMIT_NOFILE, (2048, 2048))
held = []
sources = ["127.0.0.1"] * 10 + ["127.0.1.%d" % (i // 10 + 1) for i in range(490)]
for source in sources:
    try:
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(2)
        s.connect(("127.0.0.1", 9641))
        s.send(b"GET /metrics HTTP/1.1\r\nHost: a\r\n")  # and nothing more
        held.append(s)
    except OSError:
        pass
open(sys.argv[1], "w").write("%d\n" % len(held))
time.sleep(30)
PY
BACKGROUND+=($!)
for _ in $(seq 1 50); do [ -s "$WORK/held" ] && break; sleep 0.2; done
[ -s "$WORK/held" ] || fail "the slowloris did not start"
ok=0 slowest=0
for i in $(seq 1 10); do
    t=$(in_ns curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}' http://127.0.0.1:9641/metrics || true)
    [ "${t%% *}" = 200 ] && ok=$((ok + 1))
    slowest=$(python3 -c "print(max($slowest, float('${t##* }' or 0)))")
done
[ "$ok" = 10 ] || fail "$ok of 10 scrapes answered within 10 s beside 500 half-open connections"
alive "$DAEMON_PID" || fail "the daemon died"
pass "500 half-open connections attempted ($(cat "$WORK/held") connected and held): 10 of 10 scrapes answered, the slowest in ${slowest} s"
