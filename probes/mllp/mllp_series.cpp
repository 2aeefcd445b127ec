// An mllp job's own series: the last acknowledgement code; and the reset's distance.
#include <mutex>

#include "probes/mllp/mllp_kind.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

class MllpSeries : public KindSeries {
  public:
    void record(const ProbeResult& r) override {
        const MllpResult* m = r.as<MllpKind>();
        facts_.record(m ? m->app : AppFacts{});
        std::lock_guard lock(mu_);
        if (m && !m->ack.empty()) ack_ = m->ack;  // kept: the last code that came
    }
    void render(std::size_t family, SeriesWriter& out) const override {
        if (family > 0) return facts_.render(kAppTlsFamilies.size() - 1, out);  // reset hops
        std::lock_guard lock(mu_);
        if (!ack_.empty()) out.value({{"code", ack_}}, 1);
    }

  private:
    mutable std::mutex mu_;  // a scrape reads while the probing thread records
    std::string ack_;        // one of a fixed few (mllp_ack_label)
    AppFactsSeries facts_;
};

}  // namespace

std::unique_ptr<KindSeries> MllpKind::make_series() {
    return std::make_unique<MllpSeries>();
}

}  // namespace fedprobe
