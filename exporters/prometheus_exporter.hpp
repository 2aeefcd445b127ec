// Turns probe results into Prometheus series. The only place that knows about Prometheus:
// probes hand results to the daemon, the daemon hands them here.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "probes/probe.hpp"

namespace fedprobe {

using Labels = std::map<std::string, std::string>;

struct JobLabels {
    std::string key;
    Labels labels;  // site, network, target, probe, service + the target's static labels
    bool icmp = false;
};

class PrometheusExporter {
public:
    explicit PrometheusExporter(const std::string& version);
    std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

    // Makes the job series match `jobs`: adds new ones (every outcome counter at 0), removes the
    // series of jobs that left the config, keeps the rest untouched.
    void sync_jobs(const std::vector<JobLabels>& jobs);
    void record(const std::string& key, const ProbeResult& result, const std::string& reporter_network);

    void observe_lag(Duration lag);
    void set_in_flight(std::size_t n) { in_flight_.Set(static_cast<double>(n)); }
    void add_overruns(std::uint64_t n) { overruns_.Increment(static_cast<double>(n)); }
    void add_rate_limited(const std::string& network, std::uint64_t n);
    void config_reloaded(bool ok, double unix_time);
    void auth_failed() { auth_failures_.Increment(); }
    // Engine-wide ICMP counters, given as running totals.
    void set_icmp_stats(std::uint64_t late_total, std::uint64_t unmatched_total);
    std::size_t series_count() const { return series_.size(); }

private:
    struct Series {
        Labels labels;
        prometheus::Gauge* success = nullptr;
        std::array<prometheus::Counter*, kAllOutcomes.size()> outcomes{};
        prometheus::Histogram* duration = nullptr;
        prometheus::Counter* icmp_sent = nullptr;
        prometheus::Counter* icmp_received = nullptr;
        prometheus::Counter* icmp_duplicates = nullptr;
        prometheus::Histogram* icmp_rtt = nullptr;
        prometheus::Gauge* last_error = nullptr;
        Labels last_error_labels;
    };

    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Gauge>& success_family_;
    prometheus::Family<prometheus::Counter>& outcome_family_;
    prometheus::Family<prometheus::Histogram>& duration_family_;
    prometheus::Family<prometheus::Gauge>& last_error_family_;
    prometheus::Family<prometheus::Counter>& icmp_sent_family_;
    prometheus::Family<prometheus::Counter>& icmp_received_family_;
    prometheus::Family<prometheus::Counter>& icmp_duplicates_family_;
    prometheus::Family<prometheus::Histogram>& icmp_rtt_family_;
    prometheus::Family<prometheus::Counter>& rate_limited_family_;
    prometheus::Histogram& lag_;
    prometheus::Gauge& in_flight_;
    prometheus::Gauge& jobs_;
    prometheus::Counter& overruns_;
    prometheus::Gauge& reload_ok_;
    prometheus::Gauge& reload_time_;
    prometheus::Counter& auth_failures_;
    prometheus::Counter& icmp_late_;
    prometheus::Counter& icmp_unmatched_;
    std::unordered_map<std::string, Series> series_;

    void add_series(const JobLabels& job);
    void remove_series(Series& s);
    void set_last_error(Series& s, const ProbeResult& result, const std::string& reporter_network);
};

}  // namespace fedprobe
