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
