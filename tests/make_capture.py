#!/usr/bin/python3
"""Writes a capture file of known TCP handshakes between the networks of tests/passive.toml, and
the counts `fedprobe passive --read` must find in it, for tests/passive_offline.sh.

Usage: make_capture.py OUT.pcap EXPECTED.json

Every outcome is here: answered (ok), reset (refused), silent (filtered), ICMP and ICMPv6
errors quoting the SYN (prohibited, unreachable), SYNs sent again and then answered (retried),
over IPv4 and IPv6, behind one and two VLAN tags, and frames cut short by the snaplen. Frames
are built with scapy and written by hand, so that a frame's captured length can be shorter than
its length on the wire, as tcpdump -s writes them."""
import json
import struct
import sys

from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6DestUnreach, IPv6
from scapy.layers.l2 import Dot1AD, Dot1Q, Ether

KENT_NHS, KENT_NHS6 = "10.31.1.10", "2001:db8:31::10"
SURREY_PSN, SURREY_PSN6 = "198.51.100.148", "2001:db8:148::20"
SURREY_PSN_BORDER = "198.51.100.129"
KENT_PSN = "198.51.100.20"
BRIGHTON_PSN = "203.0.113.20"
OUTSIDE = "192.0.2.50"  # in no network: "unknown"
INTERCONNECT = "172.20.100.2"

frames = []  # (time in ns, bytes, captured length)
expected = {}  # (src, dst, service, outcome) -> count
icmp_expected = {}  # (src, dst, reporter, outcome) -> count
syns = 0
t = 1_700_000_000 * 10**9
isn = 1000


def emit(pkt, at, caplen=None, vlan=()):
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    for i, tag in enumerate(vlan):
        eth = eth / (Dot1AD(vlan=tag) if i == 0 and len(vlan) > 1 else Dot1Q(vlan=tag))
    raw = bytes(eth / pkt)
    frames.append((at, raw, len(raw) if caplen is None else min(caplen, len(raw))))


def count(table, key, n=1):
    table[key] = table.get(key, 0) + n


def ip(src, dst):
    return IPv6(src=src, dst=dst) if ":" in src else IP(src=src, dst=dst)


def handshake(src, dst, dport, answer, at, sport, retries=0, vlan=(), rtt_ms=5):
    """One client SYN (and `retries` copies a second apart), then `answer`: 'synack', 'rst',
    None (silence), or ('icmp', reporter, type, code)."""
    global syns, isn
    isn += 7919
    my_isn = isn
    syn = ip(src, dst) / TCP(sport=sport, dport=dport, flags="S", seq=my_isn)
    for i in range(retries + 1):
        emit(syn, at + i * 10**9, vlan=vlan)
        syns += 1
    last = at + retries * 10**9
    back = ip(dst, src)
    if answer == "synack":
        emit(back / TCP(sport=dport, dport=sport, flags="SA", seq=5000, ack=my_isn + 1),
             last + rtt_ms * 10**6, vlan=vlan)
        emit(ip(src, dst) / TCP(sport=sport, dport=dport, flags="FA", seq=my_isn + 1, ack=5001),
             last + 50 * 10**6, vlan=vlan)
    elif answer == "rst":
        emit(back / TCP(sport=dport, dport=sport, flags="RA", seq=0, ack=my_isn + 1),
             last + rtt_ms * 10**6, vlan=vlan)
    elif isinstance(answer, tuple):
        _, reporter, typ, code = answer
        if ":" in src:
            err = IPv6(src=reporter, dst=src) / ICMPv6DestUnreach(code=code) / syn
        else:
            err = IP(src=reporter, dst=src) / ICMP(type=typ, code=code) / bytes(syn)[:28]
        emit(err, last + rtt_ms * 10**6, vlan=vlan)
    return my_isn


# ok: three answered HTTPS handshakes, kent-nhs to surrey-psn.
for i in range(3):
    handshake(KENT_NHS, SURREY_PSN, 443, "synack", t + i * 10**7, 40000 + i)
count(expected, ("kent-nhs", "surrey-psn", "https", "ok"), 3)
t += 10**9
# refused: two RDP handshakes reset by kent-psn.
for i in range(2):
    handshake(KENT_NHS, KENT_PSN, 3389, "rst", t + i * 10**7, 41000 + i)
count(expected, ("kent-nhs", "kent-psn", "rdp", "refused"), 2)
t += 10**9
# filtered: one SYN sent three times and never answered, then once more long after it was
# counted (the same ISN: still one handshake); and one SYN sent once.
first = handshake(KENT_NHS, KENT_PSN, 2575, None, t, 42000, retries=2)
emit(ip(KENT_NHS, KENT_PSN) / TCP(sport=42000, dport=2575, flags="S", seq=first), t + 9 * 10**9)
syns += 1
handshake(KENT_NHS, KENT_PSN, 2575, None, t, 42001)
count(expected, ("kent-nhs", "kent-psn", "mllp", "filtered"), 2)
# a SYN-ACK that acknowledges the wrong number answers another connection: still filtered.
handshake(KENT_NHS, KENT_PSN, 587, None, t, 42002)
emit(ip(KENT_PSN, KENT_NHS) / TCP(sport=587, dport=42002, flags="SA", seq=1, ack=12345),
     t + 10**7)
