#include "capture/frame.hpp"

#include <netinet/in.h>
#include <pcap/dlt.h>

#include <cstring>

namespace fedprobe {

namespace {

using Bytes = std::span<const std::uint8_t>;

std::uint16_t be16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

void set_address(IpAddress& a, int family, const std::uint8_t* p) {
    a.family = family;
    if (family == AF_INET) {
        std::memcpy(a.bytes.data(), p, 4);
        std::memset(a.bytes.data() + 4, 0, 12);
    } else {
        std::memcpy(a.bytes.data(), p, 16);
    }
}

constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86dd;

bool is_vlan(std::uint16_t ethertype) {
    return ethertype == 0x8100 || ethertype == 0x88a8 || ethertype == 0x9100;
}

// The IP header of a packet (the frame's own, or one an ICMP error quotes): where its transport
// header starts and what it is. A quote may be cut after the first 8 transport bytes (RFC 792),
// and its total length may exceed what was quoted, so lengths are checked against `b` only.
struct Ip {
    int family = 0;
    const std::uint8_t* src = nullptr;
    const std::uint8_t* dst = nullptr;
    std::uint8_t protocol = 0;
    Bytes transport;
    bool later_fragment = false;  // no transport header in it
};

FrameStatus read_ipv4(Bytes b, bool quoted, Ip& ip) {
    if (b.size() < 20) return FrameStatus::truncated;
    if (b[0] >> 4 != 4) return FrameStatus::malformed;
    std::size_t ihl = std::size_t{b[0] & 0x0fu} * 4;
    if (ihl < 20) return FrameStatus::malformed;
    if (b.size() < ihl) return FrameStatus::truncated;
    std::size_t end = b.size();
    if (!quoted) {
        // Ethernet pads short frames: the IP total length says where the packet ends.
        std::size_t total = be16(&b[2]);
        if (total < ihl) return FrameStatus::malformed;
        if (total < end) end = total;
    }
    ip.family = AF_INET;
    ip.src = &b[12];
    ip.dst = &b[16];
    ip.protocol = b[9];
    ip.later_fragment = (be16(&b[6]) & 0x1fff) != 0;
    ip.transport = b.subspan(ihl, end - ihl);
    return FrameStatus::ok;
}

FrameStatus read_ipv6(Bytes b, bool quoted, Ip& ip) {
    if (b.size() < 40) return FrameStatus::truncated;
    if (b[0] >> 4 != 6) return FrameStatus::malformed;
    std::size_t end = b.size();
    if (!quoted) {
        // A payload length of 0 (a jumbogram) leaves the captured length.
        std::size_t payload = be16(&b[4]);
        if (payload != 0 && 40 + payload < end) end = 40 + payload;
    }
    ip.family = AF_INET6;
    ip.src = &b[8];
    ip.dst = &b[24];
    std::uint8_t next = b[6];
    std::size_t off = 40;
    // Extension headers, at most a few: a chain longer than this is not a handshake.
    for (int i = 0; i < 8; ++i) {
        if (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, destination options
            if (end < off + 8) return FrameStatus::truncated;
            std::size_t len = (std::size_t{b[off + 1]} + 1) * 8;
            next = b[off];
            off += len;
        } else if (next == 44) {  // fragment
            if (end < off + 8) return FrameStatus::truncated;
            ip.later_fragment = (be16(&b[off + 2]) & 0xfff8) != 0;
            next = b[off];
            off += 8;
        } else if (next == 51) {  // authentication header
            if (end < off + 8) return FrameStatus::truncated;
            std::size_t len = (std::size_t{b[off + 1]} + 2) * 4;
            next = b[off];
            off += len;
        } else {
            break;
        }
        if (off > end) return FrameStatus::truncated;
    }
    ip.protocol = next;
    ip.transport = b.subspan(off, end - off);
    return FrameStatus::ok;
}

FrameStatus read_ip(Bytes b, bool quoted, Ip& ip) {
    if (b.empty()) return FrameStatus::truncated;
    switch (b[0] >> 4) {
        case 4:
            return read_ipv4(b, quoted, ip);
        case 6:
            return read_ipv6(b, quoted, ip);
        default:
            return FrameStatus::malformed;
    }
}

// What an ICMP error quotes: the IP header and at least the ports of our TCP or UDP packet.
FrameStatus read_quote(Bytes b, FrameHeaders& out) {
    Ip q;
    if (auto s = read_ip(b, true, q); s != FrameStatus::ok) return s;
    if (q.protocol != IPPROTO_TCP && q.protocol != IPPROTO_UDP) return FrameStatus::ignored;
    if (q.later_fragment) return FrameStatus::ignored;
    if (q.transport.size() < 4) return FrameStatus::truncated;
    set_address(out.quoted_src, q.family, q.src);
    set_address(out.quoted_dst, q.family, q.dst);
    out.quoted_protocol = q.protocol;
    out.sport = be16(&q.transport[0]);
    out.dport = be16(&q.transport[2]);
    out.quoted_seq_known = q.protocol == IPPROTO_TCP && q.transport.size() >= 8;
    out.seq = out.quoted_seq_known ? be32(&q.transport[4]) : 0;
    out.ack = 0;
    out.tcp_flags = q.protocol == IPPROTO_TCP && q.transport.size() >= 14 ? q.transport[13] : 0;
    return FrameStatus::ok;
}

FrameStatus read_packet(Bytes b, FrameHeaders& out) {
    Ip ip;
    if (auto s = read_ip(b, false, ip); s != FrameStatus::ok) return s;
    if (ip.later_fragment) return FrameStatus::ignored;
    Bytes t = ip.transport;
    if (ip.protocol == IPPROTO_TCP) {
        if (t.size() < 14) return FrameStatus::truncated;
        out.kind = FrameKind::tcp;
        set_address(out.src, ip.family, ip.src);
        set_address(out.dst, ip.family, ip.dst);
        out.sport = be16(&t[0]);
        out.dport = be16(&t[2]);
        out.seq = be32(&t[4]);
        out.ack = be32(&t[8]);
        out.tcp_flags = t[13];
        return FrameStatus::ok;
    }
    bool v4 = ip.family == AF_INET && ip.protocol == IPPROTO_ICMP;
    bool v6 = ip.family == AF_INET6 && ip.protocol == IPPROTO_ICMPV6;
    if (!v4 && !v6) return FrameStatus::ignored;
    if (t.size() < 2) return FrameStatus::truncated;
    std::uint8_t type = t[0];
    bool error = v4 ? (type == 3 || type == 11) : (type == 1 || type == 3);
    if (!error) return FrameStatus::ignored;
    if (t.size() < 8) return FrameStatus::truncated;
    out.kind = FrameKind::icmp_error;
    out.icmp_type = type;
    out.icmp_code = t[1];
    set_address(out.src, ip.family, ip.src);
    set_address(out.dst, ip.family, ip.dst);
    auto s = read_quote(t.subspan(8), out);
    if (s == FrameStatus::ok && out.quoted_src.family != ip.family) return FrameStatus::malformed;
    return s;
}

FrameStatus by_ethertype(std::uint16_t type, Bytes rest, FrameHeaders& out) {
    // Stacked tags (802.1ad QinQ): a few at most.
    for (int i = 0; i < 4 && is_vlan(type); ++i) {
        if (rest.size() < 4) return FrameStatus::truncated;
        type = be16(&rest[2]);
        rest = rest.subspan(4);
    }
    if (type != kEtherIpv4 && type != kEtherIpv6) return FrameStatus::ignored;
    if (!rest.empty() && (rest[0] >> 4) != (type == kEtherIpv4 ? 4 : 6))
        return FrameStatus::malformed;
    return read_packet(rest, out);
}

}  // namespace

std::string_view to_string(FrameStatus s) {
    switch (s) {
        case FrameStatus::ok:
            return "ok";
        case FrameStatus::ignored:
            return "ignored";
        case FrameStatus::truncated:
            return "truncated";
        case FrameStatus::malformed:
            return "malformed";
        case FrameStatus::unsupported:
            return "unsupported";
    }
    return "unsupported";
}

bool link_type_supported(int link_type) {
    switch (link_type) {
        case DLT_EN10MB:
        case DLT_LINUX_SLL:
        case DLT_LINUX_SLL2:
        case DLT_RAW:
        case DLT_IPV4:
        case DLT_IPV6:
        case DLT_NULL:
        case DLT_LOOP:
            return true;
        default:
            return false;
    }
}

FrameStatus parse_frame(int link_type, std::span<const std::uint8_t> b, FrameHeaders& out) {
    switch (link_type) {
        case DLT_EN10MB:
            if (b.size() < 14) return FrameStatus::truncated;
            return by_ethertype(be16(&b[12]), b.subspan(14), out);
        case DLT_LINUX_SLL:  // 16 bytes, the protocol last
            if (b.size() < 16) return FrameStatus::truncated;
            return by_ethertype(be16(&b[14]), b.subspan(16), out);
        case DLT_LINUX_SLL2:  // 20 bytes, the protocol first
            if (b.size() < 20) return FrameStatus::truncated;
            return by_ethertype(be16(&b[0]), b.subspan(20), out);
        case DLT_RAW:
        case DLT_IPV4:
        case DLT_IPV6:
            return read_packet(b, out);
        case DLT_NULL:
        case DLT_LOOP: {
            // A 4-byte address family, host order (NULL) or network order (LOOP). The IP
            // version nibble says the same and does not depend on the writer's byte order.
            if (b.size() < 4) return FrameStatus::truncated;
            return read_packet(b.subspan(4), out);
        }
        default:
            return FrameStatus::unsupported;
    }
}

}  // namespace fedprobe
