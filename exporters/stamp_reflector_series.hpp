// The STAMP reflector's series: fedprobe_stamp_reflector_packets_total{site, result}, read
// straight from the reflector's atomic counts at each scrape. The counts outlive reflectors
// (a reload that changes [fedprobe.stamp] keeps the totals); nothing is rendered while no
// reflector is configured.
//
// Threads: set_active()/set_site() on the loop's thread; Collect() on scrape threads.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "probes/stamp/stamp_reflector.hpp"

namespace fedprobe {

class StampReflectorSeries : public prometheus::Collectable {
  public:
    std::shared_ptr<StampReflectorCounts> counts() const { return counts_; }
    void set(bool active, const std::string& site);
    std::vector<prometheus::MetricFamily> Collect() const override;

  private:
    std::shared_ptr<StampReflectorCounts> counts_ = std::make_shared<StampReflectorCounts>();
    mutable std::mutex mutex_;
    bool active_ = false;
    std::string site_;
};

}  // namespace fedprobe
