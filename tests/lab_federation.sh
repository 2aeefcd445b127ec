#!/usr/bin/env bash
# The lab itself, checked with standard tools and no fedprobe: it comes up, the baseline policy
# holds, every fault has its stated effect and goes away again, and down leaves nothing.
set -euo pipefail
: "${SOURCE_ROOT:?}"
export FEDPROBE_LAB="fpt$$"
LABD="$SOURCE_ROOT/lab"
source "$LABD/common.sh"
trap '"$LABD/federation" down >/dev/null 2>&1 || true' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
CA="$STATE/pki/ca.pem"

open_tcp() { in_ns "$1-app" nc -z -w 2 "$2" "$3" 2>/dev/null; }
tcp_error() { in_ns "$1-app" nc -v -w 2 "$2" "$3" </dev/null 2>&1 || true; }
https_body() { in_ns "$1-app" curl -s --max-time 3 --cacert "$CA" --resolve "epr.$3.lab:443:$2" "https://epr.$3.lab/" || true; }
https_rc() {  # site address name path: curl's exit code (or the HTTP status with -f off)
    local rc=0
    in_ns "$1-app" curl -sf -o /dev/null --max-time 3 --cacert "$CA" --resolve "$3:443:$2" "https://$3$4" 2>/dev/null || rc=$?
    echo $rc
}
pings() { in_ns "$1-app" ping -c "${3:-1}" -W 1 "${@:4}" "$2" >/dev/null 2>&1; }

start=$(date +%s%N)
"$LABD/federation" up
echo "up took $((($(date +%s%N) - start) / 1000000)) ms"
[ "$(all_namespaces | wc -l)" -eq 24 ] || fail "24 namespaces expected"
"$LABD/federation" up | grep -q "already up" || fail "a second up is not a no-op"
pass "up, idempotent"

# lab/fault lists what lab/README.md's Faults table says, and switches every fault it lists
# (and no other) on and off.
listed=$("$LABD/fault" list | awk '/^[a-z0-9-]+ +(on|off) / {print $1}' | sort)
handled=$(python3 - "$LABD/fault" <<'PY'
import re, sys
src = open(sys.argv[1]).read()
def cases(fn):
    body = re.search(r"^" + fn + r"\(\) \{\n    case .*?\n(.*?)^    esac", src, re.S | re.M).group(1)
    names = set()
    for m in re.finditer(r"^        ([a-z0-9| -]+)\)", body, re.M):
        names |= {n.strip() for n in m.group(1).split("|")}
    return names
on, off = cases("on"), cases("off")
print("\n".join(sorted(on & off)))
if on != off: sys.exit("switched on but not off, or off but not on: %s" % sorted(on ^ off))
PY
) || fail "lab/fault's on and off handle different faults: $handled"
[ "$listed" = "$handled" ] || fail "lab/fault list (lab/README.md) and the faults lab/fault switches differ: $(diff <(echo "$listed") <(echo "$handled") | grep '^[<>]' | tr '\n' ' ')"
[ "$(wc -l <<<"$listed")" -ge 20 ] || fail "too few faults listed: $listed"
pass "lab/fault list is lab/README.md's table, and lab/fault switches each of its $(wc -l <<<"$listed") faults"

