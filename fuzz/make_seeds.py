#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/ (run from the project root; idempotent).

Packets are built here from the RFCs' layouts, not from fedprobe's code, so the seeds test the
parsers against what the wire carries. Files a fuzzing run adds beside these are kept.
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(proto, src, dst, payload, ttl=64, tos=0, df=True):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), 0x1234, 0x4000 if df else 0,
                      ttl, proto, 0, bytes(src), bytes(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def icmp(type_, code, rest, body):
    m = struct.pack("!BBH", type_, code, 0) + rest + body
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def ip6(next_header, payload, hop_limit=64):
    return (struct.pack("!IHBB", 6 << 28, len(payload), next_header, hop_limit) +
            bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1]) +
            bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [2]) + payload)


A, B, R = [10, 31, 1, 10], [10, 32, 1, 10], [172, 20, 1, 1]
echo_req = icmp(8, 0, struct.pack("!HH", 0x4242, 7), b"fedprobe" + bytes(48))
echo_rep = icmp(0, 0, struct.pack("!HH", 0x4242, 7), b"fedprobe" + bytes(48))
udp = struct.pack("!HHHH", 40000, 33434, 8 + 12, 0) + b"fedprobe-udp"
syn = struct.pack("!HHIIBBHHH", 40000, 2575, 1000, 0, 0x70, 0x02, 64240, 0, 0) + \
    bytes([2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7])
synack = struct.pack("!HHIIBBHHH", 2575, 40000, 5000, 1001, 0x50, 0x12, 65535, 0, 0)

# MPLS label stack object (RFC 4950): class 1, c-type 1, one entry label 16004, S=1, TTL 1.
mpls_obj = struct.pack("!HBB", 8, 1, 1) + struct.pack("!I", (16004 << 12) | (1 << 8) | 1)
ext_hdr = struct.pack("!BBH", 0x20, 0, 0) + mpls_obj
ext = ext_hdr[:2] + struct.pack("!H", csum(ext_hdr)) + ext_hdr[4:]

# --- error_queue: first byte = length of the control data (a cmsghdr on x86_64: size_t length,
# int level, int type; then struct sock_extended_err and the offender's sockaddr), then the quote.
SOL_IP, IP_RECVERR, SOL_IPV6, IPV6_RECVERR = 0, 11, 41, 25


def cmsg(level, type_, data):
    body = struct.pack("=QiI", 16 + len(data), level, type_) + data
    return body + bytes(-len(body) % 8)


def ee(errno_, origin, type_, code, info=0):
    return struct.pack("=IBBBBII", errno_, origin, type_, code, 0, info, 0)


def sin(addr):
    return struct.pack("=H", 2) + struct.pack("!H", 0) + bytes(addr) + bytes(8)


def sin6(addr):
    return struct.pack("=H", 10) + struct.pack("!HI", 0, 0) + bytes(addr) + struct.pack("=I", 0)


def errq(control, quote):
    return bytes([len(control)]) + control + quote


V6R = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [9]
put("error_queue", "v4_host_unreachable", errq(cmsg(SOL_IP, IP_RECVERR, ee(113, 2, 3, 1) + sin(R)), echo_req))
put("error_queue", "v4_admin_prohibited_udp", errq(cmsg(SOL_IP, IP_RECVERR, ee(113, 2, 3, 13) + sin(R)), b"fedprobe-udp"))
put("error_queue", "v4_frag_needed", errq(cmsg(SOL_IP, IP_RECVERR, ee(90, 2, 3, 4, 1400) + sin(R)), echo_req))
put("error_queue", "v4_time_exceeded", errq(cmsg(SOL_IP, IP_RECVERR, ee(113, 2, 11, 0) + sin(R)), echo_req))
put("error_queue", "v4_local_emsgsize", errq(cmsg(SOL_IP, IP_RECVERR, ee(90, 1, 0, 0, 1500)), echo_req))
put("error_queue", "v6_port_unreachable", errq(cmsg(SOL_IPV6, IPV6_RECVERR, ee(111, 3, 1, 4) + sin6(V6R)),
                                               struct.pack("!BBHHH", 128, 0, 0, 0x4242, 7) + bytes(56)))
