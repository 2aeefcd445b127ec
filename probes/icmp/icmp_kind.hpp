// icmp — echo rounds: the kind's declaration (see kind.hpp). The probe is icmp_probe.hpp.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "core/duration.hpp"
#include "probes/kind.hpp"

namespace fedprobe {

struct IcmpOptions {
    int packets = 3;         // echo requests per round
    int payload_bytes = 56;  // ICMP data after the 8-byte header, like ping's default
    // Unset: DF on IPv4 echoes of at most 576 bytes (RFC 791's datagram every host takes,
    // far below any real link's MTU, IPsec tunnels included), as Linux ping sets it. With DF
    // the kernel leaves the IP ID at 0 instead of drawing it from its shared generator, the
    // largest single cost of a send. Bigger echoes and IPv6 go without unless asked.
    std::optional<bool> dont_fragment;
    int ttl = 0;                                       // 0: the system default
    Duration spacing = std::chrono::milliseconds(20);  // gap between packets of a round
    friend bool operator==(const IcmpOptions&, const IcmpOptions&) = default;
};
using IcmpParams = IcmpOptions;

// Whether an echo of these params to this family leaves with Don't Fragment.
bool sends_dont_fragment(const IcmpParams& icmp, int family);

struct IcmpResult {
    std::uint32_t packets_sent = 0;
    std::uint32_t packets_received = 0;  // duplicates excluded
    std::uint32_t duplicates = 0;
    std::vector<Duration> rtts;  // each reply's, from kernel receive timestamps
};

struct IcmpKind {
    static constexpr std::string_view kName = "icmp";
    static constexpr ServiceUse kServices = ServiceUse::none;
    static constexpr std::array<Transport, 0> kTransports{};
    // Only `ok` from the start: an icmp target's series are kept within 2 KB of exposition, and
    // loss is in the packet counters; a failing outcome's counter appears when it first happens.
    static constexpr std::array kOutcomes = {Outcome::ok};
    // Each reply's RTT is its own histogram; a round's mean would measure the same thing twice.
    static constexpr bool kCommonDuration = false;
    static constexpr SocketUse kSockets = SocketUse{};  // one shared socket per IP version and DF
    static constexpr IcmpUse kIcmp = IcmpUse::echo;
    static constexpr bool kChecksServices = false;
    // Probe::totals(), in this order: IcmpProbe::Stats.
    static constexpr std::array kProbeFamilies = {
        FamilyInfo{"fedprobe_icmp_late_replies_total",
                   "ICMP echo replies that arrived after their round had ended",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_icmp_unmatched_replies_total",
                   "ICMP messages with fedprobe's marker that matched no request",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_icmp_duplicate_replies_total",
                   "ICMP echo replies received more than once, every target", SeriesType::counter},
        FamilyInfo{"fedprobe_socket_receive_dropped_total",
                   "Packets the kernel dropped on fedprobe's shared sockets because the prober "
                   "did not read them in time (SO_RXQ_OVFL)",
                   SeriesType::counter},
    };
    static constexpr std::array kFamilies = {
        FamilyInfo{"fedprobe_icmp_packets_sent_total", "ICMP echo requests sent",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_icmp_packets_received_total",
                   "ICMP echo replies matched to a request in time (duplicates excluded)",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_icmp_rtt_seconds",
                   "Round-trip time of each ICMP echo reply (kernel receive timestamps)",
                   SeriesType::histogram},
    };
    using Options = IcmpOptions;
    using Params = IcmpParams;
    using Result = IcmpResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse&, const Options*) { return {}; }
    static Params params(const Options* o, JobContext&) { return o ? *o : Options{}; }
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series();
};

}  // namespace fedprobe
