// The counters each kind's probe keeps outside any job (its kind's kProbeFamilies: late and
// duplicate ICMP replies, path packets sent, http probes never started, ...), as running
// totals handed in by the daemon, rendered as the kinds declare them. No kind is named here:
// a new kind's counters need only its kProbeFamilies and Probe::totals().
//
// Threads: set() on the probing thread, Collect() on scrape threads.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "probes/kinds.hpp"

namespace fedprobe {

class ProbeTotals : public prometheus::Collectable {
  public:
    ProbeTotals();
    // The running totals of kind `kind`'s probe, in its kProbeFamilies' order. A total only
    // rises: a smaller one (a probe made again) is kept at the larger.
    void set(std::size_t kind, std::span<const std::uint64_t> totals);
    std::vector<prometheus::MetricFamily> Collect() const override;

  private:
    mutable std::mutex mutex_;
    std::array<std::vector<std::uint64_t>, kKindCount> totals_;
};

}  // namespace fedprobe