baseline() {
    [ "$(https_body kp 10.31.2.10 kent-nhs)" = "epr kent-nhs" ] || fail "kent-psn -> kent-nhs HTTPS with the lab CA"
    open_tcp kp 10.31.2.10 2575 || fail "kent-psn -> kent-nhs MLLP open"
    ! open_tcp kp 10.31.2.10 3389 || fail "kent-psn -> kent-nhs RDP must be blocked"
    ! open_tcp kp 10.31.2.10 104 || fail "kent-psn -> kent-nhs DICOM must be blocked (NHS only)"
    open_tcp sn 10.31.2.10 104 || fail "surrey-nhs -> kent-nhs DICOM open"
    [ "$(https_body kn 10.211.2.10 surrey-nhs)" = "epr surrey-nhs" ] || fail "kent-nhs -> surrey-nhs through NAT"
    open_tcp xn 10.211.2.10 2575 || fail "sussex-nhs -> surrey-nhs (the same inside range) through NAT"
    ! pings kn 10.211.2.10 || fail "surrey-nhs blocks ICMP"
    pings kn 10.212.2.10 || fail "kent-nhs pings sussex-nhs"
    tcp_error kp 198.51.100.148 3389 | grep -q "No route to host" || fail "surrey-psn rejects RDP with admin-prohibited"
    ! open_tcp kn 198.51.100.148 3389 || fail "the interconnect drops RDP"
    [ "$(in_ns sn-app dig +short @10.10.2.10 epr.surrey-nhs.lab)" = 10.10.2.10 ] || fail "split horizon: inside answer"
    [ "$(in_ns kn-app dig +short @10.211.2.10 epr.surrey-nhs.lab)" = 10.211.2.10 ] || fail "split horizon: outside answer"
    [ "$(in_ns kp-app bash -c 'echo lab | nc -u -w 1 203.0.113.20 7')" = lab ] || fail "UDP echo"
    [ "$(in_ns bp-app dig +short @198.51.100.20 epr.kent-psn.lab)" = 198.51.100.20 ] || fail "kent-psn DNS from brighton-psn"
    open_tcp kn 198.51.100.20 443 || fail "kent-nhs -> kent-psn HTTPS"
    [ "$(https_rc kn 198.51.100.20 epr.kent-psn.lab /)" = 0 ] || fail "kent-psn's portal verifies with the lab CA"
    [ "$(https_rc kn 198.51.100.20 epr.kent-psn.lab /error)" = 22 ] || fail "kent-psn's /error is an HTTP error"
    [ "$(in_ns kn-app curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" --resolve epr.kent-psn.lab:443:198.51.100.20 https://epr.kent-psn.lab/error)" = 500 ] || fail "/error is a 500"
    [ "$(https_rc kn 198.51.100.20 expired.kent-psn.lab /)" = 60 ] || fail "expired.kent-psn.lab fails verification"
    in_ns kn-app openssl s_client -connect 198.51.100.20:443 -servername expired.kent-psn.lab -CAfile "$CA" </dev/null 2>/dev/null |
        grep -q "Verify return code: 10 (certificate has expired)" || fail "expired.kent-psn.lab: the lab CA's certificate, expired"
    [ "$(https_rc kn 198.51.100.20 selfsigned.kent-psn.lab /)" = 60 ] || fail "selfsigned.kent-psn.lab fails verification"
    [ "$(https_rc kn 198.51.100.20 mtls.kent-psn.lab /)" != 0 ] || fail "mtls.kent-psn.lab must refuse a client without a certificate"
    [ "$(in_ns kn-app curl -s --max-time 3 --cacert "$CA" --cert "$STATE/pki/fedprobe-client.pem" --key "$STATE/pki/fedprobe-client.key" \
        --resolve mtls.kent-psn.lab:443:198.51.100.20 https://mtls.kent-psn.lab/)" = "mtls kent-psn" ] || fail "mtls.kent-psn.lab with the lab's client certificate"
}
baseline
pass "baseline policy holds"

fault() { "$LABD/fault" "$1" "$2" >/dev/null; }

fault drop-mllp on
! open_tcp kp 10.31.2.10 2575 || fail "drop-mllp: MLLP still open"
tcp_error kp 10.31.2.10 2575 | grep -q "timed out" || fail "drop-mllp: must be silent"
fault drop-mllp off; open_tcp kp 10.31.2.10 2575 || fail "drop-mllp off"
pass "drop-mllp"

fault reject-https on
rc=0; in_ns kn-app curl -s --max-time 3 -o /dev/null "https://198.51.100.148/" 2>/dev/null || rc=$?
[ $rc -eq 7 ] || fail "reject-https: curl should fail to connect at once (got exit $rc)"
tcp_error kn 198.51.100.148 443 | grep -q "No route to host" || fail "reject-https: admin-prohibited"
fault reject-https off; open_tcp kn 198.51.100.148 443 || fail "reject-https off"
pass "reject-https"

fault reset-smtp on
tcp_error kp 10.212.2.10 587 | grep -q "Connection refused" || fail "reset-smtp: a reset"
fault reset-smtp off; open_tcp kp 10.212.2.10 587 || fail "reset-smtp off"
pass "reset-smtp"

fault route-withdrawn on
{ in_ns kn-app ping -c 3 -i 0.6 -W 1 203.0.113.20 || true; } | grep -q "From 172.20.100.2 .*Destination Net Unreachable" || fail "route-withdrawn: net unreachable from the interconnect"
open_tcp kp 203.0.113.20 443 || fail "route-withdrawn: PSN sites unaffected"
fault route-withdrawn off; sleep 1; pings kn 203.0.113.20 || fail "route-withdrawn off"
pass "route-withdrawn"

fault icmp-blocked on
! pings kn 198.51.100.20 || fail "icmp-blocked: ping answered"
open_tcp kn 198.51.100.20 443 || fail "icmp-blocked: TCP must pass"
fault icmp-blocked off; pings kn 198.51.100.20 || fail "icmp-blocked off"
pass "icmp-blocked"

fault drop-https on
[ "$(https_rc kn 198.51.100.20 epr.kent-psn.lab /)" = 28 ] || fail "drop-https: HTTPS must time out"
[ "$(https_rc kp 198.51.100.20 epr.kent-psn.lab /)" = 0 ] || fail "drop-https: kent-psn's own site is inside the border"
fault drop-https off; [ "$(https_rc kn 198.51.100.20 epr.kent-psn.lab /)" = 0 ] || fail "drop-https off"
pass "drop-https"

fault loss on
loss=$(in_ns kp-app ping -q -c 100 -i 0.01 -W 1 10.31.2.10 | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
fault loss off
python3 -c "import sys; l=float('$loss'); sys.exit(0 if 15 <= l <= 60 else 1)" || fail "loss: $loss% (30% of requests dropped; replies unaffected)"
pass "loss ($loss% of 100 pings)"

fault mtu-blackhole on
pings kn 10.212.2.10 1 || fail "mtu-blackhole: small pings pass"
out=$(in_ns kn-app ping -c 2 -W 1 -M do -s 1472 10.212.2.10 2>&1 || true)
echo "$out" | grep -q " 0 received" || fail "mtu-blackhole: 1500-byte DF pings must vanish"
echo "$out" | grep -qi "frag needed\|message too long" && fail "mtu-blackhole: fragmentation-needed must be filtered"
open_tcp kn 10.212.2.10 443 || fail "mtu-blackhole: handshakes still complete"
fault mtu-blackhole off; pings kn 10.212.2.10 1 -M do -s 1472 || fail "mtu-blackhole off"
pass "mtu-blackhole"

mss_seen() {  # the MSS the kent-nhs server uses on a connection from kent-psn
    in_ns kp-app python3 -c "import socket,time; s=socket.create_connection(('10.31.2.10',2575),2); time.sleep(1.5)" &
    sleep 0.7
    in_ns kn-svc ss -tni "dst ${APP_IP[kp]}" | sed -n 's/.* mss:\([0-9]*\).*/\1/p' | head -1
    wait
}
base_mss=$(mss_seen)
fault mss-clamp on; clamped=$(mss_seen); fault mss-clamp off
[ -n "$base_mss" ] && [ "$base_mss" -gt 1200 ] && [ -n "$clamped" ] && [ "$clamped" -le 1200 ] || fail "mss-clamp: mss $base_mss -> $clamped"
pass "mss-clamp (server MSS $base_mss -> $clamped)"

dscp_count() {  # packets arriving at surrey-psn's server marked EF, after 3 EF pings from kent-psn
    in_ns sp-svc nft -f - <<'NFT'
table ip dscpcheck {
    chain in {
        type filter hook input priority 0;
        ip dscp ef counter
    }
}
NFT
    in_ns kp-app ping -c 3 -i 0.2 -Q 0xb8 -W 1 198.51.100.148 >/dev/null 2>&1 || true
    in_ns sp-svc nft list table ip dscpcheck | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
    in_ns sp-svc nft delete table ip dscpcheck
}
ef=$(dscp_count)
fault dscp-bleach on; bleached=$(dscp_count); fault dscp-bleach off
[ "$ef" -eq 3 ] && [ "$bleached" -eq 0 ] || fail "dscp-bleach: EF packets arriving $ef -> $bleached"
pass "dscp-bleach (EF arrivals $ef -> $bleached)"

udp_through() {  # from to-ns to-address port n [source port]: how many of n datagrams arrive
    local got
    got=$(mktemp)
    in_ns "$2" timeout 4 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[1]))); s.settimeout(1.5)
