#include "exporters/job_series.hpp"

#include <algorithm>
#include <limits>

namespace fedprobe {

void AtomicHistogram::observe(double seconds) {
    auto it = std::lower_bound(kDurationBuckets.begin(), kDurationBuckets.end(), seconds);
    buckets_[static_cast<std::size_t>(it - kDurationBuckets.begin())].fetch_add(
        1, std::memory_order_relaxed);
    sum_.fetch_add(seconds, std::memory_order_relaxed);
}

prometheus::ClientMetric::Histogram AtomicHistogram::snapshot() const {
    prometheus::ClientMetric::Histogram h;
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        cumulative += buckets_[i].load(std::memory_order_relaxed);
        h.bucket.push_back({cumulative, i < kDurationBuckets.size()
                                            ? kDurationBuckets[i]
                                            : std::numeric_limits<double>::infinity()});
    }
    h.sample_count = cumulative;  // from the buckets, so count and +Inf always agree
    h.sample_sum = sum_.load(std::memory_order_relaxed);
    return h;
}

void JobSeriesSet::sync(const std::vector<std::pair<std::string, Labels>>& jobs) {
    std::unique_lock lock(structure_mutex_);
    std::unordered_map<std::string, std::unique_ptr<Series>> next;
    order_.clear();
    for (const auto& [key, labels] : jobs) {
        std::vector<prometheus::ClientMetric::Label> sorted;
        for (const auto& [name, value] : labels)
            sorted.push_back({name, value});  // std::map: already sorted
        auto old = series_.find(key);
        if (old != series_.end() && old->second->labels == sorted) {
            next.emplace(key, std::move(old->second));
        } else {
            // The probe kind's own series follow from the "probe" label.
            auto probe = labels.find("probe");
            const std::string kind = probe == labels.end() ? "" : probe->second;
            auto s = std::make_unique<Series>();
            s->labels = std::move(sorted);
            s->success.store(std::numeric_limits<double>::quiet_NaN());  // not probed yet
            s->icmp = kind == "icmp";
            s->dns = kind == "dns";
            if (s->icmp) s->icmp_rtt = std::make_unique<AtomicHistogram>();
            if (kind == "http") s->http = std::make_unique<HttpSeries>();
            next.emplace(key, std::move(s));
        }
        order_.push_back(key);
    }
    series_ = std::move(next);  // departed jobs' series go with the old map
}

JobSeriesSet::Series* JobSeriesSet::find(const std::string& key) {
    std::shared_lock lock(structure_mutex_);
    auto it = series_.find(key);
    return it == series_.end() ? nullptr : it->second.get();
}

std::size_t JobSeriesSet::size() const {
    std::shared_lock lock(structure_mutex_);
    return series_.size();
}

void JobSeriesSet::record_http(HttpSeries& h, const HttpResult& r) {
    h.status.store(r.status, std::memory_order_relaxed);
    const double phases[] = {r.phases.resolve, r.phases.connect, r.phases.tls, r.phases.processing,
                             r.phases.transfer};
    for (std::size_t i = 0; i < h.phases.size(); ++i)
        h.phases[i].store(phases[i], std::memory_order_relaxed);
    if (!r.tls_used) return;
    if (r.verified) h.verified.store(*r.verified ? 1 : 0, std::memory_order_relaxed);
    if (r.leaf_not_after) {
        h.leaf_not_after.store(*r.leaf_not_after, std::memory_order_relaxed);
        h.chain_not_after.store(r.chain_not_after.value_or(*r.leaf_not_after),
                                std::memory_order_relaxed);
        h.dates_seen.store(true, std::memory_order_release);
    }
    if (!h.tls_seen.load(std::memory_order_relaxed) || h.tls_version != r.tls_version) {
        std::lock_guard lock(errors_mutex_);
        h.tls_version = r.tls_version;
    }
    h.tls_seen.store(true, std::memory_order_release);
}

