#include "exporters/prometheus_exporter.hpp"

#include <prometheus/text_serializer.h>

#include "policy/verdict.hpp"

namespace fedprobe {

namespace {

// The process's own single series, without labels.
prometheus::Counter& counter(prometheus::Registry& r, const char* name, const char* help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}
prometheus::Gauge& gauge(prometheus::Registry& r, const char* name, const char* help) {
    return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

prometheus::Histogram::BucketBoundaries duration_buckets() {
    return {kDurationBuckets.begin(), kDurationBuckets.end()};
}

}  // namespace

PrometheusExporter::PrometheusExporter(const std::string& version)
    : registry_(std::make_shared<prometheus::Registry>()),
      jobs_(std::make_shared<JobSeriesSet>()),
      flows_(std::make_shared<FlowSeriesSet>()),
      rate_limited_family_(prometheus::BuildCounter()
                               .Name("fedprobe_scheduler_rate_limited_total")
                               .Help("Probes delayed by the per-destination-network rate limit")
                               .Register(*registry_)),
      overloaded_family_(prometheus::BuildCounter()
                             .Name("fedprobe_probe_overloaded_total")
                             .Help("Rounds that measured the prober, not the network: it fell "
                                   "behind (reason: late_start, dropped_replies, queued); no "
                                   "outcome is recorded for them")
                             .Register(*registry_)),
      lag_(prometheus::BuildHistogram()
               .Name("fedprobe_scheduler_lag_seconds")
               .Help("How late probes start against their schedule")
               .Register(*registry_)
               .Add({}, duration_buckets())),
      in_flight_(
          gauge(*registry_, "fedprobe_probes_in_flight", "Probes started and not yet finished")),
      scheduled_(gauge(*registry_, "fedprobe_scheduled_probes",
                       "(target, probe) pairs this appliance runs")),
      overruns_(
          counter(*registry_, "fedprobe_scheduler_overruns_total",
                  "Rounds skipped because the previous round of the same probe had not finished")),
      reload_ok_(gauge(*registry_, "fedprobe_config_last_reload_successful",
                       "1 when the last config load succeeded, 0 when it was rejected and the "
                       "old config kept")),
      reload_time_(gauge(*registry_, "fedprobe_config_last_reload_success_timestamp_seconds",
                         "When the config was last loaded successfully, in unix seconds")),
      config_info_(prometheus::BuildGauge()
                       .Name("fedprobe_config_info")
                       .Help("The federation file this appliance runs: the SHA-256 of its "
                             "bytes; always 1")
                       .Register(*registry_)),
      auth_failures_(counter(*registry_, "fedprobe_web_auth_failures_total",
                             "Basic-auth attempts on the metrics endpoint rejected for a wrong "
                             "user or password")),
      flow_traces_(counter(*registry_, "fedprobe_flow_traces_total",
                           "path:SERVICE traces of allow flows found filtered (at most one per "
                           "flow per 10 minutes)")) {
    prometheus::BuildGauge()
        .Name("fedprobe_build_info")
        .Help("fedprobe's version; always 1")
        .Register(*registry_)
        .Add({{"version", version}})
        .Set(1);
    for (std::size_t k = 0; k < kKindCount; ++k)
        for (std::size_t r = 0; r < kAllOverloads.size(); ++r)
            overloaded_[k][r] =
                &overloaded_family_.Add({{"probe", std::string(kind_name(k))},
                                         {"reason", std::string(to_string(kAllOverloads[r]))}});
}

void PrometheusExporter::jobs_changed(std::span<LiveJob* const> jobs) {
    std::vector<JobLabels> probes, flows;
    for (const LiveJob* lj : jobs) {
        if (lj->job.flow)
            flows.push_back(JobLabels{lj->job.key(), lj->job.labels(), nullptr, {}, {}});
        else  // a kept job hands back its series; a new job's slot is still null
            probes.push_back(JobLabels{{},
                                       lj->job.labels(),
                                       static_cast<Series*>(lj->sink_data[slot]),
                                       expected_result(lj->job),
                                       expected_because(lj->job)});
    }
    const std::vector<Series*> series = sync_jobs(std::move(probes));
    sync_flows(flows);
    std::size_t next = 0;
    for (LiveJob* lj : jobs)
        lj->sink_data[slot] = lj->job.flow ? static_cast<void*>(find_flow(lj->job.key()))
                                           : static_cast<void*>(series[next++]);
}

void PrometheusExporter::finished(LiveJob& lj, const RoundReport& round) {
    const ProbeResult& r = round.result;
    if (r.overload) {
        overloaded_[lj.job.spec->kind][static_cast<std::size_t>(*r.overload)]->Increment();
        return;
    }
    if (lj.job.flow) {
        auto* s = static_cast<FlowSeriesSet::Series*>(lj.sink_data[slot]);
        const bool compliant = is_compliant(judge(lj.job.flow->expect, r.outcome));
        const double unix_now = static_cast<double>(realtime_ns()) / 1e9;
        const LiveJob::FlowTrace::Answer* answer = lj.answer();
        if (!r.reporter && r.outcome == Outcome::filtered && answer)
            record_flow(s, r.outcome, compliant, answer->reporter.str(), answer->network,
                        answer->outcome, unix_now);
        else
            record_flow(s, r.outcome, compliant, r.reporter ? r.reporter->str() : "",
                        round.reporter_network, r.outcome, unix_now);
        set_blocked_after(static_cast<FlowSeriesSet::Series*>(lj.sink_data[slot]),
                          lj.blocked_after());
        return;
    }
    record(static_cast<Series*>(lj.sink_data[slot]), r, round.reporter_network);
}

void PrometheusExporter::flow_traced(LiveJob& lj, const ProbeResult&) {
    if (lj.job.flow)
        set_blocked_after(static_cast<FlowSeriesSet::Series*>(lj.sink_data[slot]),
                          lj.blocked_after());
}

void PrometheusExporter::update_engine_stats(const Engine::Stats& stats) {
    in_flight_.Set(static_cast<double>(stats.in_flight));
    if (static_cast<double>(stats.blocked_traces) > flow_traces_.Value())
        flow_traces_.Increment(static_cast<double>(stats.blocked_traces) - flow_traces_.Value());
    if (stats.overruns > overruns_.Value())
        overruns_.Increment(static_cast<double>(stats.overruns) - overruns_.Value());
    for (const auto& [network, n] : stats.rate_limited) {
        auto& c = rate_limited_family_.Add({{"network", network}});
        if (static_cast<double>(n) > c.Value()) c.Increment(static_cast<double>(n) - c.Value());
    }
}

std::vector<prometheus::MetricFamily> PrometheusExporter::collect() const {
    auto out = jobs_->Collect();
    auto flows = flows_->Collect();
    out.insert(out.end(), flows.begin(), flows.end());
    auto passive = passive_->Collect();
    out.insert(out.end(), passive.begin(), passive.end());
    auto reflector = stamp_reflector_->Collect();
    out.insert(out.end(), reflector.begin(), reflector.end());
    auto totals = probe_totals_->Collect();
    out.insert(out.end(), totals.begin(), totals.end());
    auto self = registry_->Collect();
    out.insert(out.end(), self.begin(), self.end());
    return out;
}

void PrometheusExporter::write_text(std::string& out) const {
    // The same order as collect(): the jobs' series straight as text, the rest (a few dozen
    // families whatever the size of the config) through prometheus-cpp's serializer.
    // Sized from the last scrape (the body barely changes between scrapes): growing by doubling
    // would hold the old and the new buffer at once, 1.5 times the body at the peak.
    const std::size_t start = out.size();
    out.reserve(start + last_text_size_.load(std::memory_order_relaxed) * 9 / 8);
    jobs_->write_text(out);
    std::vector<prometheus::MetricFamily> rest = flows_->Collect();
    for (const auto& c : {passive_->Collect(), stamp_reflector_->Collect(),
                          probe_totals_->Collect(), registry_->Collect()})
        rest.insert(rest.end(), c.begin(), c.end());
    out.append(prometheus::TextSerializer().Serialize(rest));
    last_text_size_.store(out.size() - start, std::memory_order_relaxed);
}

std::vector<PrometheusExporter::Series*> PrometheusExporter::sync_jobs(
    std::vector<JobLabels> jobs) {
    std::vector<JobSeriesSet::Wanted> wanted;
    wanted.reserve(jobs.size());
    for (auto& j : jobs)
        wanted.push_back({std::move(j.labels), j.previous, j.expect, std::move(j.expect_because)});
    scheduled_.Set(static_cast<double>(jobs.size()));
    return jobs_->sync(wanted);
}

void PrometheusExporter::sync_flows(const std::vector<JobLabels>& flows) {
    std::vector<std::pair<std::string, Labels>> specs;
    for (const auto& f : flows)
        specs.push_back({f.key, f.labels});
    flows_->sync(specs);
}

void PrometheusExporter::observe_lag(Duration lag) {
    lag_.Observe(to_seconds(lag));
}

void PrometheusExporter::config_reloaded(bool ok, double unix_time, const std::string& sha256) {
    reload_ok_.Set(ok ? 1 : 0);
    if (!ok) return;
    reload_time_.Set(unix_time);
    if (sha256.empty() || sha256 == config_sha256_) return;
    if (config_info_now_) config_info_.Remove(config_info_now_);
    config_info_now_ = &config_info_.Add({{"sha256", sha256}});
    config_info_now_->Set(1);
    config_sha256_ = sha256;
}

}  // namespace fedprobe