n = 0
print("ready", flush=True)
try:
    while True:
        s.recv(100); n += 1
except socket.timeout:
    pass
print(n)' "$4" >"$got" &
    local pid=$!
    for _ in $(seq 1 30); do grep -q ready "$got" && break; sleep 0.1; done
    in_ns "$1" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[4])))
for _ in range(int(sys.argv[3])):
    s.sendto(b"stamp?", (sys.argv[1], int(sys.argv[2]))); time.sleep(0.002)' "$3" "$4" "$5" "${6:-0}"
    wait "$pid" || true
    tail -1 "$got"
    rm -f "$got"
}
fault stamp-loss on
there=$(udp_through kp-app kn-app 10.31.1.10 862 200)
back=$(udp_through kn-app kp-app 198.51.100.10 862 200 862)
fault stamp-loss off
python3 -c "import sys; sys.exit(0 if 130 <= $there <= 185 and $back == 200 else 1)" ||
    fail "stamp-loss: $there of 200 test packets arrived (about 160 expected), $back of 200 replies (200)"
pass "stamp-loss ($there of 200 test packets into kent-nhs, $back of 200 replies out)"

fault nat-change on
tcp_error kn 10.211.2.10 2575 | grep -q "No route to host" || fail "nat-change: the old address is unreachable"
open_tcp kn 10.211.2.11 2575 || fail "nat-change: the new address works"
fault nat-change off; open_tcp kn 10.211.2.10 2575 || fail "nat-change off"
pass "nat-change"

