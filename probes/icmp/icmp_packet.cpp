#include "probes/icmp/icmp_packet.hpp"

#include <cstring>

#include "core/bytes.hpp"

namespace fedprobe {

namespace {

constexpr std::uint8_t kEcho4Request = 8, kEcho4Reply = 0;
constexpr std::uint8_t kEcho6Request = 128, kEcho6Reply = 129;

// Reads id, seq and, when the quote is long enough and carries our marker, key and nonce.
void read_echo_fields(std::span<const std::uint8_t> echo, IcmpMessage& m) {
    m.id = be16(&echo[4]);
    m.seq = be16(&echo[6]);
    if (echo.size() >= kIcmpHeaderBytes + kIcmpTokenBytes &&
        std::memcmp(&echo[8], kIcmpMagic, sizeof kIcmpMagic) == 0) {
        m.has_token = true;
        m.key = be32(&echo[16]);
        m.nonce = be32(&echo[20]);
    }
}

}  // namespace

std::uint16_t internet_checksum(std::span<const std::uint8_t> data) {
    std::uint32_t sum = 0;
    std::size_t i = 0;
    for (; i + 1 < data.size(); i += 2)
        sum += be16(&data[i]);
    if (i < data.size()) sum += std::uint32_t{data[i]} << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

std::size_t build_echo_request(std::span<std::uint8_t> out, int family, std::uint16_t id,
                               std::uint16_t seq, std::uint32_t key, std::uint32_t nonce,
                               std::size_t payload_bytes) {
    if (payload_bytes < kIcmpTokenBytes) payload_bytes = kIcmpTokenBytes;
    std::size_t len = kIcmpHeaderBytes + payload_bytes;
    if (len > out.size()) return 0;
    std::uint8_t* p = out.data();
    p[0] = family == AF_INET ? kEcho4Request : kEcho6Request;
    p[1] = 0;
    put16(p + 2, 0);
    put16(p + 4, id);
    put16(p + 6, seq);
    std::memcpy(p + 8, kIcmpMagic, sizeof kIcmpMagic);
    put32(p + 16, key);
    put32(p + 20, nonce);
    // The rest is a fixed pattern (like ping's), never anything from memory or the wire.
    for (std::size_t i = kIcmpHeaderBytes + kIcmpTokenBytes; i < len; ++i)
        p[i] = static_cast<std::uint8_t>(i);
    if (family == AF_INET) put16(p + 2, internet_checksum(out.first(len)));
    return len;
}

std::optional<IcmpMessage> parse_icmp4(std::span<const std::uint8_t> data, bool with_ip_header) {
    if (with_ip_header) {
        if (data.size() < 20 || (data[0] >> 4) != 4) return std::nullopt;
        std::size_t ihl = (data[0] & 0x0f) * 4u;
        if (ihl < 20 || data.size() < ihl || data[9] != IPPROTO_ICMP) return std::nullopt;
        data = data.subspan(ihl);
    }
    if (data.size() < kIcmpHeaderBytes) return std::nullopt;
    IcmpMessage m;
    m.type = data[0];
    m.code = data[1];
    if (m.type == kEcho4Reply || m.type == kEcho4Request) {
        m.kind =
            m.type == kEcho4Reply ? IcmpMessage::Kind::echo_reply : IcmpMessage::Kind::echo_request;
        read_echo_fields(data, m);
        return m;
    }
    if (m.type != 3 && m.type != 11 && m.type != 12) return m;  // not about one of our packets
    if (m.type == 3 && m.code == 4) {
        m.next_hop_mtu_present = true;
        m.next_hop_mtu = be16(&data[6]);
    }
    auto inner = data.subspan(kIcmpHeaderBytes);  // the quoted IP header and what followed it
    if (inner.size() < 20 || (inner[0] >> 4) != 4) return m;
    std::size_t ihl = (inner[0] & 0x0f) * 4u;
    if (ihl < 20 || inner.size() < ihl + kIcmpHeaderBytes || inner[9] != IPPROTO_ICMP) return m;
    in_addr dst;
    std::memcpy(&dst, &inner[16], 4);
    auto echo = inner.subspan(ihl);
    if (echo[0] != kEcho4Request) return m;
    m.kind = IcmpMessage::Kind::error;
    m.quoted_destination = IpAddress::from_in(dst);
    read_echo_fields(echo, m);
    return m;
}

std::optional<IcmpMessage> parse_icmp6(std::span<const std::uint8_t> data) {
    if (data.size() < kIcmpHeaderBytes) return std::nullopt;
    IcmpMessage m;
    m.type = data[0];
    m.code = data[1];
    if (m.type == kEcho6Reply || m.type == kEcho6Request) {
        m.kind =
            m.type == kEcho6Reply ? IcmpMessage::Kind::echo_reply : IcmpMessage::Kind::echo_request;
        read_echo_fields(data, m);
        return m;
    }
    if (m.type < 1 || m.type > 4) return m;  // not an error message
    if (m.type == 2) {
        m.next_hop_mtu_present = true;
        std::uint32_t mtu = be32(&data[4]);
        m.next_hop_mtu = mtu > 0xffff ? 0xffff : static_cast<std::uint16_t>(mtu);
    }
    auto inner = data.subspan(kIcmpHeaderBytes);  // quoted IPv6 header
    if (inner.size() < 40 + kIcmpHeaderBytes || (inner[0] >> 4) != 6) return m;
    if (inner[6] != IPPROTO_ICMPV6) return m;  // extension headers before ICMPv6: not ours
    in6_addr dst;
    std::memcpy(&dst, &inner[24], 16);
    auto echo = inner.subspan(40);
    if (echo[0] != kEcho6Request) return m;
    m.kind = IcmpMessage::Kind::error;
    m.quoted_destination = IpAddress::from_in6(dst);
    read_echo_fields(echo, m);
    return m;
}

std::optional<IcmpMessage> parse_quoted_request(std::span<const std::uint8_t> data, int family) {
    if (data.size() < kIcmpHeaderBytes) return std::nullopt;
    if (data[0] != (family == AF_INET ? kEcho4Request : kEcho6Request)) return std::nullopt;
    IcmpMessage m;
    m.kind = IcmpMessage::Kind::echo_request;
    m.type = data[0];
    read_echo_fields(data, m);
    return m;
}

}  // namespace fedprobe
