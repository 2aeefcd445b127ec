// Passive capture as Prometheus series: handshakes by outcome per (src_network, dst_network,
// service), SYN to SYN-ACK times per pair, ICMP errors per pair and reporter network, and the
// capture's health per interface. Labels come from the config through PassiveLabels, never
// from the wire. Renders nothing while no capture is configured.
//
// Threads: add() on the loop's thread (from LiveCapture's sink, once a second); Collect() on
// scrape threads. One mutex: the cells are few and change once a second.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <array>
#include <map>
#include <mutex>
#include <string>

#include "capture/live_capture.hpp"
#include "capture/passive_counts.hpp"
#include "capture/passive_labels.hpp"

namespace fedprobe {

class PassiveSeriesSet : public prometheus::Collectable {
  public:
    void set_site(const std::string& site);
    // Adds what a capture counted since it last reported; totals are kept by label values, so
    // a reload that renumbers networks keeps every count where it belongs.
    void add(const PassiveCounts& delta, const PassiveLabels& labels, const CaptureHealth& health);
    // The capture was switched off by a reload: its series go.
    void clear();
    std::vector<prometheus::MetricFamily> Collect() const override;

  private:
    using Outcomes = PassiveCounts::Outcomes;
    mutable std::mutex mutex_;
    bool active_ = false;
    std::string site_;
    std::map<std::array<std::string, 3>, Outcomes> handshakes_;   // src, dst, service
    std::map<std::array<std::string, 3>, Outcomes> icmp_errors_;  // src, dst, reporter
    std::map<std::array<std::string, 2>, PassiveCounts::Times> times_;
    std::uint64_t syns_ = 0, truncated_ = 0, malformed_ = 0, table_full_ = 0, evicted_ = 0;
    CaptureHealth health_;
};

}  // namespace fedprobe
