// smtp:SERVICE — an SMTP server's greeting, EHLO, optionally STARTTLS with the certificate
// checked as http checks it, then QUIT. No mail is sent (no MAIL FROM, no RCPT): the kind's
// declaration (see kind.hpp). The conversation is smtp_dialogue.hpp, driven by AppProbe.
#pragma once

#include "probes/app/app_series.hpp"
#include "probes/app/tls_options.hpp"
#include "probes/kind.hpp"

namespace fedprobe {

struct SmtpOptions {
    bool starttls = false;
    std::string helo;  // empty: SITE.fedprobe.invalid
    TlsOptions tls;
    friend bool operator==(const SmtpOptions&, const SmtpOptions&) = default;
};
struct SmtpParams {
    bool starttls = false;
    std::string helo;
    TlsSettings tls;
    friend bool operator==(const SmtpParams&, const SmtpParams&) = default;
};
struct SmtpResult {
    int code = 0;  // the last reply's code (0: none came)
    AppFacts app;
};

struct SmtpKind {
    static constexpr std::string_view kName = "smtp";
    static constexpr ServiceUse kServices = ServiceUse::required;
    static constexpr std::array kTransports = {Transport::tcp};
    static constexpr std::array kOutcomes = {
        Outcome::ok,         Outcome::refused,     Outcome::filtered,
        Outcome::prohibited, Outcome::unreachable, Outcome::error,
        Outcome::mismatch,   Outcome::tls_error,   Outcome::app_blocked};
    static constexpr bool kCommonDuration = true;
    static constexpr SocketUse kSockets = SocketUse{1, 0, 0};  // a connection per probe
    static constexpr IcmpUse kIcmp = IcmpUse::none;
    static constexpr bool kChecksServices = true;
    static constexpr std::array<FamilyInfo, 0> kProbeFamilies{};
    static constexpr auto kFamilies = with_app_families(
        std::array{FamilyInfo{"fedprobe_smtp_reply_code",
                              "The last SMTP reply's code (0: none came); 221 after a clean QUIT",
                              SeriesType::gauge}},
        kAppTlsFamilies);
    using Options = SmtpOptions;
    using Params = SmtpParams;
    using Result = SmtpResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse&, const Options*) { return {}; }
    static Params params(const Options* o, JobContext& c);
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series();
};

}  // namespace fedprobe