void JobSeriesSet::record(Series* s, const ProbeResult& r, const std::string& reporter_network) {
    if (!s) return;
    s->success.store(r.outcome == Outcome::ok ? 1 : 0, std::memory_order_relaxed);
    s->outcomes[static_cast<std::size_t>(r.outcome)].fetch_add(1, std::memory_order_relaxed);
    s->duration.observe(to_seconds(r.duration));
    if (s->icmp) {
        s->icmp_sent.fetch_add(r.packets_sent, std::memory_order_relaxed);
        s->icmp_received.fetch_add(r.packets_received, std::memory_order_relaxed);
        s->icmp_duplicates.fetch_add(r.duplicates, std::memory_order_relaxed);
        for (auto rtt : r.rtts)
            s->icmp_rtt->observe(to_seconds(rtt));
    }
    if (s->dns) {
        s->dns_rcode.store(r.dns_rcode, std::memory_order_relaxed);
        s->dns_answers.store(r.dns_answers, std::memory_order_relaxed);
    }
    if (s->http && r.http) record_http(*s->http, *r.http);
    // The last-error series changes rarely; only then is a lock taken.
    const bool failing = r.outcome != Outcome::ok;
    const std::string reporter = failing && r.reporter ? r.reporter->str() : std::string();
    if (failing == s->failing &&
        (!failing || (r.outcome == s->error_outcome && reporter == s->reporter)))
        return;
    std::lock_guard lock(errors_mutex_);
    s->failing = failing;
    s->error_outcome = r.outcome;
    s->reporter = reporter;
    s->reporter_network = r.reporter ? reporter_network : "";
}

namespace {

prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type) {
    prometheus::MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    return f;
}

