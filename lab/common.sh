# Shared by lab/federation and lab/fault: names, addresses and helpers of the lab federation.
# Every namespace is named "$LAB-..." (LAB defaults to "fpl"), so two labs never collide.
set -euo pipefail
LAB="${FEDPROBE_LAB:-fpl}"
STATE="/run/fedprobe-lab/$LAB"
LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# code id kind app-ip svc-ip lan-prefix fw-uplink core core-side-ip published-prefix(app svc)
# NHS trusts hang off the HSCN exchange, councils off the PSN core. surrey-nhs and sussex-nhs
# both use 10.10.0.0/16 inside and are reached only through NAT at their borders.
ORGS=(kn sn xn kp sp bp)
declare -A ID=([kn]=kent-nhs [sn]=surrey-nhs [xn]=sussex-nhs [kp]=kent-psn [sp]=surrey-psn [bp]=brighton-psn)
declare -A CORE=([kn]=hscn [sn]=hscn [xn]=hscn [kp]=psn [sp]=psn [bp]=psn)
declare -A APP_NET=([kn]=10.31.1 [sn]=10.10.1 [xn]=10.10.1 [kp]=198.51.100.0 [sp]=198.51.100.128 [bp]=203.0.113.0)
declare -A SVC_NET=([kn]=10.31.2 [sn]=10.10.2 [xn]=10.10.2 [kp]=198.51.100.16 [sp]=198.51.100.144 [bp]=203.0.113.16)
# Addresses inside each organisation
declare -A APP_IP=([kn]=10.31.1.10 [sn]=10.10.1.10 [xn]=10.10.1.10 [kp]=198.51.100.10 [sp]=198.51.100.138 [bp]=203.0.113.10)
declare -A SVC_IP=([kn]=10.31.2.10 [sn]=10.10.2.10 [xn]=10.10.2.10 [kp]=198.51.100.20 [sp]=198.51.100.148 [bp]=203.0.113.20)
declare -A APP_GW=([kn]=10.31.1.1 [sn]=10.10.1.1 [xn]=10.10.1.1 [kp]=198.51.100.1 [sp]=198.51.100.129 [bp]=203.0.113.1)
declare -A SVC_GW=([kn]=10.31.2.1 [sn]=10.10.2.1 [xn]=10.10.2.1 [kp]=198.51.100.17 [sp]=198.51.100.145 [bp]=203.0.113.17)
declare -A LAN_LEN=([kn]=24 [sn]=24 [xn]=24 [kp]=28 [sp]=28 [bp]=28)
declare -A INSIDE=([kn]=10.31.0.0/16 [sn]=10.10.0.0/16 [xn]=10.10.0.0/16 [kp]=198.51.100.0/25 [sp]=198.51.100.128/25 [bp]=203.0.113.0/24)
# Addresses the rest of the federation uses (NAT for the two overlapping trusts)
declare -A PUB_APP=([kn]=10.31.1.10 [sn]=10.211.1.10 [xn]=10.212.1.10 [kp]=198.51.100.10 [sp]=198.51.100.138 [bp]=203.0.113.10)
declare -A PUB_SVC=([kn]=10.31.2.10 [sn]=10.211.2.10 [xn]=10.212.2.10 [kp]=198.51.100.20 [sp]=198.51.100.148 [bp]=203.0.113.20)
declare -A PUBLISHED=([kn]=10.31.0.0/16 [sn]=10.211.0.0/16 [xn]=10.212.0.0/16 [kp]=198.51.100.0/25 [sp]=198.51.100.128/25 [bp]=203.0.113.0/24)
# Uplinks: border firewall <-> its core
declare -A FW_UP=([kn]=172.20.1.2 [sn]=172.20.2.2 [xn]=172.20.3.2 [kp]=192.0.2.2 [sp]=192.0.2.6 [bp]=192.0.2.10)
declare -A CORE_UP=([kn]=172.20.1.1 [sn]=172.20.2.1 [xn]=172.20.3.1 [kp]=192.0.2.1 [sp]=192.0.2.5 [bp]=192.0.2.9)
declare -A UP_LEN=([kn]=24 [sn]=24 [xn]=24 [kp]=30 [sp]=30 [bp]=30)
# The interconnect between HSCN and PSN, and a second one used only by the asymmetric fault
IX_HSCN=172.20.100.2 HSCN_IX=172.20.100.1 IX_PSN=192.0.2.101 PSN_IX=192.0.2.102
IX2_HSCN=172.20.101.2 HSCN_IX2=172.20.101.1 IX2_PSN=192.0.2.105 PSN_IX2=192.0.2.106
# ECMP in the PSN core towards brighton-psn: psn -> pe1 | pe2 -> brighton-psn's border
PSN_PE1=192.0.2.113 PE1_PSN=192.0.2.114 PE1_BP=192.0.2.117 BP_PE1=192.0.2.118
PSN_PE2=192.0.2.121 PE2_PSN=192.0.2.122 PE2_BP=192.0.2.125 BP_PE2=192.0.2.126
NHS_PUBLISHED="10.31.0.0/16, 10.211.0.0/16, 10.212.0.0/16"
PSN_PUBLISHED="198.51.100.0/24, 203.0.113.0/24"

