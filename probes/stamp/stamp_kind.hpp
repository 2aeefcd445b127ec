// stamp — STAMP (RFC 8762, with the RFC 8972 TLVs) towards a target that runs a reflector:
// another fedprobe appliance ([fedprobe.stamp]) or a router's STAMP or TWAMP-Light responder.
// The kind's declaration (see kind.hpp); the packets are stamp_packet.hpp, the loss arithmetic
// stamp_loss.hpp and the sessions stamp_probe.hpp.
//
// A round sends `packets` test packets `spacing` apart on one long-lived session per target
// (one UDP socket, so a stateful reflector keeps counting), and reports:
//   - the round trip without the reflector's dwell: (T4 - T1) - (T3 - T2);
//   - forward and backward loss, from a stateful reflector's own sequence numbers;
//   - jitter (the mean difference between consecutive round trips);
//   - one-way delay each way, only when both ends say their clocks are synchronised;
//   - the DSCP that arrived (Class of Service TLV) and whether the source was translated on
//     the way (Location TLV).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/duration.hpp"
#include "probes/kind.hpp"

namespace fedprobe {

struct StampOptions {
    int packets = 10;
    Duration spacing = std::chrono::milliseconds(100);
    int port = 862;
    int dscp = -1;    // the test packets' DSCP (and the reply's, asked in the CoS TLV); -1: 0
    int padding = 0;  // bytes of Extra Padding TLV
    std::string auth_key_file;
    std::vector<std::uint8_t> key;  // its bytes; empty: unauthenticated
    int ssid = 0;                   // 0: derived from the site's name
    bool ptp = false;               // timestamps in PTPv2 format instead of NTP
    bool stateful = true;           // the reflector counts (forward/backward loss separate)
    bool tlvs = true;               // send CoS and Location TLVs (off for base-only responders)
    friend bool operator==(const StampOptions&, const StampOptions&) = default;
};
using StampParams = StampOptions;  // with ssid filled in for the site

struct StampResult {
    std::uint32_t sent = 0;      // this round
    std::uint32_t received = 0;  // this round, in time
    bool stateful = true;
    // Newly attributed this round (a packet lost after the round's last reply is attributed
    // by a later round's).
    std::uint64_t forward_lost = 0;
    std::uint64_t backward_lost = 0;
    std::vector<double> rtt;  // seconds, each reply's, dwell removed
    std::optional<double> jitter;
    std::optional<double> forward_delay;   // mean, s; both clocks synchronised only
    std::optional<double> backward_delay;  // mean, s
    // The reflector's clock minus ours from the round's quickest exchange, NTP's way:
    // ((T2 - T1) - (T4 - T3)) / 2, true within half that exchange's round trip (the error), the
    // part of it the paths' asymmetry takes. For the mesh estimate (fedprobe mesh).
    std::optional<double> clock_offset;
    std::optional<double> clock_offset_error;
    int dscp_sent = 0;
    std::optional<int> dscp_received;
    std::optional<bool> translated;
};

struct StampKind {
    static constexpr std::string_view kName = "stamp";
    static constexpr ServiceUse kServices = ServiceUse::none;
    static constexpr std::array<Transport, 0> kTransports{};
    static constexpr std::array kOutcomes = {Outcome::ok,          Outcome::refused,
                                             Outcome::filtered,    Outcome::prohibited,
                                             Outcome::unreachable, Outcome::error};
    static constexpr bool kCommonDuration = false;
    static constexpr SocketUse kSockets = SocketUse{};  // one socket per IP version, shared
    static constexpr IcmpUse kIcmp = IcmpUse::none;
    static constexpr bool kChecksServices = false;
    static constexpr std::array<FamilyInfo, 0> kProbeFamilies{};
    static constexpr std::array kFamilies = {
        FamilyInfo{"fedprobe_stamp_packets_sent_total", "STAMP test packets sent",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_stamp_packets_received_total",
                   "STAMP replies received within the timeout", SeriesType::counter},
        FamilyInfo{"fedprobe_stamp_forward_lost_total",
                   "Test packets that did not reach the reflector (stateful reflectors only)",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_stamp_backward_lost_total",
                   "Replies the reflector sent that did not come back (stateful reflectors only)",
                   SeriesType::counter},
        FamilyInfo{"fedprobe_stamp_rtt_seconds",
                   "Round trip of each reply, the reflector's dwell time removed",
                   SeriesType::histogram},
        FamilyInfo{"fedprobe_stamp_jitter_seconds",
                   "Mean difference between consecutive round trips in the last round",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_stamp_forward_delay_seconds",
                   "One-way delay to the reflector, last round's mean (synchronised clocks only)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_stamp_backward_delay_seconds",
                   "One-way delay from the reflector, last round's mean (synchronised clocks only)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_stamp_dscp_sent", "The DSCP the test packets leave with",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_stamp_dscp_received",
                   "The DSCP the reflector saw arrive (Class of Service TLV)", SeriesType::gauge},
        FamilyInfo{"fedprobe_stamp_clock_offset_seconds",
                   "The reflector's clock minus this appliance's, from the last round's quickest "
                   "exchange",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_stamp_clock_offset_error_seconds",
                   "Half that exchange's round trip: the offset is true within it",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_stamp_source_translated",
                   "1 when the reflector saw another source address or port than the one sent "
                   "from (NAT on the path; Location TLV)",
                   SeriesType::gauge},
    };
    using Options = StampOptions;
    using Params = StampParams;
    using Result = StampResult;

    static Options parse(OptionReader& r, const KindUse& use);
    // A round (packets - 1 spacings, then the timeout for the last reply) must end before the
    // next starts: the session has one round at a time, so an overlong one fails every other.
    static std::string check(const KindUse& use, const Options* o);
    static Params params(const Options* o, JobContext& c);
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series();
};

}  // namespace fedprobe
