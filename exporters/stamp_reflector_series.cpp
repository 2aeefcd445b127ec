#include "exporters/stamp_reflector_series.hpp"

namespace fedprobe {

void StampReflectorSeries::set(bool active, const std::string& site) {
    std::lock_guard lock(mutex_);
    active_ = active;
    site_ = site;
}

std::vector<prometheus::MetricFamily> StampReflectorSeries::Collect() const {
    std::string site;
    {
        std::lock_guard lock(mutex_);
        if (!active_) return {};
        site = site_;
    }
    prometheus::MetricFamily f;
    f.name = "fedprobe_stamp_reflector_packets_total";
    f.help =
        "STAMP test packets that reached this appliance's reflector, by what it did: "
        "reflected, refused_source (not in allow), malformed, auth_failed, rate_limited, or "
        "dropped (by the kernel before the reflector read it: its buffer was full)";
    f.type = prometheus::MetricType::Counter;
    for (StampReflected r : kAllStampReflected) {
        prometheus::ClientMetric m;
        m.label = {{"site", site}, {"result", std::string(to_string(r))}};
        m.counter.value = static_cast<double>(counts_->get(r));
        f.metric.push_back(std::move(m));
    }
    return {std::move(f)};
}

}  // namespace fedprobe
