#include "exporters/prometheus_exporter.hpp"

namespace fedprobe {

namespace {

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
      lag_(prometheus::BuildHistogram()
               .Name("fedprobe_scheduler_lag_seconds")
               .Help("How late probes start against their schedule")
               .Register(*registry_)
               .Add({}, duration_buckets())),
      in_flight_(prometheus::BuildGauge()
                     .Name("fedprobe_probes_in_flight")
                     .Help("Probes started and not yet finished")
                     .Register(*registry_)
                     .Add({})),
      scheduled_(prometheus::BuildGauge()
                     .Name("fedprobe_scheduled_probes")
                     .Help("(target, probe) pairs this appliance runs")
                     .Register(*registry_)
                     .Add({})),
      overruns_(
          prometheus::BuildCounter()
              .Name("fedprobe_scheduler_overruns_total")
              .Help("Rounds skipped because the previous round of the same probe had not finished")
              .Register(*registry_)
              .Add({})),
      reload_ok_(prometheus::BuildGauge()
                     .Name("fedprobe_config_last_reload_successful")
                     .Help("1 when the last config load succeeded, 0 when it was rejected and the "
                           "old config kept")
                     .Register(*registry_)
                     .Add({})),
      reload_time_(prometheus::BuildGauge()
                       .Name("fedprobe_config_last_reload_success_timestamp_seconds")
                       .Help("When the config was last loaded successfully, in unix seconds")
                       .Register(*registry_)
                       .Add({})),
      auth_failures_(prometheus::BuildCounter()
                         .Name("fedprobe_web_auth_failures_total")
                         .Help("Basic-auth attempts on the metrics endpoint rejected for a wrong "
                               "user or password")
                         .Register(*registry_)
                         .Add({})),
      icmp_late_(prometheus::BuildCounter()
                     .Name("fedprobe_icmp_late_replies_total")
                     .Help("ICMP echo replies that arrived after their round had ended")
                     .Register(*registry_)
                     .Add({})),
      icmp_unmatched_(prometheus::BuildCounter()
                          .Name("fedprobe_icmp_unmatched_replies_total")
                          .Help("ICMP messages with fedprobe's marker that matched no request")
                          .Register(*registry_)
                          .Add({})),
      http_overloaded_(prometheus::BuildCounter()
                           .Name("fedprobe_http_overloaded_total")
                           .Help("http probes never started: too many were in flight for them to "
                                 "start within their timeout (each reported as error)")
                           .Register(*registry_)
                           .Add({})) {
    prometheus::BuildGauge()
        .Name("fedprobe_build_info")
        .Help("fedprobe's version; always 1")
        .Register(*registry_)
        .Add({{"version", version}})
        .Set(1);
}

std::vector<prometheus::MetricFamily> PrometheusExporter::collect() const {
    auto out = jobs_->Collect();
    auto flows = flows_->Collect();
    out.insert(out.end(), flows.begin(), flows.end());
    auto self = registry_->Collect();
    out.insert(out.end(), self.begin(), self.end());
    return out;
}

void PrometheusExporter::sync_jobs(const std::vector<JobLabels>& jobs) {
    std::vector<std::pair<std::string, Labels>> specs;
    specs.reserve(jobs.size());
    for (const auto& j : jobs)
        specs.emplace_back(j.key, j.labels);
    jobs_->sync(specs);
    scheduled_.Set(static_cast<double>(jobs.size()));
}

void PrometheusExporter::sync_flows(const std::vector<JobLabels>& flows) {
    std::vector<std::pair<std::string, Labels>> specs;
    for (const auto& f : flows)
        specs.push_back({f.key, f.labels});
    flows_->sync(specs);
}

void PrometheusExporter::set_http_overloaded(std::uint64_t total) {
    if (total > http_overloaded_.Value())
        http_overloaded_.Increment(static_cast<double>(total) - http_overloaded_.Value());
}

void PrometheusExporter::set_icmp_stats(std::uint64_t late_total, std::uint64_t unmatched_total) {
    if (late_total > icmp_late_.Value())
        icmp_late_.Increment(static_cast<double>(late_total) - icmp_late_.Value());
    if (unmatched_total > icmp_unmatched_.Value())
        icmp_unmatched_.Increment(static_cast<double>(unmatched_total) - icmp_unmatched_.Value());
}

void PrometheusExporter::observe_lag(Duration lag) {
    lag_.Observe(to_seconds(lag));
}

void PrometheusExporter::add_rate_limited(const std::string& network, std::uint64_t n) {
    rate_limited_family_.Add({{"network", network}}).Increment(static_cast<double>(n));
}

void PrometheusExporter::config_reloaded(bool ok, double unix_time) {
    reload_ok_.Set(ok ? 1 : 0);
    if (ok) reload_time_.Set(unix_time);
}

}  // namespace fedprobe
