#!/usr/bin/env python3
"""STAMP interop with an encoder of the test's own, written from the figures of RFC 8762
(sections 4.2.1, 4.2.2, 4.3.1, 4.3.2) and RFC 8972 (section 3: SSID; section 4: TLVs),
and from nothing of fedprobe's code. Two roles:

  sender HOST PORT SOURCES...      test packets to fedprobe's reflector; checks every reply
  reflector HOST PORT OUT.json     a stateful reflector for fedprobe's stamp probe; checks
                                   every test packet, drops every fifth (forward loss), and
                                   writes what it saw to OUT.json until killed

Options: --key FILE (authenticated mode). Exits non-zero with the first mismatch.

Unauthenticated packets are also built and read by a second implementation that is not the
test's: scapy's contrib/stamp (RFC 8762 and 8972), so that the two encoders cannot share a
misreading of the RFCs.
"""
import argparse
import hashlib
import hmac
import json
import os
import select
import signal
import socket
import struct
import sys
import time

NTP_EPOCH = 2208988800
U, M, I = 0x80, 0x40, 0x20
CHECKS = 0


def check(cond, what):
    global CHECKS
    CHECKS += 1
    if not cond:
        sys.exit(f"FAIL: {what}")


def ntp_now():
    t = time.time()
    s = int(t)
    return ((s + NTP_EPOCH) << 32) | int((t - s) * (1 << 32))


