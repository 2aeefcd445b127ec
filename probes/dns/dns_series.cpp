// A dns job's own series: the last response's code and answer count.
#include "probes/dns/dns_kind.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

class DnsSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const DnsResult* dns = r.as<DnsKind>();
        rcode_.store(dns ? dns->rcode : -1, std::memory_order_relaxed);
        answers_.store(dns ? dns->answers : -1, std::memory_order_relaxed);
    }
    void render(std::size_t family, SeriesWriter& out) const override {
        out.value({}, (family == 0 ? rcode_ : answers_).load(std::memory_order_relaxed));
    }

  private:
    std::atomic<int> rcode_{-1}, answers_{-1};
};

}  // namespace

std::unique_ptr<KindSeries> DnsKind::make_series() {
    return std::make_unique<DnsSeries>();
}

}  // namespace fedprobe