put("error_queue", "v6_packet_too_big", errq(cmsg(SOL_IPV6, IPV6_RECVERR, ee(90, 3, 2, 0, 1280) + sin6(V6R)), bytes(64)))
put("error_queue", "other_cmsg_first", errq(cmsg(1, 29, bytes(16)) + cmsg(SOL_IP, IP_RECVERR, ee(113, 2, 3, 3) + sin(R)), echo_req))
put("error_queue", "short_offender", errq(cmsg(SOL_IP, IP_RECVERR, ee(113, 2, 3, 1) + sin(R)[:6]), echo_req))
put("error_queue", "length_past_buffer", errq(struct.pack("=QiI", 200, SOL_IP, IP_RECVERR) + ee(113, 2, 3, 1), echo_req))

# --- icmp_packet: first byte picks the parser (0 v4+IP, 1 v4 bare, 2 v6, 3/4 quoted v4/v6).
put("icmp_packet", "v4_echo_reply", b"\0" + ip4(1, B, A, echo_rep))
put("icmp_packet", "v4_time_exceeded", b"\0" + ip4(1, R, A, icmp(11, 0, bytes(4), ip4(1, A, B, echo_req, ttl=1)[:28])))
put("icmp_packet", "v4_frag_needed", b"\0" + ip4(1, R, A, icmp(3, 4, struct.pack("!HH", 0, 1400), ip4(1, A, B, echo_req)[:28])))
put("icmp_packet", "v4_admin_prohibited", b"\0" + ip4(1, R, A, icmp(3, 13, bytes(4), ip4(1, A, B, echo_req)[:28])))
put("icmp_packet", "v4_ping_socket_reply", b"\1" + echo_rep)
put("icmp_packet", "v6_echo_reply", b"\2" + struct.pack("!BBHHH", 129, 0, 0, 0x4242, 7) + b"fedprobe" + bytes(48))
put("icmp_packet", "v6_packet_too_big", b"\2" + struct.pack("!BBHI", 2, 0, 0, 1280) + ip6(58, struct.pack("!BBHHH", 128, 0, 0, 0x4242, 7) + bytes(56))[:1232])
put("icmp_packet", "v6_time_exceeded", b"\2" + struct.pack("!BBHI", 3, 0, 0, 0) + ip6(58, struct.pack("!BBHHH", 128, 0, 0, 0x4242, 7) + bytes(56), hop_limit=1))
put("icmp_packet", "quoted_v4_request", b"\3" + echo_req)
put("icmp_packet", "quoted_v6_request", b"\4" + struct.pack("!BBHHH", 128, 0, 0, 0x4242, 7) + bytes(56))
put("icmp_packet", "truncated", b"\0" + ip4(1, R, A, icmp(11, 0, bytes(4), b""))[:24])