// Labels with extra ones merged in name order, as the exposition format expects.
std::vector<prometheus::ClientMetric::Label> with(
    const std::vector<prometheus::ClientMetric::Label>& base,
    std::initializer_list<prometheus::ClientMetric::Label> extra) {
    auto out = base;
    out.insert(out.end(), extra.begin(), extra.end());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

std::vector<prometheus::MetricFamily> JobSeriesSet::Collect() const {
    using prometheus::ClientMetric;
    using prometheus::MetricType;
    auto success = family("fedprobe_probe_success",
                          "1 when the last probe of this target and kind succeeded, 0 when it "
                          "failed, NaN before the first",
                          MetricType::Gauge);
    auto outcomes = family(
        "fedprobe_probe_outcome_total",
        "Probes by outcome: ok, refused, filtered, prohibited, unreachable, error, mismatch, "
        "tls_error",
        MetricType::Counter);
    auto duration = family("fedprobe_probe_duration_seconds",
                           "Connect time or round-trip time, or time until the verdict when failed",
                           MetricType::Histogram);
    auto last_error =
        family("fedprobe_probe_last_error_info",
               "Why the last probe failed and which device said so; absent after success",
               MetricType::Gauge);
    auto sent =
        family("fedprobe_icmp_packets_sent_total", "ICMP echo requests sent", MetricType::Counter);
    auto received = family("fedprobe_icmp_packets_received_total",
                           "ICMP echo replies matched to a request in time (duplicates excluded)",
                           MetricType::Counter);
    auto duplicates = family("fedprobe_icmp_duplicate_packets_total",
                             "ICMP echo replies received more than once", MetricType::Counter);
    auto rtt = family("fedprobe_icmp_rtt_seconds",
                      "Round-trip time of each ICMP echo reply (kernel receive timestamps)",
                      MetricType::Histogram);
    auto rcode = family("fedprobe_dns_rcode",
                        "The DNS response code of the last answer (0 NOERROR, 2 SERVFAIL, 3 "
                        "NXDOMAIN, 5 REFUSED; -1 none)",
                        MetricType::Gauge);
    auto answers =
        family("fedprobe_dns_answers",
               "How many answers the last DNS response held (-1: no response)", MetricType::Gauge);

    auto status = family("fedprobe_http_status_code",
                         "HTTP status code of the last probe (0: no response)", MetricType::Gauge);
    auto phases = family("fedprobe_http_duration_seconds",
                         "Seconds the last http probe spent in each phase (0: not reached)",
                         MetricType::Gauge);
    auto tls_version = family("fedprobe_http_tls_version_info", "TLS version of the last handshake",
                              MetricType::Gauge);
    auto verified = family("fedprobe_tls_cert_verified",
                           "1 when the last certificate verified against the CA bundle and the "
                           "URL's host, 0 when not",
                           MetricType::Gauge);
    auto not_after = family("fedprobe_tls_cert_not_after_timestamp_seconds",
                            "When the server's certificate expires: cert=leaf, or cert=earliest "
                            "for the earliest in the chain it presented",
                            MetricType::Gauge);

    std::shared_lock lock(structure_mutex_);
    for (const auto& key : order_) {
        const Series& s = *series_.at(key);
        ClientMetric m;
        m.label = s.labels;
        m.gauge.value = s.success.load(std::memory_order_relaxed);
        success.metric.push_back(m);
        for (std::size_t i = 0; i < kAllOutcomes.size(); ++i) {
            ClientMetric c;
            c.label = with(s.labels, {{"outcome", std::string(to_string(kAllOutcomes[i]))}});
            c.counter.value = static_cast<double>(s.outcomes[i].load(std::memory_order_relaxed));
            outcomes.metric.push_back(std::move(c));
        }
        ClientMetric h;
        h.label = s.labels;
        h.histogram = s.duration.snapshot();
        duration.metric.push_back(std::move(h));
        {
            std::lock_guard errors(errors_mutex_);
            if (s.failing) {
                ClientMetric e;
                e.label = with(s.labels, {{"outcome", std::string(to_string(s.error_outcome))},
                                          {"reporter", s.reporter},
                                          {"reporter_network", s.reporter_network}});
                e.gauge.value = 1;
                last_error.metric.push_back(std::move(e));
            }
        }
        if (s.dns) {
            ClientMetric c;
            c.label = s.labels;
            c.gauge.value = s.dns_rcode.load(std::memory_order_relaxed);
            rcode.metric.push_back(c);
            c.gauge.value = s.dns_answers.load(std::memory_order_relaxed);
            answers.metric.push_back(std::move(c));
        }
        if (s.http) {
            const HttpSeries& hs = *s.http;
            ClientMetric c;
            c.label = s.labels;
            c.gauge.value = hs.status.load(std::memory_order_relaxed);
            status.metric.push_back(c);
            static const char* kPhases[] = {"resolve", "connect", "tls", "processing", "transfer"};
            for (std::size_t i = 0; i < hs.phases.size(); ++i) {
                ClientMetric p;
                p.label = with(s.labels, {{"phase", kPhases[i]}});
                p.gauge.value = hs.phases[i].load(std::memory_order_relaxed);
                phases.metric.push_back(std::move(p));
            }
            if (hs.tls_seen.load(std::memory_order_acquire)) {
                ClientMetric v;
                {
                    std::lock_guard errors(errors_mutex_);
                    v.label = with(s.labels, {{"version", hs.tls_version}});
                }
                v.gauge.value = 1;
                tls_version.metric.push_back(std::move(v));
                c.gauge.value = hs.verified.load(std::memory_order_relaxed);
                verified.metric.push_back(c);
            }
            if (hs.dates_seen.load(std::memory_order_acquire)) {
                ClientMetric d;
                d.label = with(s.labels, {{"cert", "leaf"}});
                d.gauge.value = hs.leaf_not_after.load(std::memory_order_relaxed);
                not_after.metric.push_back(d);
                d.label = with(s.labels, {{"cert", "earliest"}});
                d.gauge.value = hs.chain_not_after.load(std::memory_order_relaxed);
                not_after.metric.push_back(std::move(d));
            }
        }
        if (s.icmp) {
            auto counter = [&](prometheus::MetricFamily& f, const std::atomic<std::uint64_t>& v) {
                ClientMetric c;
                c.label = s.labels;
                c.counter.value = static_cast<double>(v.load(std::memory_order_relaxed));
                f.metric.push_back(std::move(c));
            };
            counter(sent, s.icmp_sent);
            counter(received, s.icmp_received);
            counter(duplicates, s.icmp_duplicates);
            ClientMetric r;
            r.label = s.labels;
            r.histogram = s.icmp_rtt->snapshot();
            rtt.metric.push_back(std::move(r));
        }
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto* f : {&success, &outcomes, &duration, &last_error, &sent, &received, &duplicates,
                    &rtt, &rcode, &answers, &status, &phases, &tls_version, &verified, &not_after})
        if (!f->metric.empty()) out.push_back(std::move(*f));
    return out;
}

}  // namespace fedprobe