idle_session() {  # echo after 7 s idle on an MLLP session from kent-psn to kent-nhs: yes/no
    in_ns kp-app python3 - <<'PY'
import socket, time
s = socket.create_connection(("10.31.2.10", 2575), 2)
s.sendall(b"a"); s.settimeout(2); assert s.recv(1) == b"a"
time.sleep(7)
s.sendall(b"b")
try:
    print("yes" if s.recv(1) == b"b" else "no")
except OSError:
    print("no")
PY
}
fault conntrack-timeout on; cut=$(idle_session); open_tcp kp 10.31.2.10 2575 || fail "conntrack-timeout: new sessions work"
fault conntrack-timeout off; kept=$(idle_session)
[ "$cut" = no ] && [ "$kept" = yes ] || fail "conntrack-timeout: idle session survived=$cut with the fault, $kept without"
pass "conntrack-timeout"

fault asymmetric on
! open_tcp kn 198.51.100.20 443 || fail "asymmetric: kent-nhs -> kent-psn must fail"
open_tcp sn 198.51.100.20 443 || fail "asymmetric: other sites unaffected"
fault asymmetric off; open_tcp kn 198.51.100.20 443 || fail "asymmetric off"
pass "asymmetric"

fault rdp-opened on
open_tcp kp 10.31.2.10 3389 || fail "rdp-opened: RDP from a council connects"
fault rdp-opened off; ! open_tcp kp 10.31.2.10 3389 || fail "rdp-opened off"
pass "rdp-opened"

