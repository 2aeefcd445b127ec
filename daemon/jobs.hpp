// What this appliance probes: every (target, probe) pair the config gives its site.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "exporters/prometheus_exporter.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

struct Job {
    std::string key;  // "target/probe", stable across reloads
    const Target* target = nullptr;
    ProbeSpec spec;
    Labels labels;
    ProbeRequest request;  // what to send, with the address as seen from this site
};

// Jobs for config.settings.site, in config order. Pointers refer into config.
std::vector<Job> build_jobs(const Config& config);

}  // namespace fedprobe
