// The one small interface every probe kind implements. Probes know nothing of Prometheus:
// they take a request, run on the event loop, and hand back a ProbeResult.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/address.hpp"
#include "config/config.hpp"
#include "config/http_url.hpp"
#include "probes/outcome.hpp"

namespace fedprobe {

struct ProbeRequest {
    IpAddress destination;
    std::uint16_t port = 0;  // 0 for icmp
    Duration timeout{};
    SendOptions send;
    IcmpOptions icmp;
    std::string payload;     // udp: the datagram to send (empty: a fedprobe-identifying default)
    std::string udp_expect;  // udp: a POSIX extended pattern the reply must match (empty: any)
    DnsQuery dns_query;      // dns: what to ask
    std::vector<std::string> dns_expected;  // dns: the answers this site should get
    bool dns_tcp = false;
    // http: the URL to fetch (its host is pinned to `destination`), what the answer must be,
    // the CA bundle (empty: the system's) and who is asking.
    std::string url;
    HttpUrl url_parts;  // parsed once when the job is built; host empty: the URL did not parse
    HttpOptions http;
    std::string ca_file;
    std::string user_agent;
};

// Seconds an http probe spent in each phase (see http_timing.hpp); 0 for a phase not reached.
struct HttpPhases {
    double resolve = 0, connect = 0, tls = 0, processing = 0, transfer = 0;
};

// What an http probe saw beyond the outcome; exported as its own series.
struct HttpResult {
    int status = 0;  // 0: no response
    HttpPhases phases;
    bool tls_used = false;
    std::string tls_version;                // "TLSv1.3"; empty without a handshake
    std::optional<bool> verified;           // the certificate against the CA bundle and host
    std::optional<double> leaf_not_after;   // unix seconds
    std::optional<double> chain_not_after;  // the earliest in the presented chain
};

struct ProbeResult {
    Outcome outcome = Outcome::error;
    Duration duration{};  // connect time, RTT, or time until the verdict
    std::optional<IpAddress>
        reporter;        // who said so: the target (RST) or the router that sent the ICMP
    std::string detail;  // for logs only, never a label
    // ICMP rounds: packet accounting and each reply's round-trip time.
    std::uint32_t packets_sent = 0;
    std::uint32_t packets_received = 0;
    std::uint32_t duplicates = 0;
    std::vector<Duration> rtts;
    // DNS: the response code and how many answers came (-1: no response).
    int dns_rcode = -1;
    int dns_answers = -1;
    std::optional<HttpResult> http;  // http probes only
};

class Probe {
  public:
    using Done = std::function<void(ProbeResult)>;
    virtual ~Probe() = default;
    // Starts one probe; done runs exactly once, later, on the event loop thread (never inside
    // start).
    virtual void start(const ProbeRequest& request, Done done) = 0;
};

}  // namespace fedprobe
