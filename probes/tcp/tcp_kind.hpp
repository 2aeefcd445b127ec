// tcp:SERVICE — a connect: the kind's declaration (see kind.hpp). The probe is tcp_probe.hpp.
#pragma once

#include "probes/kind.hpp"

namespace fedprobe {

struct TcpOptions {
    friend bool operator==(const TcpOptions&, const TcpOptions&) = default;
};
struct TcpParams {
    friend bool operator==(const TcpParams&, const TcpParams&) = default;
};
struct TcpResult {};

struct TcpKind {
    static constexpr std::string_view kName = "tcp";
    static constexpr ServiceUse kServices = ServiceUse::required;
    static constexpr std::array kTransports = {Transport::tcp};
    static constexpr std::array kOutcomes = {Outcome::ok,          Outcome::refused,
                                             Outcome::filtered,    Outcome::prohibited,
                                             Outcome::unreachable, Outcome::error};
    static constexpr bool kCommonDuration = true;
    static constexpr SocketUse kSockets = SocketUse{1, 0, 0};  // a socket per attempt
    static constexpr IcmpUse kIcmp = IcmpUse::none;
    static constexpr bool kChecksServices = false;
    static constexpr std::array<FamilyInfo, 0> kProbeFamilies{};
    static constexpr std::array<FamilyInfo, 0> kFamilies{};
    using Options = TcpOptions;
    using Params = TcpParams;
    using Result = TcpResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse&, const Options*) { return {}; }
    static Params params(const Options*, JobContext&) { return {}; }
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series() { return std::make_unique<NoSeries>(); }
};

}  // namespace fedprobe
