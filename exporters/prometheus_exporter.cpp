#include "exporters/prometheus_exporter.hpp"

#include <limits>

namespace fedprobe {

namespace {

// One bucket layout for every duration: 100 µs (loopback, LAN) to 10 s (long timeouts).
const prometheus::Histogram::BucketBoundaries kDurationBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

}  // namespace

PrometheusExporter::PrometheusExporter(const std::string& version)
    : registry_(std::make_shared<prometheus::Registry>()),
      success_family_(prometheus::BuildGauge()
                          .Name("fedprobe_probe_success")
                          .Help("1 when the last probe of this target and kind succeeded, else 0")
                          .Register(*registry_)),
      outcome_family_(prometheus::BuildCounter()
                          .Name("fedprobe_probe_outcome_total")
                          .Help("Probes by outcome: ok, refused, filtered, prohibited, unreachable, error")
                          .Register(*registry_)),
      duration_family_(prometheus::BuildHistogram()
                           .Name("fedprobe_probe_duration_seconds")
                           .Help("Connect time or round-trip time, or time until the verdict when failed")
                           .Register(*registry_)),
      last_error_family_(prometheus::BuildGauge()
                             .Name("fedprobe_probe_last_error_info")
                             .Help("Why the last probe failed and which device said so; absent after success")
                             .Register(*registry_)),
      icmp_sent_family_(prometheus::BuildCounter()
                            .Name("fedprobe_icmp_packets_sent_total")
                            .Help("ICMP echo requests sent")
                            .Register(*registry_)),
      icmp_received_family_(prometheus::BuildCounter()
                                .Name("fedprobe_icmp_packets_received_total")
                                .Help("ICMP echo replies matched to a request in time (duplicates excluded)")
                                .Register(*registry_)),
      icmp_duplicates_family_(prometheus::BuildCounter()
                                  .Name("fedprobe_icmp_duplicate_packets_total")
                                  .Help("ICMP echo replies received more than once")
                                  .Register(*registry_)),
      icmp_rtt_family_(prometheus::BuildHistogram()
                           .Name("fedprobe_icmp_rtt_seconds")
                           .Help("Round-trip time of each ICMP echo reply (kernel receive timestamps)")
                           .Register(*registry_)),
      rate_limited_family_(prometheus::BuildCounter()
                               .Name("fedprobe_scheduler_rate_limited_total")
                               .Help("Probes delayed by the per-destination-network rate limit")
                               .Register(*registry_)),
      lag_(prometheus::BuildHistogram()
               .Name("fedprobe_scheduler_lag_seconds")
               .Help("How late probes start against their schedule")
               .Register(*registry_)
               .Add({}, kDurationBuckets)),
      in_flight_(prometheus::BuildGauge()
                     .Name("fedprobe_probes_in_flight")
                     .Help("Probes started and not yet finished")
                     .Register(*registry_)
                     .Add({})),
      jobs_(prometheus::BuildGauge()
                .Name("fedprobe_scheduled_probes")
                .Help("(target, probe) pairs this appliance runs")
                .Register(*registry_)
                .Add({})),
      overruns_(prometheus::BuildCounter()
                    .Name("fedprobe_scheduler_overruns_total")
                    .Help("Rounds skipped because the previous round of the same probe had not finished")
                    .Register(*registry_)
                    .Add({})),
      reload_ok_(prometheus::BuildGauge()
                     .Name("fedprobe_config_last_reload_successful")
                     .Help("1 when the last config load succeeded, 0 when it was rejected and the old config kept")
                     .Register(*registry_)
                     .Add({})),
      reload_time_(prometheus::BuildGauge()
                       .Name("fedprobe_config_last_reload_success_timestamp_seconds")
                       .Help("When the config was last loaded successfully, in unix seconds")
                       .Register(*registry_)
                       .Add({})),
      auth_failures_(prometheus::BuildCounter()
                         .Name("fedprobe_web_auth_failures_total")
                         .Help("Rejected basic-auth attempts on the metrics endpoint")
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
                          .Add({})) {
    prometheus::BuildGauge()
        .Name("fedprobe_build_info")
        .Help("fedprobe's version; always 1")
        .Register(*registry_)
        .Add({{"version", version}})
        .Set(1);
}

void PrometheusExporter::add_series(const JobLabels& job) {
    Series s;
    s.labels = job.labels;
    s.success = &success_family_.Add(job.labels);
    s.success->Set(std::numeric_limits<double>::quiet_NaN());  // not probed yet: neither up nor down
    for (std::size_t i = 0; i < kAllOutcomes.size(); ++i) {
        Labels l = job.labels;
        l["outcome"] = std::string(to_string(kAllOutcomes[i]));
        s.outcomes[i] = &outcome_family_.Add(l);
    }
    s.duration = &duration_family_.Add(job.labels, kDurationBuckets);
    if (job.icmp) {
        s.icmp_sent = &icmp_sent_family_.Add(job.labels);
        s.icmp_received = &icmp_received_family_.Add(job.labels);
        s.icmp_duplicates = &icmp_duplicates_family_.Add(job.labels);
        s.icmp_rtt = &icmp_rtt_family_.Add(job.labels, kDurationBuckets);
    }
    series_.emplace(job.key, std::move(s));
}

void PrometheusExporter::remove_series(Series& s) {
    success_family_.Remove(s.success);
    for (auto* c : s.outcomes) outcome_family_.Remove(c);
    duration_family_.Remove(s.duration);
    if (s.icmp_sent) {
        icmp_sent_family_.Remove(s.icmp_sent);
        icmp_received_family_.Remove(s.icmp_received);
        icmp_duplicates_family_.Remove(s.icmp_duplicates);
        icmp_rtt_family_.Remove(s.icmp_rtt);
    }
    if (s.last_error) last_error_family_.Remove(s.last_error);
}

void PrometheusExporter::sync_jobs(const std::vector<JobLabels>& jobs) {
    std::unordered_map<std::string, const JobLabels*> wanted;
    for (const auto& j : jobs) wanted[j.key] = &j;
    for (auto it = series_.begin(); it != series_.end();) {
        auto w = wanted.find(it->first);
        // A job whose labels changed (new network, new static labels) gets fresh series.
        if (w == wanted.end() || w->second->labels != it->second.labels ||
            w->second->icmp != (it->second.icmp_sent != nullptr)) {
            remove_series(it->second);
            it = series_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& j : jobs)
        if (!series_.count(j.key)) add_series(j);
    jobs_.Set(static_cast<double>(series_.size()));
}

void PrometheusExporter::set_last_error(Series& s, const ProbeResult& result, const std::string& reporter_network) {
    if (result.outcome == Outcome::ok) {
        if (s.last_error) last_error_family_.Remove(s.last_error);
        s.last_error = nullptr;
        return;
    }
    Labels l = s.labels;
    l["outcome"] = std::string(to_string(result.outcome));
    l["reporter"] = result.reporter ? result.reporter->str() : "";
    l["reporter_network"] = result.reporter ? reporter_network : "";
    if (s.last_error && l == s.last_error_labels) return;
    if (s.last_error) last_error_family_.Remove(s.last_error);
    s.last_error = &last_error_family_.Add(l);
    s.last_error->Set(1);
    s.last_error_labels = std::move(l);
}

void PrometheusExporter::record(const std::string& key, const ProbeResult& result, const std::string& reporter_network) {
    auto it = series_.find(key);
    if (it == series_.end()) return;  // the job left the config while this probe ran
    Series& s = it->second;
    s.success->Set(result.outcome == Outcome::ok ? 1 : 0);
    s.outcomes[static_cast<std::size_t>(result.outcome)]->Increment();
    s.duration->Observe(to_seconds(result.duration));
    if (s.icmp_sent) {
        s.icmp_sent->Increment(result.packets_sent);
        s.icmp_received->Increment(result.packets_received);
        s.icmp_duplicates->Increment(result.duplicates);
        for (auto rtt : result.rtts) s.icmp_rtt->Observe(to_seconds(rtt));
    }
    set_last_error(s, result, reporter_network);
}

void PrometheusExporter::set_icmp_stats(std::uint64_t late_total, std::uint64_t unmatched_total) {
    if (late_total > icmp_late_.Value()) icmp_late_.Increment(static_cast<double>(late_total) - icmp_late_.Value());
    if (unmatched_total > icmp_unmatched_.Value())
        icmp_unmatched_.Increment(static_cast<double>(unmatched_total) - icmp_unmatched_.Value());
}

void PrometheusExporter::observe_lag(Duration lag) { lag_.Observe(to_seconds(lag)); }

void PrometheusExporter::add_rate_limited(const std::string& network, std::uint64_t n) {
    rate_limited_family_.Add({{"network", network}}).Increment(static_cast<double>(n));
}

void PrometheusExporter::config_reloaded(bool ok, double unix_time) {
    reload_ok_.Set(ok ? 1 : 0);
    if (ok) reload_time_.Set(unix_time);
}

}  // namespace fedprobe