# The application peers, with their own clients: DCMTK's echoscu against the PACS, and an HL7
# message in MLLP framing against the interface engine.
hl7() {  # site: the acknowledgement code kent-nhs's engine sends back on 2575, or "none"
    in_ns "$1-app" python3 - <<'PY'
import socket
s = socket.create_connection(("10.31.2.10", 2575), 2)
s.settimeout(2)
s.sendall(b"\x0bMSH|^~\\&|TEST|LAB|||20260101||ADT^A01|C1|T|2.5.1\r\x1c\r")
try:
    ack = s.recv(4096)
    print(ack.split(b"MSA|")[1].split(b"|")[0].decode() if b"MSA|" in ack else "none")
except OSError:
    print("none")
PY
}
echo_dicom() { in_ns "$1-app" echoscu -to 3 -ta 3 -td 3 -aet "$2" -aec ANY-SCP 10.31.2.10 104 2>&1; }
[ "$(hl7 kp)" = AA ] || fail "kent-psn -> kent-nhs MLLP: AA"
LDAPTLS_CACERT="$CA" in_ns kn-app ldapsearch -x -ZZ -H ldap://10.31.2.10 -b "" -s base namingContexts 2>&1 | grep -q "^namingContexts: dc=kent-nhs,dc=lab" ||
    fail "kent-nhs's directory: the RootDSE over StartTLS"
in_ns kn-app python3 - "$CA" <<'PY' || fail "kent-nhs's mail relay: EHLO and STARTTLS"
import smtplib, ssl, sys
s = smtplib.SMTP("10.31.2.10", 25, timeout=3)
s.starttls(context=ssl.create_default_context(cafile=sys.argv[1]))
s.ehlo(); s.quit()
PY
echo_dicom sn SURREY-NHS >/dev/null || fail "surrey-nhs -> kent-nhs C-ECHO: $(echo_dicom sn SURREY-NHS)"
fault l7-drop on
open_tcp kp 10.31.2.10 2575 || fail "l7-drop: the handshake still passes"
[ "$(hl7 kp)" = none ] || fail "l7-drop: the message must go unanswered"
fault l7-drop off; [ "$(hl7 kp)" = AA ] || fail "l7-drop off"
pass "l7-drop"
fault l7-reset on
open_tcp sn 10.31.2.10 104 || fail "l7-reset: the handshake still passes"
! out=$(echo_dicom sn SURREY-NHS) || fail "l7-reset: the association must fail: $out"
fault l7-reset off; echo_dicom sn SURREY-NHS >/dev/null || fail "l7-reset off"
pass "l7-reset"
fault dicom-ae on
! out=$(echo_dicom sn SURREY-NHS) && grep -q "Called AE Title Not Recognized" <<<"$out" || fail "dicom-ae: rejected: $out"
fault dicom-ae off; echo_dicom sn SURREY-NHS >/dev/null || fail "dicom-ae off: $(echo_dicom sn SURREY-NHS)"
pass "dicom-ae"

fault dns-split on
[ "$(in_ns bp-app dig +short @198.51.100.20 epr.kent-psn.lab)" = 198.51.100.99 ] || fail "dns-split: stale answer to brighton-psn"
[ "$(in_ns sp-app dig +short @198.51.100.20 epr.kent-psn.lab)" = 198.51.100.20 ] || fail "dns-split: others unchanged"
fault dns-split off
pass "dns-split"

baseline
pass "baseline holds again after every fault"

"$LABD/federation" down
[ -z "$(all_namespaces)" ] || fail "namespaces left after down"
[ ! -e "$STATE" ] || fail "state left after down"
! pgrep -f "$STATE" >/dev/null || fail "processes left after down"
pass "down leaves nothing"