# --- path_packet: first byte picks (0 v4, 1 v6 icmpv6, 2 v6 tcp, 3 v6 udp, 4 extensions).
quote = ip4(17, A, B, udp, ttl=1, tos=0xb8)
put("path_packet", "v4_time_exceeded_udp", b"\0" + ip4(1, R, A, icmp(11, 0, bytes(4), quote)))
body = quote + bytes(128 - len(quote))
put("path_packet", "v4_time_exceeded_mpls", b"\0" + ip4(1, R, A, icmp(11, 0, struct.pack("!BBH", 0, 32, 0), body + ext)))
put("path_packet", "v4_time_exceeded_syn_mss", b"\0" + ip4(1, R, A, icmp(11, 0, bytes(4), ip4(6, A, B, syn, ttl=1))))
put("path_packet", "v4_frag_needed", b"\0" + ip4(1, R, A, icmp(3, 4, struct.pack("!HH", 0, 1400), ip4(6, A, B, syn + bytes(1400)[:40]))))
put("path_packet", "v4_syn_ack", b"\0" + ip4(6, B, A, synack))
put("path_packet", "v4_rst", b"\0" + ip4(6, B, A, synack[:13] + b"\x14" + synack[14:]))
put("path_packet", "v4_port_unreachable", b"\0" + ip4(1, B, A, icmp(3, 3, bytes(4), ip4(17, A, B, udp))))
q6 = ip6(17, udp, hop_limit=1)
put("path_packet", "v6_time_exceeded", b"\1" + struct.pack("!BBHI", 3, 0, 0, 0) + q6)
put("path_packet", "v6_packet_too_big", b"\1" + struct.pack("!BBHI", 2, 0, 0, 1280) + ip6(6, syn))
put("path_packet", "v6_syn_ack", b"\2" + synack)
put("path_packet", "v6_udp_reply", b"\3" + udp)
put("path_packet", "extensions_rfc4884", b"\4\0\x80" + body + ext)
put("path_packet", "extensions_legacy", b"\4\0\0" + body + ext)

# --- frame: first byte picks the link type (0 Ethernet, 1 Linux cooked, 2 cooked v2, 3 raw IP,
# 4 IPv4, 5 IPv6, 6 BSD loopback, 7 OpenBSD loop), then a captured frame.
eth = bytes([2] * 6 + [4] * 6)
put("frame", "eth_syn", b"\0" + eth + b"\x08\x00" + ip4(6, A, B, syn))
put("frame", "eth_syn_ack", b"\0" + eth + b"\x08\x00" + ip4(6, B, A, synack))
put("frame", "eth_vlan_qinq_rst", b"\0" + eth + b"\x88\xa8\x00\xc8\x81\x00\x00\x64\x08\x00" +
    ip4(6, B, A, synack[:13] + b"\x14" + synack[14:]))
put("frame", "eth_icmp_prohibited", b"\0" + eth + b"\x08\x00" + ip4(1, R, A, icmp(3, 13, bytes(4), ip4(6, A, B, syn)[:28])))
put("frame", "eth_ipv6_hop_by_hop_syn", b"\0" + eth + b"\x86\xdd" + ip6(0, bytes([6, 0, 1, 4, 0, 0, 0, 0]) + syn))
put("frame", "eth_icmpv6_unreachable", b"\0" + eth + b"\x86\xdd" + ip6(58, struct.pack("!BBHI", 1, 1, 0, 0) + ip6(6, syn)))
put("frame", "sll_syn", b"\1" + bytes(14) + b"\x08\x00" + ip4(6, A, B, syn))
put("frame", "sll2_ipv6_syn", b"\2" + b"\x86\xdd" + bytes(18) + ip6(6, syn))
put("frame", "raw_fragment", b"\3" + ip4(6, A, B, syn)[:6] + b"\x00\x10" + ip4(6, A, B, syn)[8:])
put("frame", "loopback_syn", b"\6" + b"\x02\x00\x00\x00" + ip4(6, A, B, syn))

# --- dns_match: two bytes (type, rcode, pattern), expected set, then one answer per line.
put("dns_match", "a_exact", b"\x00\x00" + b"10.31.1.10,10.31.1.11\n10.31.1.11\n10.31.1.10")
put("dns_match", "a_split_horizon", b"\x40\x00" + b"\n203.0.113.7")
put("dns_match", "nxdomain", b"\x80\x03" + b"\n")
put("dns_match", "cname", b"\x02\x00" + b"epr.example.\nepr.example.")

# --- http_match: two bytes of status, then the body.
put("http_match", "ok_json", struct.pack("!H", 200) + b'{"status": "ok", "version": "1.2"}')
put("http_match", "no_content", struct.pack("!H", 204))
put("http_match", "server_error", struct.pack("!H", 503) + b"<html>maintenance</html>")
put("http_match", "redirect", struct.pack("!H", 301) + b"moved")

