// mllp:SERVICE — one HL7 v2 message in MLLP framing, judged by its acknowledgement: the
// kind's declaration (see kind.hpp). The conversation is mllp_dialogue.hpp, driven by AppProbe.
#pragma once

#include <string>
#include <vector>

#include "probes/app/app_series.hpp"
#include "probes/kind.hpp"

namespace fedprobe {

struct MllpOptions {
    std::string message;              // empty: the default message (mllp_dialogue.hpp)
    std::vector<std::string> accept;  // empty: AA and CA
    friend bool operator==(const MllpOptions&, const MllpOptions&) = default;
};
struct MllpParams {
    std::string message;  // with this site's sending facility; MSH-10 is set per probe
    std::vector<std::string> accept;
    friend bool operator==(const MllpParams&, const MllpParams&) = default;
};
struct MllpResult {
    std::string ack;  // MSA-1 as a bounded label (mllp_ack_label), "" when none came
    AppFacts app;
};

struct MllpKind {
    static constexpr std::string_view kName = "mllp";
    static constexpr ServiceUse kServices = ServiceUse::required;
    static constexpr std::array kTransports = {Transport::tcp};
    static constexpr std::array kOutcomes = {
        Outcome::ok,          Outcome::refused, Outcome::filtered, Outcome::prohibited,
        Outcome::unreachable, Outcome::error,   Outcome::mismatch, Outcome::app_blocked};
    static constexpr bool kCommonDuration = true;
    static constexpr SocketUse kSockets = SocketUse{1, 0, 0};  // a connection per probe
    static constexpr IcmpUse kIcmp = IcmpUse::none;
    static constexpr bool kChecksServices = true;
    static constexpr std::array<FamilyInfo, 0> kProbeFamilies{};
    static constexpr auto kFamilies = with_app_families(
        std::array{FamilyInfo{"fedprobe_mllp_ack_info",
                              "The last acknowledgement's code (MSA-1: AA, AE, AR, CA, CE, CR, "
                              "other); absent until one came",
                              SeriesType::gauge}},
        kAppPlainFamilies);
    using Options = MllpOptions;
    using Params = MllpParams;
    using Result = MllpResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse&, const Options*) { return {}; }
    static Params params(const Options* o, JobContext& c);
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series();
};

}  // namespace fedprobe
