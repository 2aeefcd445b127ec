#include "probes/path/path_packet.hpp"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "core/bytes.hpp"

namespace fedprobe {

namespace {

constexpr std::uint8_t kMarker[8] = {'f', 'e', 'd', 'p', 'r', 'o', 'b', 'e'};
constexpr std::size_t kTcpHeaderBytes = 24;  // 20 + the MSS option real SYNs carry
constexpr std::uint8_t kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

// One's-complement sum of 16-bit words, not yet inverted.
std::uint32_t add_words(std::span<const std::uint8_t> data, std::uint32_t sum = 0) {
    std::size_t i = 0;
    for (; i + 1 < data.size(); i += 2)
        sum += be16(&data[i]);
    if (i < data.size()) sum += std::uint32_t{data[i]} << 8;
    return sum;
}
std::uint16_t fold(std::uint32_t sum) {
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(sum);
}

std::uint32_t pseudo_header(const PathFlow& f, std::size_t length, int protocol) {
    std::uint32_t sum = 0;
    const std::size_t n = f.source.family == AF_INET ? 4 : 16;
    sum = add_words({f.source.bytes.data(), n}, sum);
    sum = add_words({f.destination.bytes.data(), n}, sum);
    sum += static_cast<std::uint32_t>(length >> 16) + static_cast<std::uint32_t>(length & 0xffff);
    sum += static_cast<std::uint32_t>(protocol);
    return sum;
}

// Sets the 16-bit field at `comp` so that the checksum at `field` comes out as `want`:
// the checksum is ~(S + comp), so comp = ~want - S in one's-complement arithmetic.
void hold_checksum(std::span<std::uint8_t> transport, std::uint32_t pseudo, std::size_t field,
                   std::size_t comp, std::uint16_t want) {
    put16(&transport[field], 0);
    put16(&transport[comp], 0);
    const std::uint16_t s = fold(add_words(transport, pseudo));
    const std::uint16_t target = static_cast<std::uint16_t>(~want);
    put16(&transport[comp], fold(std::uint32_t{target} + static_cast<std::uint16_t>(~s)));
    put16(&transport[field], want);
}

std::size_t write_ipv4_header(std::uint8_t* p, const PathFlow& f, int ttl, std::uint16_t id,
                              std::size_t total, int protocol) {
    p[0] = 0x45;
    p[1] = f.tos;
    put16(p + 2, static_cast<std::uint16_t>(total));
    put16(p + 4, id);
    put16(p + 6, f.dont_fragment ? 0x4000 : 0);
    p[8] = static_cast<std::uint8_t>(ttl);
    p[9] = static_cast<std::uint8_t>(protocol);
    put16(p + 10, 0);  // the kernel computes it for IP_HDRINCL
    std::memcpy(p + 12, f.source.bytes.data(), 4);
    std::memcpy(p + 16, f.destination.bytes.data(), 4);
    return 20;
}

// The transport part of a probe, checksum held at flow.checksum(), with `pad` zero bytes after
// its payload (TCP: as the SYN's data). Zeros add nothing to the sum; the compensating field
// absorbs the length's share in the pseudo-header and the UDP length.
std::size_t write_transport(std::uint8_t* p, const PathFlow& f, std::uint16_t number,
                            std::size_t pad) {
    const int protocol = f.protocol();
    std::size_t len = 0;
    std::size_t field = 0, comp = 0;
    switch (f.method) {
        case PathMethod::udp:
            len = 8 + kPathPayloadBytes + pad;
            put16(p, f.ident);
            put16(p + 2, f.port);
            put16(p + 4, static_cast<std::uint16_t>(len));
            put16(p + 8, number);
            std::memcpy(p + 12, kMarker, sizeof kMarker);
            field = 6, comp = 10;
            break;
        case PathMethod::icmp:
            len = 8 + kPathPayloadBytes + pad;
            p[0] = f.destination.family == AF_INET ? 8 : 128;  // echo request
            p[1] = 0;
            put16(p + 4, f.ident);
            put16(p + 6, number);
            put16(p + 8, number);
            std::memcpy(p + 12, kMarker, sizeof kMarker);
            field = 2, comp = 10;
            break;
        case PathMethod::tcp:
            len = kTcpHeaderBytes + pad;
            put16(p, f.ident);
            put16(p + 2, f.port);
            // The high half is fixed per flow, the low half numbers the probe.
            put32(p + 4, std::uint32_t{f.ident} << 16 | number);
            put32(p + 8, 0);
            p[12] = (kTcpHeaderBytes / 4) << 4;
            p[13] = kTcpSyn;
            put16(p + 18, 0);
            p[20] = 2, p[21] = 4;
            put16(p + 22, kPathProbeMss);
            field = 16, comp = 14;  // the window compensates
            break;
    }
    std::memset(p + len - pad, 0, pad);
    const std::uint32_t pseudo = f.method == PathMethod::icmp && f.destination.family == AF_INET
                                     ? 0
                                     : pseudo_header(f, len, protocol);
    hold_checksum({p, len}, pseudo, field, comp, f.checksum());
    return len;
}

}  // namespace

std::uint16_t PathFlow::checksum() const {
    // Any value will do as long as it is the flow's own; 0 and 0xffff mean "none" to UDP.
    std::uint16_t c = static_cast<std::uint16_t>(ident * 0x9e37u + port + 0x1234u);
    return c == 0 || c == 0xffff ? 0x5aa5 : c;
}

int PathFlow::protocol() const {
    switch (method) {
        case PathMethod::udp:
            return IPPROTO_UDP;
        case PathMethod::tcp:
            return IPPROTO_TCP;
        case PathMethod::icmp:
            return destination.family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
    }
    return 0;
}

std::size_t path_probe_bytes(const PathFlow& flow) {
    const std::size_t ip = flow.destination.family == AF_INET ? 20 : 40;
    return ip + (flow.method == PathMethod::tcp ? kTcpHeaderBytes : 8 + kPathPayloadBytes);
}

std::size_t build_path_probe(std::span<std::uint8_t> out, const PathFlow& flow, int ttl,
                             std::uint16_t number, std::size_t size) {
    const std::size_t least = path_probe_bytes(flow);
    if (size == 0) size = least;
    if (size < least || size > 65535) return 0;
    const bool v4 = flow.destination.family == AF_INET;
    // IPv6 gets the transport part alone: the kernel writes the 40-byte header.
    const std::size_t written = v4 ? size : size - 40;
    if (out.size() < std::max(written, kPathMaxPacket)) return 0;
    std::uint8_t* p = out.data();
    if (!v4) return write_transport(p, flow, number, size - least);
    std::size_t len = write_transport(p + 20, flow, number, size - least);
    write_ipv4_header(p, flow, ttl, number, 20 + len, flow.protocol());
    return 20 + len;
}

std::size_t build_path_reset(std::span<std::uint8_t> out, const PathFlow& flow, std::uint32_t seq) {
    if (out.size() < kPathMaxPacket || flow.method != PathMethod::tcp) return 0;
    const bool v4 = flow.destination.family == AF_INET;
    std::uint8_t* t = out.data() + (v4 ? 20 : 0);
    std::memset(t, 0, 20);
    put16(t, flow.ident);
    put16(t + 2, flow.port);
    put32(t + 4, seq);
    t[12] = 5 << 4;
    t[13] = kTcpRst;
    put16(t + 16, static_cast<std::uint16_t>(
                      ~fold(add_words({t, 20}, pseudo_header(flow, 20, IPPROTO_TCP)))));
    if (!v4) return 20;
    write_ipv4_header(out.data(), flow, 64, 0, 40, IPPROTO_TCP);
    return 40;
}

namespace {

// The quoted probe inside an ICMP error: its IP header (v4: with the ID; v6: fixed 40 bytes,
// no extension headers, as we sent it) and at least 8 bytes of what followed.
bool read_quote(std::span<const std::uint8_t> inner, int family, PathReply& r) {
    std::size_t header = 0;
    int protocol = 0;
    std::optional<std::uint16_t> ip_id;
    PathQuote q;
    q.bytes = inner.size();
    if (family == AF_INET) {
        if (inner.size() < 20 || (inner[0] >> 4) != 4) return false;
        header = (inner[0] & 0x0f) * 4u;
        if (header < 20 || inner.size() < header + 8) return false;
        protocol = inner[9];
        r.quoted_ttl = inner[8];
        ip_id = be16(&inner[4]);
        q.tos = inner[1];
        q.ip_length = be16(&inner[2]);
        const std::uint16_t frag = be16(&inner[6]);
        q.dont_fragment = (frag & 0x4000) != 0;
        q.fragment = (frag & 0x2000) != 0 || (frag & 0x1fff) != 0;
        in_addr a;
        std::memcpy(&a, &inner[12], 4);
        q.source = IpAddress::from_in(a);
        std::memcpy(&a, &inner[16], 4);
        r.destination = IpAddress::from_in(a);
    } else {
        if (inner.size() < 48 || (inner[0] >> 4) != 6) return false;
        header = 40;
        protocol = inner[6];
        r.quoted_ttl = inner[7];
        q.tos = static_cast<std::uint8_t>((be16(&inner[0]) >> 4) & 0xff);
        q.ip_length = static_cast<std::uint16_t>(40 + be16(&inner[4]));
        in6_addr a;
        std::memcpy(&a, &inner[8], 16);
        q.source = IpAddress::from_in6(a);
        std::memcpy(&a, &inner[24], 16);
        r.destination = IpAddress::from_in6(a);
    }
    auto t = inner.subspan(header);
    r.protocol = protocol;
    if (protocol == IPPROTO_UDP) {
        r.ident = be16(&t[0]);
        r.port = be16(&t[2]);
        if (t.size() >= 8 + kPathPayloadBytes && std::memcmp(&t[12], kMarker, 8) == 0)
            r.number = be16(&t[8]);
        if (ip_id) r.number = *ip_id;  // a 28-byte quote still has it
        r.quote = q;
        return true;
    }
    if (protocol == IPPROTO_TCP) {
        r.ident = be16(&t[0]);
        r.port = be16(&t[2]);
        r.number = static_cast<std::uint16_t>(be32(&t[4]) & 0xffff);
        // The options, when the quote reaches them: find MSS (kind 2, length 4).
        if (t.size() >= 20) {
            const std::size_t offset = (t[12] >> 4) * 4u;
            for (std::size_t i = 20; i < offset && i < t.size();) {
                const std::uint8_t kind = t[i];
                if (kind == 0) break;
                if (kind == 1) {
                    ++i;
                    continue;
                }
                if (i + 1 >= t.size() || t[i + 1] < 2) break;
                const std::size_t len = t[i + 1];
                if (kind == 2 && len == 4 && i + 4 <= t.size() && i + 4 <= offset)
                    q.mss = be16(&t[i + 2]);
                i += len;
            }
        }
        r.quote = q;
        return true;
    }
    if ((protocol == IPPROTO_ICMP && t[0] == 8) || (protocol == IPPROTO_ICMPV6 && t[0] == 128)) {
        r.ident = be16(&t[4]);
        r.number = be16(&t[6]);
        r.quote = q;
        return true;
    }
    return false;
}

// The ICMP body's original datagram: the RFC 4884 length when one is given and fits.
std::span<const std::uint8_t> original_datagram(std::span<const std::uint8_t> body,
                                                std::size_t length) {
    return length && length <= body.size() ? body.first(length) : body;
}

bool is_error4(std::uint8_t type) {
    return type == 3 || type == 11 || type == 12;
}
bool is_error6(std::uint8_t type) {
    return type >= 1 && type <= 4;
}

// A TCP or UDP segment from the destination, answering one of ours.
std::optional<PathReply> read_answer(std::span<const std::uint8_t> t, int protocol,
                                     const IpAddress& from, int ttl) {
    if (t.size() < 8) return std::nullopt;
    PathReply r;
    r.from = from;
    r.reply_ttl = ttl;
    r.protocol = protocol;
    r.destination = from;
    r.ident = be16(&t[2]);  // their destination port is our source port
    r.port = be16(&t[0]);
    if (protocol == IPPROTO_TCP) {
        if (t.size() < 20) return std::nullopt;
        r.kind = PathReply::Kind::tcp;
        r.tcp_flags = t[13];
        r.tcp_ack = be32(&t[8]);
        // A SYN-ACK or a reset acknowledges our sequence number plus one.
        if (!(r.tcp_flags & (kTcpSyn | kTcpRst)) || !(r.tcp_flags & kTcpAck)) return std::nullopt;
        r.number = static_cast<std::uint16_t>((r.tcp_ack - 1) & 0xffff);
        return r;
    }
    r.kind = PathReply::Kind::udp;
    // An echo service sends our payload back, number included; other services answer alike.
    if (t.size() >= 8 + kPathPayloadBytes && std::memcmp(&t[12], kMarker, 8) == 0)
        r.number = be16(&t[8]);
    return r;
}

// The destination's echo reply: identifier and sequence (our number) as sent.
PathReply echo_reply(PathReply r, std::span<const std::uint8_t> icmp, int protocol) {
    r.kind = PathReply::Kind::echo_reply;
    r.protocol = protocol;
    r.destination = r.from;
    r.ident = be16(&icmp[4]);
    r.number = be16(&icmp[6]);
    return r;
}

}  // namespace

std::optional<PathReply> parse_path_reply4(std::span<const std::uint8_t> packet) {
    if (packet.size() < 20 || (packet[0] >> 4) != 4) return std::nullopt;
    const std::size_t ihl = (packet[0] & 0x0f) * 4u;
    if (ihl < 20 || packet.size() < ihl + 8) return std::nullopt;
    in_addr src;
    std::memcpy(&src, &packet[12], 4);
    const IpAddress from = IpAddress::from_in(src);
    const int ttl = packet[8];
    const int protocol = packet[9];
    auto body = packet.subspan(ihl);
    if (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP)
        return read_answer(body, protocol, from, ttl);
    if (protocol != IPPROTO_ICMP) return std::nullopt;
    PathReply r;
    r.from = from;
    r.reply_ttl = ttl;
    r.type = body[0];
    r.code = body[1];
    if (r.type == 0) return echo_reply(r, body, IPPROTO_ICMP);
    if (!is_error4(r.type)) return std::nullopt;
    if (r.type == 3 && r.code == 4) r.next_hop_mtu = be16(&body[6]);
    const std::size_t length = std::size_t{body[5]} * 4;  // RFC 4884, in 32-bit words
    if (!read_quote(original_datagram(body.subspan(8), length), AF_INET, r)) return std::nullopt;
    r.mpls = parse_icmp_extensions(body.subspan(8), length);
    return r;
}

std::optional<PathReply> parse_path_reply6(std::span<const std::uint8_t> data, int protocol,
                                           const IpAddress& from, int hop_limit) {
    if (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP)
        return read_answer(data, protocol, from, hop_limit);
    if (protocol != IPPROTO_ICMPV6 || data.size() < 8) return std::nullopt;
    PathReply r;
    r.from = from;
    r.reply_ttl = hop_limit;
    r.type = data[0];
    r.code = data[1];
    if (r.type == 129) return echo_reply(r, data, IPPROTO_ICMPV6);
    if (!is_error6(r.type)) return std::nullopt;
    std::size_t length = 0;
    if (r.type == 2) {
        std::uint32_t mtu = be32(&data[4]);
        r.next_hop_mtu = mtu > 0xffff ? 0xffff : static_cast<std::uint16_t>(mtu);
    } else if (r.type == 1 || r.type == 3) {
        length = std::size_t{data[4]} * 8;  // RFC 4884, in 64-bit words
    }
    if (!read_quote(original_datagram(data.subspan(8), length), AF_INET6, r)) return std::nullopt;
    if (r.type != 2) r.mpls = parse_icmp_extensions(data.subspan(8), length);
    return r;
}

std::vector<MplsLabel> parse_icmp_extensions(std::span<const std::uint8_t> body,
                                             std::size_t length) {
    // RFC 4884: the original datagram is padded to at least 128 bytes when an extension
    // follows; routers from before it (RFC 4950's) put the extension at 128 with no length.
    constexpr std::size_t kLegacyOffset = 128;
    const std::size_t at = length ? length : kLegacyOffset;
    if (length && length < kLegacyOffset) return {};
    if (body.size() < at + 4) return {};
    auto ext = body.subspan(at);
    if ((ext[0] >> 4) != 2) return {};
    // A checksum of 0 means none was computed (RFC 4884 4.5); otherwise it must hold, which
    // keeps a quoted payload that happens to start with 0x2 from reading as an extension.
    if (be16(&ext[2]) != 0 && fold(add_words(ext)) != 0xffff) return {};
    std::vector<MplsLabel> out;
    for (std::size_t i = 4; i + 4 <= ext.size();) {
        const std::size_t len = be16(&ext[i]);
        if (len < 4 || i + len > ext.size()) break;
        const std::uint8_t class_num = ext[i + 2], c_type = ext[i + 3];
        if (class_num == 1 && c_type == 1) {
            for (std::size_t j = i + 4; j + 4 <= i + len; j += 4) {
                const std::uint32_t e = be32(&ext[j]);
                out.push_back(MplsLabel{e >> 12, static_cast<std::uint8_t>((e >> 9) & 7),
                                        ((e >> 8) & 1) != 0, static_cast<std::uint8_t>(e & 0xff)});
            }
        }
        i += len;
    }
    return out;
}

}  // namespace fedprobe
