#include "exporters/passive_series.hpp"

#include <limits>

namespace fedprobe {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(const char* name, const char* help, MetricType type) {
    MetricFamily f;
    f.name = name;
    f.help = help;
    f.type = type;
    return f;
}

ClientMetric metric(std::vector<ClientMetric::Label> labels) {
    ClientMetric m;
    m.label = std::move(labels);
    return m;
}

ClientMetric counter(std::vector<ClientMetric::Label> labels, double value) {
    ClientMetric m = metric(std::move(labels));
    m.counter.value = value;
    return m;
}

ClientMetric gauge(std::vector<ClientMetric::Label> labels, double value) {
    ClientMetric m = metric(std::move(labels));
    m.gauge.value = value;
    return m;
}

}  // namespace

void PassiveSeriesSet::set_site(const std::string& site) {
    std::lock_guard lock(mutex_);
    site_ = site;
}

void PassiveSeriesSet::add(const PassiveCounts& d, const PassiveLabels& l,
                           const CaptureHealth& health) {
    std::lock_guard lock(mutex_);
    active_ = true;
    const auto& net = l.networks();
    const auto& svc = l.services();
    for (const auto& [key, v] : d.handshakes) {
        auto [src, dst, service] = PassiveCounts::unkey(key);
        auto& mine = handshakes_[{net[src], net[dst], svc[service]}];
        for (std::size_t i = 0; i < v.size(); ++i)
            mine[i] += v[i];
    }
    for (const auto& [key, v] : d.icmp_errors) {
        auto [src, dst, reporter] = PassiveCounts::unkey(key);
        auto& mine = icmp_errors_[{net[src], net[dst], net[reporter]}];
        for (std::size_t i = 0; i < v.size(); ++i)
            mine[i] += v[i];
    }
    for (const auto& [key, v] : d.handshake_times) {
        auto k = PassiveCounts::unkey(key);
        auto& mine = times_[{net[k[0]], net[k[1]]}];
        for (std::size_t i = 0; i < v.buckets.size(); ++i)
            mine.buckets[i] += v.buckets[i];
        mine.sum += v.sum;
        mine.count += v.count;
    }
    syns_ += d.syns;
    truncated_ += d.truncated;
    malformed_ += d.malformed;
    table_full_ += d.flow_table_full;
    evicted_ += d.evicted;
    health_ = health;
}

void PassiveSeriesSet::clear() {
    std::lock_guard lock(mutex_);
    active_ = false;
    health_ = {};
}

std::vector<MetricFamily> PassiveSeriesSet::Collect() const {
    std::lock_guard lock(mutex_);
    if (!active_) return {};
    const ClientMetric::Label site{"site", site_};
    auto hs = family("fedprobe_passive_handshakes_total",
                     "TCP handshakes seen on the capture interfaces, by how they ended; retried "
                     "counts those whose SYN was sent again, beside their final outcome",
                     MetricType::Counter);
    for (const auto& [k, v] : handshakes_)
        for (std::size_t o = 0; o < kPassiveOutcomes; ++o)
            hs.metric.push_back(
                counter({{"dst_network", k[1]},
                         {"outcome", std::string(to_string(static_cast<PassiveOutcome>(o)))},
                         {"service", k[2]},
                         site,
                         {"src_network", k[0]}},
                        static_cast<double>(v[o])));
    auto icmp = family("fedprobe_passive_icmp_errors_total",
                       "ICMP errors seen that quote a TCP or UDP packet, by the network of the "
                       "device that sent them and what they say",
                       MetricType::Counter);
    static constexpr PassiveOutcome kIcmp[] = {PassiveOutcome::refused, PassiveOutcome::prohibited,
                                               PassiveOutcome::unreachable};
    for (const auto& [k, v] : icmp_errors_)
        for (PassiveOutcome o : kIcmp)
            icmp.metric.push_back(counter({{"dst_network", k[1]},
                                           {"outcome", std::string(to_string(o))},
                                           {"reporter_network", k[2]},
                                           site,
                                           {"src_network", k[0]}},
                                          static_cast<double>(v[static_cast<std::size_t>(o)])));
    auto times = family("fedprobe_passive_handshake_seconds",
                        "Time from a handshake's first SYN to its SYN-ACK, as seen on the wire",
                        MetricType::Histogram);
    for (const auto& [k, v] : times_) {
        ClientMetric m = metric({{"dst_network", k[1]}, site, {"src_network", k[0]}});
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < v.buckets.size(); ++i) {
            cumulative += v.buckets[i];
            m.histogram.bucket.push_back(
                {cumulative, i < kHandshakeBuckets.size()
                                 ? kHandshakeBuckets[i]
                                 : std::numeric_limits<double>::infinity()});
        }
        m.histogram.sample_count = v.count;
        m.histogram.sample_sum = v.sum;
        times.metric.push_back(std::move(m));
    }
    auto packets = family("fedprobe_passive_packets_total",
                          "Frames the kernel's capture filter let through, per interface",
                          MetricType::Counter);
    auto drops = family("fedprobe_passive_kernel_drops_total",
                        "Frames the kernel dropped for want of capture buffer, per interface: "
                        "the capture fell behind and its counts are low",
                        MetricType::Counter);
    auto up = family("fedprobe_passive_interface_up",
                     "1 while the interface is being captured on, 0 while it is missing or failed",
                     MetricType::Gauge);
    auto failures = family("fedprobe_passive_interface_failures_total",
                           "Failed opens of the interface and losses of it while capturing",
                           MetricType::Counter);
    for (const auto& itf : health_.interfaces) {
        std::vector<ClientMetric::Label> labels{{"interface", itf.name}, site};
        packets.metric.push_back(counter(labels, static_cast<double>(itf.packets)));
        drops.metric.push_back(counter(labels, static_cast<double>(itf.kernel_drops)));
        up.metric.push_back(gauge(labels, itf.capturing ? 1 : 0));
        failures.metric.push_back(counter(labels, static_cast<double>(itf.failures)));
    }
    auto tracked =
        family("fedprobe_passive_flows_tracked",
               "Handshakes followed now, waiting or recently finished", MetricType::Gauge);
    tracked.metric.push_back(gauge({site}, static_cast<double>(health_.flows_tracked)));
    auto full = family("fedprobe_passive_flow_table_full_total",
                       "SYNs of new handshakes not followed because the flow table was at "
                       "[fedprobe.capture] max_flows",
                       MetricType::Counter);
    full.metric.push_back(counter({site}, static_cast<double>(table_full_)));
    auto evicted = family("fedprobe_passive_flow_evictions_total",
                          "Finished handshakes forgotten early to make room for new ones: a late "
                          "retransmission of one of them would be counted again",
                          MetricType::Counter);
    evicted.metric.push_back(counter({site}, static_cast<double>(evicted_)));
    auto syns = family("fedprobe_passive_syns_total",
                       "SYNs seen (without ACK), retransmissions included", MetricType::Counter);
    syns.metric.push_back(counter({site}, static_cast<double>(syns_)));
    auto undecoded = family("fedprobe_passive_undecoded_packets_total",
                            "Frames whose headers could not be read: truncated (cut short before "
                            "the TCP flags or the quoted ports) or malformed",
                            MetricType::Counter);
    undecoded.metric.push_back(
        counter({{"reason", "truncated"}, site}, static_cast<double>(truncated_)));
    undecoded.metric.push_back(
        counter({{"reason", "malformed"}, site}, static_cast<double>(malformed_)));
    return {hs, icmp, times, packets, drops, up, failures, tracked, full, evicted, syns, undecoded};
}

}  // namespace fedprobe
