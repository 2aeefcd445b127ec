// `fedprobe trace`: one Paris traceroute round from this appliance, printed as a table (like
// mtr's report, with each hop's network and the stop reason) or as JSON with every attempt.
// Runs its own event loop on the calling thread.
#pragma once

#include <optional>
#include <string>

#include "probes/path/path_kind.hpp"

namespace fedprobe {

struct TraceOptions {
    std::string config;
    std::optional<std::string> site;
    std::string target;   // a target id or an address literal
    std::string service;  // path:SERVICE
    std::string method;   // udp | icmp | tcp; empty: the target's or udp
    int flows = 0;        // 0: the target's path.flows
    bool mtu = false;     // search the path MTU too (or the target's path.mtu)
    std::string format = "table";
};

// 0: reached; 1: not reached; 2: usage or config error.
int run_trace(const TraceOptions& options);

// The renderings, for tests and for `check`.
std::string trace_table(const PathResult& result, const IpAddress& destination,
                        const std::string& title);
// "path MTU: ..." and, for a black hole, where: the lines `trace` prints after the hops.
std::string describe_mtu(const PathMtu& m);
std::string trace_json(const PathResult& result, const std::string& target,
                       const IpAddress& address);

}  // namespace fedprobe
