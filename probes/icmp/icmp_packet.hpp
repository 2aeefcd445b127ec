// ICMP/ICMPv6 echo packets: building requests and parsing whatever comes back (replies, and
// errors quoting one of our requests). Pure functions over bytes, so they are unit-tested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "core/address.hpp"

namespace fedprobe {

// Every request carries this marker, then a 32-bit key and a 32-bit nonce: the marker makes
// probe traffic identifiable to a firewall admin, key and nonce match a reply to its request.
inline constexpr std::uint8_t kIcmpMagic[8] = {'f', 'e', 'd', 'p', 'r', 'o', 'b', 'e'};
inline constexpr std::size_t kIcmpTokenBytes = 16;
inline constexpr std::size_t kIcmpHeaderBytes = 8;

std::uint16_t internet_checksum(std::span<const std::uint8_t> data);

// Writes header + payload_bytes (>= kIcmpTokenBytes) into out; returns the length.
// IPv4 gets its checksum here; for ICMPv6 the kernel fills it in (it needs the pseudo-header).
std::size_t build_echo_request(std::span<std::uint8_t> out, int family, std::uint16_t id,
                               std::uint16_t seq, std::uint32_t key, std::uint32_t nonce,
                               std::size_t payload_bytes);

struct IcmpMessage {
    enum class Kind { echo_reply, error, echo_request, other } kind = Kind::other;
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint16_t id = 0;  // of the reply, or of the quoted request for errors
    std::uint16_t seq = 0;
    bool has_token = false;  // key and nonce present (the quote may be cut after 8 bytes)
    std::uint32_t key = 0;
    std::uint32_t nonce = 0;
    std::optional<IpAddress> quoted_destination;  // errors: where the quoted request was going
    bool next_hop_mtu_present = false;
    std::uint16_t next_hop_mtu = 0;  // "fragmentation needed" / "packet too big"
};

// An IPv4 packet as a raw socket returns it (with IP header), or an ICMP message alone
// (ping sockets: with_ip_header = false).
std::optional<IcmpMessage> parse_icmp4(std::span<const std::uint8_t> data, bool with_ip_header);
// ICMPv6 as raw and ping sockets return it (no IPv6 header).
std::optional<IcmpMessage> parse_icmp6(std::span<const std::uint8_t> data);
// The echo request a ping socket's error queue returns (the quoted original, no IP header).
std::optional<IcmpMessage> parse_quoted_request(std::span<const std::uint8_t> data, int family);

}  // namespace fedprobe