ns() { echo "$LAB-$1"; }  # ns kn-fw -> fpl-kn-fw
in_ns() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }
all_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$LAB-" || true; }
need_root() { [ "$(id -u)" -eq 0 ] || { echo "$(basename "$0"): needs root (network namespaces)" >&2; exit 1; }; }

# The organisation's PACS on tcp/104: DCMTK's storescp, which verifies any calling AE title. With
# "strict", DCMTK's dcmqrscp instead, which knows one modality's AE title (MODALITY-1) and refuses
# every other caller (the dicom-ae fault). Returns once the new one listens.
start_pacs() {  # org [strict]
    local o=$1 dir="$STATE/${ID[$1]}"
    mkdir -p "$dir/pacs"
    pkill -f "^(storescp|dcmqrscp) .*$dir/pacs" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do
        in_ns "$o-svc" ss -Hltn 'sport = :104' | grep -q . || break
        sleep 0.1
    done
    if [ "${2:-}" = strict ]; then
        cat >"$dir/pacs.cfg" <<CFG
NetworkTCPPort  = 104
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
modality = (MODALITY-1, 10.255.255.1, 104)
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
ANY-SCP $dir/pacs RW (10, 16mb) modality
AETable END
CFG
        in_ns "$o-svc" setsid dcmqrscp -c "$dir/pacs.cfg" --disable-host-lookup >"$dir/pacs.log" 2>&1 &
    else
        # A process per association, as a PACS serves modalities at once: storescp alone serves
        # one at a time, and an association whose client a firewall reset holds it until the
        # timeouts, while every other caller's SYN waits in the backlog.
        in_ns "$o-svc" setsid storescp --fork --acse-timeout 5 --dimse-timeout 5 --disable-host-lookup \
            -od "$dir/pacs" --aetitle ANY-SCP 104 >"$dir/pacs.log" 2>&1 &
    fi
    for i in $(seq 1 50); do
        in_ns "$o-svc" ss -Hltn 'sport = :104' | grep -q . && return 0
        sleep 0.1
    done
    echo "the PACS of ${ID[$o]} did not start: $(tail -3 "$dir/pacs.log")" >&2
    return 1
}

# kent-nhs's mail relay, directory and DICOM over TLS, for the smtp, ldap and dicom.tls checks:
# aiosmtpd on tcp/25 offering STARTTLS, OpenLDAP's slapd on tcp/389 with StartTLS and an
# anonymously readable RootDSE, and storescp with TLS on tcp/2762 (PS3.15 B.1), all with the
# organisation's certificate from the lab CA (epr.ORG.lab). None stores anything that fedprobe
# sends: aiosmtpd's default handler prints a message, and fedprobe sends none.
start_mail_and_directory() {  # org
    local o=$1 id=${ID[$1]} dir="$STATE/${ID[$1]}"
    in_ns "$o-svc" setsid /usr/bin/python3 -m aiosmtpd -n -l "0.0.0.0:25" \
        --tlscert "$STATE/pki/$id.pem" --tlskey "$STATE/pki/$id.key" --no-requiretls \
        >"$dir/smtpd.log" 2>&1 &
    mkdir -p "$dir/ldap-db"
    cat >"$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
pidfile $dir/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
TLSCertificateFile $STATE/pki/$id.pem
TLSCertificateKeyFile $STATE/pki/$id.key
database mdb
maxsize 16777216
suffix "dc=$id,dc=lab"
directory $dir/ldap-db
CONF
    in_ns "$o-svc" slapd -f "$dir/slapd.conf" -h "ldap:///" -u root -g root >"$dir/slapd.log" 2>&1
    mkdir -p "$dir/dicom-tls"
    in_ns "$o-svc" setsid storescp --fork --acse-timeout 5 --dimse-timeout 5 --disable-host-lookup \
        -od "$dir/dicom-tls" --aetitle ANY-SCP +tls "$STATE/pki/$id.key" "$STATE/pki/$id.pem" --ignore-peer-cert 2762 \
        >"$dir/dicom-tls.log" 2>&1 &
    local i
    for i in $(seq 1 50); do
        [ "$(in_ns "$o-svc" ss -Hltn '( sport = :25 or sport = :2762 )' | wc -l)" -ge 2 ] && return 0
        sleep 0.1
    done
    echo "the mail relay or TLS PACS of $id did not start: $(tail -3 "$dir/smtpd.log" "$dir/dicom-tls.log")" >&2
    return 1
}
