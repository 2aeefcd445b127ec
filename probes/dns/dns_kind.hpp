// dns / dns:SERVICE — a query with c-ares: the kind's declaration (see kind.hpp). The probe is
// dns_probe.hpp. "dns" asks over udp/53; "dns:SERVICE" over that service's transport and port.
#pragma once

#include <map>
#include <vector>

#include "probes/kind.hpp"

namespace fedprobe {

// What a dns probe asks and what this site should get back. Split-horizon DNS answers
// differently per network, so the expected answers can be given per site.
struct DnsQuery {
    std::string name;
    std::string type = "A";  // A, AAAA, CNAME, MX, SRV, PTR, TXT
    std::string rcode = "NOERROR";
    std::vector<std::string> answers;  // the exact set expected; empty: any answer will do
    std::map<std::string, std::vector<std::string>> answers_from;  // site -> the set that site gets
    std::string answer_regex;  // POSIX extended; every answer must match
    friend bool operator==(const DnsQuery&, const DnsQuery&) = default;

    const std::vector<std::string>& answers_for(const std::string& site) const {
        auto it = answers_from.find(site);
        return it == answers_from.end() ? answers : it->second;
    }
};

struct DnsParams {
    DnsQuery query;
    std::vector<std::string> expected;  // the answers this site should get
    bool tcp = false;
    friend bool operator==(const DnsParams&, const DnsParams&) = default;
};

struct DnsResult {
    int rcode = -1;    // -1: no response
    int answers = -1;  // how many answers the response held
};

struct DnsKind {
    static constexpr std::string_view kName = "dns";
    static constexpr ServiceUse kServices = ServiceUse::optional;
    static constexpr std::array kTransports = {Transport::tcp, Transport::udp};
    static constexpr std::array kOutcomes = {
        Outcome::ok,         Outcome::refused, Outcome::filtered, Outcome::unreachable,
        Outcome::prohibited, Outcome::error,   Outcome::mismatch};
    static constexpr bool kCommonDuration = true;
    static constexpr SocketUse kSockets = SocketUse{0, 1, 0};  // its own socket for the round
    static constexpr IcmpUse kIcmp = IcmpUse::none;
    static constexpr bool kChecksServices = true;  // a resolver's answer, not just its port
    static constexpr std::array<FamilyInfo, 0> kProbeFamilies{};
    static constexpr std::array kFamilies = {
        FamilyInfo{"fedprobe_dns_rcode",
                   "The DNS response code of the last answer (0 NOERROR, 2 SERVFAIL, 3 "
                   "NXDOMAIN, 5 REFUSED; -1 none)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_dns_answers",
                   "How many answers the last DNS response held (-1: no response)",
                   SeriesType::gauge},
    };
    using Options = DnsQuery;
    using Params = DnsParams;
    using Result = DnsResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse& use, const Options* o);
    static Params params(const Options* o, JobContext& c);
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series();
};

}  // namespace fedprobe