# --- basic_authorization: an Authorization header's value from a client (RFC 7617).
put("basic_authorization", "user_pass", b"Basic cHJvbWV0aGV1czpzM2NyZXQ=")
put("basic_authorization", "empty_password", b"basic dTo=")
put("basic_authorization", "colon_in_password", b"Basic dTpwOmFzcw==")
put("basic_authorization", "nul_in_password", b"Basic cHJvbWV0aGV1czpzM2NyZXQAZ2FyYmFnZQ==")
put("basic_authorization", "bearer", b"Bearer eyJhbGciOiJIUzI1NiJ9")
put("basic_authorization", "bad_padding", b"Basic dT=6cA==")

# --- config_loader: the shipped example and the lab's federation, plus broken pieces.
here = os.path.dirname(ROOT)
project = os.path.dirname(here)
for src in ["config/examples/federation.toml", "lab/federation.toml"]:
    p = os.path.join(project, src)
    if os.path.exists(p):
        put("config_loader", os.path.basename(os.path.dirname(p)) + "_" + os.path.basename(p), open(p, "rb").read())
put("config_loader", "minimal", b'[fedprobe]\nsite = "a"\n[[networks]]\nid = "a"\nprefixes = ["127.0.0.0/8"]\n'
    b'[[targets]]\nid = "t"\nnetwork = "a"\naddress = "127.0.0.2"\nprobes = ["icmp"]\n')
put("config_loader", "broken", b'[fedprobe]\nsite = \n[[networks]]\nid = "A B"\nprefixes = ["10.0.0.0/33"]\n')
put("config_loader", "every_kind", b'''[fedprobe]
site = "a"
[[networks]]
id = "a"
prefixes = ["127.0.0.0/8", "::1/128"]
[services]
https = { proto = "tcp", port = 443 }
dns = { proto = "udp", port = 53 }
[[targets]]
id = "t"
network = "a"
address = "127.0.0.2"
probes = ["icmp", "tcp:https", "udp:dns", "dns", "http", "path:https"]
[targets.dns]
name = "epr.example"
answers = ["10.31.1.10"]
[targets.http]
url = "https://127.0.0.2/health"
body_regex = "ok"
[targets.path]
mtu = true
min_mtu = 1400
[[flows]]
id = "f"
from = ["a"]
to = "t"
service = "https"
expect = "allow"
''')
# STAMP (RFC 8762 4.2.1/4.2.2 and RFC 8972 4): the first byte is the fuzz target's mode
# (bit 0 stateless, bit 1 authenticated with the key "fuzz").
import hashlib  # noqa: E402
import hmac  # noqa: E402


def stamp_tlv(flags, typ, value):
    return struct.pack("!BBH", flags, typ, len(value)) + value


stamp_base = struct.pack("!IQHH28x", 7, 0xE8D4A51000000000, 0x0001, 1)
stamp_cos = stamp_tlv(0, 4, struct.pack("!HH", 46 << 10, 0))
stamp_loc = stamp_tlv(0, 2, struct.pack("!HH", 0, 0) + stamp_tlv(0, 1, bytes(4)) + stamp_tlv(0, 2, bytes(4)))
stamp_loc6 = stamp_tlv(0, 2, struct.pack("!HH", 0, 0) + stamp_tlv(0, 3, bytes(16)) + stamp_tlv(0, 4, bytes(16)))
put("stamp_packet", "base", b"\0" + stamp_base)
put("stamp_packet", "base_stateless", b"\1" + stamp_base)
put("stamp_packet", "tlvs", b"\0" + stamp_base + stamp_cos + stamp_loc + stamp_tlv(0, 1, bytes(32)) + stamp_tlv(0, 99, b"?"))
put("stamp_packet", "location_v6", b"\0" + stamp_base + stamp_loc6)
put("stamp_packet", "truncated_tlv", b"\0" + stamp_base + b"\x00\x04\x00\x10\x00")
auth_base = struct.pack("!I12xQHH68x", 7, 0xE8D4A51000000000, 1, 1)
auth = auth_base + hmac.new(b"fuzz", auth_base, hashlib.sha256).digest()[:16]
put("stamp_packet", "authenticated", b"\2" + auth)
put("stamp_packet", "authenticated_tlvs", b"\2" + auth + stamp_cos +
    stamp_tlv(0, 8, hmac.new(b"fuzz", auth[:4] + stamp_cos, hashlib.sha256).digest()[:16]))
