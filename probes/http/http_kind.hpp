// http / http:SERVICE — one GET or HEAD with libcurl: the kind's declaration (see kind.hpp).
// The probe is http_probe.hpp. "http" fetches `url`; "http:SERVICE" builds
// SCHEME://HOST:PORT/PATH from the service. Either way the URL's host is pinned to the target's
// address, so a probe never asks the appliance's resolver unless `system_resolver` says so.
#pragma once

#include <optional>
#include <vector>

#include "probes/http/http_url.hpp"
#include "probes/kind.hpp"
#include "probes/tls_families.hpp"

namespace fedprobe {

struct HttpOptions {
    std::string url;               // for "http"
    std::string host;              // for "http:SERVICE": the name for SNI, Host and the
                                   // certificate check; empty: the target's address
    std::string path = "/";        // for "http:SERVICE"
    std::optional<bool> tls;       // for "http:SERVICE": https unless the port is 80 or 8080
    std::vector<int> status;       // expected status codes; empty: any 2xx
    std::string body_regex;        // POSIX extended; the body must match
    std::string ca_file;           // empty: [fedprobe] ca_file, else the system's CA bundle
    bool verify = true;            // false: report the certificate, never fail on it
    std::string client_cert;       // PEM: a client certificate for mutual TLS (as NHS Spine wants)
    std::string client_key;        // PEM: its key; empty: in client_cert
    std::string method = "GET";    // GET or HEAD
    bool system_resolver = false;  // resolve the URL's host with the appliance's resolver
    friend bool operator==(const HttpOptions&, const HttpOptions&) = default;
};

struct HttpParams {
    std::string url;
    HttpUrl url_parts;  // parsed once when the job is built; host empty: the URL did not parse
    HttpOptions http;
    std::string ca_file;  // empty: the system's
    std::string user_agent;
    friend bool operator==(const HttpParams&, const HttpParams&) = default;
};

// Seconds an http probe spent in each phase (see http_timing.hpp); 0 for a phase not reached.
struct HttpPhases {
    double resolve = 0, connect = 0, tls = 0, processing = 0, transfer = 0;
};

struct HttpResult {
    int status = 0;  // 0: no response
    HttpPhases phases;
    bool tls_used = false;
    std::string tls_version;                // "TLSv1.3"; empty without a handshake
    std::optional<bool> verified;           // the certificate against the CA bundle and host
    std::optional<double> leaf_not_after;   // unix seconds
    std::optional<double> chain_not_after;  // the earliest in the presented chain
};

// The URL an http probe fetches: `http.url` for "http", or for "http:SERVICE"
// SCHEME://HOST:PORT/PATH (https unless the port is 80 or 8080; HOST is http.host or the address).
std::string http_url_for(const HttpOptions& http, const IpAddress& address, const Service* service);

struct HttpKind {
    static constexpr std::string_view kName = "http";
    static constexpr ServiceUse kServices = ServiceUse::optional;
    static constexpr std::array kTransports = {Transport::tcp};
    static constexpr std::array kOutcomes = {
        Outcome::ok,          Outcome::refused, Outcome::filtered, Outcome::prohibited,
        Outcome::unreachable, Outcome::error,   Outcome::mismatch, Outcome::tls_error};
    static constexpr bool kCommonDuration = true;
    static constexpr SocketUse kSockets =
        SocketUse{1, 0, 128};  // a transfer per attempt, 128 at once
    static constexpr IcmpUse kIcmp = IcmpUse::none;
    static constexpr bool kChecksServices = true;
    // Probe::totals(): HttpProbe::overloaded().
    static constexpr std::array kProbeFamilies = {
        FamilyInfo{"fedprobe_http_overloaded_total",
                   "http probes never started: too many were in flight for them to start within "
                   "their timeout (each reported as error)",
                   SeriesType::counter},
    };
    static constexpr std::array kFamilies = {
        FamilyInfo{"fedprobe_http_status_code",
                   "HTTP status code of the last probe (0: no response)", SeriesType::gauge},
        FamilyInfo{"fedprobe_http_duration_seconds",
                   "Seconds the last http probe spent in each phase (0: not reached)",
                   SeriesType::gauge},
        FamilyInfo{"fedprobe_http_tls_version_info", "TLS version of the last handshake",
                   SeriesType::gauge},
        kTlsCertVerifiedFamily,
        kTlsCertNotAfterFamily,
    };
    using Options = HttpOptions;
    using Params = HttpParams;
    using Result = HttpResult;

    static Options parse(OptionReader& r, const KindUse& use);
    static std::string check(const KindUse& use, const Options* o);
    static Params params(const Options* o, JobContext& c);
    static std::unique_ptr<Probe> make_probe(EventLoop& loop);
    static std::unique_ptr<KindSeries> make_series();
};

}  // namespace fedprobe
