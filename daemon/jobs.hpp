// What this appliance probes: every (target, probe) pair the config gives its site.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "exporters/prometheus_exporter.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

struct Job {
    std::string key;  // "target/probe" or "flow:FLOW/target", stable across reloads
    const Target* target = nullptr;
    const Flow* flow = nullptr;  // set for the flows of the policy
    ProbeSpec spec;
    Labels labels;
    ProbeRequest request;  // what to send, with the address as seen from this site
};

// What to send to target `t` for `spec`, as config.settings.site sees it (its address behind
// NAT, its DNS answers, the udp payload): one place for probe jobs and flows alike.
ProbeRequest request_for(const Config& config, const Target& t, const ProbeSpec& spec);

// The URL an http probe fetches: `http.url` for "http", or for "http:SERVICE"
// SCHEME://HOST:PORT/PATH (https unless the port is 80 or 8080; HOST is http.host or the address).
std::string http_url_for(const HttpOptions& http, const IpAddress& address, const Service* service);

// Jobs for config.settings.site, in config order: every (target, probe), then every flow of the
// policy that starts from this site, one per target it reaches. Pointers refer into config.
std::vector<Job> build_jobs(const Config& config);
// Only the flows (fedprobe check), optionally those whose id contains `pattern`.
std::vector<Job> build_flow_jobs(const Config& config, const std::string& pattern = "");

}  // namespace fedprobe
