// path — Paris traceroute rounds: the kind's declaration (see kind.hpp). The packets are
// path_packet.hpp, the rules that read a trace (stop reason, changes, forwarding loss) are
// path_trace.hpp, and the probe is path_probe.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/duration.hpp"
#include "probes/kind.hpp"
#include "probes/path/path_mtu.hpp"

namespace fedprobe {

enum class PathMethod : std::uint8_t { udp, icmp, tcp };
std::string_view to_string(PathMethod m);

struct PathOptions {
    std::optional<PathMethod> method;  // unset: udp, or the service's transport for path:SERVICE
    int max_ttl = 30;
    int attempts = 2;   // per TTL; a second goes only where the first had no answer
    int gap_limit = 5;  // consecutive silent TTLs after which the trace gives up
    int flows = 1;      // Paris flows (source ports or ICMP ids) per round: the ECMP width
    std::optional<Duration> interval;  // unset: 60 s
    // Probes expected at the same router are this far apart: routers rate-limit time-exceeded.
    Duration router_spacing = std::chrono::milliseconds(20);
    std::optional<int> port;     // plain `path` over udp or tcp: the destination port
    bool mtu = false;            // search the path MTU (path_mtu.hpp)
    int mtu_every = 1;           // ... every this many rounds
    std::optional<int> min_mtu;  // exported beside the MTU, for alert rules
    std::optional<int> min_mss;  // exported beside the quoted MSS, for alert rules
    friend bool operator==(const PathOptions&, const PathOptions&) = default;
};

struct PathParams {
    PathMethod method = PathMethod::udp;
    int max_ttl = 30;
    int attempts = 2;
    int gap_limit = 5;
    int flows = 1;
    Duration router_spacing = std::chrono::milliseconds(20);
    bool mtu = false;
    int mtu_every = 1;
    int min_mtu = 0;  // 0: not set
    int min_mss = 0;
    // Not from the config: set by the engine when a trace must explain a round that has just
    // ended (a flow's), so a round of the same flow begun before it asked cannot answer it.
    bool fresh = false;
    friend bool operator==(const PathParams&, const PathParams&) = default;
};

// Why a trace ended.
enum class PathStop : std::uint8_t { reached, unreachable, prohibited, silent, loop, max_ttl };
inline constexpr std::array kAllPathStops = {PathStop::reached,    PathStop::unreachable,
                                             PathStop::prohibited, PathStop::silent,
                                             PathStop::loop,       PathStop::max_ttl};
std::string_view to_string(PathStop s);

// One MPLS label stack entry, from an RFC 4950 object in an RFC 4884 ICMP extension.
struct MplsLabel {
    std::uint32_t label = 0;  // 20 bits
    std::uint8_t tc = 0;      // traffic class (EXP), 3 bits
    bool bottom = false;      // the stack's last entry
    std::uint8_t ttl = 0;
    friend bool operator==(const MplsLabel&, const MplsLabel&) = default;
};

// One probe packet and what came back for it.
struct PathAttempt {
    bool answered = false;
    std::optional<IpAddress> from;
    Duration rtt{};
    std::uint8_t icmp_type = 0;  // of an ICMP answer; 0 for a TCP or UDP answer
    std::uint8_t icmp_code = 0;
    bool icmp = false;               // the answer was ICMP (else TCP or UDP from the destination)
    int reply_ttl = -1;              // the answer's own TTL as it arrived
    int quoted_ttl = -1;             // the TTL our packet had when the router quoted it (usually 1)
    std::uint16_t next_hop_mtu = 0;  // packet-too-big / fragmentation-needed
    std::uint8_t changes = 0;        // the quote's differences from what was sent (path_middlebox)
    std::size_t quote_bytes = 0;     // of our packet that an ICMP error quoted
    std::uint16_t quoted_mss = 0;    // the MSS option in a TCP probe's quote (0: not quoted)
    std::vector<MplsLabel> mpls;     // the answer's RFC 4950 label stack, top first
};

struct PathHop {
    int ttl = 0;
    std::optional<IpAddress> address;  // the first answer's sender; empty: silent
    std::string network;               // address attributed to a configured network
    Duration rtt{};                    // the first answer's
    bool destination = false;          // the answer came from the destination
    std::vector<PathAttempt> attempts;
    int answered() const;
};

// One Paris flow's trace: a constant flow identifier, TTLs from 1.
struct FlowTrace {
    std::uint16_t flow_id = 0;  // source port (udp, tcp) or ICMP identifier
    std::vector<PathHop> hops;  // index ttl-1, up to the destination or the last TTL sent
    PathStop stop = PathStop::silent;
    int stop_ttl = 0;  // the destination's TTL, the reporter's, or the last hop that answered
    std::optional<IpAddress> stop_hop;
    std::string stop_network;
    int last_answer_ttl = 0;  // 0: nothing answered
    std::uint64_t hash = 0;   // below 2^53: identifies the ordered hop list
};

struct PathResult {
    PathMethod method = PathMethod::udp;
    std::uint16_t port = 0;
    std::vector<FlowTrace> flows;
    int distinct_paths = 0;
    std::uint32_t packets_sent = 0;  // the MTU search's included
    std::optional<PathMtu> mtu;      // rounds that searched the MTU, over flow 0
    int dscp = -1;                   // the DSCP the probes carried (-1: none configured)
    int min_mtu = 0;                 // the target's thresholds, for the series (0: not set)
    int min_mss = 0;
};

struct PathKind {
    static constexpr std::string_view kName = "path";
    static constexpr ServiceUse kServices = ServiceUse::optional;
    static constexpr std::array kTransports = {Transport::tcp, Transport::udp};
    static constexpr std::array kOutcomes = {Outcome::ok, Outcome::filtered, Outcome::unreachable,
                                             Outcome::prohibited, Outcome::error};
    // A round's duration is one timeout or so whatever the network does; RTTs are per hop.
    static constexpr bool kCommonDuration = false;
    static constexpr SocketUse kSockets = SocketUse{};  // its raw sockets are shared by every job
    static constexpr IcmpUse kIcmp = IcmpUse::trace;
    static constexpr bool kChecksServices = false;
    // Probe::totals(), in this order: PathProbe::Stats.
    static constexpr std::array kProbeFamilies = {
        FamilyInfo{"fedprobe_path_packets_sent_total",
                   "Probe packets the path probe sent, every target and TTL", SeriesType::counter},
        FamilyInfo{"fedprobe_path_answers_total",
                   "Answers (time exceeded, unreachable, the destination's) matched to a path "
                   "probe packet in time",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_path_late_answers_total",
                   "Answers to path probe packets whose round had already ended",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_path_resets_sent_total",
                   "Resets sent to close a SYN-ACK a tcp path trace drew", SeriesType::counter},
    };
    static constexpr std::array kFamilies = {
        FamilyInfo{"fedprobe_path_reached",
                   "1 when the last round of flow 0 reached the destination", SeriesType::gauge},
        FamilyInfo{"fedprobe_path_hops", "TTL of the destination, or of the last hop that answered",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_hop_info",
                   "1 for each TTL of flow 0's current path (hop=\"\" for a silent TTL)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_stop_info",
                   "Where and why the last round ended: for an unreached path, the last hop that "
                   "answered (the flow dies after it)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_hash",
                   "A number below 2^53 identifying flow 0's ordered hop list", SeriesType::gauge},
        FamilyInfo{"fedprobe_path_changes_total",
                   "Changes of flow 0's path, each seen in two consecutive rounds",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_path_distinct_paths", "Distinct paths among the round's flows",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_hop_rtt_seconds", "Last RTT per TTL of flow 0",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_forwarding_loss_from_ttl",
                   "The TTL from which loss persists to the destination over recent rounds "
                   "(-1: none)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_mtu_bytes", "The path MTU found by the last search (path.mtu)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_mtu_info",
                   "How the last search found the MTU: source=\"ptb\" with the router that "
                   "reported it, or source=\"search\"",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_blackhole",
                   "1 while large DF packets vanish without packet-too-big and small ones arrive",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_blackhole_info",
                   "The last hop that answered a probe of the size that vanishes: the black hole "
                   "is after it (ttl=\"0\": none answered)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_middlebox_info",
                   "One per change flow 0's quotes show on the current path (dscp, ecn, mss, "
                   "length, nat, ttl), at the first hop showing it: the device is that hop or "
                   "the one before",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_quoted_mss_bytes",
                   "The smallest TCP MSS in flow 0's quotes (tcp traces whose quotes hold the "
                   "options); the probes send 1460",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_min_mtu_bytes", "path.min_mtu as configured", SeriesType::gauge},
        FamilyInfo{"fedprobe_path_min_mss_bytes", "path.min_mss as configured", SeriesType::gauge},
        FamilyInfo{"fedprobe_path_dscp", "The DSCP the probes carry, as configured",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_networks_info",
                   "The networks flow 0's path crosses, in order (networks=\"a>b>c\"), as "
                   "last confirmed by a round that reached the destination",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_path_network_changes_total",
                   "Changes of the networks flow 0's path crosses (not of hops inside a "
                   "network), each seen in two consecutive rounds that reached the destination",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_path_last_round_timestamp_seconds",
                   "When the round the hops above come from ended, in unix seconds: a verdict "
                   "does not take a trace older than the fault it judges",
                   SeriesType::gauge},
    };
    using Options = PathOptions;
    using Params = PathParams;
    using Result = PathResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse& use, const Options* o);
    static Params params(const Options* o, JobContext& c);
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series();
};

}  // namespace fedprobe