def ptp_now():
    ns = time.time_ns()
    return ((ns // 10**9) << 32) | (ns % 10**9)


def ts_seconds(ts, ptp):
    hi, lo = ts >> 32, ts & 0xFFFFFFFF
    return hi + lo / 1e9 if ptp else hi - NTP_EPOCH + lo / 2**32


def error_estimate(sync, ptp, scale=0, mult=1):
    return (0x8000 if sync else 0) | (0x4000 if ptp else 0) | (scale & 0x3F) << 8 | mult


def tlv(flags, typ, value):
    return struct.pack("!BBH", flags, typ, len(value)) + value


def parse_tlvs(b):
    out = []
    while b:
        check(len(b) >= 4, "a TLV header is cut short")
        flags, typ, length = struct.unpack("!BBH", b[:4])
        check(len(b) >= 4 + length, f"TLV type {typ} claims {length} bytes, {len(b) - 4} left")
        out.append((flags, typ, b[4:4 + length]))
        b = b[4 + length:]
    return out


def mac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()[:16]


# ---- RFC 8762 figures ---------------------------------------------------------------------
# Session-Sender, unauthenticated (4.2.1, with RFC 8972's SSID): 44 bytes.
#   seq(4) timestamp(8) error_estimate(2) ssid(2) mbz(28)
# Session-Sender, authenticated (4.2.2): 112 bytes.
#   seq(4) mbz(12) timestamp(8) error_estimate(2) ssid(2) mbz(68) hmac(16)
# Session-Reflector, unauthenticated (4.3.1): 44 bytes.
#   seq(4) timestamp(8) ee(2) ssid(2) rx_timestamp(8) sender_seq(4) sender_timestamp(8)
#   sender_ee(2) mbz(2) sender_ttl(1) mbz(3)
# Session-Reflector, authenticated (4.3.2): 112 bytes.
#   seq(4) mbz(12) timestamp(8) ee(2) ssid(2) mbz(4) rx_timestamp(8) mbz(8) sender_seq(4)
#   mbz(12) sender_timestamp(8) sender_ee(2) mbz(6) sender_ttl(1) mbz(15) hmac(16)

def sender_packet(seq, ts, ee, ssid, key=None, tlvs=b""):
    if key is None:
        return struct.pack("!IQHH28x", seq, ts, ee, ssid) + tlvs
    base = struct.pack("!I12xQHH68x", seq, ts, ee, ssid)
    out = base + mac(key, base)
    if tlvs:
        out += tlvs + tlv(0, 8, mac(key, out[:4] + tlvs))
    return out


def parse_sender(b, key=None):
    if key is None:
        check(len(b) >= 44, f"test packet of {len(b)} bytes, under 44")
        seq, ts, ee, ssid = struct.unpack("!IQHH", b[:16])
        check(b[16:44] == bytes(28), "the test packet's MBZ octets 16-43 are not zero")
        return dict(seq=seq, ts=ts, ee=ee, ssid=ssid, tlvs=parse_tlvs(b[44:]), size=len(b))
    check(len(b) >= 112, f"authenticated test packet of {len(b)} bytes, under 112")
    seq, = struct.unpack("!I", b[:4])
    check(b[4:16] == bytes(12), "MBZ octets 4-15 are not zero")
    ts, ee, ssid = struct.unpack("!QHH", b[16:28])
    check(b[28:96] == bytes(68), "MBZ octets 28-95 are not zero")
    check(hmac.compare_digest(b[96:112], mac(key, b[:96])), "the test packet's HMAC does not verify")
    tlvs = parse_tlvs(b[112:])
    if tlvs:
        check(tlvs[-1][1] == 8 and len(tlvs[-1][2]) == 16, "TLVs without a closing HMAC TLV")
        check(hmac.compare_digest(tlvs[-1][2], mac(key, b[:4] + b[112:len(b) - 20])),
              "the HMAC TLV does not verify")
        tlvs = tlvs[:-1]
    return dict(seq=seq, ts=ts, ee=ee, ssid=ssid, tlvs=tlvs, size=len(b))


def reflector_packet(seq, ts, ee, ssid, rx, sseq, sts, see, ttl, key=None, tlvs=b""):
    if key is None:
        return struct.pack("!IQHHQIQH2xB3x", seq, ts, ee, ssid, rx, sseq, sts, see, ttl) + tlvs
    base = struct.pack("!I12xQHH4xQ8xI12xQH6xB15x", seq, ts, ee, ssid, rx, sseq, sts, see, ttl)
    out = base + mac(key, base)
    if tlvs:
        out += tlvs + tlv(0, 8, mac(key, out[:4] + tlvs))
    return out


def parse_reflector(b, key=None):
    if key is None:
        check(len(b) >= 44, f"reply of {len(b)} bytes, under 44")
        f = struct.unpack("!IQHHQIQH2xB3x", b[:44])
        check(b[38:40] == bytes(2) and b[41:44] == bytes(3), "the reply's MBZ octets are not zero")
        rest = b[44:]
    else:
        check(len(b) >= 112, f"authenticated reply of {len(b)} bytes, under 112")
        f = struct.unpack("!I12xQHH4xQ8xI12xQH6xB15x", b[:96])
        check(hmac.compare_digest(b[96:112], mac(key, b[:96])), "the reply's HMAC does not verify")
        rest = b[112:]
    tlvs = parse_tlvs(rest)
    if key is not None and tlvs:
        check(tlvs[-1][1] == 8, "authenticated reply TLVs without an HMAC TLV")
        check(hmac.compare_digest(tlvs[-1][2], mac(key, b[:4] + rest[:-20])),
              "the reply's HMAC TLV does not verify")
        tlvs = tlvs[:-1]
    keys = ["seq", "ts", "ee", "ssid", "rx", "sseq", "sts", "see", "ttl"]
    return dict(zip(keys, f), tlvs=tlvs, size=len(b))


def cos_tlv(dscp1, dscp2=0, ecn=0, rp=0):
    return tlv(0, 4, struct.pack("!HH", dscp1 << 10 | dscp2 << 4 | ecn << 2 | rp, 0))


def read_cos(value):
    v, = struct.unpack("!H", value[:2])
    return dict(dscp1=v >> 10, dscp2=(v >> 4) & 0x3F, ecn=(v >> 2) & 3, rp=v & 3)


def location_request_v4():
    # ports 0, then Source and Destination IPv4 Address sub-TLVs (types 1 and 2), zero.
    return tlv(0, 2, struct.pack("!HH", 0, 0) + tlv(0, 1, bytes(4)) + tlv(0, 2, bytes(4)))


def read_location(value):
    dport, sport = struct.unpack("!HH", value[:4])
    subs = {t: (fl, v) for fl, t, v in parse_tlvs(value[4:])}
    return dport, sport, subs


# ---- sender role: fedprobe's reflector under test -------------------------------------------

def exchange(host, port, packet, source=("0.0.0.0", 0), tos=0, wait=1.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(source)
    if tos:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
    s.sendto(packet, (host, port))
    r, _, _ = select.select([s], [], [], wait)
    reply = s.recvfrom(65535)[0] if r else None
    local = s.getsockname()
    s.close()
    return reply, local


def scapy_stamp():
    """scapy's STAMP layer, imported only where used (it takes a second to load)."""
    from scapy.layers.inet import UDP
    from scapy.contrib import stamp
    return UDP, stamp


def scapy_read(cls, data):
    """Dissects with scapy; its TLV list reads the length from the UDP header above it."""
    UDP, _ = scapy_stamp()
    return cls(data, _parent=UDP(len=8 + len(data)))


def scapy_exchange(a, allowed):
    """scapy builds a test packet with a CoS TLV; scapy reads fedprobe's reply."""
    _, sc = scapy_stamp()
    sent = time.time()
    req = bytes(sc.STAMPSessionSenderTestUnauthenticated(
        seq=555, ts=sent + NTP_EPOCH, ssid=777,
        err_estimate=sc.ErrorEstimate(S=0, Z=0, scale=0, multiplier=1),
        tlv_objects=[sc.STAMPTestTLV(type=4, len=4, value=struct.pack("!HH", 46 << 10, 0))]))
    check(len(req) == 52, f"scapy's test packet is {len(req)} bytes, not 44 + 8")
    reply, _ = exchange(a.host, a.port, req, (allowed, 0), tos=46 << 2)
    check(reply is not None, "no reply to scapy's test packet")
    r = scapy_read(sc.STAMPSessionReflectorTestUnauthenticated, reply)
    check(r.seq_sender == 555 and r.ssid == 777, f"scapy reads seq_sender {r.seq_sender}, ssid {r.ssid}")
    check(r.ttl_sender == 64, f"scapy reads Ses-Sender TTL {r.ttl_sender}")
    check(abs(float(r.ts_sender) - NTP_EPOCH - sent) < 1e-3, "scapy reads another sender timestamp")
    check(r.err_estimate_sender.multiplier == 1 and r.err_estimate.multiplier != 0,
          "scapy reads the error estimates wrong")
    check(r.err_estimate.Z == 0 and abs(float(r.ts_rx) - NTP_EPOCH - time.time()) < 5,
          "scapy reads a receive timestamp not near now")
    check(r.mbz1 == 0 and r.mbz2 == 0, "scapy reads non-zero MBZ fields")
    check([t.type for t in r.tlv_objects] == [4] and r.tlv_objects[0].len == 4,
          f"scapy reads the TLVs as {[(t.type, t.len) for t in r.tlv_objects]}")
    check(read_cos(r.tlv_objects[0].value)["dscp2"] == 46, "scapy reads another DSCP received")
    print("ok: scapy's contrib/stamp builds a test packet and reads the reply: fields, TTL, CoS TLV")


def run_sender(a):
    key = open(a.key, "rb").read().rstrip(b"\r\n") if a.key else None
    allowed, refused = a.sources[0], a.sources[1]
    near = lambda t, ptp: abs(ts_seconds(t, ptp) - time.time()) < 5  # noqa: E731

    if key is None:
        # Base packets from one session: the stateful reflector counts 0, 1, 2...
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((allowed, 0))
        for i in range(5):
            t1 = ntp_now()
            s.sendto(sender_packet(100 + i, t1, error_estimate(False, False, 0, 1), 4242), (a.host, a.port))
            r, _, _ = select.select([s], [], [], 1.0)
            check(r, f"no reply to base packet {i}")
            p = parse_reflector(s.recvfrom(65535)[0])
            check(p["size"] == 44, f"a 44-byte test packet got {p['size']} bytes back")
            check(p["seq"] == i, f"stateful count {p['seq']}, expected {i}")
            check(p["sseq"] == 100 + i, "the sender's sequence number is not echoed")
            check(p["sts"] == t1, "the sender's timestamp is not echoed")
            check(p["see"] == error_estimate(False, False, 0, 1), "the sender's error estimate is not echoed")
            check(p["ssid"] == 4242, "the SSID is not echoed")
            check(p["ttl"] == 64, f"Ses-Sender TTL {p['ttl']}, the packet left with 64")
            check(near(p["rx"], False) and near(p["ts"], False), "timestamps are not NTP near now")
            check(p["ts"] >= p["rx"], "sent before it was received")
            check(p["ee"] & 0xFF != 0, "the reflector's error estimate has multiplier 0")
        s.close()
        print("ok: base packets (44 bytes): fields echoed, stateful count, NTP timestamps")

        # TLVs: CoS with DSCP 46 sent as DSCP 46, Location, padding, and a type nobody knows.
        tlvs = cos_tlv(46) + location_request_v4() + tlv(0, 1, bytes(64)) + tlv(0, 200, b"xy")
        req = sender_packet(7, ntp_now(), error_estimate(False, False), 1, tlvs=tlvs)
        reply, local = exchange(a.host, a.port, req, (allowed, 0), tos=46 << 2)
        check(reply is not None, "no reply to a packet with TLVs")
        p = parse_reflector(reply)
        check(len(reply) == len(req), f"{len(req)} bytes in, {len(reply)} out: must be equal")
        types = [t for _, t, _ in p["tlvs"]]
        check(types == [4, 2, 1, 200], f"TLVs came back as {types}")
        cos = read_cos(p["tlvs"][0][2])
        check(cos["dscp2"] == 46 and cos["dscp1"] == 46, f"CoS came back as {cos}")
        dport, sport, subs = read_location(p["tlvs"][1][2])
        check(dport == a.port and sport == local[1], f"Location ports {dport}/{sport}")
        check(socket.inet_ntoa(subs[1][1]) == allowed, "Location source address is not ours")
        check(socket.inet_ntoa(subs[2][1]) == a.host, "Location destination is not the reflector's")
        check(p["tlvs"][3][0] & U, "an unknown TLV type is not flagged U")
        print("ok: TLVs: length kept, CoS DSCP 46 received, Location as seen, unknown type flagged U")

        # PTP timestamps when the sender's Z bit asks for them.
        reply, _ = exchange(a.host, a.port, sender_packet(8, ptp_now(), error_estimate(False, True), 1),
                            (allowed, 0))
        check(reply is not None, "no reply in PTP format")
        p = parse_reflector(reply)
        check(near(p["rx"], True) and near(p["ts"], True), "timestamps are not PTP near now")
        check(p["ee"] & 0x4000, "the reply's Z bit is not set for PTP")
        print("ok: PTP timestamps")
        scapy_exchange(a, allowed)

        reply, _ = exchange(a.host, a.port, sender_packet(9, ntp_now(), 1, 1), (refused, 0))
        check(reply is None, "a source outside allow was answered")
        reply, _ = exchange(a.host, a.port, b"\x00" * 20, (allowed, 0))
        check(reply is None, "a 20-byte packet was answered")
        reply, _ = exchange(a.host, a.port, sender_packet(9, ntp_now(), 1, 1) + b"\x00\x04\x00\x63", (allowed, 0))
        check(reply is None, "a TLV running past the end was answered")
        print("ok: silence to a source outside allow and to malformed packets")
    else:
        req = sender_packet(21, ntp_now(), error_estimate(False, False), 9, key=key)
        check(len(req) == 112, "the test's own authenticated packet is not 112 bytes")
        reply, _ = exchange(a.host, a.port, req, (allowed, 0))
        check(reply is not None, "no reply to an authenticated packet with the right key")
        p = parse_reflector(reply, key)
        check(p["size"] == 112 and p["sseq"] == 21 and p["ssid"] == 9, "authenticated reply fields")
        req = sender_packet(22, ntp_now(), 1, 9, key=key, tlvs=cos_tlv(10))
        reply, _ = exchange(a.host, a.port, req, (allowed, 0), tos=10 << 2)
        check(reply is not None, "no reply to an authenticated packet with TLVs")
        p = parse_reflector(reply, key)
        check(len(reply) == len(req) and read_cos(p["tlvs"][0][2])["dscp2"] == 10, "authenticated TLVs")
        reply, _ = exchange(a.host, a.port, sender_packet(23, ntp_now(), 1, 9, key=b"wrong"), (allowed, 0))
        check(reply is None, "a wrong key was answered")
        reply, _ = exchange(a.host, a.port, sender_packet(24, ntp_now(), 1, 9), (allowed, 0))
        check(reply is None, "an unauthenticated packet was answered in authenticated mode")
        print("ok: authenticated (112 bytes): HMAC and HMAC TLV verify; wrong key and no key get silence")
    print(f"sender: {CHECKS} checks passed")


# ---- reflector role: fedprobe's sender under test -------------------------------------------

def run_reflector(a):
    key = open(a.key, "rb").read().rstrip(b"\r\n") if a.key else None
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
    s.bind((a.host, a.port))
    sessions, seen = {}, dict(packets=0, dropped=0, reflected=0, checks=0, sizes=[], z=[], dscp=[])

    def dump(*_):
        seen["checks"] = CHECKS
        with open(a.out + ".tmp", "w") as f:
            json.dump(seen, f)
        os.replace(a.out + ".tmp", a.out)

    signal.signal(signal.SIGTERM, lambda *_: (dump(), sys.exit(0)))
    if key is None:
        scapy_stamp()  # loaded before the first dump says ready: it takes a second, and replies
        # held up that long would read as backward loss
    try:
        serve(a, s, key, sessions, seen, dump)
    except SystemExit as e:  # a check failed: say which, where the test reads
        if e.code not in (0, None):
            seen["error"] = str(e.code)
            dump()
        raise


def serve(a, s, key, sessions, seen, dump):
    last_dump = 0.0
    while True:
        r, _, _ = select.select([s], [], [], 0.5)
        if time.time() - last_dump > 0.5:
            dump()
            last_dump = time.time()
        if not r:
            continue
        data, anc, _, src = s.recvmsg(65535, socket.CMSG_SPACE(4))
        t2 = time.time()
        tos = next((c[2][0] for c in anc if c[0] == socket.IPPROTO_IP and c[1] == socket.IP_TOS), 0)
        p = parse_sender(data, key)
        ptp = bool(p["ee"] & 0x4000)
        check(abs(ts_seconds(p["ts"], ptp) - t2) < 5, "fedprobe's timestamp is not near now in its format")
        check(p["ee"] & 0xFF != 0, "fedprobe's error estimate has multiplier 0")
        check(p["ssid"] != 0, "fedprobe sent SSID 0")
        if key is None:
            _, sc = scapy_stamp()
            q = scapy_read(sc.STAMPSessionSenderTestUnauthenticated, data)
            check((q.seq, q.ssid, q.err_estimate.Z) == (p["seq"], p["ssid"], int(ptp)) and q.mbz == 0,
                  "scapy reads fedprobe's test packet otherwise")
            check([(t.type, t.len) for t in q.tlv_objects] == [(t, len(v)) for _, t, v in p["tlvs"]],
                  "scapy reads fedprobe's TLVs otherwise")
            seen["scapy"] = seen.get("scapy", 0) + 1
        seen["packets"] += 1
        seen["sizes"].append(p["size"])
        seen["z"].append(ptp)
        seen["dscp"].append(tos >> 2)
        for fl, typ, v in p["tlvs"]:
            check(fl == 0, f"fedprobe set flags {fl:#x} on TLV {typ}")
            if typ == 4:
                check(len(v) == 4, "CoS TLV length")
            if typ == 2:
                _, _, subs = read_location(v)
                check(all(x[1] == bytes(len(x[1])) for x in subs.values()), "Location sent non-zero")
        sess = sessions.setdefault((src, p["ssid"]), dict(count=0, n=0))
        sess["n"] += 1
        if sess["n"] % 5 == 0:  # lost on the way there: never counted
            seen["dropped"] += 1
            continue
        count = sess["count"]
        sess["count"] += 1
        tlvs = b""
        for fl, typ, v in p["tlvs"]:
            if typ == 4:
                v = struct.pack("!HH", read_cos(v)["dscp1"] << 10 | (tos >> 2) << 4 | (tos & 3) << 2, 0)
            elif typ == 2:
                sub = tlv(0, 1, socket.inet_aton(src[0])) + tlv(0, 2, socket.inet_aton(a.host))
                v = struct.pack("!HH", a.port, src[1]) + sub if len(v) == 4 + len(sub) else v
            tlvs += tlv(0, typ, v)
        now = ptp_now() if ptp else ntp_now()
        rx = (((int(t2 * 1e9) // 10**9) << 32) | (int(t2 * 1e9) % 10**9)) if ptp else \
            ((int(t2) + NTP_EPOCH) << 32) | int((t2 - int(t2)) * 2**32)
        reply = reflector_packet(count, now, error_estimate(False, ptp), p["ssid"], rx, p["seq"],
                                 p["ts"], p["ee"], 64, key=key, tlvs=tlvs)
        check(len(reply) <= len(data), "the test reflector would amplify")
        s.sendto(reply, src)
        seen["reflected"] += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["sender", "reflector"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("rest", nargs="*")
    ap.add_argument("--key")
    a = ap.parse_args()
    if a.role == "sender":
        a.sources = a.rest
        run_sender(a)
    else:
        a.out = a.rest[0]
        run_reflector(a)


if __name__ == "__main__":
    main()
