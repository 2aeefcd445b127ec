// What this appliance probes: every (target, probe) pair the config gives its site, and every
// flow of the policy that starts from it, each with the request as this site sees the target.
// Pure functions of a Config; any thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "federation/config.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

using Labels = std::map<std::string, std::string>;

struct Job {
    const Target* target = nullptr;
    const Flow* flow = nullptr;  // set for the flows of the policy
    // For a target's probe of a service: the policy's deny flow from this site over the same
    // target and service, whose failure is then what the policy expects (policy/expectation.hpp).
    const Flow* denied_by = nullptr;
    // The site's own network, or the target's, declares `icmp = "blocked"`.
    bool icmp_blocked_at_site = false, icmp_blocked_at_target = false;
    const std::string* site = nullptr;  // config.settings.site: the site that runs it
    const ProbeSpec* spec = nullptr;    // one of target->probes, or flow->probe
    ProbeRequest request;               // what to send, with the address as seen from this site
    Duration interval{};                // the target's, unless the kind sets its own (path: 60 s)

    // Its series' labels, derived when asked (a sink asks once per reload) rather than stored:
    // a map of five or more strings would be the largest part of a job. A target's own labels,
    // then site, network, target, probe and service; a flow's site, flow, from, to, network,
    // service and expect.
    Labels labels() const;
    // "target/probe" or "flow:FLOW/target": its identity, stable across reloads. Made when asked
    // (a reload, a log line), as labels are, not kept in each of 100,000 jobs.
    std::string key() const;
};

// What to send to target `t` for `spec`, as config.settings.site sees it (its address behind
// NAT, its DNS answers, the udp payload), built by the kind's own params(): one place for
// probe jobs and flows alike.
// `interval`, when given, receives the job's interval: the target's unless the kind sets its own.
ProbeRequest request_for(const Config& config, const Target& t, const ProbeSpec& spec,
                         bool for_flow = false, Duration* interval = nullptr);

// Jobs for config.settings.site, in config order: every (target, probe), then every flow of the
// policy that starts from this site, one per target it reaches. Pointers refer into config.
std::vector<Job> build_jobs(const Config& config);
// Only the flows (fedprobe check), optionally those whose id contains `pattern`.
std::vector<Job> build_flow_jobs(const Config& config, const std::string& pattern = "");

}  // namespace fedprobe
