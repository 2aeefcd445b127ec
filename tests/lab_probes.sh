#!/usr/bin/env bash
# fedprobe in the lab federation: daemons in the kent-nhs and kent-psn appliances, reading
# their /metrics while the lab's faults come and go. Each fault must show as lab/README.md says.
export FEDPROBE_LAB="fpp$$"
source "$(dirname "$0")/lab_lib.sh"
start_lab_daemons kn kp bp sn
# expect SITE TARGET PROBE SERVICE OUTCOME [REPORTER REPORTER_NETWORK]
expect() {
    local o=$1 target=$2 probe=$3 service=$4 outcome=$5 reporter=${6:-} rnet=${7:-} re
    # Labels with an empty value are not written (Prometheus reads them as absent).
    local svc=${service:+service=\"$service\",} rep=${reporter:+reporter=\"$reporter\",reporter_network=\"$rnet\",}
    if [ "$outcome" = ok ]; then
        re="^fedprobe_probe_success\{[^}]*probe=\"$probe\",${svc}site=\"${ID[$o]}\",target=\"$target\"\} 1"
    else
        re="^fedprobe_probe_last_error_info\{[^}]*outcome=\"$outcome\",probe=\"$probe\",${rep}${svc}site=\"${ID[$o]}\",target=\"$target\"\} 1"
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

# Linux sends about one "no route" ICMP a second per source address, so when many probes go to
# a target behind a missing route, which of them gets the answer is chance: any will do.
expect_any() {  # site target outcome reporter reporter_network
    # Up to 40 s: a router answers about one error a second per source (Linux's ICMP rate
    # limit), shared by every probe, flow and trace of that site through it, so a probe's last
    # outcome is often the silence of an answer the router did not send. Under the sanitizers,
    # with the suite's other labs beside it, 20 s once saw none.
    local o=$1 m
    for _ in $(seq 1 160); do
        m=$(scrape "$o" 2>/dev/null) || true
        grep -Eq "^fedprobe_probe_last_error_info\{[^}]*outcome=\"$3\",[^}]*reporter=\"$4\",reporter_network=\"$5\",[^}]*target=\"$2\"\} 1" <<<"$m" && return 0
        # Or a flow to it that keeps its reporter's answer through the silent rounds the
        # rate limit leaves (30 s, the engine's answer memory): a probe's own lasts one round,
        # which a scrape of a daemon under ASan can miss for 40 s.
        grep "^fedprobe_flow_reporter_info{" <<<"$m" | grep "to=\"$2\"" | grep "answered=\"$3\"" \
            | grep "reporter=\"$4\"" | grep -q "reporter_network=\"$5\"" && return 0
        sleep 0.25
    done
    fail "from ${ID[$o]}: no probe of $2 is $3 reported by $4 ($5)"
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
expect kp kent-psn-resolver dns "" ok
expect kp kent-psn-resolver dns dns ok
expect kn kent-psn-nxdomain dns "" ok
expect kn surrey-nhs-resolver dns "" ok
expect sn surrey-nhs-resolver dns "" ok
m=$(scrape kn 2>/dev/null) || true
grep -Eq '^fedprobe_dns_rcode\{[^}]*target="kent-psn-nxdomain"\} 3' <<<"$m" || fail "NXDOMAIN's rcode exported"
grep -Eq '^fedprobe_dns_answers\{[^}]*target="surrey-nhs-resolver"\} 1' <<<"$m" || fail "answer count exported"
pass "dns: split horizon answers inside and outside as configured, over UDP and TCP; NXDOMAIN told apart"

expect kn kent-psn-portal http https ok
expect kp kent-psn-portal http https ok
expect kn surrey-nhs-portal http https ok
expect sn surrey-nhs-portal http https ok
expect kn kent-psn-portal-error http https mismatch
expect kn kent-psn-mtls http "" ok
expect kn kent-psn-mtls-nocert http "" mismatch  # nginx answers 400 "No required SSL certificate"
expect kn kent-psn-expired http "" tls_error
expect bp kent-psn-selfsigned http "" tls_error
m=$(scrape kn 2>/dev/null) || true
grep -Eq '^fedprobe_http_status_code\{[^}]*target="kent-psn-portal-error"\} 500' <<<"$m" || fail "the 500 is exported"
grep -Eq '^fedprobe_tls_cert_not_after_timestamp_seconds\{cert="leaf",[^}]*target="kent-psn-expired"\} 1738368000$' <<<"$m" ||
    fail "the expired certificate's not-after (2025-02-01) is exported although verification failed"
grep -Eq '^fedprobe_tls_cert_verified\{[^}]*target="kent-psn-expired"\} 0' <<<"$m" || fail "expired: verified 0"
grep -Eq '^fedprobe_tls_cert_verified\{[^}]*target="kent-psn-portal"\} 1' <<<"$m" || fail "the lab CA's certificate verifies"
grep -Eq '^fedprobe_probe_success\{[^}]*target="kent-psn-selfsigned-known"\} 1' <<<"$m" || fail "verify = false: ok"
grep -Eq '^fedprobe_tls_cert_verified\{[^}]*target="kent-psn-selfsigned-known"\} 0' <<<"$m" || fail "verify = false: still reported unverified"
grep -Eq '^fedprobe_http_tls_version_info\{[^}]*target="kent-psn-portal",version="TLSv1\.[23]"\} 1' <<<"$m" || fail "TLS version exported"
grep -Eq '^fedprobe_http_duration_seconds\{[^}]*phase="tls",[^}]*target="kent-psn-portal"\} [0-9.e-]+$' <<<"$m" || fail "TLS phase exported"
grep -q 'tls_error (certificate not trusted: certificate has expired)' "$WORK/kn.log" || fail "the log says why"
expect kn kent-psn-portal tls https ok
expect kn kent-psn-expired tls https tls_error
m=$(scrape kn 2>/dev/null) || true
grep -Eq '^fedprobe_tls_cert_not_after_timestamp_seconds\{cert="leaf",[^}]*probe="tls",[^}]*target="kent-psn-expired"\} 1738368000$' <<<"$m" ||
    fail "tls: the expired certificate's date is exported for the tls kind too"
grep -Eq '^fedprobe_tls_version_info\{[^}]*probe="tls",[^}]*target="kent-psn-portal",version="TLSv1\.[23]"\} 1' <<<"$m" || fail "tls: the version"
pass "https: lab CA ok from inside and outside (and through NAT), mutual TLS ok with the client certificate and a 400 mismatch without, a 500 is a mismatch, expired and self-signed are tls_error with their dates; the tls kind's handshake alone judges the same"

scrape kp >"$WORK/metrics.txt" || fail "a full scrape (curl -f fails on a truncated body)"
promtool check metrics <"$WORK/metrics.txt" >/dev/null 2>&1 || fail "promtool check metrics"
pass "a site's whole exposition ($(wc -c <"$WORK/metrics.txt") bytes) arrives complete and passes promtool"

# The application checks against real peers: the lab's interface engine (AA on 2575, AR on 2576)
# and DCMTK's storescp as the PACS, from kent-nhs's own appliance and across the federation as the
# policy's allow flows, which name these checks.
expect kn kent-nhs-engine mllp mllp ok
expect kn kent-nhs-engine mllp mllp-reject mismatch 10.31.2.10 kent-nhs
expect kn kent-nhs-engine dicom dicom ok
expect_flow() {  # site flow state
    local m
    for _ in $(seq 1 40); do
        m=$(scrape "$1" 2>/dev/null) || true
        grep -Eq "^fedprobe_flow_state\{[^}]*flow=\"$2\"[^}]*state=\"$3\"[^}]*\} 1" <<<"$m" && return 0
        sleep 0.25
    done
    fail "from ${ID[$1]}: flow $2 is not $3: $(grep -E "^fedprobe_flow_state\{[^}]*flow=\"$2\"[^}]*\} 1" <<<"$m")"
}
expect_flow kp councils-to-kent-nhs-mllp ok
expect_flow sn trusts-dicom-to-kent ok
m=$(scrape kn 2>/dev/null) || true
grep -Eq '^fedprobe_mllp_ack_info\{code="AR",[^}]*service="mllp-reject",[^}]*target="kent-nhs-engine"\} 1' <<<"$m" || fail "the AR is exported: $(grep mllp_ack <<<"$m")"
grep -Eq '^fedprobe_dicom_echo_status\{[^}]*target="kent-nhs-engine"\} 0' <<<"$m" || fail "the C-ECHO status 0 is exported"
expect kn kent-nhs-engine smtp smtp-relay ok
expect kn kent-nhs-engine ldap ldap ok
expect kn kent-nhs-pacs-tls dicom dicom-tls ok
m=$(scrape kn 2>/dev/null) || true
grep -Eq '^fedprobe_smtp_reply_code\{[^}]*target="kent-nhs-engine"\} 221' <<<"$m" || fail "smtp: QUIT's 221 is the last reply"
grep -Eq '^fedprobe_ldap_result_code\{[^}]*target="kent-nhs-engine"\} 0' <<<"$m" || fail "ldap: result code 0"
for p in smtp ldap dicom; do
    grep -Eq "^fedprobe_tls_cert_verified\{[^}]*probe=\"$p\",[^}]*target=\"kent-nhs-(engine|pacs-tls)\"\} 1" <<<"$m" || fail "$p: the certificate verified"
    grep -Eq "^fedprobe_tls_version_info\{[^}]*probe=\"$p\",[^}]*target=\"kent-nhs-(engine|pacs-tls)\",version=\"TLSv1\.[23]\"\} 1" <<<"$m" || fail "$p: the TLS version"
done
grep -q 'kent-nhs-engine mllp:mllp-reject: new -> mismatch reported by 10.31.2.10 in network kent-nhs (acknowledged .AR.: .message rejected' "$WORK/kn.log" || fail "the log gives the NAK's text"
pass "application checks: HL7 AA ok and AR a mismatch with its code; DICOM C-ECHO with storescp ok; SMTP (aiosmtpd) and LDAP (slapd) over STARTTLS and DICOM over TLS (storescp) with the lab CA's certificate; the allow flows of mllp and dicom verified at the application layer"

fault() { "$LABD/fault" "$1" "$2" >/dev/null; }
fault dns-split on; expect bp kent-psn-resolver dns "" mismatch; expect kp kent-psn-resolver dns "" ok; fault dns-split off
expect bp kent-psn-resolver dns "" ok
pass "dns-split: brighton-psn's stale answer is a mismatch, other sites ok"
fault drop-https on; expect kn kent-psn-portal http https filtered; expect kp kent-psn-portal http https ok; fault drop-https off
expect kn kent-psn-portal http https ok
pass "drop-https: filtered from outside, no reporter; kent-psn's own site unaffected"
fault drop-mllp on;    expect kp kent-nhs-svc tcp mllp filtered;  fault drop-mllp off;    expect kp kent-nhs-svc tcp mllp ok
pass "drop-mllp: filtered, no reporter"
fault reject-https on; expect kn surrey-psn-svc tcp https prohibited 192.0.2.6 surrey-psn
expect kn surrey-psn-svc http https prohibited 192.0.2.6 surrey-psn; fault reject-https off
expect kn surrey-psn-svc http https ok
pass "reject-https: prohibited by surrey-psn's border"
fault reset-smtp on;   expect kp sussex-nhs-svc tcp smtp refused 10.212.2.10 sussex-nhs; fault reset-smtp off
pass "reset-smtp: refused"
fault route-withdrawn on
expect_any kn brighton-psn-svc unreachable 172.20.100.2 interconnect
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
fault nat-change on;   expect_any kp surrey-nhs-svc unreachable 172.20.2.2 surrey-nhs; fault nat-change off
pass "nat-change: unreachable, reported by surrey-nhs's border"
fault asymmetric on
expect kn kent-psn-svc tcp https filtered
expect kp kent-psn-svc tcp https ok
fault asymmetric off
expect kn kent-psn-svc tcp https ok
pass "asymmetric: filtered from kent-nhs only, and back"

# An application-aware firewall at kent-nhs's border: the handshake passes and tcp: says ok, while
# the application check of the allow flow sees its data dropped, or reset by the border (one hop
# nearer than the PACS, as the reset's TTL shows); and a PACS that refuses the calling AE.
fault l7-drop on
expect_flow kp councils-to-kent-nhs-mllp app_blocked
expect kp kent-nhs-svc tcp mllp ok
m=$(scrape kp 2>/dev/null) || true
grep -Eq '^fedprobe_flow_compliant\{[^}]*flow="councils-to-kent-nhs-mllp"[^}]*\} 0' <<<"$m" || fail "l7-drop: the allow flow is not compliant"
grep -q 'flow councils-to-kent-nhs-mllp to kent-nhs-svc (allow mllp): [a-z_]* -> app_blocked, blocked (the server never acknowledged the data' "$WORK/kp.log" || fail "l7-drop: the log says the data was never acknowledged"
fault l7-drop off
expect_flow kp councils-to-kent-nhs-mllp ok
pass "l7-drop: the allow flow's MLLP check is app_blocked while tcp:mllp stays ok"
fault l7-reset on
expect_flow sn trusts-dicom-to-kent app_blocked
# The change log names the reset's distance: kent-nhs's border, one hop nearer than the PACS.
line=$(grep -m1 "flow trusts-dicom-to-kent to kent-nhs-svc (allow dicom): [a-z_]* -> app_blocked, blocked (reset by a device" "$WORK/sn.log") ||
    fail "l7-reset: the log names the reset: $(grep -m3 trusts-dicom "$WORK/sn.log")"
hops=$(sed -nE 's/.*reset by a device ([0-9]+) hops? away, nearer than the server \(([0-9]+)\).*/\1 \2/p' <<<"$line")
read -r hops server <<<"$hops"
[ -n "$hops" ] && [ "$server" = $((hops + 1)) ] || fail "l7-reset: the reset one hop nearer than the server: $line"
fault l7-reset off
expect_flow sn trusts-dicom-to-kent ok
pass "l7-reset: app_blocked, reset by kent-nhs's border $hops hops from surrey-nhs, one nearer than the PACS"
fault dicom-ae on
expect_flow sn trusts-dicom-to-kent mismatch
grep -q "flow trusts-dicom-to-kent to kent-nhs-svc (allow dicom): [a-z_]* -> mismatch reported by 10.31.2.10 in kent-nhs, service_down (association rejected (A-ASSOCIATE-RJ): permanent, by the service_user, called_ae_not_recognized (calling AE SURREY-NHS" "$WORK/sn.log" ||
    fail "dicom-ae: the log gives the rejection: $(grep -m3 trusts-dicom "$WORK/sn.log")"
# kent-nhs's own appliance is refused too; its dicom job exports the rejection's fields.
expect kn kent-nhs-engine dicom dicom mismatch 10.31.2.10 kent-nhs
m=$(scrape kn 2>/dev/null) || true
grep -Eq '^fedprobe_dicom_association_rejected_info\{[^}]*reason="called_ae_not_recognized",result="permanent",[^}]*source="service_user",[^}]*target="kent-nhs-engine"\} 1' <<<"$m" ||
    fail "dicom-ae: the rejection's result, source and reason are exported: $(grep association_rejected <<<"$m")"
fault dicom-ae off
expect_flow sn trusts-dicom-to-kent ok
expect kn kent-nhs-engine dicom dicom ok
pass "dicom-ae: the PACS's A-ASSOCIATE-RJ is a mismatch with its reason; back to ok with storescp"
for p in "${PIDS[@]}"; do kill -0 "$p" || fail "a daemon died"; done
