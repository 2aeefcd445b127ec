// The policy's flows as Prometheus series: compliance, the current state as a state set, when
// it last changed, the device that stopped it, and the last hop before a silent drop. Flows are few
// and change rarely: one mutex.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "exporters/status_page.hpp"
#include "probes/outcome.hpp"
#include "probes/path/path_trace.hpp"

namespace fedprobe {

class FlowSeriesSet : public prometheus::Collectable {
  public:
    struct Series {
        std::vector<prometheus::ClientMetric::Label>
            labels;          // site, flow, from, to, network, service, expect
        bool known = false;  // probed at least once
        Outcome state = Outcome::error;
        bool compliant = false;
        double last_change = 0;  // unix seconds
        std::string reporter, reporter_network;
        Outcome answered = Outcome::error;          // what the reporter answered (see record())
        std::optional<BlockedAfter> blocked_after;  // from the engine's trace of a blocked flow
    };

    void sync(const std::vector<std::pair<std::string, std::map<std::string, std::string>>>& flows);
    Series* find(const std::string& key);
    // `reporter` answered `answered`: the round's own outcome, or for a silent round the flow's
    // last answered failure that the engine keeps (LiveJob::answer()).
    void record(Series* s, Outcome outcome, bool compliant, const std::string& reporter,
                const std::string& reporter_network, Outcome answered, double unix_now);
    void set_blocked_after(Series* s, const std::optional<BlockedAfter>& b);
    std::vector<prometheus::MetricFamily> Collect() const override;
    // The status page's flows (notes are the page's own, from the config); any thread.
    void fill_status(StatusView& view) const;

  private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::unique_ptr<Series>> series_;
    std::vector<std::string> order_;
};

}  // namespace fedprobe
