// udp:SERVICE — one datagram: the kind's declaration (see kind.hpp). The probe is udp_probe.hpp.
#pragma once

#include "probes/kind.hpp"

namespace fedprobe {

// What to send and, optionally, what the reply must contain.
struct UdpOptions {
    std::string payload;  // empty: "fedprobe probe from SITE"
    std::string expect;   // POSIX extended pattern the reply (as text) must match; empty: any reply
    friend bool operator==(const UdpOptions&, const UdpOptions&) = default;
};
using UdpParams = UdpOptions;  // with the payload filled in for the site
struct UdpResult {};

struct UdpKind {
    static constexpr std::string_view kName = "udp";
    static constexpr ServiceUse kServices = ServiceUse::required;
    static constexpr std::array kTransports = {Transport::udp};
    static constexpr std::array kOutcomes = {
        Outcome::ok,          Outcome::refused, Outcome::filtered, Outcome::prohibited,
        Outcome::unreachable, Outcome::error,   Outcome::mismatch};
    static constexpr bool kCommonDuration = true;
    static constexpr SocketUse kSockets = SocketUse{1, 0, 0};  // a socket per attempt
    static constexpr IcmpUse kIcmp = IcmpUse::none;
    static constexpr bool kChecksServices = false;
    static constexpr std::array<FamilyInfo, 0> kProbeFamilies{};
    static constexpr std::array<FamilyInfo, 0> kFamilies{};
    using Options = UdpOptions;
    using Params = UdpParams;
    using Result = UdpResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse&, const Options*) { return {}; }
    static Params params(const Options* o, JobContext& c);
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series() { return std::make_unique<NoSeries>(); }
};

}  // namespace fedprobe