count(expected, ("kent-nhs", "kent-psn", "smtp", "filtered"))
# a SYN-ACK with no SYN before it (the capture started late): nothing.
emit(ip(SURREY_PSN, KENT_NHS) / TCP(sport=443, dport=42003, flags="SA", seq=1, ack=2), t)
t += 20 * 10**9
# prohibited: surrey-psn's border rejects MLLP with ICMP 3/13; an ICMP from outside every
# network (192.0.2.6-like uplink addresses) counts with reporter "unknown".
handshake(KENT_NHS, SURREY_PSN, 2575, ("icmp", SURREY_PSN_BORDER, 3, 13), t, 43000)
handshake(KENT_NHS, SURREY_PSN, 2575, ("icmp", "192.0.2.6", 3, 10), t + 10**7, 43001)
count(expected, ("kent-nhs", "surrey-psn", "mllp", "prohibited"), 2)
count(icmp_expected, ("kent-nhs", "surrey-psn", "surrey-psn", "prohibited"))
count(icmp_expected, ("kent-nhs", "surrey-psn", "unknown", "prohibited"))
# unreachable: the interconnect has no route to brighton-psn.
handshake(KENT_NHS, BRIGHTON_PSN, 443, ("icmp", INTERCONNECT, 3, 1), t + 2 * 10**7, 43002)
count(expected, ("kent-nhs", "brighton-psn", "https", "unreachable"))
count(icmp_expected, ("kent-nhs", "brighton-psn", "unknown", "unreachable"))
t += 10**9
# retried: answered after two SYNs, and after three.
handshake(KENT_NHS, SURREY_PSN, 443, "synack", t, 44000, retries=1)
handshake(KENT_NHS, SURREY_PSN, 443, "synack", t, 44001, retries=2)
count(expected, ("kent-nhs", "surrey-psn", "https", "ok"), 2)
count(expected, ("kent-nhs", "surrey-psn", "https", "retried"), 2)
t += 5 * 10**9
# IPv6: one answered, one rejected with ICMPv6 1/1 (administratively prohibited).
handshake(KENT_NHS6, SURREY_PSN6, 443, "synack", t, 45000)
count(expected, ("kent-nhs", "surrey-psn", "https", "ok"))
handshake(KENT_NHS6, SURREY_PSN6, 2575, ("icmp", "2001:db8:148::1", 1, 1), t, 45001)
count(expected, ("kent-nhs", "surrey-psn", "mllp", "prohibited"))
count(icmp_expected, ("kent-nhs", "surrey-psn", "surrey-psn", "prohibited"))
# VLAN: one tag (answered), two tags (reset).
handshake(KENT_NHS, SURREY_PSN, 587, "synack", t, 45002, vlan=(100,))
count(expected, ("kent-nhs", "surrey-psn", "smtp", "ok"))
handshake(KENT_NHS, KENT_PSN, 587, "rst", t, 45003, vlan=(200, 100))
count(expected, ("kent-nhs", "kent-psn", "smtp", "refused"))
# From outside every network, and to a port of no service.
handshake(OUTSIDE, KENT_NHS, 2575, "synack", t, 45004)
count(expected, ("unknown", "kent-nhs", "mllp", "ok"))
handshake(KENT_NHS, SURREY_PSN, 8080, "rst", t, 45005)
count(expected, ("kent-nhs", "surrey-psn", "other", "refused"))
t += 10**9
# Truncated: SYNs cut before the TCP flags (snaplen 40 with Ethernet); not counted, not SYNs
# to tshark either. Padding: unrelated UDP frames.
emit(IP(src=KENT_NHS, dst=SURREY_PSN) / TCP(sport=46000, dport=443, flags="S"), t, caplen=40)
emit(IP(src=KENT_NHS, dst=SURREY_PSN) / TCP(sport=46001, dport=443, flags="S"), t, caplen=20)
emit(IP(src=KENT_NHS, dst=SURREY_PSN) / UDP(sport=53, dport=53), t)
t += 10 * 10**9
# The last SYN: the file ends 1 s after it, within the 3 s timeout: no outcome yet.
handshake(KENT_NHS, SURREY_PSN, 443, None, t, 47000)
emit(IP(src=KENT_NHS, dst=SURREY_PSN) / UDP(sport=53, dport=53), t + 10**9)

frames.sort(key=lambda f: f[0])
with open(sys.argv[1], "wb") as out:
    # pcap with nanosecond timestamps (magic a1b23c4d), Ethernet, snaplen 65535.
    out.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
    for at, raw, caplen in frames:
        out.write(struct.pack("<IIII", at // 10**9, at % 10**9, caplen, len(raw)))
        out.write(raw[:caplen])

rows = [{"src_network": k[0], "dst_network": k[1], "service": k[2], "outcome": k[3], "count": v}
        for k, v in sorted(expected.items())]
icmp = [{"src_network": k[0], "dst_network": k[1], "reporter_network": k[2], "outcome": k[3],
         "count": v} for k, v in sorted(icmp_expected.items())]
with open(sys.argv[2], "w") as out:
    json.dump({"rows": rows, "icmp_errors": icmp, "packets": len(frames), "syns": syns,
               "truncated": 2, "unfinished": 1}, out, indent=1)
