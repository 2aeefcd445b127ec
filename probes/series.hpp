// A probe kind's own series, described without Prometheus: the kind says which families it
// has and writes each job's values through SeriesWriter; the exporter turns that into the
// exposition format. So a kind owns its series while probes stay ignorant of Prometheus.
//
// Threads: record() runs on the probing thread, render() on a scrape thread, at the same time;
// implementations keep their values in atomics (or behind their own lock).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fedprobe {

struct ProbeResult;

enum class SeriesType { gauge, counter, histogram };

struct FamilyInfo {
    std::string_view name;  // fedprobe_..., base units, _total for counters
    std::string_view help;
    SeriesType type;
};

using ExtraLabel = std::pair<std::string_view, std::string_view>;

struct HistogramSnapshot {
    std::span<const double> bounds;         // upper bounds, +Inf excluded
    std::vector<std::uint64_t> cumulative;  // bounds.size() + 1 (the last is +Inf = count)
    double sum = 0;
};

// Receives one job's series of one family; the job's own labels are added by the writer.
class SeriesWriter {
  public:
    virtual ~SeriesWriter() = default;
    virtual void value(std::initializer_list<ExtraLabel> extra, double v) = 0;
    virtual void histogram(std::initializer_list<ExtraLabel> extra, const HistogramSnapshot& h) = 0;
};

// A histogram whose observe() is lock-free, so a scrape never blocks the probing thread.
template <std::size_t N>
class AtomicHistogram {
  public:
    explicit AtomicHistogram(const std::array<double, N>& bounds) : bounds_(bounds) {}
    void observe(double v) {
        std::size_t i = 0;
        while (i < N && v > bounds_[i])
            ++i;
        buckets_[i].fetch_add(1, std::memory_order_relaxed);
        double s = sum_.load(std::memory_order_relaxed);
        while (!sum_.compare_exchange_weak(s, s + v, std::memory_order_relaxed)) {
        }
    }
    HistogramSnapshot snapshot() const {
        HistogramSnapshot h;
        h.bounds = std::span<const double>(bounds_.data(), N);
        h.cumulative.resize(N + 1);
        std::uint64_t c = 0;
        for (std::size_t i = 0; i <= N; ++i)
            h.cumulative[i] = c += buckets_[i].load(std::memory_order_relaxed);
        h.sum = sum_.load(std::memory_order_relaxed);
        return h;
    }

  private:
    const std::array<double, N>& bounds_;
    std::array<std::atomic<std::uint64_t>, N + 1> buckets_{};
    std::atomic<double> sum_{0};
};

// A path a job traced, as the appliance's status page shows it: each hop and why the trace
// stopped (with a black hole, where).
struct TracedPath {
    struct Hop {
        std::string ttl, hop, network;  // hop "" for a silent TTL
    };
    std::string stop;
    std::vector<Hop> hops;
};

// One job's kind-specific series.
class KindSeries {
  public:
    virtual ~KindSeries() = default;
    virtual void record(const ProbeResult& result) = 0;
    // Writes this job's series of family `family` (an index into the kind's kFamilies).
    virtual void render(std::size_t family, SeriesWriter& out) const = 0;
    // Its rows in the status page's paths: none unless the kind traces. Any thread.
    virtual std::optional<TracedPath> traced_path() const { return std::nullopt; }
    // A finding of the kind's own beside the probe's outcome on the status page (idle: where
    // sessions are cut), or "". Any thread.
    virtual std::string status_note() const { return {}; }
};

// A kind with no series of its own.
class NoSeries : public KindSeries {
  public:
    void record(const ProbeResult&) override {}
    void render(std::size_t, SeriesWriter&) const override {}
};

}  // namespace fedprobe
