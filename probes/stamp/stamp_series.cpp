// The stamp kind's series: packets sent and received, loss each way, the round trip as a
// histogram, jitter, one-way delays, the DSCP sent and received, and source translation.
#include <atomic>
#include <cmath>
#include <limits>

#include "probes/probe.hpp"
#include "probes/stamp/stamp_kind.hpp"

namespace fedprobe {

namespace {

// From a LAN's half a millisecond to a congested IPsec tunnel's second.
constexpr std::array<double, 12> kRttBounds = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                               0.05,   0.1,   0.2,   0.5,   1,    2};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void add(std::atomic<std::uint64_t>& c, std::uint64_t n) {
    c.fetch_add(n, std::memory_order_relaxed);
}

class StampSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const StampResult* s = r.as<StampKind>();
        if (!s) return;
        add(sent_, s->sent);
        add(received_, s->received);
        add(forward_lost_, s->forward_lost);
        add(backward_lost_, s->backward_lost);
        stateful_.store(s->stateful, std::memory_order_relaxed);
        for (double v : s->rtt)
            rtt_.observe(v);
        // A round with no replies says nothing about jitter, delay, DSCP or NAT: the last
        // values stand until a round can say.
        if (s->received == 0) return;
        jitter_.store(s->jitter.value_or(kNaN), std::memory_order_relaxed);
        forward_delay_.store(s->forward_delay.value_or(kNaN), std::memory_order_relaxed);
        backward_delay_.store(s->backward_delay.value_or(kNaN), std::memory_order_relaxed);
        dscp_sent_.store(s->dscp_sent, std::memory_order_relaxed);
        dscp_received_.store(s->dscp_received.value_or(-1), std::memory_order_relaxed);
        offset_.store(s->clock_offset.value_or(kNaN), std::memory_order_relaxed);
        offset_error_.store(s->clock_offset_error.value_or(kNaN), std::memory_order_relaxed);
        translated_.store(s->translated ? (*s->translated ? 1 : 0) : -1, std::memory_order_relaxed);
    }
    void render(std::size_t family, SeriesWriter& out) const override {
        auto value = [&](double v) {
            if (!std::isnan(v)) out.value({}, v);
        };
        const bool stateful = stateful_.load(std::memory_order_relaxed);
        switch (family) {
            case 0:
                return out.value({}, static_cast<double>(sent_.load(std::memory_order_relaxed)));
            case 1:
                return out.value({},
                                 static_cast<double>(received_.load(std::memory_order_relaxed)));
            case 2:
                if (stateful)
                    out.value({},
                              static_cast<double>(forward_lost_.load(std::memory_order_relaxed)));
                return;
            case 3:
                if (stateful)
                    out.value({},
                              static_cast<double>(backward_lost_.load(std::memory_order_relaxed)));
                return;
            case 4:
                return out.histogram({}, rtt_.snapshot());
            case 5:
                return value(jitter_.load(std::memory_order_relaxed));
            case 6:
                return value(forward_delay_.load(std::memory_order_relaxed));
            case 7:
                return value(backward_delay_.load(std::memory_order_relaxed));
            case 8:
                if (int d = dscp_sent_.load(std::memory_order_relaxed); d >= 0) out.value({}, d);
                return;
            case 9:
                if (int d = dscp_received_.load(std::memory_order_relaxed); d >= 0)
                    out.value({}, d);
                return;
            case 10:
                return value(offset_.load(std::memory_order_relaxed));
            case 11:
                return value(offset_error_.load(std::memory_order_relaxed));
            case 12:
                if (int t = translated_.load(std::memory_order_relaxed); t >= 0) out.value({}, t);
                return;
            default:
                return;
        }
    }

  private:
    std::atomic<std::uint64_t> sent_{0}, received_{0}, forward_lost_{0}, backward_lost_{0};
    std::atomic<bool> stateful_{true};
    AtomicHistogram<kRttBounds.size()> rtt_{kRttBounds};
    std::atomic<double> jitter_{kNaN}, forward_delay_{kNaN}, backward_delay_{kNaN};
    std::atomic<double> offset_{kNaN}, offset_error_{kNaN};
    std::atomic<int> dscp_sent_{-1}, dscp_received_{-1}, translated_{-1};
};

}  // namespace

std::unique_ptr<KindSeries> StampKind::make_series() {
    return std::make_unique<StampSeries>();
}

}  // namespace fedprobe
