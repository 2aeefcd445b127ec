// Reads the headers of one captured frame: the link layer (Ethernet with any stack of VLAN
// tags, Linux cooked v1/v2, raw IP, BSD loopback), IPv4 or IPv6 with its extension headers, and
// then either a TCP header or an ICMP/ICMPv6 error with the headers of the packet it quotes.
// Nothing beyond the headers is read, so no payload is ever looked at. Bytes come from the wire
// or from a file somebody sent: every length is checked against what was captured.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/address.hpp"

namespace fedprobe {

enum class FrameKind : std::uint8_t {
    tcp,         // a TCP segment: ports, sequence and acknowledgement numbers, flags
    icmp_error,  // destination unreachable or time exceeded, quoting a TCP or UDP packet
};

inline constexpr std::uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

struct FrameHeaders {
    FrameKind kind = FrameKind::tcp;
    IpAddress src, dst;  // of the frame's own IP header
    // TCP: this segment's. ICMP error: the quoted packet's (it was sent by quoted_src).
    std::uint16_t sport = 0, dport = 0;
    std::uint32_t seq = 0, ack = 0;
    std::uint8_t tcp_flags = 0;
    // ICMP error only.
    std::uint8_t icmp_type = 0, icmp_code = 0;
    std::uint8_t quoted_protocol = 0;  // IPPROTO_TCP or IPPROTO_UDP
    bool quoted_seq_known = false;     // the quote reached the TCP sequence number
    IpAddress quoted_src, quoted_dst;
};

enum class FrameStatus : std::uint8_t {
    ok,           // `out` holds a TCP segment or an ICMP error
    ignored,      // a well-formed frame of no interest (ARP, UDP, an echo, a later fragment)
    truncated,    // cut short before the headers that matter: the capture's snaplen, or a lie
    malformed,    // a length or version field that cannot be
    unsupported,  // a link type this reader does not know
};

std::string_view to_string(FrameStatus s);

// `link_type` is libpcap's DLT_ value (pcap_datalink()).
FrameStatus parse_frame(int link_type, std::span<const std::uint8_t> bytes, FrameHeaders& out);

// Whether parse_frame reads this link type at all, to refuse a capture up front.
bool link_type_supported(int link_type);

}  // namespace fedprobe
