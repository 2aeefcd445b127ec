// tls:SERVICE — a TLS handshake with the certificate checked, on any TCP port (LDAPS, MLLP or
// DICOM over TLS, SMTPS): the kind's declaration (see kind.hpp). No application data is sent.
// Its probe is AppProbe with the dialogue in tls_probe.cpp.
#pragma once

#include "probes/app/app_series.hpp"
#include "probes/app/tls_options.hpp"
#include "probes/kind.hpp"

namespace fedprobe {

using TlsKindOptions = TlsOptions;
struct TlsParams {
    TlsSettings tls;
    friend bool operator==(const TlsParams&, const TlsParams&) = default;
};
struct TlsResult {
    AppFacts app;
};

struct TlsKind {
    static constexpr std::string_view kName = "tls";
    static constexpr ServiceUse kServices = ServiceUse::required;
    static constexpr std::array kTransports = {Transport::tcp};
    static constexpr std::array kOutcomes = {
        Outcome::ok,          Outcome::refused, Outcome::filtered,  Outcome::prohibited,
        Outcome::unreachable, Outcome::error,   Outcome::tls_error, Outcome::app_blocked};
    static constexpr bool kCommonDuration = true;
    static constexpr SocketUse kSockets = SocketUse{1, 0, 0};  // a connection per probe
    static constexpr IcmpUse kIcmp = IcmpUse::none;
    static constexpr bool kChecksServices = true;
    static constexpr std::array<FamilyInfo, 0> kProbeFamilies{};
    static constexpr auto kFamilies = kAppTlsFamilies;
    using Options = TlsKindOptions;
    using Params = TlsParams;
    using Result = TlsResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse&, const Options*) { return {}; }
    static Params params(const Options* o, JobContext& c);
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series();
};

}  // namespace fedprobe