reflected = struct.pack("!IQHHQIQH2xB3x", 0, 0xE8D4A51000000000, 1, 1, 0xE8D4A51000000000, 7, 0xE8D4A51000000000, 1, 64)
put("stamp_packet", "reflected", b"\0" + reflected + stamp_cos + stamp_loc)
# Application checks (fuzz/app_dialogue_fuzz.cpp): the first byte's bits 0-2 pick MLLP (0),
# DICOM (1), the reset watcher's IPv4 (2) and IPv6 (3) readers, SMTP (4; 6 with STARTTLS) and
# LDAP (5; 7 with StartTLS); its other bits the piece size.
def mode(m, piece=31):
    return bytes([m | (piece << 3) & 0xF8])


VT, FS, CR = b"\x0b", b"\x1c", b"\x0d"
for code in (b"AA", b"AR", b"AE", b"CA"):
    put("app_dialogue", "mllp_" + code.decode().lower(),
        mode(0) + VT + b"MSH|^~\\&|ENGINE|TRUST|FEDPROBE|fuzz|20260101||ACK|A1|T|2.5.1\rMSA|" + code + b"|FP1|text\r" + FS + CR)
put("app_dialogue", "mllp_err_segment", mode(0, 1) + VT + b"MSH|^~\\&|E\rMSA|AE|FP1\rERR|||207|E||||bad field\r" + FS + CR)
put("app_dialogue", "mllp_not_framed", mode(0) + b"HTTP/1.1 400 Bad Request\r\n\r\n")
put("app_dialogue", "mllp_unterminated", mode(0) + VT + b"MSH|^~\\&|" + b"x" * 300)


def pdu(type_, body):
    return struct.pack("!BBI", type_, 0, len(body)) + body


def item(type_, content):
    return struct.pack("!BBH", type_, 0, len(content)) + content


def ae(title):
    return title.ljust(16, b" ")


# PS3.8 9.3.3: an A-ASSOCIATE-AC accepting the Verification context with implicit VR LE.
ac = pdu(2, struct.pack("!HH", 1, 0) + ae(b"ANY-SCP") + ae(b"FUZZ") + bytes(32) +
         item(0x10, b"1.2.840.10008.3.1.1.1") +
         item(0x21, b"\x01\x00\x00\x00" + item(0x40, b"1.2.840.10008.1.2")) +
         item(0x50, item(0x51, struct.pack("!I", 16384))))


def element(elem, value):
    return struct.pack("<HHI", 0, elem, len(value)) + value


# PS3.7 9.3.5.2: the C-ECHO-RSP command set, in one PDV (command, last fragment).
rsp = (element(0x0002, b"1.2.840.10008.1.1\0") + element(0x0100, struct.pack("<H", 0x8030)) +
       element(0x0120, struct.pack("<H", 1)) + element(0x0800, struct.pack("<H", 0x0101)) +
       element(0x0900, struct.pack("<H", 0)))
rsp = element(0x0000, struct.pack("<I", len(rsp))) + rsp
echo_rsp = pdu(4, struct.pack("!I", len(rsp) + 2) + b"\x01\x03" + rsp)
release_rp = pdu(6, bytes(4))
put("app_dialogue", "dicom_ok", mode(1) + ac + echo_rsp + release_rp)
put("app_dialogue", "dicom_ok_bytewise", mode(1, 1) + ac + echo_rsp + release_rp)
half = len(rsp) // 2
put("app_dialogue", "dicom_fragmented", mode(1) + ac +
    pdu(4, struct.pack("!I", half + 2) + b"\x01\x01" + rsp[:half]) +
    pdu(4, struct.pack("!I", len(rsp) - half + 2) + b"\x01\x03" + rsp[half:]) + release_rp)
