// Paris traceroute packets: building probes whose flow identifier (addresses, protocol, ports
// or ICMP identifier) and transport checksum stay the same at every TTL, so a load balancer
// that hashes any of the first bytes after the IP header sends them all one way; and reading
// what comes back (time-exceeded and unreachable quoting a probe, echo replies, TCP and UDP
// answers from the destination) back to the flow and probe. Pure functions over bytes, unit
// tested; any thread.
//
// Where the probe's number (TTL, attempt, round) travels, so that a 28-byte quote still names it:
//   udp   IPv4: the IP ID. IPv6 (routers quote as much as fits in 1280 bytes): the payload's
//         first two bytes, with the next two set so the UDP checksum does not change.
//   icmp  the echo sequence number; the payload's compensating bytes keep the checksum.
//   tcp   the low 16 bits of the SYN's sequence number (and the IPv4 ID); the window field
//         compensates, so the checksum holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/address.hpp"
#include "probes/path/path_kind.hpp"

namespace fedprobe {

// What routers hash and what stays fixed for one Paris flow.
struct PathFlow {
    PathMethod method = PathMethod::udp;
    IpAddress source;
    IpAddress destination;
    std::uint16_t ident = 0;  // source port (udp, tcp) or ICMP identifier
    std::uint16_t port = 0;   // destination port (udp, tcp)
    std::uint8_t tos = 0;     // the whole TOS / traffic-class byte (IPv4 header)
    bool dont_fragment = false;

    // The transport checksum every probe of this flow carries (never 0 or 0xffff).
    std::uint16_t checksum() const;
    // The IP protocol of the probes (IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP, IPPROTO_ICMPV6).
    int protocol() const;
};

// A probe's number: which TTL, attempt and round it belongs to, in 16 bits.
struct ProbeNumber {
    int ttl = 1;                  // 1..64
    int attempt = 0;              // 0..3
    std::uint8_t generation = 0;  // the round, modulo 256: late answers to old rounds are ignored
    std::uint16_t encode() const {
        return static_cast<std::uint16_t>(generation << 8 | (attempt & 3) << 6 | ((ttl - 1) & 63));
    }
    static ProbeNumber decode(std::uint16_t v) {
        return ProbeNumber{(v & 63) + 1, (v >> 6) & 3, static_cast<std::uint8_t>(v >> 8)};
    }
};

inline constexpr std::size_t kPathPayloadBytes = 12;
inline constexpr std::uint16_t kPathProbeMss =
    1460;  // the MSS option of TCP probes  // number, compensation, "fedprobe"
inline constexpr std::size_t kPathMaxPacket = 20 + 24 + kPathPayloadBytes;

// The size of a flow's smallest probe, IP header included: what a trace sends.
std::size_t path_probe_bytes(const PathFlow& flow);

// Writes one probe into `out` and returns its length, or 0 when `out` is too small or `size`
// impossible. `size` is the IP packet's total length, header included (0: the smallest,
// path_probe_bytes()); the path MTU search pads probes up to it, after the payload (TCP: as the
// SYN's data, which a server without a Fast Open cookie never hands to the application). IPv4
// gets its IP header too (for a raw socket with IP_HDRINCL; the kernel fills in the header
// checksum); IPv6 is the transport part alone (size - 40 bytes), the hop limit going in a
// control message. `out` needs at least kPathMaxPacket bytes, and at least the packet.
std::size_t build_path_probe(std::span<std::uint8_t> out, const PathFlow& flow, int ttl,
                             std::uint16_t number, std::size_t size = 0);

// A TCP reset for the SYN-ACK the destination sent (seq: the SYN-ACK's acknowledgement), so it
// does not keep a half-open connection. IPv4 with its IP header, IPv6 without.
std::size_t build_path_reset(std::span<std::uint8_t> out, const PathFlow& flow, std::uint32_t seq);

// Our packet as a router quoted it: the fields a middlebox on the way may have changed.
struct PathQuote {
    std::size_t bytes = 0;             // of our packet that the quote holds (IPv4: often only 28)
    std::uint8_t tos = 0;              // TOS / traffic-class byte: DSCP and ECN
    std::uint16_t ip_length = 0;       // the total length (IPv6: 40 + the payload length)
    bool dont_fragment = false;        // IPv4 DF
    bool fragment = false;             // IPv4 MF or a fragment offset
    IpAddress source;                  // our address as the router saw it
    std::optional<std::uint16_t> mss;  // a TCP quote holding the SYN's options: its MSS
};

// Something that came back, tied to the flow it answers.
struct PathReply {
    enum class Kind : std::uint8_t { icmp_error, echo_reply, tcp, udp } kind = Kind::icmp_error;
    IpAddress from;
    int reply_ttl = -1;
    // The flow as we sent it: protocol, our destination, our ident (source port or ICMP id), port.
    int protocol = 0;
    IpAddress destination;
    std::uint16_t ident = 0;
    std::uint16_t port = 0;
    std::optional<std::uint16_t> number;  // the probe's number, when what came back carries it
    std::uint8_t type = 0, code = 0;      // ICMP
    int quoted_ttl = -1;
    std::uint16_t next_hop_mtu = 0;
    std::uint8_t tcp_flags = 0;
    std::uint32_t tcp_ack = 0;       // a TCP answer's acknowledgement number
    std::optional<PathQuote> quote;  // ICMP errors
    std::vector<MplsLabel> mpls;     // an ICMP error's RFC 4950 label stack, top first
};

// The RFC 4884 extension structure of an ICMP error's body (after the 8-byte ICMP header):
// `length` is the original-datagram length the header gives in bytes (0: not given; the
// pre-RFC 4884 layout, extension at byte 128, is then tried). Returns the MPLS label stack;
// empty when there is no valid extension (version 2, a checksum that holds) or no MPLS object.
std::vector<MplsLabel> parse_icmp_extensions(std::span<const std::uint8_t> body,
                                             std::size_t length);

// An IPv4 packet as a raw socket returns it, IP header included.
std::optional<PathReply> parse_path_reply4(std::span<const std::uint8_t> packet);
// An IPv6 raw socket's payload (no IPv6 header): `protocol` is the socket's (IPPROTO_ICMPV6,
// IPPROTO_TCP or IPPROTO_UDP), `from` and `hop_limit` come from recvmsg.
std::optional<PathReply> parse_path_reply6(std::span<const std::uint8_t> data, int protocol,
                                           const IpAddress& from, int hop_limit);

}  // namespace fedprobe
