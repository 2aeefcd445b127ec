// An icmp job's own series: packets sent and received (loss) and each reply's RTT.
#include "probes/icmp/icmp_kind.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

// From a LAN's millisecond to a congested WAN's quarter second; federation paths (HSCN, PSN,
// IPsec between them) sit in between. Six bounds keep an icmp target within its budget of
// 25 series and 2 KB of exposition (see CHANGELOG.md).
constexpr std::array<double, 6> kRttBounds = {0.001, 0.005, 0.01, 0.025, 0.05, 0.25};

class IcmpSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const IcmpResult* icmp = r.as<IcmpKind>();
        if (!icmp) return;
        sent_.fetch_add(icmp->packets_sent, std::memory_order_relaxed);
        received_.fetch_add(icmp->packets_received, std::memory_order_relaxed);
        for (auto rtt : icmp->rtts)
            rtt_.observe(to_seconds(rtt));
    }
    void render(std::size_t family, SeriesWriter& out) const override {
        switch (family) {
            case 0:
                return out.value({}, static_cast<double>(sent_.load(std::memory_order_relaxed)));
            case 1:
                return out.value({},
                                 static_cast<double>(received_.load(std::memory_order_relaxed)));
            case 2:
                return out.histogram({}, rtt_.snapshot());
        }
    }

  private:
    std::atomic<std::uint64_t> sent_{0}, received_{0};
    AtomicHistogram<kRttBounds.size()> rtt_{kRttBounds};
};

}  // namespace

std::unique_ptr<KindSeries> IcmpKind::make_series() {
    return std::make_unique<IcmpSeries>();
}

}  // namespace fedprobe