put("app_dialogue", "dicom_rejected", mode(1) + pdu(3, b"\x00\x01\x01\x03"))
put("app_dialogue", "dicom_aborted", mode(1) + ac + pdu(7, b"\x00\x00\x02\x02"))
put("app_dialogue", "dicom_huge_pdu", mode(1) + b"\x02\x00\xff\xff\xff\xff")
put("app_dialogue", "dicom_not_dicom", mode(1) + b"SSH-2.0-OpenSSH_9.2\r\n")
tcp_rst = struct.pack("!HHIIBBHHH", 104, 50000, 1, 1, 0x50, 0x14, 0, 0, 0)
tcp_synack = struct.pack("!HHIIBBHHH", 104, 50000, 1, 1, 0x50, 0x12, 0, 0, 0)
put("app_dialogue", "reset_v4", mode(2) + ip4(6, [10, 31, 2, 10], [10, 10, 1, 10], tcp_rst, ttl=62))
put("app_dialogue", "synack_v4", mode(2) + ip4(6, [10, 31, 2, 10], [10, 10, 1, 10], tcp_synack, ttl=61))
put("app_dialogue", "reset_v6", mode(3) + tcp_rst)
# RFC 5321 4.2 replies, as aiosmtpd writes them.
smtp_ehlo = b"250-localhost\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 HELP\r\n"
put("app_dialogue", "smtp_ok", mode(4) + b"220 localhost ESMTP\r\n" + smtp_ehlo + b"221 Bye\r\n")
put("app_dialogue", "smtp_starttls", mode(6, 1) + b"220 localhost ESMTP\r\n" + smtp_ehlo +
    b"220 Ready to start TLS\r\n" + smtp_ehlo + b"221 Bye\r\n")
put("app_dialogue", "smtp_refused", mode(4) + b"554 5.3.2 no service\r\n")
put("app_dialogue", "smtp_not_smtp", mode(4) + b"SSH-2.0-OpenSSH_9.2\r\n")


# RFC 4511 4.1.9 / 4.5.2 / 4.14.2, BER with definite lengths.
def ber(tag, value):
    if len(value) < 0x80:
        return bytes([tag, len(value)]) + value
    return bytes([tag, 0x82]) + struct.pack("!H", len(value)) + value


def ldap_msg(mid, op):
    return ber(0x30, ber(0x02, bytes([mid])) + op)


def ldap_result(tag, code, diag=b""):
    return ber(tag, ber(0x0A, bytes([code])) + ber(0x04, b"") + ber(0x04, diag))


entry = ber(0x64, ber(0x04, b"") + ber(0x30, ber(0x30, ber(0x04, b"namingContexts") +
                                                  ber(0x31, ber(0x04, b"dc=kent-nhs,dc=lab")))))
put("app_dialogue", "ldap_ok", mode(5) + ldap_msg(1, entry) + ldap_msg(1, ldap_result(0x65, 0)))
put("app_dialogue", "ldap_starttls", mode(7, 2) + ldap_msg(1, ldap_result(0x78, 0)) +
    ldap_msg(2, entry) + ldap_msg(2, ldap_result(0x65, 0)))
put("app_dialogue", "ldap_denied", mode(5) + ldap_msg(1, ldap_result(0x65, 50, b"nope")))
put("app_dialogue", "ldap_notice", mode(5) + ldap_msg(0, ldap_result(0x78, 52)))
put("app_dialogue", "ldap_long_length", mode(5) + b"\x30\x84\x00\x00\x00\x05\x02\x01\x01\x42\x00")
print("seeds written to", ROOT)
