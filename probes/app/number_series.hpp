// The series of an application kind whose own is one number of its result (SMTP's last reply
// code, LDAP's last result code), then the shared ones (app_series.hpp). Threads as
// series.hpp says.
#pragma once

#include <atomic>

#include "probes/app/app_series.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

// `field`: the result's member to export; `none`: its value while no result says.
template <typename K, auto field, int none>
class NumberAndFactsSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const typename K::Result* k = r.as<K>();
        number_.store(k ? k->*field : none, std::memory_order_relaxed);
        facts_.record(k ? k->app : AppFacts{});
    }
    void render(std::size_t family, SeriesWriter& out) const override {
        if (family == 0) return out.value({}, number_.load(std::memory_order_relaxed));
        facts_.render(family - 1, out);
    }

  private:
    std::atomic<int> number_{none};
    AppFactsSeries facts_;
};

}  // namespace fedprobe
