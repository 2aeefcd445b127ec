// dicom:SERVICE — DICOM verification: A-ASSOCIATE-RQ for the Verification SOP Class, C-ECHO-RQ,
// A-RELEASE (PS3.7 9.3.5, PS3.8 9.3): the kind's declaration (see kind.hpp). The conversation
// is dicom_dialogue.hpp, driven by AppProbe; the PDUs are dicom_pdu.hpp.
#pragma once

#include <string>

#include "probes/app/app_series.hpp"
#include "probes/app/tls_options.hpp"
#include "probes/kind.hpp"
#include "probes/tls_families.hpp"

namespace fedprobe {

struct DicomOptions {
    std::string called_ae;   // empty: ANY-SCP
    std::string calling_ae;  // empty: derived from the site (dicom_default_calling_ae)
    bool tls = false;        // DICOM over TLS (PS3.15 B.1, port 2762): TLS from the start
    TlsOptions tls_options;
    friend bool operator==(const DicomOptions&, const DicomOptions&) = default;
};
struct DicomParams {
    std::string called_ae, calling_ae;
    bool tls = false;
    TlsSettings tls_settings;
    friend bool operator==(const DicomParams&, const DicomParams&) = default;
};
struct DicomResult {
    // The A-ASSOCIATE-RJ's fields as label values (dicom_pdu.hpp), empty unless it was refused.
    std::string reject_result, reject_source, reject_reason;
    int echo_status = -1;  // the C-ECHO-RSP's status (0: success; -1: none came)
    AppFacts app;
};

struct DicomKind {
    static constexpr std::string_view kName = "dicom";
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
        std::array{
            FamilyInfo{"fedprobe_dicom_association_rejected_info",
                       "1 while the last association request was refused (A-ASSOCIATE-RJ), with "
                       "its result, source and reason",
                       SeriesType::gauge},
            FamilyInfo{"fedprobe_dicom_echo_status",
                       "The last C-ECHO-RSP's status (0: success; -1: no response)",
                       SeriesType::gauge},
        },
        kAppTlsFamilies);
    using Options = DicomOptions;
    using Params = DicomParams;
    using Result = DicomResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse&, const Options*) { return {}; }
    static Params params(const Options* o, JobContext& c);
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series();
};

}  // namespace fedprobe
