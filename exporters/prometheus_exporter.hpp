// Turns probe results into Prometheus series: the metrics sink of the engine. The only place
// that knows about Prometheus: probes hand results to the engine, the engine hands them here.
//
// Threads: the ResultSink calls and the setters run on the engine's thread; collect() and the
// collectables are read by scrape threads at the same time.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/sink.hpp"
#include "exporters/flow_series.hpp"
#include "exporters/job_series.hpp"
#include "exporters/passive_series.hpp"
#include "exporters/probe_totals.hpp"
#include "exporters/stamp_reflector_series.hpp"
#include "policy/expectation.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

struct JobLabels {
    JobLabels(std::string k, Labels l, JobSeriesSet::Series* p = nullptr, ExpectedResult e = {},
              std::string because = {})
        : key(std::move(k)),
          labels(std::move(l)),
          previous(p),
          expect(e),
          expect_because(std::move(because)) {}
    std::string key;  // flows: their series are found by it; probe jobs pass `previous`
    Labels labels;    // site, network, target, probe, service + the target's static labels
    JobSeriesSet::Series* previous = nullptr;  // a probe job's handle from the last sync_jobs
    ExpectedResult expect{};                   // what its result should be (policy/expectation)
    std::string expect_because;                // "flow:ID", "target", or "" for success
};

class PrometheusExporter : public ResultSink {
  public:
    using Series = JobSeriesSet::Series;

    explicit PrometheusExporter(const std::string& version);

    // ResultSink: each job's series live as long as the job; flows get the policy's series.
    void jobs_changed(std::span<LiveJob* const> jobs) override;
    void started(const LiveJob&, Duration lag) override { observe_lag(lag); }
    void finished(LiveJob& job, const RoundReport& round) override;
    void flow_traced(LiveJob& job, const ProbeResult& path_result) override;
    // The engine's own counters, as running totals (called every few seconds).
    void update_engine_stats(const Engine::Stats& stats);

    // Every family as prometheus-cpp's objects: the reference write_text is tested against.
    std::vector<prometheus::MetricFamily> collect() const;
    // What /metrics serves: collect()'s families as exposition text, appended to `out`. Scrape
    // threads, any number at once.
    void write_text(std::string& out) const;

    // Makes the job series match `jobs`: adds new ones (every outcome counter at 0), removes the
    // series of jobs that left the config, keeps the rest untouched. Returns each job's handle
    // for record(), valid until the next sync_jobs().
    std::vector<Series*> sync_jobs(std::vector<JobLabels> jobs);
    // The policy's flows (labels: site, flow, from, to, network, service, expect).
    void sync_flows(const std::vector<JobLabels>& flows);
    FlowSeriesSet::Series* find_flow(const std::string& key) { return flows_->find(key); }
    void record_flow(FlowSeriesSet::Series* s, Outcome outcome, bool compliant,
                     const std::string& reporter, const std::string& reporter_network,
                     Outcome answered, double unix_now) {
        flows_->record(s, outcome, compliant, reporter, reporter_network, answered, unix_now);
    }
    // The hot path: a job keeps its series' handle (from sync_jobs) instead of a lookup per probe.
    void record(Series* series, const ProbeResult& result, const std::string& reporter_network) {
        jobs_->record(series, result, reporter_network);
    }

    void set_blocked_after(FlowSeriesSet::Series* s, const std::optional<BlockedAfter>& b) {
        flows_->set_blocked_after(s, b);
    }

    void observe_lag(Duration lag);
    // After each load: whether it was taken, and when; with the SHA-256 of the file now running
    // (fedprobe_config_info, one series, replaced when the file changes).
    void config_reloaded(bool ok, double unix_time, const std::string& sha256 = "");
    void auth_failed() { auth_failures_.Increment(); }
    // A kind's probe's own counters (Probe::totals), as running totals.
    void set_probe_totals(std::size_t kind, std::span<const std::uint64_t> totals) {
        probe_totals_->set(kind, totals);
    }
    std::size_t series_count() const { return jobs_->size(); }
    // For the status page, which reads them from the HTTP threads.
    const JobSeriesSet& job_series() const { return *jobs_; }
    const FlowSeriesSet& flow_series() const { return *flows_; }
    // Passive capture's series: handed counts by the daemon's LiveCapture.
    PassiveSeriesSet& passive() { return *passive_; }
    // The STAMP reflector's counts: the daemon hands them to the reflector it runs.
    StampReflectorSeries& stamp_reflector() { return *stamp_reflector_; }

  private:
    mutable std::atomic<std::size_t> last_text_size_{0};  // write_text's last body, for reserve
    std::shared_ptr<prometheus::Registry> registry_;
    std::shared_ptr<JobSeriesSet> jobs_;
    std::shared_ptr<FlowSeriesSet> flows_;
    std::shared_ptr<PassiveSeriesSet> passive_ = std::make_shared<PassiveSeriesSet>();
    std::shared_ptr<StampReflectorSeries> stamp_reflector_ =
        std::make_shared<StampReflectorSeries>();
    std::shared_ptr<ProbeTotals> probe_totals_ = std::make_shared<ProbeTotals>();
    prometheus::Family<prometheus::Counter>& rate_limited_family_;
    prometheus::Family<prometheus::Counter>& overloaded_family_;
    // [kind][reason]: made up front so increase() sees them from zero.
    std::array<std::array<prometheus::Counter*, kAllOverloads.size()>, kKindCount> overloaded_{};
    prometheus::Histogram& lag_;
    prometheus::Gauge& in_flight_;
    prometheus::Gauge& scheduled_;
    prometheus::Counter& overruns_;
    prometheus::Gauge& reload_ok_;
    prometheus::Gauge& reload_time_;
    prometheus::Family<prometheus::Gauge>& config_info_;
    prometheus::Gauge* config_info_now_ = nullptr;
    std::string config_sha256_;
    prometheus::Counter& auth_failures_;
    prometheus::Counter& flow_traces_;
};

}  // namespace fedprobe
