#!/usr/bin/env bash
# fedprobe in the lab federation: daemons in the kent-nhs and kent-psn appliances, reading
# their /metrics while the lab's faults come and go. Each fault must show as lab/README.md says.
export FEDPROBE_LAB="fpp$$"
source "$(dirname "$0")/lab_lib.sh"
start_lab_daemons kn kp
# expect SITE TARGET PROBE SERVICE OUTCOME [REPORTER REPORTER_NETWORK]
expect() {
    local o=$1 target=$2 probe=$3 service=$4 outcome=$5 reporter=${6:-} rnet=${7:-} re
    if [ "$outcome" = ok ]; then
        re="^fedprobe_probe_success\{[^}]*probe=\"$probe\",service=\"$service\",site=\"${ID[$o]}\",target=\"$target\"\} 1"
    else
        re="^fedprobe_probe_last_error_info\{[^}]*outcome=\"$outcome\",probe=\"$probe\",reporter=\"$reporter\",reporter_network=\"$rnet\",service=\"$service\",site=\"${ID[$o]}\",target=\"$target\"\} 1"
    fi
    for _ in $(seq 1 40); do
        # Captured first: grep -q stops reading early and curl's SIGPIPE would fail the pipe.
        local m
        m=$(scrape "$o" 2>/dev/null) || true
        grep -Eq "$re" <<<"$m" && return 0
        sleep 0.25
    done
    fail "from ${ID[$o]}: $target $probe:$service is not $outcome${reporter:+ reported by $reporter ($rnet)}"
}

# The baseline as lab/README.md states it.
expect kp kent-nhs-svc tcp https ok
expect kp kent-nhs-svc tcp mllp ok
expect kp kent-nhs-svc tcp rdp filtered
expect kp kent-nhs-svc tcp dicom filtered
expect kn kent-nhs-svc tcp dicom ok
expect kp surrey-psn-svc tcp dicom prohibited 192.0.2.6 surrey-psn
expect kn surrey-psn-svc tcp rdp filtered
expect kp surrey-nhs-svc icmp "" filtered
expect kp surrey-nhs-svc tcp https ok
expect kn sussex-nhs-svc tcp mllp ok
expect kn sussex-nhs-pmtu icmp "" ok
expect kp brighton-psn-svc udp echo ok
expect kn kent-psn-svc udp echo ok
pass "baseline: policy, NAT, ICMP blocked while TCP passes, reporters attributed"

scrape kp >"$WORK/metrics.txt" || fail "a full scrape (curl -f fails on a truncated body)"
promtool check metrics <"$WORK/metrics.txt" >/dev/null 2>&1 || fail "promtool check metrics"
pass "a site's whole exposition ($(wc -c <"$WORK/metrics.txt") bytes) arrives complete and passes promtool"

fault() { "$LABD/fault" "$1" "$2" >/dev/null; }
fault drop-mllp on;    expect kp kent-nhs-svc tcp mllp filtered;  fault drop-mllp off;    expect kp kent-nhs-svc tcp mllp ok
pass "drop-mllp: filtered, no reporter"
fault reject-https on; expect kn surrey-psn-svc tcp https prohibited 192.0.2.6 surrey-psn; fault reject-https off
pass "reject-https: prohibited by surrey-psn's border"
fault reset-smtp on;   expect kp sussex-nhs-svc tcp smtp refused 10.212.2.10 sussex-nhs; fault reset-smtp off
pass "reset-smtp: refused"
fault route-withdrawn on
expect kn brighton-psn-svc tcp https unreachable 172.20.100.2 interconnect
expect kp brighton-psn-svc tcp https ok
fault route-withdrawn off
pass "route-withdrawn: unreachable, reported by the interconnect, only from NHS sites"
fault icmp-blocked on; expect kn kent-psn-svc icmp "" filtered; expect kn kent-psn-svc tcp https ok; fault icmp-blocked off
pass "icmp-blocked: icmp filtered while https ok"
fault mtu-blackhole on
expect kn sussex-nhs-pmtu icmp "" filtered
expect kn sussex-nhs-svc icmp "" ok
expect kn sussex-nhs-svc tcp https ok
fault mtu-blackhole off
expect kn sussex-nhs-pmtu icmp "" ok
pass "mtu-blackhole: full-size DF pings filtered, small ones and handshakes ok"
fault nat-change on;   expect kp surrey-nhs-svc tcp https unreachable 172.20.2.2 surrey-nhs; fault nat-change off
pass "nat-change: unreachable, reported by surrey-nhs's border"
fault asymmetric on
expect kn kent-psn-svc tcp https filtered
expect kp kent-psn-svc tcp https ok
fault asymmetric off
expect kn kent-psn-svc tcp https ok
pass "asymmetric: filtered from kent-nhs only, and back"
for p in "${PIDS[@]}"; do kill -0 "$p" || fail "a daemon died"; done
