// Middleboxes seen in traces: each ICMP error quotes our packet as the router received it, so a
// field that differs from what we sent was changed on the way, at that hop or the one before
// (tracebox, Detal et al., IMC 2013). Pure functions; any thread.
//
// A quote of only 28 bytes (IPv4 header and 8 bytes of transport, what many routers send)
// still holds the IP header, so DSCP, ECN, length, DF and the source are compared; the MSS is
// compared only when the quote reaches the TCP options. A quoted TTL is read only from
// time-exceeded, where it should be 1.
//
// NAT is visible only where the translating device does not fix up the quotes it forwards
// back; Linux's NAT does, so behind it quotes look untouched. STAMP's Location TLV is the
// end-to-end check.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "probes/path/path_kind.hpp"
#include "probes/path/path_packet.hpp"

namespace fedprobe {

enum class MiddleboxChange : std::uint8_t { dscp, ecn, mss, length, nat, ttl };
inline constexpr std::array kAllMiddleboxChanges = {MiddleboxChange::dscp, MiddleboxChange::ecn,
                                                    MiddleboxChange::mss,  MiddleboxChange::length,
                                                    MiddleboxChange::nat,  MiddleboxChange::ttl};
std::string_view to_string(MiddleboxChange c);
constexpr std::uint8_t bit(MiddleboxChange c) {
    return static_cast<std::uint8_t>(1u << static_cast<unsigned>(c));
}

// The fields of a probe as it left, to compare quotes with.
struct SentFields {
    std::uint8_t tos = 0;
    std::uint16_t ip_length = 0;  // the total length, IP header included
    bool dont_fragment = false;
    IpAddress source;
    std::optional<std::uint16_t> mss;  // TCP probes' MSS option
};

// The changes (a set of bit()s) that the quote in `reply` shows; 0 without a quote.
std::uint8_t quote_changes(const SentFields& sent, const PathReply& reply);

// One change seen on a trace: the first TTL whose quote shows it.
struct MiddleboxSeen {
    MiddleboxChange change = MiddleboxChange::dscp;
    int ttl = 0;
    std::optional<IpAddress> hop;
    std::string network;
    friend bool operator==(const MiddleboxSeen&, const MiddleboxSeen&) = default;
};
// Every change on the trace, each at the first TTL showing it, in kAllMiddleboxChanges order.
std::vector<MiddleboxSeen> middlebox_changes(const FlowTrace& t);

}  // namespace fedprobe
