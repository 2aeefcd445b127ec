// ldap:SERVICE — an anonymous read of the directory's RootDSE, optionally after StartTLS with
// the certificate checked as http checks it, then an unbind; nothing else (RFC 4511, 4513):
// the kind's declaration (see kind.hpp). The conversation is ldap_dialogue.hpp, the BER
// ldap_ber.hpp, driven by AppProbe.
#pragma once

#include "probes/app/app_series.hpp"
#include "probes/app/tls_options.hpp"
#include "probes/kind.hpp"

namespace fedprobe {

struct LdapOptions {
    bool starttls = false;
    TlsOptions tls;
    friend bool operator==(const LdapOptions&, const LdapOptions&) = default;
};
struct LdapParams {
    bool starttls = false;
    TlsSettings tls;
    friend bool operator==(const LdapParams&, const LdapParams&) = default;
};
struct LdapResult {
    int result_code = -1;  // the last LDAPResult's resultCode (-1: none came)
    AppFacts app;
};

struct LdapKind {
    static constexpr std::string_view kName = "ldap";
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
        std::array{FamilyInfo{"fedprobe_ldap_result_code",
                              "The last LDAP result code (0: success; 50: insufficient access; "
                              "-1: none came)",
                              SeriesType::gauge}},
        kAppTlsFamilies);
    using Options = LdapOptions;
    using Params = LdapParams;
    using Result = LdapResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse&, const Options*) { return {}; }
    static Params params(const Options* o, JobContext& c);
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series();
};

}  // namespace fedprobe
