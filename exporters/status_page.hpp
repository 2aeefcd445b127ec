// The appliance's own page at `/` on the metrics listener: what this appliance probes and how
// each probe ended (with the device that said so and its network, and when it last changed),
// the paths it traced, and the policy's flows with their verdicts. HTML that needs no JavaScript,
// every configured or observed string escaped, behind the same basic auth as /metrics.
//
// render_status_page() is a pure function of a StatusView. StatusPage gathers the view from the
// exporter's series and the config. Threads: set_config() on the probing thread, render() on
// the HTTP server's threads; the series it reads are thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "federation/config.hpp"

namespace fedprobe {

class JobSeriesSet;
class FlowSeriesSet;

struct StatusView {
    struct Probe {
        std::string target, network, probe, service;
        std::string outcome;  // "" before the first result
        std::string reporter, reporter_network;
        double last_change = 0;                     // unix seconds; 0: never
        std::map<std::string, std::string> labels;  // the target's static labels
        // What the config expects of it when not success ("deny", "fail", "tls_error") and
        // why ("flow:ID", "target"); whether the last outcome is that.
        std::string expect, expect_because;
        bool as_expected = false;
        std::string note;  // the kind's own finding (KindSeries::status_note)
    };
    struct Hop {
        std::string ttl, hop, hop_network;  // hop "" for a silent TTL
    };
    struct Path {
        std::string target, service, stop;
        std::vector<Hop> hops;
    };
    struct Flow {
        std::string flow, from, to, service, expect;
        std::string state;    // "" before the first check
        std::string verdict;  // the policy's word for it (policy/verdict.hpp)
        bool compliant = false;
        std::string reporter, reporter_network, note;
        std::string blocked_after;  // a silent drop's trace: "after 172.20.1.2 (kent-nhs), hop 5"
        double last_change = 0;
    };
    std::string site, version;
    double now = 0;
    std::vector<Probe> probes;
    std::vector<Path> paths;
    std::vector<Flow> flows;
};

std::string render_status_page(const StatusView& view);

class StatusPage {
  public:
    StatusPage(const JobSeriesSet& jobs, const FlowSeriesSet& flows, std::string version)
        : jobs_(jobs), flows_(flows), version_(std::move(version)) {}
    // What the series do not hold: the site and the flows' notes.
    void set_config(const Config& config);
    std::string render() const;

  private:
    const JobSeriesSet& jobs_;
    const FlowSeriesSet& flows_;
    std::string version_;
    mutable std::mutex mutex_;
    std::string site_;
    std::map<std::string, std::string> flow_notes_;
};

}  // namespace fedprobe
