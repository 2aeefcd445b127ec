// The per-(target, probe) series, kept compact: plain atomic counters and bucket arrays, with
// the metric families built only when Prometheus scrapes. The common series (success,
// outcomes, duration, last error, whether the result is the one the config expects) are the
// same for every kind; each kind adds its own through
// its KindSeries (probes/series.hpp). Labels whose value is empty are left out of the
// exposition: Prometheus treats an empty label as an absent one.
//
// Three rooms: the store (job_series.cpp: sync, record), the renderers (job_series_render.cpp:
// Collect, write_text) and the status page's rows (job_series_status.cpp: fill_status).
//
// Threads: sync() and record() on the engine's thread; Collect() on scrape threads.
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
#include <vector>

#include "engine/jobs.hpp"
#include "exporters/packed_labels.hpp"
#include "exporters/status_page.hpp"
#include "policy/expectation.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

// One bucket layout for the common duration: 100 µs (loopback, LAN) to 10 s (long timeouts).
inline constexpr std::array<double, 16> kDurationBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};

class JobSeriesSet : public prometheus::Collectable {
  public:
    struct Series;

    // A job as the set should have it: its labels, and the handle the last sync() gave it
    // (null for a new job).
    struct Wanted {
        Wanted(Labels l, Series* p = nullptr, ExpectedResult e = {}, std::string because = {})
            : labels(std::move(l)), previous(p), expect(e), expect_because(std::move(because)) {}
        Labels labels;
        Series* previous = nullptr;
        ExpectedResult expect{};     // what its result should be
        std::string expect_because;  // why, when not success: "flow:ID" or "target"
    };
    // Makes the series match `jobs`, in their order: a job keeps its `previous` series when its
    // labels are unchanged, gets a new one (every counter at zero) otherwise; series no job
    // names are dropped. Returns each job's handle, valid until the next sync (null for a job
    // that is not a probe's). Engine thread.
    std::vector<Series*> sync(const std::vector<Wanted>& jobs);
    // Engine thread only; lock-free except when the last error changes.
    void record(Series* s, const ProbeResult& result, const std::string& reporter_network);
    std::size_t size() const;

    // The series as prometheus-cpp's families. Not what /metrics serves (write_text is): the
    // reference that the tests hold write_text to, byte for byte after TextSerializer.
    std::vector<prometheus::MetricFamily> Collect() const override;
    // The same series as Collect(), appended to `out` as exposition text: what /metrics serves
    // (a third of the memory and time of building the families first).
    void write_text(std::string& out) const;
    // The status page's probes and traced paths (status_page.hpp); any thread.
    void fill_status(StatusView& view) const;

    struct Series {
        // Sorted by name, none empty; names by their index in the set's names_.
        PackedLabels labels;
        std::uint32_t kind = 0;
        std::uint32_t place = 0;  // its index in order_, so sync() needs no map to find it
        std::atomic<double> success{0};
        // For the status page: the last outcome (kNoOutcome before one) and since when.
        static constexpr std::uint8_t kNoOutcome = 255;
        std::atomic<std::uint8_t> last_outcome{kNoOutcome};
        std::atomic<double> last_change{0};  // unix seconds
        std::array<std::atomic<std::uint64_t>, kAllOutcomes.size()> outcomes{};
        std::unique_ptr<AtomicHistogram<kDurationBuckets.size()>> duration;  // if the kind has it
        std::unique_ptr<KindSeries> own;  // the kind's own series
        // The last failure and who reported it, null after a success; the pointer and what it
        // points to are guarded by errors_mutex_ (the engine thread, their only writer, reads
        // them without it).
        struct LastError {
            Outcome outcome = Outcome::ok;
            std::string reporter, reporter_network;
        };
        std::unique_ptr<LastError> last_error;
        // What its result should be; why, kept only where it is not success (few jobs).
        ExpectedResult expect{};
        std::unique_ptr<const std::string> expect_because;
        // 1 when the last outcome is what is expected, 0 when not, NaN before the first.
        double as_expected() const;
    };

  private:
    mutable std::shared_mutex structure_mutex_;   // sync (unique) against Collect (shared)
    mutable std::mutex errors_mutex_;             // last-error fields
    std::vector<std::unique_ptr<Series>> order_;  // exposition order: config order
    LabelNames names_;  // added to by sync (unique lock), read by scrapes (shared lock)

    std::vector<prometheus::ClientMetric::Label> unpack(const PackedLabels& labels) const;
};

}  // namespace fedprobe
