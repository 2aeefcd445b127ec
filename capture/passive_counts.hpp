// What passive analysis has counted: handshakes by outcome per (source network, destination
// network, service), SYN to SYN-ACK times per pair of networks, ICMP errors per pair and
// reporter, and the capture's own health. Keys are indices into a PassiveLabels, so the number
// of cells is bounded by the config; cells exist only once something was counted in them.
// Plain values; one thread at a time (the capture's), copied or read by whoever owns it.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <unordered_map>

namespace fedprobe {

// The outcomes a handshake seen on the wire can end in, with the names the probes use.
// `retried` is counted beside the final outcome of a handshake whose SYN was sent again.
enum class PassiveOutcome : std::uint8_t {
    ok,
    refused,
    filtered,
    prohibited,
    unreachable,
    retried
};
inline constexpr std::size_t kPassiveOutcomes = 6;
std::string_view to_string(PassiveOutcome o);

// SYN to SYN-ACK, in seconds: a LAN answers in well under a millisecond, a retransmitted SYN
// takes a second or more.
inline constexpr std::array<double, 14> kHandshakeBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

struct PassiveCounts {
    using Outcomes = std::array<std::uint64_t, kPassiveOutcomes>;
    struct Times {
        std::array<std::uint64_t, kHandshakeBuckets.size() + 1> buckets{};  // the last is +Inf
        double sum = 0;
        std::uint64_t count = 0;
    };

    // Keys pack label indices: see key().
    std::unordered_map<std::uint64_t, Outcomes> handshakes;    // (src, dst, service)
    std::unordered_map<std::uint64_t, Outcomes> icmp_errors;   // (src, dst, reporter)
    std::unordered_map<std::uint64_t, Times> handshake_times;  // (src, dst, 0)

    std::uint64_t packets = 0;    // frames read
    std::uint64_t syns = 0;       // SYNs without ACK, retransmissions included
    std::uint64_t truncated = 0;  // frames cut short before the headers that matter
    std::uint64_t malformed = 0;
    std::uint64_t flow_table_full = 0;  // handshakes not followed: the table was at its cap
    // Finished handshakes forgotten before their linger ran out, to make room for new ones: a
    // late retransmission of one would be counted as a new handshake.
    std::uint64_t evicted = 0;

    static std::uint64_t key(std::uint16_t a, std::uint16_t b, std::uint16_t c) {
        return std::uint64_t{a} << 32 | std::uint64_t{b} << 16 | c;
    }
    static std::array<std::uint16_t, 3> unkey(std::uint64_t k) {
        return {static_cast<std::uint16_t>(k >> 32), static_cast<std::uint16_t>(k >> 16),
                static_cast<std::uint16_t>(k)};
    }

    void count_handshake(std::uint16_t src, std::uint16_t dst, std::uint16_t service,
                         PassiveOutcome o) {
        ++handshakes[key(src, dst, service)][static_cast<std::size_t>(o)];
    }
    void count_icmp_error(std::uint16_t src, std::uint16_t dst, std::uint16_t reporter,
                          PassiveOutcome o) {
        ++icmp_errors[key(src, dst, reporter)][static_cast<std::size_t>(o)];
    }
    void observe_handshake_time(std::uint16_t src, std::uint16_t dst, double seconds);

    void clear() { *this = PassiveCounts{}; }
};

}  // namespace fedprobe
