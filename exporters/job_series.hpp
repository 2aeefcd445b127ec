// The per-(target, probe) series, kept compact: plain atomic counters and bucket arrays, with
// the metric families built only when Prometheus scrapes. prometheus-cpp's own objects cost
// about 10 KB per target (a label map per series); these cost under 1 KB.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "probes/probe.hpp"

namespace fedprobe {

using Labels = std::map<std::string, std::string>;

// One bucket layout for every duration: 100 µs (loopback, LAN) to 10 s (long timeouts).
inline constexpr std::array<double, 16> kDurationBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

class AtomicHistogram {
  public:
    void observe(double seconds);
    prometheus::ClientMetric::Histogram snapshot() const;

  private:
    std::array<std::atomic<std::uint64_t>, kDurationBuckets.size() + 1> buckets_{};  // last: +Inf
    std::atomic<double> sum_{0};
};

// What an http job exports beyond the common series. The phases and status are the last
// probe's; the TLS facts are from the last handshake that got that far, so an unreachable
// server keeps showing when its certificate expires.
struct HttpSeries {
    std::atomic<int> status{0};
    std::array<std::atomic<double>, 5> phases{};  // resolve, connect, tls, processing, transfer
    std::atomic<bool> tls_seen{false};
    std::atomic<double> verified{0}, leaf_not_after{0}, chain_not_after{0};
    std::atomic<bool> dates_seen{false};
    std::string tls_version;  // guarded by JobSeriesSet's errors_mutex_
};

class JobSeriesSet : public prometheus::Collectable {
  public:
    struct Series;

    // Adds new jobs, removes departed ones, replaces those whose labels changed. Returns nothing:
    // find() gives the handles, valid until the next sync.
    void sync(const std::vector<std::pair<std::string, Labels>>& jobs);
    Series* find(const std::string& key);
    // Probe thread only; lock-free except when the last error changes.
    void record(Series* s, const ProbeResult& result, const std::string& reporter_network);
    std::size_t size() const;

    std::vector<prometheus::MetricFamily> Collect() const override;

    struct Series {
        std::vector<prometheus::ClientMetric::Label> labels;  // sorted by name
        bool icmp = false;
        std::atomic<double> success{0};
        std::array<std::atomic<std::uint64_t>, kAllOutcomes.size()> outcomes{};
        AtomicHistogram duration;
        std::atomic<std::uint64_t> icmp_sent{0}, icmp_received{0}, icmp_duplicates{0};
        std::unique_ptr<AtomicHistogram> icmp_rtt;  // icmp jobs only
        bool dns = false;
        std::atomic<int> dns_rcode{-1}, dns_answers{-1};
        std::unique_ptr<HttpSeries> http;  // http jobs only
        // The last failure and who reported it; guarded by errors_mutex_.
        bool failing = false;
        Outcome error_outcome = Outcome::ok;
        std::string reporter, reporter_network;
    };

  private:
    mutable std::shared_mutex structure_mutex_;  // sync (unique) against Collect (shared)
    mutable std::mutex errors_mutex_;            // last-error fields
    std::unordered_map<std::string, std::unique_ptr<Series>> series_;
    std::vector<std::string> order_;  // exposition order: config order

    void record_http(HttpSeries& h, const HttpResult& r);
};

}  // namespace fedprobe
